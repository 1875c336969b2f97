/**
 * features/columns — reads the columns a feature view needs from its Parquet or CSV source (nodejs-polars,
 * only the needed columns) into the shapes the point-in-time join works on: numeric key columns (Int32
 * or Float64) or strings, Float64 epoch-ms timestamps, and feature value columns. Validates the file
 * against the view (missing file, missing column, wrong type → errors naming the column, the view and the
 * file) and keeps the last reads in a small LRU cache keyed by the file's identity (path, inode, size,
 * mtime) and the columns. Series conversions live in series-columns.ts.
 *
 * Feature values stay in polars until asked for. For Parquet they are decoded in the background (polars'
 * threads) while the JS thread converts keys and times and runs the join; `gatherValues` then picks only
 * the joined rows (a 10M-row column is never copied to JS when 1M rows are wanted), and `values.x`
 * converts a whole column on first access. Numbers always become Float64 (float32 and integers are
 * widened, never narrowed).
 */
import fs from 'node:fs';
import { pl } from '../data/polars.js';
import type { DataFrame, Series } from 'nodejs-polars';
import { CellarError, isCellarError } from '../errors.js';
import { readCsv, readParquet } from '../data/io.js';
import type { KeyColumn } from './pit-join.js';
import type { ValueColumn } from './stores.js';
import type { FeatureDtype, FileSourceDef } from './types.js';
import { columnToEpochMs } from './timestamps.js';
import {
  dtypeMatches,
  dtypeOf,
  FLOAT,
  INT,
  seriesToKeyColumn,
  seriesToValueColumn,
  type KeyKind,
} from './series-columns.js';

export { seriesToKeyColumn, seriesToValueColumn, type KeyKind } from './series-columns.js';

/** Columns of one feature view's source, ready for the join. Shared with the cache: do not modify. */
export interface SourceColumns {
  nRows: number;
  /**
   * Join-key columns: Int32Array (null-free int32 keys) or Float64Array (NaN = null) for numeric keys,
   * `(string | null)[]` for string keys.
   */
  keys: Record<string, KeyColumn>;
  keyKinds: Record<string, KeyKind>;
  /** Event timestamps, epoch ms. */
  ts: Float64Array;
  /** Created timestamps, epoch ms (NaN = null), or null when the source has no created column. */
  created: Float64Array | null;
  /** Feature columns (each converted from the file on first access). */
  values: Record<string, ValueColumn>;
  /** The dtype of each feature column (declared, or derived from the file when only names were given). */
  dtypes: Record<string, FeatureDtype>;
}

/** Options of {@link readSourceColumns}. */
export interface ReadSourceOptions {
  joinKeys: string[];
  /** Feature columns: names (types taken from the file) or names with the view's declared dtypes. */
  features: string[] | Record<string, FeatureDtype>;
  /** The feature view being read, named in errors. */
  viewName: string;
}

/** Reads kept (a 10M-row source holds ~0.5 GB, so only the last two). */
const CACHE_ENTRIES = 2;
const cache = new Map<string, SourceColumns>();
/**
 * Where a source's feature columns are: a frame already read (CSV, or Parquet once its background read is
 * done), or a Parquet read running on polars' threads while the join runs on the JS thread.
 */
interface FeatureFrame {
  source: FileSourceDef;
  viewName: string;
  frame: DataFrame | null;
  /** Settles (never rejects) when the background read ends; `frame` or `error` is then set. */
  ready: Promise<void> | null;
  error: unknown;
}
const frames = new WeakMap<SourceColumns, FeatureFrame>();

/** Empties the read cache (benchmarks use it to time cold reads; tests to see file changes at once). */
export function clearSourceColumnCache(): void {
  cache.clear();
}

function fileLabel(source: FileSourceDef): string {
  return `${source.format === 'csv' ? 'CSV' : 'Parquet'} file ${source.path}`;
}

