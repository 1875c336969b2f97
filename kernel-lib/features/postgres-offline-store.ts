/**
 * features/postgres-offline-store — the offline store on PostgreSQL: feature views read `postgresSource`
 * tables and the point-in-time join runs inside the database. The entity rows go to a TEMP table (bulk
 * `INSERT … SELECT FROM unnest($1, $2, …)`, dropped at commit), then per view either
 *   - `lateral`: for each entity row, `LATERAL (… ORDER BY ts DESC, created DESC NULLS LAST, ctid DESC LIMIT 1)`
 *     — fast with an index on (join keys, timestamp), and the only plan for `filterByCreatedTimestamp`; or
 *   - `window`: entity and feature rows in one stream ordered by (keys, ts, kind), a running `max(seq)` over
 *     the feature rows' rank carrying the latest feature row forward — no index needed, O((E+F) log(E+F)).
 * TTL and the created-timestamp filter are SQL predicates; `pullLatest` is a `DISTINCT ON`. Every value is a
 * bound parameter; identifiers are checked and quoted (`postgres-source.ts`). Sessions use TimeZone=UTC, so
 * `timestamp without time zone` columns are read as UTC.
 */
import type pg from 'pg';
import { CellarError } from '../errors.js';
import { requireDependency } from '../lazy/load.js';
import { inspectSource, quoteColumn as q, type ColumnKind, type SourceInfo } from './postgres-source.js';
import type {
  HistoricalJoinRequest,
  HistoricalJoinResult,
  KeyValue,
  LatestRows,
  OfflineStore,
  ValueColumn,
} from './stores.js';
import type { FeatureDtype, FeatureViewDef } from './types.js';

/** Options of {@link PostgresOfflineStore.connect}. */
export interface PostgresOfflineStoreOptions {
  /** Join plan: `auto` (default) picks `lateral` when an index starts with (join keys, timestamp) or created-ts filtering is asked, else `window`. */
  strategy?: 'auto' | 'lateral' | 'window';
  /** Maximum connections (default 4). */
  poolSize?: number;
  /** `work_mem` of the join's transaction, so its sorts stay in memory (default `'64MB'`; e.g. `'256MB'`, `'1GB'`). */
  workMem?: string;
}

/** int8 as a number when it is exact, else as a string (never silently rounded). */
function parseInt8(text: string): number | string {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : text;
}

/** The `pg` client, loaded when the first PostgreSQL store connects (it is an optional dependency). */
function pgClient(): typeof pg {
  return requireDependency<typeof pg>('pg', 'The PostgreSQL offline store');
}

const TYPES = {
  getTypeParser(oid: number, format?: string): unknown {
    if (oid === 20) return parseInt8;
    if (oid === 1700) return (text: string) => Number(text);
    return pgClient().types.getTypeParser(oid, format as 'text');
  },
};

const NUMERIC = /^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$/;
const INTEGER = /^\s*[+-]?\d+\s*$/;
const ENTITY_TABLE = 'cellar_entity_rows';
const CHUNK = 50_000;

/** Epoch ms (float8) of a timestamp expression. */
function msOf(kind: 'time' | 'epoch', sql: string): string {
  return kind === 'time' ? `(extract(epoch from ${sql}) * 1000)::float8` : `(${sql})::float8`;
}

/** An expression in the column's own domain for an epoch-ms SQL expression. */
function fromMs(kind: 'time' | 'epoch', msSql: string): string {
  return kind === 'time' ? `to_timestamp((${msSql}) / 1000.0)` : `(${msSql})`;
}

/** The cast applied to an entity key (stored as text) to compare it with a source key column. */
function keyCast(kind: ColumnKind): string {
  return kind === 'int' ? '::int8' : kind === 'float' ? '::float8' : kind === 'numeric' ? '::numeric' : '';
}

function featureExpr(info: SourceInfo, view: FeatureViewDef, f: string, alias: string): string {
  const col = info.columns.get(f)!;
  return view.schema[f] === 'timestamp' && col.kind === 'time'
    ? msOf('time', `${alias}.${q(f)}`)
    : `${alias}.${q(f)}`;
}

