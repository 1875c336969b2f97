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
/** The same read plus the connection's data_version, from the same read transaction (one lock, not two). */
const READ_ONE_VERSIONED = `
SELECT d.data_version AS dv, o.event_ts AS event_ts, o.created_ts AS created_ts, o.values_json AS values_json
FROM pragma_data_version AS d
LEFT JOIN online_features AS o ON o.view = ? AND o.entity_key = ?`;

interface StoredRow {
  event_ts: number;
  created_ts: number | null;
  /** Null only from the versioned read's LEFT JOIN when nothing is stored. */
  values_json: string | null;
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
 * The rows' indices sorted by entity key (stable). Writing a WITHOUT ROWID B-tree in key order touches each
 * page once; in arrival order, a call larger than SQLite's page cache rewrites pages at random and slows down
 * more than linearly with its size.
 */
function keyOrder(rows: OnlineRow[]): Uint32Array {
  const order = new Uint32Array(rows.length);
  let sorted = true;
  for (let i = 0; i < rows.length; i++) {
    order[i] = i;
    if (i > 0 && rows[i - 1]!.entityKey > rows[i]!.entityKey) sorted = false;
  }
  if (sorted) return order;
  const keys = rows.map((r) => r.entityKey);
  return order.sort((a, b) => {
    const ka = keys[a]!;
    const kb = keys[b]!;
    return ka < kb ? -1 : ka > kb ? 1 : a - b;
  });
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
  private readonly readOneVersioned: Statement;
  private readonly remove: Statement;

  /** Wraps an open, migrated store database (schema version ≥ 2). */
  constructor(private readonly db: SqliteDb) {
    this.upsertOne = db.prepare(upsertSql(1));
    this.upsertBatch = db.prepare(upsertSql(BATCH));
    this.readOne = db.prepare(READ_ONE);
    this.readOneVersioned = db.prepare(READ_ONE_VERSIONED);
    this.remove = db.prepare('DELETE FROM online_features WHERE view = ?');
  }

  /**
   * Writes rows in one transaction; a row replaces the stored one only when its (eventTs, createdTs) is
   * newer (a missing createdTs is older than any). Returns how many rows created or replaced a value.
   */
  async write(view: string, rows: OnlineRow[]): Promise<number> {
    if (rows.length === 0) return 0;
    const writtenAt = Date.now();
    const order = keyOrder(rows);
    const put = (params: unknown[], at: number, r: OnlineRow): void => {
      params[at] = view;
      params[at + 1] = r.entityKey;
      params[at + 2] = r.eventTs;
      params[at + 3] = r.createdTs ?? null;
      params[at + 4] = valuesToJson(r.values);
      params[at + 5] = writtenAt;
    };
    return writeTx(this.db, `write ${rows.length} online rows of view "${view}"`, () => {
      // Rows of one statement are applied in order, and the key order is stable, so within a call later rows of
      // the same entity still win only when newer.
      let changed = 0;
      const full = rows.length - (rows.length % BATCH);
      const batch: unknown[] = new Array(BATCH * 6);
      for (let i = 0; i < full; i += BATCH) {
        for (let j = 0; j < BATCH; j++) put(batch, j * 6, rows[order[i + j]!]!);
        changed += this.upsertBatch.run(batch).changes;
      }
      const one: unknown[] = new Array(6);
      for (let i = full; i < rows.length; i++) {
        put(one, 0, rows[order[i]!]!);
        changed += this.upsertOne.run(one).changes;
      }
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
            values: JSON.parse(r.values_json!) as Record<string, unknown>,
          }
        : null;
    }
    return out;
  }

  /**
   * {@link readSync} that also reports the largest `data_version` (SQLite's counter of other connections' commits)
   * seen by its reads, each taken in the same statement as the read. Lets a caller that caches what it read
   * elsewhere in this database (the feature registry) check that cache without a statement of its own.
   */
  readSyncVersioned(
    view: string,
    entityKeys: string[],
  ): { values: Array<OnlineValue | null>; dataVersion: number } {
    const values = new Array<OnlineValue | null>(entityKeys.length);
    let dataVersion = -1;
    for (let i = 0; i < entityKeys.length; i++) {
      const r = this.readOneVersioned.get(view, entityKeys[i]) as StoredRow & { dv: number };
      if (r.dv > dataVersion) dataVersion = r.dv;
      values[i] =
        r.values_json === null
          ? null
          : {
              eventTs: r.event_ts,
              createdTs: r.created_ts,
              values: JSON.parse(r.values_json) as Record<string, unknown>,
            };
    }
    return { values, dataVersion };
  }

  /** Removes every stored value of `view`. */
  async deleteView(view: string): Promise<void> {
    writeTx(this.db, `delete the online values of view "${view}"`, () => this.remove.run(view));
  }

  /** Nothing to release: the database connection is owned by whoever opened it. */
  async close(): Promise<void> {}
}
