/**
 * plugins/sidebar — `cellar-jupyterlab:sidebar`: puts the cellar sidebar (runs, models, pipelines of the
 * current TypeScript notebook) in the right area and adds `cellar:show-sidebar`.
 */
import { ILayoutRestorer, type JupyterFrontEnd, type JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { INotebookTracker } from '@jupyterlab/notebook';
import { LabIcon } from '@jupyterlab/ui-components';
import { CellarSidebar } from '../sidebar.js';
import { ICellar } from '../token.js';

const ICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" width="16" height="16">' +
  '<path class="jp-icon3" fill="#616161" d="M4 5c0-1.7 3.6-3 8-3s8 1.3 8 3v14c0 1.7-3.6 3-8 3s-8-1.3-8-3V5zm2 0c0 .6 2.4 1.5 6 1.5S18 5.6 18 5s-2.4-1.5-6-1.5S6 4.4 6 5zm0 3.2V12c0 .6 2.4 1.5 6 1.5s6-.9 6-1.5V8.2c-1.5.8-3.7 1.3-6 1.3s-4.5-.5-6-1.3zm0 7V19c0 .6 2.4 1.5 6 1.5s6-.9 6-1.5v-3.8c-1.5.8-3.7 1.3-6 1.3s-4.5-.5-6-1.3z"/>' +
  '</svg>';

/** The cellar icon (a stack of store cylinders, drawn with the theme's icon colour). */
export const cellarIcon = new LabIcon({ name: 'cellar-jupyterlab:cellar', svgstr: ICON_SVG });

/** The sidebar plugin. */
export const sidebarPlugin: JupyterFrontEndPlugin<void> = {
  id: 'cellar-jupyterlab:sidebar',
  description: 'cellar sidebar: runs of the notebook experiment, registered models, pipelines.',
  autoStart: true,
  requires: [ICellar, INotebookTracker],
  optional: [ILayoutRestorer, ICommandPalette],
  activate: (
    app: JupyterFrontEnd,
    cellar: ICellar,
    tracker: INotebookTracker,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null,
  ) => {
    const sidebar = new CellarSidebar(cellar, tracker);
    sidebar.title.icon = cellarIcon;
    app.shell.add(sidebar, 'right', { rank: 700 });
    restorer?.add(sidebar, 'cellar-sidebar');
    app.commands.addCommand('cellar:show-sidebar', {
      label: 'Show cellar Sidebar',
      caption: 'Show the runs, models and pipelines of this notebook',
      execute: () => app.shell.activateById(sidebar.id),
    });
    palette?.addItem({ command: 'cellar:show-sidebar', category: 'cellar' });
  },
};
