/**
 * plugins/celltags — `cellar-jupyterlab:celltags`: pipeline cell tags made easy. Commands (in the cell
 * context menu under "cellar pipeline", and in the palette) mark the active cell as a step
 * (`step:<name>`), set its `prev:` steps, or make it the imports / functions / parameters / metrics / skip
 * block; every tagged cell of a TypeScript notebook shows a small label with its step.
 */
import type { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette, InputDialog } from '@jupyterlab/apputils';
import { INotebookTracker, type NotebookPanel } from '@jupyterlab/notebook';
import { Menu } from '@lumino/widgets';
import { trackCellLabels } from '../cell-markers.js';
import { isTypeScriptNotebook } from '../kernel.js';
import {
  clearPipelineTags,
  prevStepsOf,
  readTags,
  setPrev,
  setStep,
  stepNameOf,
  stepNameProblem,
  stepsBefore,
  suggestStepName,
  toggleBlock,
  type BlockTag,
} from '../tags.js';

const BLOCK_COMMANDS: Array<{ id: string; tag: BlockTag; label: string }> = [
  { id: 'cellar:mark-imports', tag: 'imports', label: 'Mark as Imports' },
  { id: 'cellar:mark-functions', tag: 'functions', label: 'Mark as Functions' },
  { id: 'cellar:mark-parameters', tag: 'pipeline-parameters', label: 'Mark as Pipeline Parameters' },
  { id: 'cellar:mark-metrics', tag: 'pipeline-metrics', label: 'Mark as Pipeline Metrics' },
  { id: 'cellar:mark-skip', tag: 'skip', label: 'Skip in Pipeline' },
];

/** The cell context-menu selector: cells of notebooks. */
const CELL_SELECTOR = '.jp-Notebook .jp-Cell';

/** The cell context-menu plugin. */
export const cellTagsPlugin: JupyterFrontEndPlugin<void> = {
  id: 'cellar-jupyterlab:celltags',
  description: 'cellar pipeline cell tags: mark steps, prev, parameters and metrics; step labels on cells.',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [ICommandPalette],
  activate: (app: JupyterFrontEnd, tracker: INotebookTracker, palette: ICommandPalette | null) => {
    const active = () => {
      const panel = tracker.currentWidget;
      const cell = tracker.activeCell;
      return panel && cell && isTypeScriptNotebook(panel) ? { panel, cell } : null;
    };
    const tagsOf = (panel: NotebookPanel): string[][] =>
      panel.content.widgets.map((w) => readTags(w.model.getMetadata('tags')));
    const write = (tags: string[]): void => {
      const target = active();
      if (!target) return;
      if (tags.length === 0) target.cell.model.deleteMetadata('tags');
      else target.cell.model.setMetadata('tags', tags);
    };

    app.commands.addCommand('cellar:mark-step', {
      label: 'Mark as Pipeline Step…',
      caption:
        'Tag the active cell step:<name> (the cells below it join the step until the next tagged cell)',
      isEnabled: () => active() !== null,
      execute: async () => {
        const target = active();
        if (!target) return;
        const tags = readTags(target.cell.model.getMetadata('tags'));
        const index = target.panel.content.activeCellIndex;
        let error = '';
        let value = stepNameOf(tags) ?? `step-${stepsBefore(tagsOf(target.panel), index).length + 1}`;
        while (true) {
          const result = await InputDialog.getText({
            title: error === '' ? 'Step name' : `Step name — ${error}`,
            text: value,
            placeholder: 'train',
            okLabel: 'Mark',
          });
          if (!result.button.accept || result.value === null) return;
          value = suggestStepName(result.value) ?? result.value.trim();
          const problem = stepNameProblem(value);
          if (problem === null) break;
          error = problem;
        }
        write(setStep(tags, value));
      },
    });

    app.commands.addCommand('cellar:set-prev', {
      label: 'Set Previous Step…',
      caption: 'Make the active step run after another step (prev:<name>)',
      isEnabled: () => {
        const target = active();
        return (
          target !== null &&
          stepsBefore(tagsOf(target.panel), target.panel.content.activeCellIndex).length > 0
        );
      },
      execute: async () => {
        const target = active();
        if (!target) return;
        const tags = readTags(target.cell.model.getMetadata('tags'));
        const choices = stepsBefore(tagsOf(target.panel), target.panel.content.activeCellIndex);
        const NONE = '(none)';
        const current = prevStepsOf(tags)[0];
        const result = await InputDialog.getItem({
          title: 'Run this step after',
          items: [...choices, NONE],
          current: current !== undefined && choices.includes(current) ? choices.indexOf(current) : 0,
          okLabel: 'Set',
        });
        if (!result.button.accept || result.value === null) return;
        write(setPrev(tags, result.value === NONE ? [] : [result.value]));
      },
    });

    for (const b of BLOCK_COMMANDS) {
      app.commands.addCommand(b.id, {
        label: b.label,
        caption: `Toggle the "${b.tag}" tag on the active cell`,
        isEnabled: () => active() !== null,
        isToggled: () => {
          const target = active();
          return target !== null && readTags(target.cell.model.getMetadata('tags')).includes(b.tag);
        },
        execute: () => {
          const target = active();
          if (target) write(toggleBlock(readTags(target.cell.model.getMetadata('tags')), b.tag));
        },
      });
    }

    app.commands.addCommand('cellar:clear-pipeline-tags', {
      label: 'Clear Pipeline Tags',
      caption: 'Remove step, prev and block tags from the active cell',
      isEnabled: () => active() !== null,
      execute: () => {
        const target = active();
        if (target) write(clearPipelineTags(readTags(target.cell.model.getMetadata('tags'))));
      },
    });

    const ids = [
      'cellar:mark-step',
      'cellar:set-prev',
      ...BLOCK_COMMANDS.map((b) => b.id),
      'cellar:clear-pipeline-tags',
    ];
    const menu = new Menu({ commands: app.commands });
    menu.title.label = 'cellar Pipeline';
    for (const command of ids) menu.addItem({ command });
    app.contextMenu.addItem({ type: 'submenu', submenu: menu, selector: CELL_SELECTOR, rank: 30 });
    for (const command of ids) palette?.addItem({ command, category: 'cellar' });

    tracker.widgetAdded.connect((_sender, panel) => {
      void panel.context.ready.then(() => trackCellLabels(panel));
    });
  },
};