function emptyColumn(dtype: FeatureDtype, n: number): ValueColumn {
  const numeric = dtype !== 'string' && dtype !== 'bool';
  return {
    dtype,
    data: numeric ? new Float64Array(n).fill(NaN) : new Array<string | boolean | null>(n).fill(null),
    nulls: new Uint8Array(n).fill(1),
  };
}

function setCell(col: ValueColumn, i: number, v: unknown): void {
  if (v === null || v === undefined) return;
  if (col.data instanceof Float64Array) {
    const x = Number(v);
    if (Number.isNaN(x)) return;
    col.data[i] = x;
  } else {
    col.data[i] = col.dtype === 'bool' ? Boolean(v) : String(v);
  }
  col.nulls[i] = 0;
}

/** The URL without its password, for messages. */
function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

/**
 * The PostgreSQL offline store. Views must read `postgresSource` tables.
 *
 * @example
 * const offline = await PostgresOfflineStore.connect('postgres://user@127.0.0.1:5432/features')
 * const store = featureStore(undefined, { offline })
 */
export class PostgresOfflineStore implements OfflineStore {
  private constructor(
    private readonly pool: pg.Pool,
    private readonly opts: PostgresOfflineStoreOptions,
  ) {}

  /**
   * Connects to `url` (`postgres://user[:password]@host:port/db`) and checks the connection.
   *
   * @throws CellarError INVALID_PARAMETER when the server cannot be reached or refuses the login.
   */
  static async connect(url: string, opts: PostgresOfflineStoreOptions = {}): Promise<PostgresOfflineStore> {
    if (opts.workMem !== undefined && !/^\d+\s*(kB|MB|GB)$/.test(opts.workMem)) {
      throw new CellarError(
        'INVALID_PARAMETER',
        `workMem ${JSON.stringify(opts.workMem)} must look like '256MB' (kB, MB or GB).`,
      );
    }
    if (typeof url !== 'string' || !/^postgres(ql)?:\/\//.test(url)) {
      throw new CellarError(
        'INVALID_PARAMETER',
        `PostgreSQL URL ${JSON.stringify(url)} must look like postgres://user@host:5432/db.`,
      );
    }
    const pool = new (pgClient().Pool)({
      connectionString: url,
      max: opts.poolSize ?? 4,
      options: '-c TimeZone=UTC',
      types: TYPES as never,
      connectionTimeoutMillis: 10_000,
    });
    pool.on('error', () => {}); // an idle client lost: the pool replaces it on the next query
    try {
      await pool.query('SELECT 1');
    } catch (e) {
      await pool.end().catch(() => {});
      throw new CellarError(
        'INVALID_PARAMETER',
        `Cannot use the PostgreSQL offline store at ${redact(url)}: ${(e as Error).message}. Check the server and the URL.`,
      );
    }
    return new PostgresOfflineStore(pool, opts);
  }

