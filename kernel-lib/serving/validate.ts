/**
 * serving/validate — checks request rows against a model's signature and turns them into the Float64 columns
 * the model scores: a missing column, a wrong type, a lossy cast (1.5 for an integer column, an integer beyond
 * 2^53), null/NaN, an empty batch or too many rows each fail with `INVALID_INPUT` naming the field and the row.
 */
import { CellarError } from '../errors.js';
import type { ColumnSpec } from '../ml/model-json.js';

/** Rows as objects, or MLflow's split form (column names + rows of values). */
export type InputRows =
  | { kind: 'records'; rows: ReadonlyArray<Record<string, unknown>> }
  | { kind: 'split'; columns: readonly string[]; data: ReadonlyArray<readonly unknown[]> };

/** Options of {@link validateInput}. */
export interface ValidateOptions {
  /** Most rows accepted in one request (default 10 000). */
  maxRows?: number;
}

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/** The error of one bad value (the details carry `field` and `row` for the HTTP body). */
export function inputError(field: string | null, row: number | null, message: string): CellarError {
  const details: Record<string, unknown> = {};
  if (field !== null) details.field = field;
  if (row !== null) details.row = row;
  return new CellarError('INVALID_INPUT', message, details);
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/** Converts one value to the column's number, or throws naming field and row. */
export function coerceValue(spec: ColumnSpec, v: unknown, row: number): number {
  const f = spec.name;
  if (v === undefined) throw inputError(f, row, `Row ${row} has no value for column "${f}" (${spec.type}).`);
  if (v === null || (typeof v === 'number' && Number.isNaN(v)))
    throw inputError(f, row, `Column "${f}" is null/NaN in row ${row}; the model needs a ${spec.type}.`);
  switch (spec.type) {
    case 'double':
    case 'float':
      if (typeof v === 'number' && Number.isFinite(v)) return v;
      break;
    case 'long':
      if (typeof v === 'number' && Number.isInteger(v)) {
        if (Number.isSafeInteger(v)) return v;
        throw inputError(
          f,
          row,
          `Column "${f}" in row ${row}: ${v} is beyond 2^53 and cannot be kept exactly.`,
        );
      }
      if (typeof v === 'number' && Number.isFinite(v))
        throw inputError(f, row, `Column "${f}" is a long; ${v} in row ${row} would lose its fraction.`);
      break;
    case 'integer':
      if (typeof v === 'number' && Number.isInteger(v)) {
        if (v >= INT32_MIN && v <= INT32_MAX) return v;
        throw inputError(f, row, `Column "${f}" is a 32-bit integer; ${v} in row ${row} is out of range.`);
      }
      if (typeof v === 'number' && Number.isFinite(v))
        throw inputError(f, row, `Column "${f}" is an integer; ${v} in row ${row} would lose its fraction.`);
      break;
    case 'boolean':
      if (typeof v === 'boolean') return v ? 1 : 0;
      break;
    default:
      break;
  }
  throw inputError(
    f,
    row,
    `Column "${f}" expects ${spec.type}, got ${typeName(v)} ${JSON.stringify(v)?.slice(0, 40) ?? ''} in row ${row}.`,
  );
}

/** Checks the batch size. */
function checkCount(n: number, maxRows: number): void {
  if (n === 0) throw inputError(null, null, 'The request has no rows: send at least one.');
  if (n > maxRows)
    throw inputError(null, null, `The request has ${n} rows; at most ${maxRows} are accepted per request.`);
}

/**
 * Validates rows against the signature's input columns and returns one Float64 column per input (in signature
 * order). Extra columns are ignored.
 *
 * @throws CellarError INVALID_INPUT with `details.field` / `details.row`
 * @example
 * validateInput({ kind: 'records', rows: [{ conv_rate: 0.5, acc_rate: 0.9, avg_daily_trips: 12 }] }, sig.inputs)
 */
export function validateInput(
  input: InputRows,
  inputs: readonly ColumnSpec[],
  opts: ValidateOptions = {},
): Float64Array[] {
  const maxRows = opts.maxRows ?? 10_000;
  if (input.kind === 'records') {
    const rows = input.rows;
    checkCount(rows.length, maxRows);
    const cols = inputs.map(() => new Float64Array(rows.length));
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i];
      if (r === null || typeof r !== 'object' || Array.isArray(r))
        throw inputError(null, i, `Row ${i} must be an object of column → value, got ${typeName(r)}.`);
      for (let j = 0; j < inputs.length; j++) cols[j]![i] = coerceValue(inputs[j]!, r[inputs[j]!.name], i);
    }
    return cols;
  }
  const { columns, data } = input;
  checkCount(data.length, maxRows);
  const index = inputs.map((c) => {
    const k = columns.indexOf(c.name);
    if (k < 0) throw inputError(c.name, null, `Column "${c.name}" (${c.type}) is missing from the request.`);
    return k;
  });
  const cols = inputs.map(() => new Float64Array(data.length));
  for (let i = 0; i < data.length; i++) {
    const r = data[i];
    if (!Array.isArray(r))
      throw inputError(null, i, `Row ${i} must be an array of ${columns.length} values, got ${typeName(r)}.`);
    if (r.length !== columns.length)
      throw inputError(null, i, `Row ${i} has ${r.length} values but there are ${columns.length} columns.`);
    for (let j = 0; j < inputs.length; j++) cols[j]![i] = coerceValue(inputs[j]!, r[index[j]!], i);
  }
  return cols;
}
