/**
 * plugins/renderers — `cellar-jupyterlab:renderers`: registers cellar's output renderers with the
 * application's render registry when the package's `mimeExtension` entry did not already do so, so that
 * run cards, model cards, feature-join summaries and Plotly figures render either way.
 */
import type { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { cardFactory, plotlyFactory } from '../mime/renderers.js';

/** The fallback renderer registration plugin. */
export const renderersPlugin: JupyterFrontEndPlugin<void> = {
  id: 'cellar-jupyterlab:renderers',
  description: 'Registers cellar output renderers (cards, Plotly) if the mime extension is not loaded.',
  autoStart: true,
  requires: [IRenderMimeRegistry],
  activate: (_app: JupyterFrontEnd, registry: IRenderMimeRegistry) => {
    for (const factory of [cardFactory, plotlyFactory]) {
      if (factory.mimeTypes.every((m) => registry.mimeTypes.includes(m))) continue;
      registry.addFactory(factory, factory.defaultRank);
    }
  },
};
