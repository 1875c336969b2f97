/**
 * features/timestamps — turns the timestamps users and files carry into epoch milliseconds (Float64, UTC),
 * the only time representation the feature store computes with: single values (`toEpochMs`) and whole
 * columns (`columnToEpochMs`, vectorised over nodejs-polars Series and arrays).
 *
 * Rules: a `Date` or an epoch-ms number is an instant; a string must be ISO-8601 WITH a zone (`Z` or
 * `±hh:mm`), because a zone-less string has no single meaning; a polars Datetime column without a time
 * zone is read as UTC (polars stores every Datetime as an offset from the UTC epoch); a Date column is
 * midnight UTC of that day. Nulls are errors: a row without a time cannot be placed in time.
 */
import { pl } from '../data/polars.js';
import type { Series } from 'nodejs-polars';
import { CellarError } from '../errors.js';

/** Options of {@link toEpochMs}. */
export interface EpochOptions {
  /** Column (or parameter) the value comes from; named in error messages. */
  column: string;
  /** Row of the value, for error messages. */
  row?: number;
}

const DAY_MS = 86_400_000;
const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;
const ZONE_HINT = 'add a zone, e.g. "2022-12-01T00:00:00Z" (UTC) or "2022-12-01T09:00:00+02:00"';

function where(opts: EpochOptions): string {
  return opts.row === undefined ? `column "${opts.column}"` : `column "${opts.column}", row ${opts.row}`;
}

function invalid(opts: EpochOptions, value: unknown, why: string): CellarError {
  const shown = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return new CellarError('INVALID_INPUT', `Timestamp ${shown} in ${where(opts)} ${why}.`, {
    column: opts.column,
    ...(opts.row === undefined ? {} : { row: opts.row }),
    value: shown,
  });
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Parses a zoned ISO-8601 string; returns NaN (after throwing) never — throws on anything else. */
function parseIso(text: string, opts: EpochOptions): number {
  const m = ISO.exec(text.trim());
  if (!m) {
    throw invalid(opts, text, `is not an ISO-8601 date-time; use e.g. "2022-12-01T00:00:00Z"`);
  }
  const zone = m[8];
  if (zone === undefined) {
    throw invalid(opts, text, `has no time zone, so it could mean any instant; ${ZONE_HINT}`);
  }
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = m[4] === undefined ? 0 : Number(m[4]);
  const minute = m[5] === undefined ? 0 : Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  const fraction = m[7] === undefined ? 0 : Number(`0.${m[7]}`) * 1000;
  if (
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > daysInMonth(year, month) ||
    hour > 23 ||
    minute > 59 ||
    second > 59
  ) {
    throw invalid(opts, text, 'is not a valid calendar date-time');
  }
  let offsetMin = 0;
  if (zone !== 'Z' && zone !== 'z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = digits.length > 2 ? Number(digits.slice(2)) : 0;
    if (oh > 23 || om > 59) throw invalid(opts, text, 'has an invalid zone offset');
    offsetMin = sign * (oh * 60 + om);
  }
  const utc = Date.UTC(year, month - 1, day, hour, minute, second);
  // Date.UTC maps years 0–99 to 1900–1999; setUTCFullYear undoes that.
  const fixed = year < 100 ? new Date(utc).setUTCFullYear(year) : utc;
  return fixed + fraction - offsetMin * 60_000;
}

/**
 * Converts one timestamp to epoch milliseconds (UTC): a `Date`, an epoch-ms number (or bigint), or an
 * ISO-8601 string with a zone (`Z` or `±hh:mm`; fractions of a second are kept, below 1 ms as a fraction).
 *
 * @throws CellarError INVALID_INPUT naming the column (and row) when the value is null, an invalid Date,
 *   not finite, not ISO-8601, or a string without a zone (the message shows how to add one).
 * @example
 * toEpochMs('2022-12-15T00:00:00Z', { column: 'event_timestamp' }); // 1671062400000
 * toEpochMs(new Date(Date.UTC(2022, 11, 15)), { column: 'event_timestamp' }); // 1671062400000
 */
export function toEpochMs(value: unknown, opts: EpochOptions): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw invalid(opts, value, 'is not a finite number of epoch milliseconds');
    return value;
  }
  if (typeof value === 'string') return parseIso(value, opts);
  if (Object.prototype.toString.call(value) === '[object Date]') {
    const t = (value as Date).getTime();
    if (Number.isNaN(t)) throw invalid(opts, value, 'is an invalid Date');
    return t;
  }
  if (typeof value === 'bigint') return Number(value);
  if (value === null || value === undefined) {
    throw new CellarError(
      'INVALID_INPUT',
      `Missing timestamp (null) in ${where(opts)}: every row needs a time; drop or fill such rows first.`,
      { column: opts.column, ...(opts.row === undefined ? {} : { row: opts.row }) },
    );
  }
  throw invalid(opts, value, 'must be a Date, epoch milliseconds or an ISO-8601 string with a zone');
}

