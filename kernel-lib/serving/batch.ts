/**
 * serving/batch — batch scoring for pipeline steps and `cellar predict`: reads rows (a Parquet/CSV file, rows or a
 * DataFrame), scores them with the same path as the server (full feature rows, or entity keys whose features
 * come from the online store), and returns or writes the input columns plus `prediction` (and, for entity
 * rows, `rejected` and `missing_features`). Optionally logs to the prediction log (source `batch`).
 */
import { extname, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { DataFrame } from 'nodejs-polars';
import type { CellarStore } from '../client.js';
import { CellarError } from '../errors.js';
import { toDataFrame, toRows, type DataFrameLike } from '../data/frame.js';
import { readCsv, readParquet, writeCsv, writeParquet } from '../data/io.js';
import { featureStore } from '../features/feature-store.js';
import { getStore } from '../sdk.js';
import { loadServableModel, scoreRequest, type ServableModel } from './model.js';
import { SqlitePredictionLogStore, type PredictionRecord } from './prediction-log.js';

/** Options of {@link predictBatch}. */
export interface PredictBatchOptions {
  /** Model reference: `driver@champion`, `driver/3`, `models:/…`, `runs:/<id>/model`. */
  model: string;
  /** A Parquet or CSV file, or rows / a DataFrame. */
  input: string | DataFrameLike;
  /** Write the result here (`.parquet` or `.csv`, atomically). */
  output?: string;
  /** The store (default: the SDK's default store). */
  store?: CellarStore;
  /** Also write every row to the prediction log (default false). */
  log?: boolean;
}

/** What {@link predictBatch} returns. */
export interface PredictBatchResult {
  /** Input columns + `prediction` (+ `rejected`, `missing_features` for entity rows). */
  frame: DataFrame;
  rows: number;
  rejected: number;
  /** `entities` when the rows held entity keys only, `features` when they held every model input. */
  mode: 'features' | 'entities';
  model: { name: string; version: number | null };
  /** Absolute path of the written file, when `output` was given. */
  output?: string;
}

function readInput(input: string | DataFrameLike): Array<Record<string, unknown>> {
  if (typeof input !== 'string') return toRows(input);
  const ext = extname(input).toLowerCase();
  if (ext === '.parquet') return toRows(readParquet(input));
  if (ext === '.csv') return toRows(readCsv(input));
  throw new CellarError('INVALID_PATH', `Input ${input} must be a .parquet or .csv file.`);
}

function writeOutput(frame: DataFrame, path: string): string {
  const ext = extname(path).toLowerCase();
  if (ext === '.parquet') writeParquet(frame, path);
  else if (ext === '.csv') writeCsv(frame, path);
  else throw new CellarError('INVALID_PATH', `Output ${path} must end in .parquet or .csv.`);
  return resolve(path);
}

function logRecords(
  m: ServableModel,
  r: Awaited<ReturnType<typeof scoreRequest>>,
  started: number,
): PredictionRecord[] {
  const id = `batch-${randomUUID()}`;
  const latency = Date.now() - started;
  const rows = r.modelRows();
  return r.predictions.map((p, i) => ({
    model: m.name,
    version: m.version,
    modelUri: m.uri,
    requestId: id,
    rowIndex: i,
    ts: started,
    latencyMs: latency,
    entity: r.entities ? { ...r.entities[i] } : null,
    inputs: rows[i] ?? {},
    features: r.fetched?.[i] ?? null,
    missing: r.missing?.[i] ?? null,
    prediction: p,
    status: p === null ? 'rejected' : 'ok',
    source: 'batch',
  }));
}

/**
 * Scores a file or a table with a registered model, as a pipeline step does (the course's hourly batch
 * prediction). Rows holding every model input are scored as they are; rows holding only entity keys get their
 * features from the online store, under the model version's missing-feature policy.
 *
 * @throws CellarError NOT_FOUND (model, file), INVALID_INPUT naming field and row, INVALID_PATH for a bad extension
 * @example
 * const { frame } = await predictBatch({ model: 'driver@champion', input: 'entities.parquet', output: 'preds.parquet' })
 */
export async function predictBatch(opts: PredictBatchOptions): Promise<PredictBatchResult> {
  const store = opts.store ?? getStore();
  const m = await loadServableModel(store, opts.model);
  const rows = readInput(opts.input);
  const names = m.model.signature.inputs.map((c) => c.name);
  const full = rows.length > 0 && names.every((n) => n in rows[0]!);
  const started = Date.now();
  const fs = full ? undefined : featureStore({ embedded: store.embedded });
  try {
    const r = await scoreRequest(m, full ? { kind: 'records', rows } : { kind: 'entities', entities: rows }, {
      ...(fs ? { features: fs } : {}),
      maxRows: Number.MAX_SAFE_INTEGER,
    });
    if (opts.log) new SqlitePredictionLogStore(store.embedded.db).append(logRecords(m, r, started));
    const out = rows.map((row, i) => {
      const o: Record<string, unknown> = { ...row, prediction: r.predictions[i] };
      if (r.featureStatus) {
        const s = r.featureStatus[i]!;
        o.rejected = s.rejected;
        o.missing_features = [...s.missing, ...s.outside_ttl].join(',');
      }
      return o;
    });
    const frame = toDataFrame(out);
    const result: PredictBatchResult = {
      frame,
      rows: rows.length,
      rejected: r.predictions.filter((p) => p === null).length,
      mode: full ? 'features' : 'entities',
      model: { name: m.name, version: m.version },
    };
    if (opts.output !== undefined) result.output = writeOutput(frame, opts.output);
    return result;
  } finally {
    await fs?.close();
  }
}
