/**
 * features/entity-input — turns the entity rows of a historical request (an array of row objects, a polars
 * DataFrame, or any table `toDataFrame` accepts) into the column-wise `EntityFrame` the offline store joins
 * on: join-key columns and event timestamps as UTC epoch milliseconds. The original table is kept, so the
 * training data can return every entity column as the user gave it.
 */
import type { DataFrame, Series } from 'nodejs-polars';
import { CellarError } from '../errors.js';
import { isPolarsDataFrame, toDataFrame } from '../data/frame.js';
import type { EntityFrame, KeyValue } from './stores.js';
import { columnToEpochMs, toEpochMs } from './timestamps.js';

/** The default timestamp column of entity rows (Feast's convention). */
export const DEFAULT_TIMESTAMP_COLUMN = 'event_timestamp';

/** Entity rows of a request, parsed. Exactly one of `rows` / `df` is set: the table as the user gave it. */
export interface EntityInput {
  frame: EntityFrame;
  /** Column names of the original table, in order. */
  columns: string[];
  timestampColumn: string;
  rows?: readonly Record<string, unknown>[];
  df?: DataFrame;
}

/** Where entity rows come from (one of the two). */
export interface EntitySource {
  entityRows?: readonly Record<string, unknown>[];
  entityDf?: unknown;
  timestampColumn?: string;
}

/**
 * Parses entity rows: timestamps from `timestampColumn` (default `event_timestamp`; `Date`, epoch ms, ISO-8601
 * with a zone, or a polars Datetime/Date column — zone-less Datetime columns are UTC) and the given join keys.
 *
 * @throws CellarError INVALID_PARAMETER when neither or both of entityRows/entityDf are given; INVALID_INPUT
 *   naming the column for a missing timestamp or join-key column, a null or unparsable value, a zone-less
 *   timestamp string, or a join key that is not a string or number.
 */
export function readEntityInput(src: EntitySource, joinKeys: readonly string[]): EntityInput {
  const timestampColumn = src.timestampColumn ?? DEFAULT_TIMESTAMP_COLUMN;
  if (typeof timestampColumn !== 'string' || timestampColumn === '') {
    throw new CellarError(
      'INVALID_PARAMETER',
      'timestampColumn must be a column name, e.g. "event_timestamp".',
    );
  }
  const hasRows = src.entityRows !== undefined && src.entityRows !== null;
  const hasDf = src.entityDf !== undefined && src.entityDf !== null;
  if (hasRows === hasDf) {
    throw new CellarError(
      'INVALID_PARAMETER',
      hasRows
        ? 'Pass either entityRows or entityDf, not both.'
        : 'Pass the entity rows: entityRows (an array of objects such as { driver_id: 1001, event_timestamp: new Date() }) or entityDf (a DataFrame).',
    );
  }
  if (hasRows) {
    if (!Array.isArray(src.entityRows)) {
      throw new CellarError(
        'INVALID_PARAMETER',
        'entityRows must be an array of row objects; pass a DataFrame as entityDf.',
      );
    }
    return fromRows(src.entityRows, timestampColumn, joinKeys);
  }
  // An array given as entityDf is rows: keep the user's values as they are.
  if (Array.isArray(src.entityDf))
    return fromRows(src.entityDf as Record<string, unknown>[], timestampColumn, joinKeys);
  const df = isPolarsDataFrame(src.entityDf) ? src.entityDf : toDataFrame(src.entityDf);
  return fromDataFrame(df, timestampColumn, joinKeys);
}

function missingColumn(what: string, column: string, available: string[]): CellarError {
  return new CellarError(
    'INVALID_INPUT',
    `The entity rows have no ${what} column "${column}" (columns: ${available.join(', ') || 'none'}).` +
      (what === 'timestamp'
        ? ' Add it, or name the right one with timestampColumn.'
        : ' Add it: the feature views join on it.'),
    { column },
  );
}

