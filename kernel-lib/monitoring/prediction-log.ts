/**
 * monitoring/prediction-log — reads (and, for tests and notebooks, writes) the serving runtime's prediction
 * log table `prediction_log`. The serving side owns that table; its columns are looked up at run time with
 * `PRAGMA table_info` and matched by name (model / model_name, version / model_version, ts / ts_ms, …), so
 * monitoring keeps working when the log gains or renames a column. When the store has no log yet,
 * `logPredictions` creates one with the layout below.
 */
import { randomUUID } from 'node:crypto';
import { CellarError } from '../errors.js';
import { encodeEntityKey } from '../features/stores.js';
import { cachedStatement, type SqliteDb } from '../store/sqlite.js';
import { SqlitePredictionLogStore, type PredictionRecord } from '../serving/prediction-log.js';
import type { FeatureValue, PredictionQuery, PredictionRow } from './types.js';

const TABLE = 'prediction_log';

/** Where each field of a prediction lives in the log (column names; null when the log lacks it). */
export interface LogLayout {
  model: string;
  version: string | null;
  requestId: string | null;
  ts: string;
  features: string | null;
  inputs: string | null;
  prediction: string | null;
  entityKeys: string | null;
  latency: string | null;
}

const CANDIDATES: Record<keyof LogLayout, string[]> = {
  model: ['model', 'model_name', 'name'],
  version: ['version', 'model_version'],
  requestId: ['request_id', 'requestid', 'req_id'],
  ts: ['ts', 'ts_ms', 'timestamp', 'timestamp_ms', 'created_at', 'logged_at', 'time'],
  // Fetched online features first; rows without them (full-feature requests) fall back to the model's inputs.
  features: ['features_json', 'features'],
  inputs: ['inputs_json', 'inputs', 'input_json', 'request_json'],
  prediction: ['prediction_json', 'prediction', 'predictions_json', 'outputs_json', 'output_json', 'outputs'],
  entityKeys: ['entity_json', 'entity_keys_json', 'entity_keys', 'entities_json', 'entities'],
  latency: ['latency_ms', 'latency'],
};

/** The log's layout, or null when the store has no prediction log. */
export function logLayout(db: SqliteDb): LogLayout | null {
  const cols = (db.pragma(`table_info(${TABLE})`) as Array<{ name: string }>).map((c) => c.name);
  if (cols.length === 0) return null;
  const lower = new Map(cols.map((c) => [c.toLowerCase(), c]));
  const pick = (key: keyof LogLayout): string | null => {
    for (const c of CANDIDATES[key]) if (lower.has(c)) return lower.get(c)!;
    return null;
  };
  const model = pick('model');
  const ts = pick('ts');
  if (!model || !ts) {
    throw new CellarError(
      'UNSUPPORTED',
      `The store's ${TABLE} table has no model or timestamp column (columns: ${cols.join(', ')}); this cellar cannot read it.`,
    );
  }
  return {
    model,
    ts,
    version: pick('version'),
    requestId: pick('requestId'),
    features: pick('features'),
    inputs: pick('inputs'),
    prediction: pick('prediction'),
    entityKeys: pick('entityKeys'),
    latency: pick('latency'),
  };
}

const q = (c: string): string => `"${c.replace(/"/g, '""')}"`;

/** The WHERE clause (without the keyword) and its parameters for a query. */
function whereOf(layout: LogLayout, query: PredictionQuery): { where: string; params: unknown[] } {
  const where = [`${q(layout.model)} = ?`];
  const params: unknown[] = [query.model];
  if (query.version !== undefined && layout.version) {
    where.push(`${q(layout.version)} = ?`);
    params.push(query.version);
  }
  if (query.since !== undefined) {
    where.push(`${q(layout.ts)} >= ?`);
    params.push(query.since);
  }
  if (query.until !== undefined) {
    where.push(`${q(layout.ts)} < ?`);
    params.push(query.until);
  }
  return { where: where.join(' AND '), params };
}

/** The SQL that selects `cols` of the rows matching a query, oldest first. */
export function selectSql(
  layout: LogLayout,
  cols: string[],
  query: PredictionQuery,
): { sql: string; params: unknown[] } {
  const { where, params } = whereOf(layout, query);
  const select = cols.map((c) => (c === 'NULL' ? 'NULL' : q(c))).join(', ');
  let sql = `SELECT ${select} FROM ${TABLE} WHERE ${where}`;
  if (query.limit !== undefined) {
    sql = `SELECT * FROM (${sql} ORDER BY ${q(layout.ts)} DESC LIMIT ${Math.max(0, Math.floor(query.limit))}) ORDER BY 1`;
  } else sql += ` ORDER BY ${q(layout.ts)}`;
  return { sql, params };
}

