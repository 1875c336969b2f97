/**
 * bridge/args — checks the arguments of a bridge request. Requests come from the extension, but a user
 * can type one too, so every field is checked and a bad one is an INVALID_PARAMETER error naming it.
 */
import { CellarError } from '../errors.js';

/** A request's `args` object. */
export type Args = Record<string, unknown>;

function bad(op: string, key: string, what: string): CellarError {
  return new CellarError('INVALID_PARAMETER', `${op}: "${key}" ${what}.`, { field: key });
}

/** The value of `key` as a non-empty string, or undefined when absent/empty and not `required`. */
export function optString(args: Args, op: string, key: string): string | undefined {
  const v = args[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw bad(op, key, 'must be a string');
  return v;
}

/**
 * The value of `key` as a non-empty string.
 *
 * @throws CellarError INVALID_PARAMETER when it is missing or not a string
 */
export function reqString(args: Args, op: string, key: string): string {
  const v = optString(args, op, key);
  if (v === undefined) throw bad(op, key, 'is required');
  if (v.trim() === '') throw bad(op, key, 'must not be blank');
  return v;
}

/** The value of `key` as a boolean, or `fallback` when absent. */
export function optBool(args: Args, op: string, key: string, fallback: boolean): boolean {
  const v = args[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'boolean') throw bad(op, key, 'must be true or false');
  return v;
}

/** The value of `key` as an integer within [min, max], or `fallback` when absent. */
export function optInt(
  args: Args,
  op: string,
  key: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const v = args[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw bad(op, key, `must be an integer from ${min} to ${max}`);
  }
  return v;
}

/** A notebook document as the extension sends it (nbformat 4 JSON). */
export interface NotebookDoc {
  nbformat: number;
  nbformat_minor: number;
  metadata: Record<string, unknown>;
  cells: Array<Record<string, unknown>>;
}

/**
 * The value of `key` as an nbformat 4 notebook object.
 *
 * @throws CellarError INVALID_INPUT when it is missing or not an nbformat 4 document
 */
export function reqNotebook(args: Args, op: string, key = 'notebook'): NotebookDoc {
  const v = args[key] as Partial<NotebookDoc> | undefined;
  if (
    v === null ||
    typeof v !== 'object' ||
    v.nbformat !== 4 ||
    !Array.isArray(v.cells) ||
    v.metadata === null ||
    typeof v.metadata !== 'object' ||
    !v.cells.every((c) => c !== null && typeof c === 'object' && !Array.isArray(c))
  ) {
    throw new CellarError(
      'INVALID_INPUT',
      `${op}: "${key}" must be an nbformat 4 notebook (an object with nbformat: 4, metadata and cells).`,
      { field: key },
    );
  }
  return v as NotebookDoc;
}
