/**
 * serving/prediction-log — the prediction log that monitoring reads: the `PredictionLogStore` interface, its
 * SQLite implementation (table `prediction_log`, migration 6), `PredictionLogger` (samples and buffers records
 * and writes them in one transaction every `flushMs` or `maxRows`, so the request path only pushes to an array)
 * and `readPredictionLog({ model, since })`.
 */
import { CellarError } from '../errors.js';
import { cachedStatement, writeTx, type SqliteDb } from '../store/sqlite.js';

/** One scored row as logged. */
export interface PredictionRecord {
  /** Registered model name (or the model URI for `runs:/` models). */
  model: string;
  /** Model version (null for a `runs:/` model). */
  version: number | null;
  /** The URI the server was started with, e.g. `models:/driver@champion`. */
  modelUri: string;
  /** The request id (the `x-request-id` response header). */
  requestId: string;
  /** Index of the row in its request. */
  rowIndex: number;
  /** When the request arrived (epoch ms, UTC). */
  ts: number;
  /** Server-side latency of the whole request in milliseconds. */
  latencyMs: number;
  /** Entity keys of an entity request, e.g. `{ driver_id: 1001 }`; null for full-feature rows. */
  entity: Record<string, unknown> | null;
  /** The row as the model saw it (after lookup, imputation and transform). */
  inputs: Record<string, unknown>;
  /** Features fetched from the online store (null values where not PRESENT); null without a lookup. */
  features: Record<string, unknown> | null;
  /** Features missing or outside their TTL for this row (with the status), e.g. `{ conv_rate: 'NOT_FOUND' }`. */
  missing: Record<string, string> | null;
  /** The prediction, or null when the row was rejected. */
  prediction: number | null;
  status: 'ok' | 'rejected';
  /** `serve` (HTTP) or `batch` (`cellar predict` / `predictBatch`). */
  source: 'serve' | 'batch';
}

/** A logged record as read back (with its row id). */
export type StoredPrediction = PredictionRecord & { id: number };

/** Options of {@link PredictionLogStore.read}. */
export interface ReadPredictionLogOptions {
  /** Registered model name (or model URI for `runs:/` models). */
  model: string;
  /** Only this version. */
  version?: number;
  /** Records with `ts >= since` (epoch ms or Date). */
  since?: number | Date;
  /** Records with `ts < until`. */
  until?: number | Date;
  /** At most this many records (default 100 000), oldest first. */
  limit?: number;
}

/** Where prediction records are kept. Implementations must write a batch all-or-nothing. */
export interface PredictionLogStore {
  /** Appends records in one transaction. */
  append(records: readonly PredictionRecord[]): void;
  /** Records of one model, oldest first. */
  read(opts: ReadPredictionLogOptions): StoredPrediction[];
}