function fromRows(
  rows: readonly Record<string, unknown>[],
  timestampColumn: string,
  joinKeys: readonly string[],
): EntityInput {
  const columns: string[] = [];
  const seen = new Set<string>();
  rows.forEach((row, i) => {
    if (row === null || typeof row !== 'object' || Array.isArray(row)) {
      throw new CellarError(
        'INVALID_INPUT',
        `Entity row ${i} is not an object; pass rows like { driver_id: 1001, event_timestamp: '2022-12-15T00:00:00Z' }.`,
        {
          row: i,
        },
      );
    }
    for (const k of Object.keys(row)) {
      if (!seen.has(k)) {
        seen.add(k);
        columns.push(k);
      }
    }
  });
  const n = rows.length;
  if (n > 0) {
    if (!seen.has(timestampColumn)) throw missingColumn('timestamp', timestampColumn, columns);
    for (const k of joinKeys) if (!seen.has(k)) throw missingColumn('join-key', k, columns);
  }
  const ts = new Float64Array(n);
  for (let i = 0; i < n; i++) ts[i] = timestampAt(rows[i]![timestampColumn], timestampColumn, i);
  const keys: Record<string, KeyValue[]> = {};
  for (const k of joinKeys) {
    const col: KeyValue[] = new Array(n);
    for (let i = 0; i < n; i++) col[i] = keyAt(rows[i]![k], k, i);
    keys[k] = col;
  }
  return { frame: { nRows: n, keys, ts }, columns, timestampColumn, rows };
}

function timestampAt(value: unknown, column: string, row: number): number {
  if (value === null || value === undefined) {
    throw new CellarError(
      'INVALID_INPUT',
      `Entity row ${row} has no timestamp in column "${column}": every entity row needs one.`,
      {
        column,
        row,
      },
    );
  }
  return toEpochMs(value, { column, row });
}

function keyAt(value: unknown, column: string, row: number): KeyValue {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'bigint' && Number.isSafeInteger(Number(value))) return Number(value);
  const what =
    value === null || value === undefined ? 'no value' : `${JSON.stringify(String(value))} (${typeof value})`;
  throw new CellarError(
    'INVALID_INPUT',
    `Entity row ${row} has ${what} in join-key column "${column}"; join keys must be strings or numbers.`,
    { column, row },
  );
}

function fromDataFrame(df: DataFrame, timestampColumn: string, joinKeys: readonly string[]): EntityInput {
  const columns = df.columns;
  if (!columns.includes(timestampColumn)) throw missingColumn('timestamp', timestampColumn, columns);
  for (const k of joinKeys) if (!columns.includes(k)) throw missingColumn('join-key', k, columns);
  const ts = columnToEpochMs(df.getColumn(timestampColumn), timestampColumn);
  const keys: Record<string, KeyValue[]> = {};
  for (const k of joinKeys) {
    const s = df.getColumn(k);
    const kind = dtypeKind(s);
    if (kind !== 'int' && kind !== 'float' && kind !== 'string') {
      throw new CellarError(
        'INVALID_INPUT',
        `Join-key column "${k}" has type ${String(s.dtype)}; join keys must be integers or strings.`,
        {
          column: k,
        },
      );
    }
    const values = s.toArray() as unknown[];
    keys[k] = values.map((v, i) => keyAt(v, k, i));
  }
  return { frame: { nRows: df.height, keys, ts }, columns, timestampColumn, df };
}

/** 'int' | 'float' | 'string' | 'bool' | 'datetime' | 'date' | 'other' for a polars Series. */
export function dtypeKind(s: Series): string {
  const v = (s.dtype as unknown as { variant?: string }).variant ?? '';
  if (/^U?Int(8|16|32|64)$/.test(v)) return 'int';
  if (v === 'Float32' || v === 'Float64') return 'float';
  if (v === 'String' || v === 'Utf8') return 'string';
  if (v === 'Bool') return 'bool';
  if (v === 'Datetime') return 'datetime';
  if (v === 'Date') return 'date';
  return 'other';
}
