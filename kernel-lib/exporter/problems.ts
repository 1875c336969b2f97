/**
 * exporter/problems — collects everything wrong with a notebook so that one export attempt reports all
 * problems at once (the JupyterLab extension shows each next to its cell), then raises them as one
 * INVALID_INPUT error whose `details.errors` lists `{ cell, step?, message }`.
 */
import { CellarError } from '../errors.js';

/** One problem found in a notebook: the cell it is about (null for the whole notebook) and its step. */
export interface ExportProblem {
  /** Index of the cell in the notebook (0-based), or null when the problem is not about one cell. */
  cell: number | null;
  /** The step the cell belongs to, when it belongs to one. */
  step?: string;
  message: string;
}

/** An append-only list of problems. */
export class ProblemList {
  readonly items: ExportProblem[] = [];

  /** Records a problem. */
  add(cell: number | null, message: string, step?: string): void {
    this.items.push(step === undefined ? { cell, message } : { cell, step, message });
  }

  /** True when nothing was recorded. */
  get empty(): boolean {
    return this.items.length === 0;
  }

  /**
   * Throws all recorded problems as one error (no-op when there are none).
   *
   * @throws CellarError INVALID_INPUT with `details.errors`.
   */
  throwIfAny(): void {
    if (this.empty) return;
    throw problemsError(this.items);
  }
}

/** Formats one problem as a line: `cell 3 (step train): …`. */
export function formatProblem(p: ExportProblem): string {
  const where = p.cell === null ? 'notebook' : `cell ${p.cell}`;
  return `${where}${p.step === undefined ? '' : ` (step ${p.step})`}: ${p.message}`;
}

/** Builds the INVALID_INPUT error for a list of problems, sorted by cell. */
export function problemsError(problems: ExportProblem[]): CellarError {
  const sorted = [...problems].sort((a, b) => (a.cell ?? -1) - (b.cell ?? -1));
  const head =
    sorted.length === 1
      ? 'The notebook cannot be exported:'
      : `The notebook cannot be exported (${sorted.length} problems):`;
  return new CellarError('INVALID_INPUT', [head, ...sorted.map((p) => '  ' + formatProblem(p))].join('\n'), {
    errors: sorted,
  });
}