const INSERT = `INSERT INTO prediction_log (model, version, model_uri, request_id, row_index, ts, latency_ms,
  entity_json, inputs_json, features_json, missing_json, prediction, status, source)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

interface Row {
  id: number;
  model: string;
  version: number | null;
  model_uri: string;
  request_id: string;
  row_index: number;
  ts: number;
  latency_ms: number;
  entity_json: string | null;
  inputs_json: string;
  features_json: string | null;
  missing_json: string | null;
  prediction: number | null;
  status: 'ok' | 'rejected';
  source: 'serve' | 'batch';
}

function json(v: unknown): string | null {
  return v === null || v === undefined ? null : JSON.stringify(v);
}

function ms(name: string, v: number | Date | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = v instanceof Date ? v.getTime() : v;
  if (typeof n !== 'number' || !Number.isFinite(n))
    throw new CellarError('INVALID_PARAMETER', `${name} must be a Date or epoch milliseconds.`);
  return n;
}

/**
 * The prediction log in the embedded SQLite store (table `prediction_log`).
 *
 * @example
 * const log = new SqlitePredictionLogStore(openStore().embedded.db)
 * log.read({ model: 'driver', since: Date.now() - 3_600_000 })
 */
export class SqlitePredictionLogStore implements PredictionLogStore {
  /** Wraps the store's connection (owned by the caller). */
  constructor(private readonly db: SqliteDb) {}

  /** Appends records in one `BEGIN IMMEDIATE` transaction. */
  append(records: readonly PredictionRecord[]): void {
    if (records.length === 0) return;
    const st = cachedStatement(this.db, INSERT);
    writeTx(this.db, 'write the prediction log', () => {
      for (const r of records) {
        st.run(
          r.model,
          r.version,
          r.modelUri,
          r.requestId,
          r.rowIndex,
          r.ts,
          r.latencyMs,
          json(r.entity),
          JSON.stringify(r.inputs),
          json(r.features),
          json(r.missing),
          r.prediction !== null && Number.isFinite(r.prediction) ? r.prediction : null,
          r.status,
          r.source,
        );
      }
    });
  }

  /** Records of one model, oldest first (see {@link ReadPredictionLogOptions}). */
  read(opts: ReadPredictionLogOptions): StoredPrediction[] {
    if (!opts || typeof opts.model !== 'string' || opts.model === '')
      throw new CellarError('INVALID_PARAMETER', 'readPredictionLog needs { model: "<name>" }.');
    const where = ['model = ?'];
    const args: unknown[] = [opts.model];
    if (opts.version !== undefined) {
      where.push('version = ?');
      args.push(opts.version);
    }
    const since = ms('since', opts.since);
    const until = ms('until', opts.until);
    if (since !== undefined) {
      where.push('ts >= ?');
      args.push(since);
    }
    if (until !== undefined) {
      where.push('ts < ?');
      args.push(until);
    }
    const limit = opts.limit ?? 100_000;
    if (!Number.isSafeInteger(limit) || limit < 1)
      throw new CellarError('INVALID_PARAMETER', 'limit must be a positive integer.');
    args.push(limit);
    const rows = this.db
      .prepare(`SELECT * FROM prediction_log WHERE ${where.join(' AND ')} ORDER BY ts, id LIMIT ?`)
      .all(...args) as Row[];
    return rows.map((r) => ({
      id: r.id,
      model: r.model,
      version: r.version,
      modelUri: r.model_uri,
      requestId: r.request_id,
      rowIndex: r.row_index,
      ts: r.ts,
      latencyMs: r.latency_ms,
      entity: r.entity_json === null ? null : (JSON.parse(r.entity_json) as Record<string, unknown>),
      inputs: JSON.parse(r.inputs_json) as Record<string, unknown>,
      features: r.features_json === null ? null : (JSON.parse(r.features_json) as Record<string, unknown>),
      missing: r.missing_json === null ? null : (JSON.parse(r.missing_json) as Record<string, string>),
      prediction: r.prediction,
      status: r.status,
      source: r.source,
    }));
  }
}

/** Options of {@link PredictionLogger}. */
export interface PredictionLoggerOptions {
  store: PredictionLogStore;
  /** Fraction of requests logged, 0..1 (default 1: all). Sampling is per request, so a request's rows stay together. */
  sample?: number;
  /** Flush at least this often (default 200 ms). */
  flushMs?: number;
  /** Flush as soon as this many rows are buffered (default 2000). */
  maxRows?: number;
  /** Rows kept at most while the store cannot be written (older ones are dropped and counted). Default 100 000. */
  maxBuffered?: number;
  /** Called when a flush fails (the records stay buffered up to `maxBuffered`). */
  onError?(e: unknown): void;
}

/**
 * Buffers prediction records and writes them in batches. `shouldLog()` decides per request (sampling);
 * `push()` only appends to an array; a timer (unref'd) or the row threshold triggers one transaction per batch.
 *
 * @example
 * const logger = new PredictionLogger({ store: new SqlitePredictionLogStore(db), sample: 0.1 })
 * if (logger.shouldLog()) logger.push(records)
 * await logger.close()
 */
export class PredictionLogger {
  private buffer: PredictionRecord[] = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly sample: number;
  private readonly flushMs: number;
  private readonly maxRows: number;
  private readonly maxBuffered: number;
  /** Records written so far. */
  written = 0;
  /** Records dropped because the store could not keep up. */
  dropped = 0;

  /** Creates a logger over a store (see {@link PredictionLoggerOptions}). */
  constructor(private readonly opts: PredictionLoggerOptions) {
    const sample = opts.sample ?? 1;
    if (!(typeof sample === 'number' && sample >= 0 && sample <= 1))
      throw new CellarError(
        'INVALID_PARAMETER',
        `log sample must be between 0 and 1, got ${String(sample)}.`,
      );
    this.sample = sample;
    this.flushMs = opts.flushMs ?? 200;
    this.maxRows = opts.maxRows ?? 2000;
    this.maxBuffered = opts.maxBuffered ?? 100_000;
  }

  /** True when this request should be logged (sampling). */
  shouldLog(): boolean {
    return this.sample >= 1 || (this.sample > 0 && Math.random() < this.sample);
  }

  /** Buffers records; a flush happens later, off the caller's path. */
  push(records: readonly PredictionRecord[]): void {
    for (const r of records) this.buffer.push(r);
    if (this.buffer.length > this.maxBuffered) {
      const extra = this.buffer.length - this.maxBuffered;
      this.buffer.splice(0, extra);
      this.dropped += extra;
    }
    if (this.buffer.length >= this.maxRows) setImmediate(() => this.flush());
    else if (this.timer === null) {
      this.timer = setTimeout(() => this.flush(), this.flushMs);
      this.timer.unref();
    }
  }

  /** Writes what is buffered now (one transaction). Errors go to `onError`; the records stay buffered. */
  flush(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.buffer.length === 0) return;
    const batch = this.buffer;
    this.buffer = [];
    try {
      this.opts.store.append(batch);
      this.written += batch.length;
    } catch (e) {
      this.buffer = batch.concat(this.buffer);
      this.opts.onError?.(e);
    }
  }

  /** Flushes what is left and stops the timer. */
  async close(): Promise<void> {
    this.flush();
  }
}

/**
 * Reads the prediction log of a model from a store's database, oldest first: what monitoring (drift,
 * training/serving skew) consumes.
 *
 * @example
 * const rows = readPredictionLog(openStore().embedded.db, { model: 'driver', since: Date.now() - 86_400_000 })
 * rows[0] // { model: 'driver', version: 3, inputs: { conv_rate: 0.5, … }, prediction: 0.81, … }
 * @throws CellarError INVALID_PARAMETER for a missing model name or a bad time bound
 */
export function readPredictionLog(db: SqliteDb, opts: ReadPredictionLogOptions): StoredPrediction[] {
  return new SqlitePredictionLogStore(db).read(opts);
}
