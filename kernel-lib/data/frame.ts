/**
 * data/frame — conversions between the table shapes a notebook user has at hand (polars DataFrames,
 * arrays of row objects, column objects, duck-typed danfo DataFrames) and the nodejs-polars
 * DataFrame cellar works on, and back to plain row objects.
 *
 * Numbers always become Float64 columns (a Float32Array is widened), so cellar's algorithms never
 * see float32 values; JS `Date`s become Datetime(ms) columns, which cellar reads as UTC instants.
 */
import { pl } from './polars.js';
import type { DataFrame, DataType, Series } from 'nodejs-polars';
import { CellarError } from '../errors.js';

/** The column containers accepted in a column object: plain arrays and typed arrays. */
export type ColumnValues = readonly unknown[] | ArrayLike<number> | ArrayLike<bigint>;

/** A table as an object of equally long columns, e.g. `{ a: [1, 2], b: new Float64Array([0.5, 1]) }`. */
export type ColumnObject = Record<string, ColumnValues>;

/** A table as an array of row objects, e.g. `[{ a: 1, b: 'x' }, { a: 2, b: 'y' }]`. */
export type RowObjects = readonly Record<string, unknown>[];

/**
 * The public shape of a danfo.js DataFrame that cellar relies on (danfo is not a dependency; any
 * object with this shape is accepted): column names, row-major values and danfo dtype names
 * (`float32`, `int32`, `string`, `boolean`).
 */
export interface DanfoFrameLike {
  /** Column names, in order. */
  readonly columns: readonly string[];
  /** danfo dtype names, one per column. */
  readonly dtypes: readonly string[];
  /** Row-major values (`values` is danfo's public getter of its `$data`). */
  readonly values?: readonly (readonly unknown[])[];
  /** Row-major values, danfo's internal field (used when `values` is absent). */
  readonly $data?: readonly (readonly unknown[])[];
}

/** Everything `toDataFrame` accepts. */
export type DataFrameLike = DataFrame | RowObjects | ColumnObject | DanfoFrameLike;

/**
 * True when `x` is a nodejs-polars DataFrame (of any copy of the library: the check is by shape,
 * not by `instanceof`, which nodejs-polars DataFrames do not support).
 */
export function isPolarsDataFrame(x: unknown): x is DataFrame {
  if (x === null || typeof x !== 'object') return false;
  const tag = (x as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag];
  const candidate = x as { toRecords?: unknown; getColumns?: unknown };
  return (
    tag === 'DataFrame' &&
    typeof candidate.toRecords === 'function' &&
    typeof candidate.getColumns === 'function'
  );
}

/**
 * True when `x` looks like a danfo.js DataFrame: it has array `columns` and `dtypes` and row-major
 * `values` (or `$data`), and is not a danfo Series.
 */
export function isDanfoFrame(x: unknown): x is DanfoFrameLike {
  if (x === null || typeof x !== 'object' || Array.isArray(x) || isPolarsDataFrame(x)) return false;
  const d = x as Record<string, unknown>;
  if (d.$isSeries === true) return false;
  if (!Array.isArray(d.columns) || !Array.isArray(d.dtypes)) return false;
  const values = danfoRows(d as unknown as DanfoFrameLike);
  return values !== undefined && values.every((row) => Array.isArray(row));
}

/**
 * Converts any supported table shape to a nodejs-polars DataFrame. A polars DataFrame is returned
 * as is; rows and columns are type-checked per column (numbers → Float64, bigints → Int64, booleans →
 * Bool, strings → String, Dates → Datetime(ms); `null`/`undefined` → null). Float32 input is widened
 * to Float64.
 *
 * @throws CellarError INVALID_INPUT when the input is not a table, columns have different lengths,
 *   or a column mixes kinds of values (e.g. numbers and strings).
 * @example
 * const df = toDataFrame([{ driver_id: 1, conv_rate: 0.5 }, { driver_id: 2, conv_rate: 0.7 }]);
 */