function statSource(source: FileSourceDef, viewName: string): fs.BigIntStats {
  try {
    const st = fs.statSync(source.path, { bigint: true });
    if (st.isFile()) return st;
  } catch {
    /* reported below */
  }
  throw new CellarError(
    'NOT_FOUND',
    `Feature view "${viewName}": its source ${fileLabel(source)} does not exist (or is not a file). ` +
      'Create it, or point fileSource({ path }) at the right file (relative paths resolve when the source is defined).',
    { view: viewName, path: source.path },
  );
}

/** The columns' names and, for Parquet, their exact types (a zero-row read of the metadata). */
function probe(source: FileSourceDef): DataFrame {
  try {
    return source.format === 'csv'
      ? readCsv(source.path, { nRows: 1, tryParseDates: false })
      : readParquet(source.path, { nRows: 0 });
  } catch (e) {
    throw new CellarError('INVALID_INPUT', `Cannot read ${fileLabel(source)}: ${(e as Error).message}`, {
      path: source.path,
    });
  }
}

function typeError(
  col: string,
  what: string,
  s: Series,
  expected: string,
  viewName: string,
  source: FileSourceDef,
): CellarError {
  return new CellarError(
    'INVALID_INPUT',
    `Feature view "${viewName}": ${what} column "${col}" in ${fileLabel(source)} has type ${String(s.dtype)}, ` +
      `but ${expected}. Fix the view's schema or the file.`,
    { view: viewName, column: col, path: source.path, dtype: String(s.dtype) },
  );
}

function withContext(e: unknown, viewName: string, source: FileSourceDef): never {
  if (isCellarError(e)) {
    throw new CellarError(e.code, `Feature view "${viewName}", ${fileLabel(source)}: ${e.message}`, {
      ...(e.details ?? {}),
      view: viewName,
      path: source.path,
    });
  }
  throw e;
}

/**
 * Reads what a feature view needs from its file source: join keys, the event timestamp, the created
 * timestamp (if the source has one) and the requested features, reading only those columns. Results are
 * cached (LRU, {@link CACHE_ENTRIES} entries) by file identity and columns, so repeated joins over an
 * unchanged 10M-row file skip the read; the returned object is shared — treat it as read-only.
 *
 * @throws CellarError NOT_FOUND when the file does not exist (naming file and view); INVALID_INPUT when a
 *   column is missing (naming column, view and file, and listing the columns present), when a column's
 *   type does not match the view's schema, when a timestamp is null or zone-less, or the file is unreadable.
 * @example
 * const src = readSourceColumns(view.source, { joinKeys: ['driver_id'], features: view.schema, viewName: view.name });
 */
export function readSourceColumns(source: FileSourceDef, opts: ReadSourceOptions): SourceColumns {
  const { joinKeys, viewName } = opts;
  const declared: Record<string, FeatureDtype | null> = Array.isArray(opts.features)
    ? Object.fromEntries(opts.features.map((f) => [f, null]))
    : { ...opts.features };
  const st = statSource(source, viewName);
  const cacheKey = JSON.stringify([
    source.path,
    source.format,
    String(st.ino),
    String(st.size),
    String(st.mtimeNs),
    source.timestampField,
    source.createdTimestampColumn,
    joinKeys,
    declared,
  ]);
  const hit = cache.get(cacheKey);
  if (hit) {
    cache.delete(cacheKey);
    cache.set(cacheKey, hit);
    return hit;
  }
  const wanted: Array<[string, string]> = [
    ...joinKeys.map((k): [string, string] => [k, 'join key']),
    [source.timestampField, 'timestamp'],
    ...(source.createdTimestampColumn
      ? [[source.createdTimestampColumn, 'created timestamp'] as [string, string]]
      : []),
    ...Object.keys(declared).map((f): [string, string] => [f, 'feature']),
  ];
  const head = probe(source);
  const present = head.columns;
  for (const [col, what] of wanted) {
    if (!present.includes(col)) {
      throw new CellarError(
        'INVALID_INPUT',
        `Feature view "${viewName}": ${what} column "${col}" is missing from ${fileLabel(source)}; ` +
          `columns present: ${present.join(', ')}.`,
        { view: viewName, column: col, path: source.path, present },
      );
    }
  }
  const base = [...new Set(wanted.filter(([, what]) => what !== 'feature').map(([c]) => c))];
  const features = Object.keys(declared);
  const state: FeatureFrame = { source, viewName, frame: null, ready: null, error: null };
  let df: DataFrame;
  let typed: DataFrame;
  if (source.format === 'csv') {
    df = readCsv(source.path, { columns: [...new Set([...base, ...features])] });
    state.frame = df;
    typed = df;
  } else {
    // Parquet types are in the metadata, so features are checked now and read in the background once keys
    // and times are converted: polars decodes them on its threads while the JS thread runs the join.
    typed = head;
    checkFeatureTypes(typed, declared, source, viewName);
    df = readParquet(source.path, { columns: base });
  }
  const result = convert(df, typed, source, opts, declared, state);
  if (state.frame === null && features.length > 0) {
    // One contiguous chunk per column: gathering 1M random rows from it is ~4× faster than from row groups.
    state.ready = pl
      .scanParquet(source.path, { rechunk: true })
      .select(...features)
      .collect()
      .then(
        (frame) => {
          state.frame = frame;
        },
        (e: unknown) => {
          state.error = e;
        },
      );
  }
  cache.set(cacheKey, result);
  while (cache.size > CACHE_ENTRIES) cache.delete(cache.keys().next().value as string);
  return result;
}

