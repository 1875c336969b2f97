/**
 * features/online/sqlite-online-store — the embedded online store: one row per (view, entity key) in the
 * store's SQLite table `online_features`, values as JSON. Writes are conditional upserts (the stored row is
 * replaced only by a newer (event ts, created ts)), all rows of one call in one `BEGIN IMMEDIATE`
 * transaction, so replays and out-of-order writes converge and readers never see half a write.
 */
import type { Statement } from 'better-sqlite3';
import { writeTx, type SqliteDb } from '../../store/sqlite.js';
import type { OnlineRow, OnlineStore, OnlineValue } from '../stores.js';

/** Stands for a missing created timestamp in comparisons: older than any real one. */
const NO_CREATED = -9007199254740991;

/** The conditional upsert of `n` rows (multi-row VALUES: far fewer statement steps than one row at a time). */
function upsertSql(n: number): string {
  return `
INSERT INTO online_features (view, entity_key, event_ts, created_ts, values_json, written_at)
VALUES ${new Array(n).fill('(?, ?, ?, ?, ?, ?)').join(', ')}
ON CONFLICT (view, entity_key) DO UPDATE SET
  event_ts = excluded.event_ts,
  created_ts = excluded.created_ts,
  values_json = excluded.values_json,
  written_at = excluded.written_at
WHERE (excluded.event_ts, coalesce(excluded.created_ts, ${NO_CREATED}))
    > (online_features.event_ts, coalesce(online_features.created_ts, ${NO_CREATED}))`;
}
/** Rows per multi-row statement. */
const BATCH = 128;

const READ_ONE =
  'SELECT event_ts, created_ts, values_json FROM online_features WHERE view = ? AND entity_key = ?';

interface StoredRow {
  event_ts: number;
  created_ts: number | null;
  values_json: string;
}

/** Serialises feature values; non-finite numbers (NaN, ±Infinity) become null like JSON itself does. */
export function valuesToJson(values: Record<string, unknown>): string {
  try {
    return JSON.stringify(values);
  } catch {
    // Only BigInt makes JSON.stringify throw here; the replacer costs time, so it is the fallback.
    return JSON.stringify(values, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v));
  }
}

/**
 * The SQLite online store (table `online_features` of the embedded store). The connection belongs to the
 * caller: `close()` does not close it.
 *
 * @example
 * const online = new SqliteOnlineStore(openEmbedded('.cellar').db)
 * await online.write('driver_stats', [{ entityKey, eventTs, createdTs: null, values: { conv_rate: 0.5 } }])
 */
export class SqliteOnlineStore implements OnlineStore {
  private readonly upsertOne: Statement;
  private readonly upsertBatch: Statement;
  private readonly readOne: Statement;
  private readonly remove: Statement;

  /** Wraps an open, migrated store database (schema version ≥ 2). */
  constructor(private readonly db: SqliteDb) {
    this.upsertOne = db.prepare(upsertSql(1));
    this.upsertBatch = db.prepare(upsertSql(BATCH));
    this.readOne = db.prepare(READ_ONE);
    this.remove = db.prepare('DELETE FROM online_features WHERE view = ?');
  }

  /**
   * Writes rows in one transaction; a row replaces the stored one only when its (eventTs, createdTs) is
   * newer (a missing createdTs is older than any). Returns how many rows created or replaced a value.
   */
  async write(view: string, rows: OnlineRow[]): Promise<number> {
    if (rows.length === 0) return 0;
    const writtenAt = Date.now();
    const params: unknown[] = new Array(rows.length * 6);
    rows.forEach((r, i) => {
      params[i * 6] = view;
      params[i * 6 + 1] = r.entityKey;
      params[i * 6 + 2] = r.eventTs;
      params[i * 6 + 3] = r.createdTs ?? null;
      params[i * 6 + 4] = valuesToJson(r.values);
      params[i * 6 + 5] = writtenAt;
    });
    return writeTx(this.db, `write ${rows.length} online rows of view "${view}"`, () => {
      // Rows of one statement are applied in order, so within a call later rows still win only when newer.
      let changed = 0;
      const full = rows.length - (rows.length % BATCH);
      for (let i = 0; i < full; i += BATCH) {
        changed += this.upsertBatch.run(params.slice(i * 6, (i + BATCH) * 6)).changes;
      }
      for (let i = full; i < rows.length; i++)
        changed += this.upsertOne.run(params.slice(i * 6, i * 6 + 6)).changes;
      return changed;
    });
  }

  /** Reads the stored values of `entityKeys`, in order (null where nothing is stored). */
  async read(view: string, entityKeys: string[]): Promise<Array<OnlineValue | null>> {
    return this.readSync(view, entityKeys);
  }

  /** Synchronous {@link read} (the embedded store needs no I/O wait; used on the serving fast path). */
  readSync(view: string, entityKeys: string[]): Array<OnlineValue | null> {
    const out = new Array<OnlineValue | null>(entityKeys.length);
    for (let i = 0; i < entityKeys.length; i++) {
      const r = this.readOne.get(view, entityKeys[i]) as StoredRow | undefined;
      out[i] = r
        ? {
            eventTs: r.event_ts,
            createdTs: r.created_ts,
            values: JSON.parse(r.values_json) as Record<string, unknown>,
          }
        : null;
    }
    return out;
  }

  /** Removes every stored value of `view`. */
  async deleteView(view: string): Promise<void> {
    writeTx(this.db, `delete the online values of view "${view}"`, () => this.remove.run(view));
  }

  /** Nothing to release: the database connection is owned by whoever opened it. */
  async close(): Promise<void> {}
}
