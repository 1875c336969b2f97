/**
 * cellar's JupyterLab 4 extension (package `cellar-jupyterlab`). The notebook becomes the control room:
 * toolbar buttons and commands to log the run, register the model and export the pipeline, a sidebar of
 * runs, models and pipelines, pipeline cell-tag actions with step labels, and renderers for cellar's
 * outputs and Plotly figures. Everything reaches cellar through the notebook's own kernel (see
 * extension/src/README.md): no extra server, Jupyter's authentication, nothing unauthenticated.
 */
import type { JupyterFrontEndPlugin } from '@jupyterlab/application';
import { cellTagsPlugin } from './plugins/celltags.js';
import { corePlugin } from './plugins/core.js';
import { renderersPlugin } from './plugins/renderers.js';
import { sidebarPlugin } from './plugins/sidebar.js';
import { toolbarPlugin } from './plugins/toolbar.js';

const plugins: JupyterFrontEndPlugin<unknown>[] = [
  corePlugin,
  toolbarPlugin,
  sidebarPlugin,
  cellTagsPlugin,
  renderersPlugin,
];

export default plugins;