function checkFeatureTypes(
  typed: DataFrame,
  declared: Record<string, FeatureDtype | null>,
  source: FileSourceDef,
  viewName: string,
): Record<string, FeatureDtype> {
  const dtypes: Record<string, FeatureDtype> = {};
  for (const [f, d] of Object.entries(declared)) {
    const s = typed.getColumn(f);
    const dtype = d ?? dtypeOf(s);
    if (dtype === null) {
      throw typeError(
        f,
        'feature',
        s,
        'cellar supports numbers, strings, booleans and times',
        viewName,
        source,
      );
    }
    if (!dtypeMatches(s, dtype))
      throw typeError(f, 'feature', s, `the view declares it ${dtype}`, viewName, source);
    dtypes[f] = dtype;
  }
  return dtypes;
}

function convert(
  df: DataFrame,
  typed: DataFrame,
  source: FileSourceDef,
  opts: ReadSourceOptions,
  declared: Record<string, FeatureDtype | null>,
  state: FeatureFrame,
): SourceColumns {
  const { viewName } = opts;
  const keys: Record<string, KeyColumn> = {};
  const keyKinds: Record<string, KeyKind> = {};
  let ts: Float64Array;
  let created: Float64Array | null = null;
  try {
    for (const k of opts.joinKeys) {
      const s = df.getColumn(k);
      if (dtypeOf(s) !== 'string' && !INT.test(s.dtype.variant) && !FLOAT.test(s.dtype.variant)) {
        throw typeError(k, 'join key', s, 'join keys must be integers or strings', viewName, source);
      }
      const { values, kind } = seriesToKeyColumn(s, k);
      keys[k] = values;
      keyKinds[k] = kind;
    }
    ts = columnToEpochMs(df.getColumn(source.timestampField), source.timestampField);
    if (source.createdTimestampColumn) {
      created = columnToEpochMs(df.getColumn(source.createdTimestampColumn), source.createdTimestampColumn, {
        allowNulls: true,
      });
    }
  } catch (e) {
    withContext(e, viewName, source);
  }
  const dtypes = checkFeatureTypes(typed, declared, source, viewName);
  const values: Record<string, ValueColumn> = {};
  const converted: Record<string, ValueColumn> = {};
  for (const f of Object.keys(dtypes)) {
    Object.defineProperty(values, f, {
      enumerable: true,
      get: () => (converted[f] ??= toValues(featureSeries(state, f), dtypes[f]!, f, viewName, source)),
    });
  }
  const result: SourceColumns = { nRows: df.height, keys, keyKinds, ts, created, values, dtypes };
  frames.set(result, state);
  return result;
}