  private async withClient<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      return await fn(client);
    } finally {
      client.release();
    }
  }

  /** Point-in-time LEFT join of the entity rows with every requested view, computed in PostgreSQL. */
  async historicalJoin(req: HistoricalJoinRequest): Promise<HistoricalJoinResult> {
    const n = req.entity.nRows;
    return this.withClient(async (client) => {
      const infos: SourceInfo[] = [];
      for (const v of req.views) infos.push(await inspectSource(client, v.view, v.joinKeys, v.features));
      const keyNames = [...new Set(req.views.flatMap((v) => v.joinKeys))];
      const keyText = keyNames.map((k) => entityKeyText(req, k, infos));
      const result: HistoricalJoinResult = {};
      await client.query('BEGIN');
      try {
        await client.query("SELECT set_config('work_mem', $1, true)", [this.opts.workMem ?? '64MB']);
        const cols = keyNames.map((_, i) => `k${i} text`).join(', ');
        await client.query(
          `CREATE TEMP TABLE ${ENTITY_TABLE} (rid int4 NOT NULL, ets_ms float8, ets timestamptz${cols ? `, ${cols}` : ''}) ON COMMIT DROP`,
        );
        for (let start = 0; start < n; start += CHUNK) {
          const end = Math.min(n, start + CHUNK);
          const rid = Array.from({ length: end - start }, (_, i) => start + i);
          const ms = Array.from(req.entity.ts.subarray(start, end), (t) => (Number.isFinite(t) ? t : null));
          const keyArrays = keyText.map((col) => col.slice(start, end));
          const names = keyNames.map((_, i) => `k${i}`);
          const unnest = ['$1::int4[]', '$2::float8[]', ...names.map((_, i) => `$${i + 3}::text[]`)].join(
            ', ',
          );
          await client.query(
            `INSERT INTO ${ENTITY_TABLE} SELECT u.rid, u.ms, to_timestamp(u.ms / 1000.0)${names.map((c) => `, u.${c}`).join('')}
               FROM unnest(${unnest}) AS u(rid, ms${names.map((c) => `, ${c}`).join('')})`,
            [rid, ms, ...keyArrays],
          );
        }
        await client.query(`ANALYZE ${ENTITY_TABLE}`);
        for (let v = 0; v < req.views.length; v++) {
          const vr = req.views[v]!;
          const info = infos[v]!;
          const keyCols = vr.joinKeys.map((k) => `k${keyNames.indexOf(k)}`);
          const useCreated = req.filterByCreatedTimestamp && info.createdKind !== null;
          const strategy = await this.pickStrategy(client, info, vr.joinKeys, useCreated);
          const sql =
            strategy === 'lateral'
              ? lateralSql(info, vr.view, vr.joinKeys, keyCols, vr.features, useCreated)
              : windowSql(info, vr.view, vr.joinKeys, keyCols, vr.features);
          const params = vr.view.ttlMs > 0 ? [vr.view.ttlMs] : [];
          const res = await client.query({ text: sql, values: params, rowMode: 'array' });
          const out: Record<string, ValueColumn> = {};
          for (const f of vr.features) out[f] = emptyColumn(vr.view.schema[f]!, n);
          for (const row of res.rows as unknown[][]) {
            const i = row[0] as number;
            vr.features.forEach((f, j) => setCell(out[f]!, i, row[j + 1]));
          }
          result[vr.view.name] = out;
        }
        await client.query('COMMIT');
      } catch (e) {
        await client.query('ROLLBACK').catch(() => {});
        throw e;
      }
      return result;
    });
  }

  private async pickStrategy(
    client: pg.PoolClient,
    info: SourceInfo,
    joinKeys: string[],
    useCreated: boolean,
  ): Promise<'lateral' | 'window'> {
    const chosen = this.opts.strategy ?? 'auto';
    if (useCreated) return 'lateral'; // the window plan cannot express the per-entity-row created filter
    if (chosen !== 'auto') return chosen;
    const res = await client.query<{ cols: string[] }>(
      `SELECT array(SELECT a.attname::text FROM unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
                      JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum ORDER BY k.ord) AS cols
         FROM pg_index i WHERE i.indrelid = to_regclass($1)`,
      [info.table],
    );
    const want = new Set(joinKeys);
    const indexed = res.rows.some(
      ({ cols }) =>
        cols.length > joinKeys.length &&
        cols.slice(0, joinKeys.length).every((c) => want.has(c)) &&
        cols[joinKeys.length] === info.source.timestampField,
    );
    return indexed ? 'lateral' : 'window';
  }

  /**
   * For each entity, the row with the latest event timestamp among rows with `startMs <= ts < endMs` (ties:
   * latest created timestamp, then the physically later row), via `DISTINCT ON`.
   */
  async pullLatest(req: {
    view: FeatureViewDef;
    joinKeys: string[];
    features: string[];
    startMs: number;
    endMs: number;
  }): Promise<LatestRows> {
    return this.withClient(async (client) => {
      const info = await inspectSource(client, req.view, req.joinKeys, req.features);
      const keys = req.joinKeys.map((k) => `s.${q(k)}`);
      const ts = `s.${q(info.source.timestampField)}`;
      const cr = info.createdKind ? `s.${q(info.source.createdTimestampColumn!)}` : null;
      const select = [
        ...keys,
        msOf(info.tsKind, ts),
        cr ? msOf(info.createdKind!, cr) : 'NULL::float8',
        ...req.features.map((f) => featureExpr(info, req.view, f, 's')),
      ];
      const sql = `SELECT DISTINCT ON (${keys.join(', ')}) ${select.join(', ')}
          FROM ${info.table} s
         WHERE ${keys.map((k) => `${k} IS NOT NULL`).join(' AND ')}
           AND ${ts} >= ${fromMs(info.tsKind, '$1::float8')} AND ${ts} < ${fromMs(info.tsKind, '$2::float8')}
         ORDER BY ${keys.join(', ')}, ${ts} DESC${cr ? `, ${cr} DESC NULLS LAST` : ''}, s.ctid DESC`;
      const res = await client.query({ text: sql, values: [req.startMs, req.endMs], rowMode: 'array' });
      const rows = res.rows as unknown[][];
      const m = rows.length;
      const nk = req.joinKeys.length;
      const outKeys: Record<string, KeyValue[]> = {};
      req.joinKeys.forEach((k, j) => (outKeys[k] = rows.map((r) => r[j] as KeyValue)));
      const values: Record<string, ValueColumn> = {};
      req.features.forEach((f, j) => {
        const col = emptyColumn(req.view.schema[f]!, m);
        for (let i = 0; i < m; i++) setCell(col, i, rows[i]![nk + 2 + j]);
        values[f] = col;
      });
      return {
        nRows: m,
        keys: outKeys,
        ts: Float64Array.from(rows, (r) => r[nk] as number),
        created: cr
          ? Float64Array.from(rows, (r) => (r[nk + 1] === null ? NaN : (r[nk + 1] as number)))
          : null,
        values,
      };
    });
  }

  /** Closes the connection pool. */
  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** The entity frame's key column `key` as text, checked against the type every view's source uses for it. */