function parseJson(text: unknown): unknown {
  if (typeof text !== 'string') return text ?? null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** The single number of a logged prediction (a number, `[n]`, `{prediction: n}`, `{predictions: [n]}`). */
export function predictionNumber(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (Array.isArray(v)) return v.length === 0 ? null : predictionNumber(v[0]);
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    for (const k of ['prediction', 'predictions', 'outputs', 'output', 'value'])
      if (k in o) return predictionNumber(o[k]);
  }
  return null;
}

function featureObject(v: unknown): Record<string, FeatureValue> {
  const out: Record<string, FeatureValue> = {};
  if (!v || typeof v !== 'object' || Array.isArray(v)) return out;
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    out[k] = typeof x === 'number' || typeof x === 'string' ? x : null;
  }
  return out;
}

function keysObject(v: unknown): Record<string, string | number> | null {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return null;
  const out: Record<string, string | number> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>))
    if (typeof x === 'number' || typeof x === 'string') out[k] = x;
  return Object.keys(out).length ? out : null;
}

/** Canonical entity key of an entity-keys object (as the online store encodes it). */
export function entityKeyOf(keys: Record<string, string | number>): string {
  const names = Object.keys(keys);
  return encodeEntityKey(
    names,
    names.map((n) => keys[n]!),
  );
}

/** Reads logged predictions as rows, oldest first. */
export function readPredictionRows(db: SqliteDb, query: PredictionQuery): PredictionRow[] {
  const layout = logLayout(db);
  if (!layout) return [];
  const cols = [
    layout.ts,
    layout.version ?? 'NULL',
    layout.requestId ?? 'NULL',
    layout.features ?? 'NULL',
    layout.inputs ?? 'NULL',
    layout.prediction ?? 'NULL',
    layout.entityKeys ?? 'NULL',
    layout.latency ?? 'NULL',
  ];
  const { sql, params } = selectSql(layout, cols, query);
  const rows = cachedStatement(db, sql)
    .raw(true)
    .all(...params) as unknown[][];
  return rows.map((r) => {
    const features = featureObject(parseJson(r[3]) ?? parseJson(r[4]));
    return {
      ts: Number(r[0]),
      model: query.model,
      version: r[1] === null ? -1 : Number(r[1]),
      requestId: r[2] === null ? null : String(r[2]),
      features: Object.keys(features).length ? features : featureObject(parseJson(r[4])),
      entityKeys: keysObject(parseJson(r[6])),
      prediction: predictionNumber(parseJson(r[5])),
      latencyMs: r[7] === null ? null : Number(r[7]),
    };
  });
}

/** Logged predictions as columns (the report's fast path): numbers as Float64Array (NaN for null), categories as arrays. */
export interface PredictionColumns {
  n: number;
  ts: Float64Array;
  prediction: Float64Array;
  numeric: Record<string, Float64Array>;
  categorical: Record<string, Array<string | null>>;
}

const PAGE = 65_536;

/**
 * Reads the named features of the matching predictions column-wise, oldest first. SQLite's `json_extract`
 * pulls each feature out of the logged JSON, so no JSON is parsed and no row object is built in JavaScript.
 */