/** A feature column for synchronous use: from the frame if it is there, else read on its own. */
function featureSeries(state: FeatureFrame, f: string): Series {
  if (state.frame !== null) return state.frame.getColumn(f);
  return readParquet(state.source.path, { columns: [f] }).getColumn(f);
}

/** The features' frame, once the background read (if any) is done. */
async function featureFrame(state: FeatureFrame, nRows: number): Promise<DataFrame> {
  if (state.ready !== null) await state.ready;
  if (state.error !== null) {
    throw new CellarError(
      'INVALID_INPUT',
      `Feature view "${state.viewName}": cannot read ${fileLabel(state.source)}: ${(state.error as Error).message}`,
      { view: state.viewName, path: state.source.path },
    );
  }
  if (state.frame === null || state.frame.height !== nRows) {
    throw new CellarError(
      'INVALID_STATE',
      `Feature view "${state.viewName}": ${fileLabel(state.source)} changed while it was being read; try again.`,
      { view: state.viewName, path: state.source.path },
    );
  }
  return state.frame;
}

function toValues(
  s: Series,
  dtype: FeatureDtype,
  f: string,
  viewName: string,
  source: FileSourceDef,
): ValueColumn {
  try {
    return seriesToValueColumn(s, dtype, f);
  } catch (e) {
    return withContext(e, viewName, source);
  }
}

/**
 * The values of the given features at `index` (an output of `pointInTimeJoin`; -1 → null). Gathers inside
 * polars (all columns in one pass) and converts only the picked rows, so a full column is never copied to JS.
 * Waits for the features' background read when it is still running.
 *
 * @throws CellarError INVALID_PARAMETER when a feature was not read from this source; INVALID_INPUT when the
 *   file cannot be read; INVALID_STATE when it changed while being read.
 * @example
 * const { conv_rate } = await gatherValues(src, ['conv_rate'], pointInTimeJoin(input));
 */
export async function gatherValues(
  src: SourceColumns,
  features: string[],
  index: Int32Array,
): Promise<Record<string, ValueColumn>> {
  const state = frames.get(src);
  for (const f of features) {
    if (src.dtypes[f] === undefined || state === undefined) {
      throw new CellarError('INVALID_PARAMETER', `Feature "${f}" was not read from this source.`);
    }
  }
  const n = index.length;
  const out: Record<string, ValueColumn> = {};
  if (features.length === 0) return out;
  // Rows without a match gather row 0 and are set to null afterwards.
  const { picks, misses } = splitIndex(index);
  let taken: DataFrame | null = null;
  if (src.nRows > 0 && misses.length < n) {
    const df = await featureFrame(state!, src.nRows);
    const at = pl.Series('i', picks);
    taken = df.select(...features.map((f) => pl.col(f).gather(at)));
  }
  for (const f of features) {
    const dtype = src.dtypes[f]!;
    if (taken === null) {
      // Nothing matched: all null.
      const data =
        dtype === 'string' || dtype === 'bool'
          ? new Array<null>(n).fill(null)
          : new Float64Array(n).fill(NaN);
      out[f] = { dtype, data, nulls: new Uint8Array(n).fill(1) };
      continue;
    }
    const col = seriesToValueColumn(taken.getColumn(f), dtype, f);
    const { data, nulls } = col;
    if (Array.isArray(data)) for (let k = 0; k < misses.length; k++) data[misses[k]!] = null;
    else for (let k = 0; k < misses.length; k++) data[misses[k]!] = NaN;
    for (let k = 0; k < misses.length; k++) nulls[misses[k]!] = 1;
    out[f] = col;
  }
  return out;
}

/** A join index as gather positions (-1 → 0) plus the entity rows that had no match. */
function splitIndex(index: Int32Array): { picks: Uint32Array; misses: Int32Array } {
  const n = index.length;
  const picks = new Uint32Array(n);
  let m = 0;
  for (let i = 0; i < n; i++) {
    const j = index[i]!;
    if (j >= 0) picks[i] = j;
    else m++;
  }
  const misses = new Int32Array(m);
  if (m > 0) for (let i = 0, k = 0; i < n; i++) if (index[i]! < 0) misses[k++] = i;
  return { picks, misses };
}