export function toDataFrame(x: DataFrameLike | unknown): DataFrame {
  if (isPolarsDataFrame(x)) return x;
  if (Array.isArray(x)) return fromRows(x);
  if (isDanfoFrame(x)) return fromDanfo(x);
  if (isPlainObject(x)) return fromColumns(x);
  throw new CellarError(
    'INVALID_INPUT',
    `Cannot convert ${describe(x)} to a DataFrame: pass a polars DataFrame, an array of row objects, ` +
      'an object of columns ({ a: [...], b: Float64Array }) or a danfo DataFrame.',
  );
}

/**
 * Converts a table to plain row objects (one object per row, keys in column order). Datetime and
 * Date columns come back as JS `Date`s (UTC instants), nulls as `null`, Int64 values as numbers.
 *
 * @throws CellarError INVALID_INPUT when `x` is not a supported table shape.
 * @example
 * const rows = toRows(readCsv('orders.csv')); // [{ event_timestamp: Date, driver_id: 1, … }, …]
 */
export function toRows(x: DataFrameLike): Record<string, unknown>[] {
  const df = toDataFrame(x);
  return df.toRecords().map((rec) => {
    const row: Record<string, unknown> = {};
    for (const name of df.columns) {
      const v = rec[name] ?? null;
      // polars' native code creates Dates in the main realm; rebuild them so `instanceof Date` holds
      // in any context (jest, vm).
      row[name] = isForeignDate(v) ? new Date(v.getTime()) : v;
    }
    return row;
  });
}

function fromRows(rows: readonly unknown[]): DataFrame {
  const names: string[] = [];
  const seen = new Set<string>();
  rows.forEach((row, i) => {
    if (!isPlainObject(row)) {
      throw new CellarError(
        'INVALID_INPUT',
        `Row ${i} is ${describe(row)}, not an object: pass an array of row objects like [{ a: 1 }, { a: 2 }].`,
        { row: i },
      );
    }
    for (const key of Object.keys(row)) {
      if (!seen.has(key)) {
        seen.add(key);
        names.push(key);
      }
    }
  });
  const typedRows = rows as readonly Record<string, unknown>[];
  return pl.DataFrame(
    names.map((name) =>
      buildSeries(
        name,
        typedRows.map((r) => r[name]),
      ),
    ),
  );
}

function fromColumns(columns: Record<string, unknown>): DataFrame {
  const names = Object.keys(columns);
  let length: number | undefined;
  const series = names.map((name) => {
    const col = columns[name];
    if (!isColumnContainer(col)) {
      throw new CellarError(
        'INVALID_INPUT',
        `Column '${name}' is ${describe(col)}: every value of a column object must be an array or a typed array.`,
        { column: name },
      );
    }
    if (length !== undefined && col.length !== length) {
      throw new CellarError(
        'INVALID_INPUT',
        `Column '${name}' has ${col.length} values but '${names[0]}' has ${length}: all columns need the same length.`,
        { column: name },
      );
    }
    length = col.length;
    return buildSeries(name, col);
  });
  return pl.DataFrame(series);
}

function fromDanfo(frame: DanfoFrameLike): DataFrame {
  const rows = danfoRows(frame) ?? [];
  const series = frame.columns.map((name, j) => {
    const values = rows.map((row) => row[j]);
    const dtype = String(frame.dtypes[j] ?? '');
    if (dtype === 'float32' || dtype === 'float64' || dtype === 'int32') {
      // danfo marks missing numbers with NaN/undefined; in a polars column they are nulls.
      const cleaned = values.map((v) => (typeof v === 'number' && !Number.isNaN(v) ? v : null));
      const integral = dtype === 'int32' && cleaned.every((v) => v === null || Number.isInteger(v));
      return buildSeries(name, cleaned, integral ? pl.Int64 : pl.Float64);
    }
    if (dtype === 'string')
      return buildSeries(
        name,
        values.map((v) => (v == null ? null : String(v))),
      );
    return buildSeries(name, values);
  });
  return pl.DataFrame(series);
}

