/**
 * cell-markers — what the extension draws on notebook cells: export problems next to the offending cell
 * (the cell gets the class `cellar-mod-exportError` and a `cellar-CellError` message under its input; the
 * marker goes away when the cell is edited or the next export check runs) and the small label of
 * pipeline-tagged cells (`cellar-StepLabel`: "step: train ← load", "imports", …). Text only.
 */
import type { Cell } from '@jupyterlab/cells';
import type { NotebookPanel } from '@jupyterlab/notebook';
import { cellLabel, readTags } from './tags.js';

/** Class of a cell with export problems. */
export const ERROR_CELL_CLASS = 'cellar-mod-exportError';
/** Class of the problem message under a cell's input. */
export const ERROR_MESSAGE_CLASS = 'cellar-CellError';
/** Class of a pipeline-tagged cell. */
export const TAGGED_CELL_CLASS = 'cellar-mod-tagged';
/** Class of the label on a pipeline-tagged cell. */
export const STEP_LABEL_CLASS = 'cellar-StepLabel';

/** The cell's input wrapper, or null while the cell is not rendered yet (windowed notebooks render lazily). */
function findInputWrapper(cell: Cell): HTMLElement | null {
  return cell.node.querySelector(':scope > .jp-Cell-inputWrapper') as HTMLElement | null;
}

function inputWrapper(cell: Cell): HTMLElement {
  return findInputWrapper(cell) ?? cell.node;
}

/** Removes every export problem marker of the notebook. */
export function clearExportProblems(panel: NotebookPanel): void {
  for (const cell of panel.content.widgets) clearCellProblems(cell);
}

function clearCellProblems(cell: Cell): void {
  cell.removeClass(ERROR_CELL_CLASS);
  cell.node.querySelectorAll(`.${ERROR_MESSAGE_CLASS}`).forEach((el) => el.remove());
}

/**
 * Marks cells with their export problems (`cells`: cell index → messages) after clearing older markers,
 * scrolls the first marked cell into view, and returns how many cells were marked.
 */
export function markExportProblems(panel: NotebookPanel, cells: Map<number, string[]>): number {
  clearExportProblems(panel);
  const widgets = panel.content.widgets;
  let first: Cell | null = null;
  let marked = 0;
  for (const [index, messages] of [...cells.entries()].sort(([a], [b]) => a - b)) {
    const cell = widgets[index];
    if (!cell) continue;
    cell.addClass(ERROR_CELL_CLASS);
    const box = document.createElement('div');
    box.className = ERROR_MESSAGE_CLASS;
    box.setAttribute('role', 'alert');
    for (const message of messages) {
      const line = document.createElement('div');
      line.textContent = message;
      box.appendChild(line);
    }
    const wrapper = inputWrapper(cell);
    if (wrapper === cell.node) cell.node.appendChild(box);
    else wrapper.after(box);
    const onEdit = (): void => {
      clearCellProblems(cell);
      cell.model.contentChanged.disconnect(onEdit);
    };
    cell.model.contentChanged.connect(onEdit);
    first ??= cell;
    marked += 1;
  }
  if (first) {
    const index = widgets.indexOf(first);
    void panel.content.scrollToItem(index).catch(() => undefined);
  }
  return marked;
}

/** Adds, updates or removes the pipeline-tag label of one cell from its tags. */
export function refreshCellLabel(cell: Cell): void {
  if (cell.isDisposed) return;
  const label = cellLabel(readTags(cell.model.getMetadata('tags')));
  const wrapper = findInputWrapper(cell);
  if (!wrapper) return; // not rendered yet: labelled when `cell.ready` resolves
  let el = wrapper.querySelector(`:scope > .${STEP_LABEL_CLASS}`) as HTMLElement | null;
  cell.node.querySelectorAll(`.${STEP_LABEL_CLASS}`).forEach((other) => {
    if (other !== el) other.remove();
  });
  if (label === null) {
    el?.remove();
    cell.removeClass(TAGGED_CELL_CLASS);
    return;
  }
  if (!el) {
    el = document.createElement('div');
    el.className = STEP_LABEL_CLASS;
    wrapper.appendChild(el);
  }
  el.textContent = label;
  el.title = `Pipeline tag: ${label}`;
  cell.addClass(TAGGED_CELL_CLASS);
}

const watched = new WeakSet<object>();

/**
 * Keeps the labels of a notebook's cells in sync with their tags: labels every cell now, each new cell,
 * and a cell again whenever its metadata changes.
 */
export function trackCellLabels(panel: NotebookPanel): void {
  const watch = (cell: Cell): void => {
    refreshCellLabel(cell);
    void cell.ready.then(() => refreshCellLabel(cell));
    if (watched.has(cell.model)) return;
    watched.add(cell.model);
    cell.model.metadataChanged.connect(() => {
      const current = panel.content.widgets.find((w) => w.model === cell.model);
      if (current) refreshCellLabel(current);
    });
  };
  const all = (): void => panel.content.widgets.forEach(watch);
  all();
  panel.content.modelChanged.connect(all);
  panel.content.model?.cells.changed.connect(() => requestAnimationFrame(all));
}
