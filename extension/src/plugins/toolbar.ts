/**
 * plugins/toolbar — `cellar-jupyterlab:toolbar`: the commands `cellar:log-run`, `cellar:register-model` and
 * `cellar:export-pipeline` (command palette, "cellar" category) and their buttons in the toolbar of
 * TypeScript notebooks. The buttons are hidden while a notebook's kernel is not TypeScript.
 */
import type { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette, ToolbarButton } from '@jupyterlab/apputils';
import type { DocumentRegistry } from '@jupyterlab/docregistry';
import { INotebookTracker, type INotebookModel, type NotebookPanel } from '@jupyterlab/notebook';
import { DisposableDelegate, type IDisposable } from '@lumino/disposable';
import { exportPipeline, logRun, registerModel } from '../actions.js';
import { isTypeScriptNotebook } from '../kernel.js';
import { ICellar } from '../token.js';

/** Command ids of the toolbar actions. */
export const CommandIds = {
  logRun: 'cellar:log-run',
  registerModel: 'cellar:register-model',
  exportPipeline: 'cellar:export-pipeline',
  showSidebar: 'cellar:show-sidebar',
} as const;

const BUTTONS: Array<{ name: string; command: string; label: string; tooltip: string }> = [
  {
    name: 'cellar-log-run',
    command: CommandIds.logRun,
    label: 'Log run',
    tooltip: 'Log this notebook run with a snapshot (cellar)',
  },
  {
    name: 'cellar-register-model',
    command: CommandIds.registerModel,
    label: 'Register model',
    tooltip: 'Register the last trained model (cellar)',
  },
  {
    name: 'cellar-export-pipeline',
    command: CommandIds.exportPipeline,
    label: 'Export pipeline',
    tooltip: 'Export the tagged cells as a pipeline version (cellar)',
  },
];

class CellarButtons implements DocumentRegistry.IWidgetExtension<NotebookPanel, INotebookModel> {
  constructor(private readonly app: JupyterFrontEnd) {}

  createNew(panel: NotebookPanel): IDisposable {
    const buttons = BUTTONS.map(
      (b) =>
        new ToolbarButton({
          className: `cellar-ToolbarButton ${b.name}`,
          label: b.label,
          tooltip: b.tooltip,
          onClick: () => void this.app.commands.execute(b.command, { path: panel.context.path }),
        }),
    );
    buttons.forEach((button, i) => panel.toolbar.insertItem(10 + i, BUTTONS[i]!.name, button));
    const update = (): void => {
      const visible = isTypeScriptNotebook(panel);
      for (const button of buttons) button.setHidden(!visible);
    };
    update();
    panel.sessionContext.kernelChanged.connect(update);
    panel.sessionContext.ready.then(update, update);
    panel.context.ready.then(update, update);
    return new DisposableDelegate(() => {
      panel.sessionContext.kernelChanged.disconnect(update);
      buttons.forEach((b) => b.dispose());
    });
  }
}

/** The toolbar plugin. */
export const toolbarPlugin: JupyterFrontEndPlugin<void> = {
  id: 'cellar-jupyterlab:toolbar',
  description: 'cellar toolbar buttons and commands: log run, register model, export pipeline.',
  autoStart: true,
  requires: [ICellar, INotebookTracker],
  optional: [ICommandPalette],
  activate: (
    app: JupyterFrontEnd,
    cellar: ICellar,
    tracker: INotebookTracker,
    palette: ICommandPalette | null,
  ) => {
    /** The notebook a command acts on: the one named by `args.path`, else the current one. */
    const target = (args: { path?: unknown }): NotebookPanel | null => {
      if (typeof args.path === 'string') {
        const found = tracker.find((p) => p.context.path === args.path);
        if (found) return found;
      }
      return tracker.currentWidget;
    };
    const enabled = (args: { path?: unknown }): boolean => {
      const panel = target(args);
      return panel !== null && isTypeScriptNotebook(panel);
    };
    const showSidebar = (): void => void app.commands.execute(CommandIds.showSidebar);
    app.commands.addCommand(CommandIds.logRun, {
      label: 'Log Run (cellar)',
      caption: 'End or create the notebook run and store a snapshot of the notebook',
      isEnabled: enabled,
      execute: (args) => {
        const panel = target(args);
        return panel ? logRun(cellar, panel, showSidebar) : null;
      },
    });
    app.commands.addCommand(CommandIds.registerModel, {
      label: 'Register Model (cellar)',
      caption: 'Register the last trained model under a name, optionally moving an alias',
      isEnabled: enabled,
      execute: (args) => {
        const panel = target(args);
        return panel ? registerModel(cellar, panel, showSidebar) : null;
      },
    });
    app.commands.addCommand(CommandIds.exportPipeline, {
      label: 'Export Pipeline (cellar)',
      caption: 'Check the cell tags and export them as a new pipeline version',
      isEnabled: enabled,
      execute: (args) => {
        const panel = target(args);
        return panel ? exportPipeline(cellar, panel, showSidebar) : null;
      },
    });
    for (const command of [CommandIds.logRun, CommandIds.registerModel, CommandIds.exportPipeline]) {
      palette?.addItem({ command, category: 'cellar' });
    }
    app.docRegistry.addWidgetExtension('Notebook', new CellarButtons(app));
  },
};