function danfoRows(frame: DanfoFrameLike): readonly (readonly unknown[])[] | undefined {
  try {
    if (Array.isArray(frame.values)) return frame.values;
    if (Array.isArray(frame.$data)) return frame.$data;
  } catch {
    // A getter that throws means this is not a usable frame.
  }
  return undefined;
}

type Kind = 'number' | 'bigint' | 'boolean' | 'string' | 'date' | 'other';

/** Builds one polars Series with an explicit dtype chosen from the values (see `toDataFrame`). */
function buildSeries(name: string, col: ColumnValues, forced?: DataType): Series {
  if (col instanceof Float64Array) return pl.Series(name, col, pl.Float64);
  if (col instanceof Float32Array) return pl.Series(name, Float64Array.from(col), pl.Float64);
  if (ArrayBuffer.isView(col)) return pl.Series(name, col as unknown as number[]);
  const values = Array.from(col as ArrayLike<unknown>, (v) => (v === undefined ? null : v));
  if (forced !== undefined) return pl.Series(name, values, forced);
  const kind = columnKind(name, values);
  switch (kind) {
    case 'number':
      return pl.Series(name, values, pl.Float64);
    case 'bigint':
      // nodejs-polars 0.25 turns bigints given with an Int64 dtype into nulls; via strings is exact.
      return pl
        .Series(
          name,
          values.map((v) => (v === null ? null : String(v))),
          pl.Utf8,
        )
        .cast(pl.Int64);
    case 'boolean':
      return pl.Series(name, values, pl.Bool);
    case 'string':
      return pl.Series(name, values, pl.Utf8);
    case 'date':
      return pl.Series(name, values, pl.Datetime('ms'));
    default:
      try {
        return pl.Series(name, values);
      } catch (e) {
        throw new CellarError(
          'INVALID_INPUT',
          `Column '${name}' holds values polars cannot store (${errorText(e)}); convert them to numbers, strings or Dates first.`,
          { column: name },
        );
      }
  }
}

/** The one kind of the non-null values of a column; all-null columns are numeric. */
function columnKind(name: string, values: readonly unknown[]): Kind {
  let kind: Kind | undefined;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null) continue;
    const k = kindOf(v);
    if (k === 'date' && Number.isNaN((v as Date).getTime())) {
      throw new CellarError('INVALID_INPUT', `Column '${name}' has an Invalid Date at row ${i}.`, {
        column: name,
        row: i,
      });
    }
    if (kind === undefined) kind = k;
    else if (k !== kind) {
      throw new CellarError(
        'INVALID_INPUT',
        `Column '${name}' mixes ${kind} and ${k} values (first ${k} at row ${i}); convert the column to one type first.`,
        { column: name, row: i },
      );
    }
  }
  return kind ?? 'number';
}

function kindOf(v: unknown): Kind {
  switch (typeof v) {
    case 'number':
      return 'number';
    case 'bigint':
      return 'bigint';
    case 'boolean':
      return 'boolean';
    case 'string':
      return 'string';
    default:
      return isDate(v) ? 'date' : 'other';
  }
}

/** A Date created in another realm (`instanceof Date` is false for it here). */
function isForeignDate(v: unknown): v is Date {
  return !(v instanceof Date) && isDate(v);
}

/** A Date of any realm. */
function isDate(v: unknown): v is Date {
  return Object.prototype.toString.call(v) === '[object Date]';
}

function isColumnContainer(x: unknown): x is ColumnValues {
  return Array.isArray(x) || (ArrayBuffer.isView(x) && !(x instanceof DataView));
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (x === null || typeof x !== 'object') return false;
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'an array';
  if (typeof x === 'object') return `an object of type ${(x as object).constructor?.name ?? 'unknown'}`;
  return `a ${typeof x}`;
}

function errorText(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? '';
}