/** The columns {@link columnToEpochMs} accepts besides a polars Series. */
export type TimestampArray = ArrayLike<unknown> | Float64Array | Int32Array | BigInt64Array;

function isSeries(x: unknown): x is Series {
  return (
    x !== null &&
    typeof x === 'object' &&
    typeof (x as { dtype?: unknown }).dtype === 'object' &&
    typeof (x as { nullCount?: unknown }).nullCount === 'function' &&
    typeof (x as { toArray?: unknown }).toArray === 'function'
  );
}

function nullRowError(column: string, row: number): CellarError {
  return new CellarError(
    'INVALID_INPUT',
    `Missing timestamp (null) in column "${column}", row ${row}: every row needs a time; drop or fill such rows first.`,
    { column, row },
  );
}

/**
 * The null mask of a polars Series as bytes (1 = null), or null when it has no nulls.
 */
export function nullMask(s: Series): Uint8Array | null {
  if (s.nullCount() === 0) return null;
  return s.isNull().cast(pl.UInt8).rechunk().toTypedArray() as Uint8Array;
}

/**
 * Converts a BigInt64Array of integer time values (or keys) to Float64 without creating bigints: the two
 * 32-bit halves are combined as doubles (exact while |value| < 2^53), then divided by `divisor`. With
 * `inPlace` the result reuses the input's memory (the input is destroyed) — for arrays cellar just made.
 */
export function int64ToFloat64(values: BigInt64Array, divisor = 1, inPlace = false): Float64Array {
  const n = values.length;
  const halves = new Int32Array(values.buffer, values.byteOffset, n * 2);
  const out = inPlace ? new Float64Array(values.buffer, values.byteOffset, n) : new Float64Array(n);
  // Reading both halves of element i before writing out[i] makes the in-place case safe.
  if (divisor === 1) {
    for (let i = 0, j = 0; i < n; i++, j += 2) out[i] = halves[j + 1]! * 4294967296 + (halves[j]! >>> 0);
  } else {
    for (let i = 0, j = 0; i < n; i++, j += 2)
      out[i] = (halves[j + 1]! * 4294967296 + (halves[j]! >>> 0)) / divisor;
  }
  return out;
}

function seriesToEpochMs(s: Series, column: string, allowNulls: boolean): Float64Array {
  const variant = s.dtype.variant;
  const n = s.length;
  if (variant === 'String' || variant === 'Utf8' || variant === 'Categorical') {
    return arrayToEpochMs(s.cast(pl.String).toArray() as unknown[], column, allowNulls);
  }
  const mask = nullMask(s);
  if (mask !== null && !allowNulls) throw nullRowError(column, mask.indexOf(1));
  if (n === 0) return new Float64Array(0);
  let out: Float64Array;
  if (variant === 'Datetime') {
    const unit = (s.dtype as unknown as { timeUnit?: string }).timeUnit ?? 'us';
    const divisor = unit === 'ns' ? 1e6 : unit === 'us' ? 1e3 : 1;
    // Polars stores every Datetime (naive or zoned) as an offset from the UTC epoch; naive = UTC.
    out = int64ToFloat64(physical(s, pl.Int64) as BigInt64Array, divisor, true);
  } else if (variant === 'Date') {
    const days = physical(s, pl.Int32) as Int32Array;
    out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = days[i]! * DAY_MS;
  } else if (variant === 'Int64' || variant === 'UInt64') {
    out = int64ToFloat64(physical(s, pl.Int64) as BigInt64Array, 1, true);
  } else if (/^U?Int(8|16|32)$/.test(variant) || variant === 'Float32' || variant === 'Float64') {
    out = physical(s, pl.Float64) as Float64Array;
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(out[i]!) && (mask === null || mask[i] === 0))
        throw toEpochInvalidRow(column, i, out[i]!);
    }
  } else {
    throw new CellarError(
      'INVALID_INPUT',
      `Column "${column}" has type ${String(s.dtype)}, which is not a timestamp: use a Datetime or Date column, ` +
        'epoch milliseconds, or ISO-8601 strings with a zone.',
      { column, dtype: String(s.dtype) },
    );
  }
  if (mask !== null) for (let i = 0; i < n; i++) if (mask[i] === 1) out[i] = NaN;
  return out;
}