function entityKeyText(req: HistoricalJoinRequest, key: string, infos: SourceInfo[]): Array<string | null> {
  const values = req.entity.keys[key];
  if (!values) {
    throw new CellarError('INVALID_INPUT', `The entity rows have no join-key column "${key}".`, {
      column: key,
    });
  }
  const kinds = req.views
    .map((v, i) =>
      v.joinKeys.includes(key) ? { view: v.view.name, kind: infos[i]!.columns.get(key)!.kind } : null,
    )
    .filter((x): x is { view: string; kind: ColumnKind } => x !== null);
  return Array.from(values as ArrayLike<unknown>, (raw, row) => {
    if (raw === null || raw === undefined || (typeof raw === 'number' && Number.isNaN(raw))) return null;
    const text = typeof raw === 'bigint' ? raw.toString() : String(raw);
    for (const { view, kind } of kinds) {
      const ok =
        kind === 'int'
          ? INTEGER.test(text)
          : kind === 'float' || kind === 'numeric'
            ? NUMERIC.test(text)
            : true;
      if (!ok || (typeof raw === 'number' && !Number.isFinite(raw))) {
        throw new CellarError(
          'INVALID_INPUT',
          `Join key "${key}" in entity row ${row} is ${JSON.stringify(raw)}, but the source of view "${view}" stores ` +
            `"${key}" as ${kind === 'int' ? 'integers' : 'numbers'}.`,
          { column: key, row },
        );
      }
    }
    return text.trim() === text ? text : text.trim();
  });
}

