/**
 * mime — cellar's MIME renderer extension (the package's `mimeExtension` entry): run cards, model cards,
 * feature-join summaries and Plotly figures in notebook outputs.
 */
import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { cardFactory, plotlyFactory } from './renderers.js';

/** The renderer extensions, registered by JupyterLab from the package's `mimeExtension` entry. */
const extensions: IRenderMime.IExtension[] = [
  {
    id: 'cellar-jupyterlab:cards',
    description: 'cellar run cards, model cards and feature-join summaries.',
    rendererFactory: cardFactory,
    rank: 40,
    dataType: 'json',
  },
  {
    id: 'cellar-jupyterlab:plotly',
    description: 'Plotly figures (application/vnd.plotly.v1+json) drawn with plotly.js.',
    rendererFactory: plotlyFactory,
    rank: 40,
    dataType: 'json',
  },
];

export default extensions;
