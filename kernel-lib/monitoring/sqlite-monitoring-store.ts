/**
 * monitoring/sqlite-monitoring-store — `MonitoringStore` over the embedded SQLite store: reference
 * statistics per model version and labels (migration 7's tables), and the serving runtime's prediction log
 * (read through `prediction-log.ts`, which adapts to the log's columns).
 */
import { CellarError } from '../errors.js';
import { cachedStatement, writeTx, type SqliteDb } from '../store/sqlite.js';
import {
  entityKeyOf,
  logLayout,
  readPredictionColumns,
  readPredictionRows,
  writePredictionRows,
  type PredictionColumns,
} from './prediction-log.js';
import { parseReferenceStats } from './reference.js';
import { instantMs } from './time.js';
import type { LabelRow, MonitoringStore, PredictionQuery, PredictionRow, ReferenceStats } from './types.js';

function labelTs(row: LabelRow, i: number): number | null {
  if (row.ts === undefined || row.ts === null) return null;
  return instantMs(row.ts, `ts of label ${i}`);
}

/** The embedded monitoring store. */
export class SqliteMonitoringStore implements MonitoringStore {
  /** Wraps the store's SQLite connection. */
  constructor(private readonly db: SqliteDb) {}

  /** Records a version's reference statistics (replacing none: a version's statistics never change). */
  async putReferenceStats(
    name: string,
    version: number,
    runId: string | null,
    stats: ReferenceStats,
  ): Promise<void> {
    writeTx(this.db, `record reference statistics of ${name} v${version}`, () =>
      cachedStatement(
        this.db,
        'INSERT OR IGNORE INTO model_reference_stats (name, version, run_id, stats_json, created_at) VALUES (?, ?, ?, ?, ?)',
      ).run(name, version, runId, JSON.stringify(stats), Date.now()),
    );
  }

  /** {@inheritDoc MonitoringStore.getReferenceStats} */
  async getReferenceStats(name: string, version: number): Promise<ReferenceStats | null> {
    const row = cachedStatement(
      this.db,
      'SELECT stats_json FROM model_reference_stats WHERE name = ? AND version = ?',
    ).get(name, version) as { stats_json: string } | undefined;
    return row ? parseReferenceStats(row.stats_json) : null;
  }

  /** {@inheritDoc PredictionSource.read} */
  async read(q: PredictionQuery): Promise<PredictionRow[]> {
    return readPredictionRows(this.db, q);
  }

  /** Column-wise read of the named features (the report's fast path). */
  readColumns(q: PredictionQuery, numeric: string[], categorical: string[]): PredictionColumns {
    return readPredictionColumns(this.db, q, numeric, categorical);
  }

  /** {@inheritDoc MonitoringStore.logPredictions} */
  async logPredictions(rows: PredictionRow[]): Promise<number> {
    return writePredictionRows(this.db, rows);
  }

  /** {@inheritDoc MonitoringStore.logLabels} */
  async logLabels(rows: LabelRow[]): Promise<number> {
    if (!Array.isArray(rows)) throw new CellarError('INVALID_INPUT', 'logLabels takes an array of rows.');
    const prepared = rows.map((r, i) => {
      if (!r || typeof r !== 'object' || typeof r.label !== 'number' || !Number.isFinite(r.label)) {
        throw new CellarError('INVALID_INPUT', `Label ${i} needs a finite numeric label.`);
      }
      const ts = labelTs(r, i);
      const entity = r.entityKeys ? entityKeyOf(r.entityKeys) : null;
      if (!r.requestId && !(entity && ts !== null)) {
        throw new CellarError(
          'INVALID_INPUT',
          `Label ${i} needs a requestId, or entityKeys and ts, to find its prediction.`,
        );
      }
      return [r.model ?? null, r.requestId ?? null, entity, ts, r.label] as const;
    });
    const now = Date.now();
    return writeTx(this.db, `log ${rows.length} labels`, () => {
      const st = cachedStatement(
        this.db,
        'INSERT INTO prediction_labels (model, request_id, entity_key, ts, label, logged_at) VALUES (?, ?, ?, ?, ?, ?)',
      );
      for (const p of prepared) st.run(...p, now);
      return prepared.length;
    });
  }

  /**
   * (prediction, label) pairs of the predictions matching `q`: a label with a request id joins the prediction
   * of that request; a label with entity keys and a time joins the latest prediction of the same entity at or
   * before that time. A prediction with several labels takes the last one logged.
   */
  async labelledPredictions(q: PredictionQuery): Promise<Array<{ prediction: number; label: number }>> {
    const layout = logLayout(this.db);
    if (!layout) return [];
    // No label for this model yet: skip reading the log (the common case right after deployment).
    const anyLabel = cachedStatement(
      this.db,
      'SELECT 1 FROM prediction_labels WHERE model IS NULL OR model = ? LIMIT 1',
    ).get(q.model);
    if (anyLabel === undefined) return [];
    const rows = readPredictionRows(this.db, q);
    const byRequest = new Map<string, number>();
    for (const r of cachedStatement(
      this.db,
      'SELECT request_id, label FROM prediction_labels WHERE request_id IS NOT NULL AND (model IS NULL OR model = ?) ORDER BY id',
    ).iterate(q.model) as Iterable<{ request_id: string; label: number }>) {
      byRequest.set(r.request_id, r.label);
    }
    const labelOf = new Map<number, number>();
    rows.forEach((r, i) => {
      if (r.requestId !== null && byRequest.has(r.requestId)) labelOf.set(i, byRequest.get(r.requestId)!);
    });
    const byEntity = new Map<string, number[]>();
    rows.forEach((r, i) => {
      if (!r.entityKeys) return;
      const k = entityKeyOf(r.entityKeys);
      const list = byEntity.get(k);
      if (list) list.push(i);
      else byEntity.set(k, [i]);
    });
    if (byEntity.size > 0) {
      for (const l of cachedStatement(
        this.db,
        'SELECT entity_key, ts, label FROM prediction_labels WHERE entity_key IS NOT NULL AND (model IS NULL OR model = ?) ORDER BY id',
      ).iterate(q.model) as Iterable<{ entity_key: string; ts: number; label: number }>) {
        const list = byEntity.get(l.entity_key);
        if (!list) continue;
        let lo = 0;
        let hi = list.length;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (rows[list[mid]!]!.ts <= l.ts) lo = mid + 1;
          else hi = mid;
        }
        if (
          lo > 0 &&
          !(rows[list[lo - 1]!]!.requestId !== null && byRequest.has(rows[list[lo - 1]!]!.requestId!))
        ) {
          labelOf.set(list[lo - 1]!, l.label);
        }
      }
    }
    const out: Array<{ prediction: number; label: number }> = [];
    for (const [i, label] of [...labelOf.entries()].sort((a, b) => a[0] - b[0])) {
      const p = rows[i]!.prediction;
      if (p !== null) out.push({ prediction: p, label });
    }
    return out;
  }
}