/** The values of `s` cast to `dtype` as a fresh typed array (nulls filled with zero; mask them separately). */
export function physical(
  s: Series,
  dtype: typeof pl.Int64 | typeof pl.Int32 | typeof pl.Float64,
): ArrayLike<unknown> {
  let c = s.cast(dtype);
  if (c.nullCount() > 0) c = c.fillNull('zero');
  return c.toTypedArray() as ArrayLike<unknown>;
}

function toEpochInvalidRow(column: string, row: number, value: number): CellarError {
  return invalid({ column, row }, value, 'is not a finite number of epoch milliseconds');
}

function arrayToEpochMs(values: TimestampArray, column: string, allowNulls: boolean): Float64Array {
  const n = values.length;
  if (Object.prototype.toString.call(values) === '[object BigInt64Array]')
    return int64ToFloat64(values as BigInt64Array);
  const out = new Float64Array(n);
  const typed = ArrayBuffer.isView(values);
  const opts: EpochOptions = { column, row: 0 };
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (typeof v === 'number' && Number.isFinite(v)) {
      out[i] = v;
      continue;
    }
    if (v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v))) {
      if (!allowNulls) throw nullRowError(column, i);
      out[i] = NaN;
      continue;
    }
    if (typed) throw toEpochInvalidRow(column, i, v as number);
    opts.row = i;
    out[i] = toEpochMs(v, opts);
  }
  return out;
}

/** Options of {@link columnToEpochMs}. */
export interface ColumnEpochOptions {
  /** Turn nulls into NaN instead of failing (for optional columns such as a created timestamp). */
  allowNulls?: boolean;
}

/**
 * Converts a whole timestamp column to epoch milliseconds (Float64Array, UTC), vectorised: a nodejs-polars
 * Series of Datetime (any unit; with or without a zone — naive Datetimes are taken as UTC; nanoseconds
 * are rounded to the nearest representable double, order preserved), Date (midnight UTC), integer or
 * float epoch milliseconds, or strings (ISO-8601 with a zone, checked per value); or an array of `Date`s,
 * epoch-ms numbers and zoned ISO strings, or a typed array of epoch ms. The result is always a new array.
 *
 * @throws CellarError INVALID_INPUT naming the column and the first offending row: a null (unless
 *   `allowNulls`), a zone-less or unparsable string, a non-finite number, or a column type that is not a time.
 * @example
 * const ts = columnToEpochMs(df.getColumn('event_timestamp'), 'event_timestamp');
 */
export function columnToEpochMs(
  column: Series | TimestampArray,
  name: string,
  opts: ColumnEpochOptions = {},
): Float64Array {
  const allowNulls = opts.allowNulls === true;
  if (isSeries(column)) return seriesToEpochMs(column, name, allowNulls);
  if (
    column === null ||
    typeof column !== 'object' ||
    typeof (column as ArrayLike<unknown>).length !== 'number'
  ) {
    throw new CellarError(
      'INVALID_INPUT',
      `Timestamp column "${name}" must be a polars Series or an array.`,
      {
        column: name,
      },
    );
  }
  return arrayToEpochMs(column, name, allowNulls);
}