export function readPredictionColumns(
  db: SqliteDb,
  query: PredictionQuery,
  numericNames: string[],
  categoricalNames: string[],
): PredictionColumns {
  const layout = logLayout(db);
  const names = [...numericNames, ...categoricalNames];
  const empty: PredictionColumns = {
    n: 0,
    ts: new Float64Array(0),
    prediction: new Float64Array(0),
    numeric: Object.fromEntries(numericNames.map((k) => [k, new Float64Array(0)])),
    categorical: Object.fromEntries(categoricalNames.map((k) => [k, []])),
  };
  if (!layout) return empty;
  const featureCols = [layout.features, layout.inputs].filter((c): c is string => c !== null);
  const path = (name: string): string => `'$."${name.replace(/'/g, "''").replace(/"/g, '\\"')}"'`;
  const selects = [
    q(layout.ts),
    layout.prediction ? `json_extract(${q(layout.prediction)}, '$')` : 'NULL',
    // A feature the log's features column lacks (a full-feature request) is read from the model's inputs.
    ...names.map((n) =>
      featureCols.length === 0
        ? 'NULL'
        : `COALESCE(${featureCols.map((c) => `json_extract(${q(c)}, ${path(n)})`).join(', ')})`,
    ),
  ];
  const { where, params } = whereOf(layout, query);
  // Keyset pages on (ts, rowid): the (model, ts) index serves both the window and the order.
  const tsCol = q(layout.ts);
  const st = cachedStatement(
    db,
    `SELECT rowid, ${selects.join(', ')} FROM ${TABLE} WHERE ${where} AND ${tsCol} >= ? AND NOT (${tsCol} = ? AND rowid <= ?) ` +
      `ORDER BY ${tsCol}, rowid LIMIT ${PAGE}`,
  ).raw(true);
  const tsParts: Float64Array[] = [];
  const predParts: Float64Array[] = [];
  const numParts: Float64Array[][] = numericNames.map(() => []);
  const cat = categoricalNames.map(() => [] as Array<string | null>);
  let afterTs = -Infinity;
  let afterRowid = -Infinity;
  let n = 0;
  for (;;) {
    const page = st.all(...params, afterTs, afterTs, afterRowid) as unknown[][];
    if (page.length === 0) break;
    const m = page.length;
    const ts = new Float64Array(m);
    const pred = new Float64Array(m);
    const num = numericNames.map(() => new Float64Array(m));
    for (let i = 0; i < m; i++) {
      const r = page[i]!;
      ts[i] = Number(r[1]);
      const p = r[2];
      pred[i] = typeof p === 'number' ? p : (predictionNumber(parseJson(p)) ?? Number.NaN);
      for (let j = 0; j < numericNames.length; j++) {
        const v = r[3 + j];
        num[j]![i] = typeof v === 'number' ? v : Number.NaN;
      }
      for (let j = 0; j < categoricalNames.length; j++) {
        const v = r[3 + numericNames.length + j];
        cat[j]!.push(v === null || v === undefined ? null : String(v));
      }
    }
    tsParts.push(ts);
    predParts.push(pred);
    num.forEach((a, j) => numParts[j]!.push(a));
    n += m;
    afterTs = Number(page[m - 1]![1]);
    afterRowid = Number(page[m - 1]![0]);
    if (m < PAGE) break;
  }
  const concat = (parts: Float64Array[]): Float64Array => {
    const out = new Float64Array(n);
    let o = 0;
    for (const part of parts) {
      out.set(part, o);
      o += part.length;
    }
    return out;
  };
  return {
    n,
    ts: concat(tsParts),
    prediction: concat(predParts),
    numeric: Object.fromEntries(numericNames.map((k, j) => [k, concat(numParts[j]!)])),
    categorical: Object.fromEntries(categoricalNames.map((k, j) => [k, cat[j]!])),
  };
}

function checkRow(r: PredictionRow, i: number): void {
  if (!r || typeof r !== 'object')
    throw new CellarError('INVALID_INPUT', `Prediction row ${i} is not an object.`);
  if (typeof r.model !== 'string' || r.model === '')
    throw new CellarError('INVALID_INPUT', `Prediction row ${i} needs a model name.`);
  if (!Number.isInteger(r.version))
    throw new CellarError('INVALID_INPUT', `Prediction row ${i} needs an integer version.`);
  if (!Number.isFinite(r.ts))
    throw new CellarError('INVALID_INPUT', `Prediction row ${i} needs ts in epoch milliseconds.`);
  if (!r.features || typeof r.features !== 'object')
    throw new CellarError('INVALID_INPUT', `Prediction row ${i} needs a features object.`);
}

/**
 * Appends predictions to the log through the serving side's store (one writer for `prediction_log`,
 * migration 6): each row becomes a record of a request of its own (`source: 'batch'`).
 */
export function writePredictionRows(db: SqliteDb, rows: PredictionRow[]): number {
  if (!Array.isArray(rows)) throw new CellarError('INVALID_INPUT', 'logPredictions takes an array of rows.');
  rows.forEach(checkRow);
  const records: PredictionRecord[] = rows.map((r) => ({
    model: r.model,
    version: r.version,
    modelUri: `models:/${r.model}/${r.version}`,
    requestId: r.requestId ?? randomUUID(),
    rowIndex: 0,
    ts: Math.round(r.ts),
    latencyMs: r.latencyMs ?? 0,
    entity: r.entityKeys ?? null,
    inputs: r.features,
    features: r.entityKeys ? r.features : null,
    missing: null,
    prediction: r.prediction,
    status: r.prediction === null ? 'rejected' : 'ok',
    source: 'batch',
  }));
  new SqlitePredictionLogStore(db).append(records);
  return rows.length;
}