/** Per entity row, the best candidate via LATERAL … LIMIT 1. Result columns: rid, then features. */
function lateralSql(
  info: SourceInfo,
  view: FeatureViewDef,
  joinKeys: string[],
  keyCols: string[],
  features: string[],
  useCreated: boolean,
): string {
  const ts = `s.${q(info.source.timestampField)}`;
  const cr = info.createdKind ? `s.${q(info.source.createdTimestampColumn!)}` : null;
  const conds = joinKeys.map((k, i) => `s.${q(k)} = e.${keyCols[i]}${keyCast(info.columns.get(k)!.kind)}`);
  conds.push(`${ts} <= ${info.tsKind === 'time' ? 'e.ets' : 'e.ets_ms'}`);
  if (view.ttlMs > 0) conds.push(`${ts} >= ${fromMs(info.tsKind, 'e.ets_ms - $1::float8')}`);
  if (useCreated && cr) conds.push(`(${cr} IS NULL OR ${cr} <= ${fromMs(info.createdKind!, 'e.ets_ms')})`);
  const order = [`${ts} DESC`, ...(cr ? [`${cr} DESC NULLS LAST`] : []), 's.ctid DESC'];
  const vals = features.map((f, j) => `${featureExpr(info, view, f, 's')} AS v${j}`);
  return `SELECT e.rid${features.map((_, j) => `, x.v${j}`).join('')}
      FROM ${ENTITY_TABLE} e
      CROSS JOIN LATERAL (SELECT ${vals.join(', ')} FROM ${info.table} s
                           WHERE ${conds.join(' AND ')}
                           ORDER BY ${order.join(', ')} LIMIT 1) x
     WHERE e.ets_ms IS NOT NULL`;
}

/**
 * Entity and feature rows merged in (keys, ts, kind) order; each entity row takes the largest feature rank
 * seen so far in its key partition, i.e. the latest feature row with ts <= entity ts (ranks follow
 * (ts, created, ctid), so ties resolve like the lateral plan). The TTL is checked on that winner only.
 */
function windowSql(
  info: SourceInfo,
  view: FeatureViewDef,
  joinKeys: string[],
  keyCols: string[],
  features: string[],
): string {
  const time = info.tsKind === 'time';
  const ts = `s.${q(info.source.timestampField)}`;
  const cr = info.createdKind ? `s.${q(info.source.createdTimestampColumn!)}` : 'NULL::int4';
  const fk = joinKeys.map((_, i) => `fk${i}`);
  const featCols = features.map((f, j) => `${featureExpr(info, view, f, 's')} AS v${j}`);
  const entityKeys = joinKeys.map((k, i) => `e.${keyCols[i]}${keyCast(info.columns.get(k)!.kind)}`);
  const ttl =
    view.ttlMs > 0
      ? ` AND fr.ts >= ${time ? 'to_timestamp((e.ets_ms - $1::float8) / 1000.0)' : 'e.ets_ms - $1::float8'}`
      : '';
  return `WITH f AS MATERIALIZED (
      SELECT ${joinKeys.map((k, i) => `s.${q(k)} AS fk${i}`).join(', ')}, ${ts}${time ? '::timestamptz' : '::float8'} AS ts,
             ${cr} AS cr, s.ctid AS tid${featCols.map((c) => `, ${c}`).join('')}
        FROM ${info.table} s
       WHERE ${joinKeys.map((k) => `s.${q(k)} IS NOT NULL`).join(' AND ')}
         AND ${ts} <= (SELECT max(${time ? 'ets' : 'ets_ms'}) FROM ${ENTITY_TABLE})
    ), fr AS (
      SELECT f.*, row_number() OVER (ORDER BY ${fk.join(', ')}, ts, cr NULLS FIRST, tid) AS seq FROM f
    ), u AS (
      SELECT ${fk.join(', ')}, ts, 0 AS kind, seq, NULL::int4 AS rid FROM fr
      UNION ALL
      SELECT ${entityKeys.join(', ')}, ${time ? 'e.ets' : 'e.ets_ms'}, 1, NULL::int8, e.rid
        FROM ${ENTITY_TABLE} e
       WHERE e.ets_ms IS NOT NULL${keyCols.map((c) => ` AND e.${c} IS NOT NULL`).join('')}
    ), w AS (
      SELECT kind, rid, max(seq) OVER (PARTITION BY ${fk.join(', ')} ORDER BY ts, kind
                                        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS win
        FROM u
    )
    SELECT w.rid${features.map((_, j) => `, fr.v${j}`).join('')}
      FROM w JOIN fr ON fr.seq = w.win JOIN ${ENTITY_TABLE} e ON e.rid = w.rid
     WHERE w.kind = 1${ttl}`;
}
