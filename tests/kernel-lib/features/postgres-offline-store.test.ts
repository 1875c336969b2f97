/**
 * PostgresOfflineStore on a real PostgreSQL server started on 127.0.0.1 for this file (skipped with a visible
 * message when it cannot be started): the shared offline conformance suite (both SQL plans), the seed example, random data against the naive reference join
 * (ties, created timestamps, nulls, exact TTL edges, composite keys, several views, both SQL plans),
 * `pullLatest` against the naive latest-per-key, column types, bad input, and materialization end to end.
 */
import pg from 'pg';
import { CellarError } from '../../../kernel-lib/errors.js';
import {
  getOnlineFeatures,
  materialize,
  SqliteOnlineStore,
} from '../../../kernel-lib/features/online/index.js';
import { latestAsOfNaive, latestRowPerKey, type KeyColumn } from '../../../kernel-lib/features/pit-join.js';
import { PostgresOfflineStore } from '../../../kernel-lib/features/postgres-offline-store.js';
import { postgresSource, type PostgresSourceDef } from '../../../kernel-lib/features/postgres-source.js';
import type { EntityFrame, HistoricalJoinRequest, KeyValue } from '../../../kernel-lib/features/stores.js';
import {
  entity,
  featureView,
  fileSource,
  type FeatureDtype,
  type FeatureViewDef,
} from '../../../kernel-lib/features/types.js';
import { openDatabase } from '../../../kernel-lib/store/sqlite.js';
import { describeWithServer, startPostgres } from '../../helpers/servers.js';
import { cleanupTmp, makeTmp } from '../../helpers/tmp.js';
import {
  offlineConformance,
  type ConformanceColumnType,
  type ConformanceView,
} from './offline-conformance.js';
import { rng, seedStats, T } from './online/memory-offline.js';

type Row = Record<string, unknown>;

/** A feature view over a PostgreSQL table (types.ts's featureView takes file sources, so the source is swapped in). */
function pgView(opts: {
  name: string;
  keys: string[];
  schema: Record<string, FeatureDtype>;
  source: PostgresSourceDef;
  ttl?: number | string;
}): FeatureViewDef {
  const base = featureView({
    name: opts.name,
    entities: [entity({ name: `${opts.name}_entity`, joinKeys: opts.keys })],
    schema: opts.schema,
    ttl: opts.ttl ?? 0,
    source: fileSource({ path: 'unused.parquet', timestampField: opts.source.timestampField }),
  });
  return { ...base, source: opts.source as unknown as FeatureViewDef['source'] };
}

const STATS_SCHEMA: Record<string, FeatureDtype> = {
  conv_rate: 'float64',
  acc_rate: 'float64',
  avg_daily_trips: 'int64',
};

function frame(rows: Array<{ ts: number; keys: Record<string, KeyValue> }>): EntityFrame {
  const keys: Record<string, KeyValue[]> = {};
  for (const k of Object.keys(rows[0]?.keys ?? {})) keys[k] = rows.map((r) => r.keys[k]!);
  return { nRows: rows.length, keys, ts: Float64Array.from(rows, (r) => r.ts) };
}

describeWithServer('PostgresOfflineStore', startPostgres(), (server) => {
  let admin: pg.Client;
  const stores: PostgresOfflineStore[] = [];
  const open = async (strategy?: 'lateral' | 'window' | 'auto'): Promise<PostgresOfflineStore> => {
    const s = await PostgresOfflineStore.connect(server.url, { strategy });
    stores.push(s);
    return s;
  };

  /** Creates `table` with `columns` (name → SQL type) and inserts `rows` in order (one statement). */
  async function createTable(table: string, columns: Record<string, string>, rows: Row[]): Promise<void> {
    const names = Object.keys(columns);
    await admin.query(`DROP TABLE IF EXISTS ${table}`);
    await admin.query(`CREATE TABLE ${table} (${names.map((c) => `"${c}" ${columns[c]}`).join(', ')})`);
    if (rows.length === 0) return;
    const arrays = names.map((c) =>
      rows.map((r) => {
        const v = r[c];
        return v === undefined || v === null
          ? null
          : columns[c]!.startsWith('timestamp')
            ? new Date(v as number).toISOString()
            : v;
      }),
    );
    const unnest = names.map((c, i) => `$${i + 1}::${columns[c]}[]`).join(', ');
    await admin.query(`INSERT INTO ${table} SELECT * FROM unnest(${unnest})`, arrays);
  }

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    await admin.query('SET TimeZone = UTC');
    await createTable(
      'driver_stats',
      {
        driver_id: 'int8',
        datetime: 'timestamptz',
        created: 'timestamptz',
        conv_rate: 'float8',
        acc_rate: 'float8',
        avg_daily_trips: 'int8',
      },
      seedStats().map((r) => ({ ...r, datetime: r.ts })),
    );
  });
  /** The shared offline conformance suite: each view's rows become a table, inserted in row order. */
  const SQL_TYPES: Record<ConformanceColumnType, string> = {
    int64: 'int8',
    float64: 'float8',
    string: 'text',
    bool: 'bool',
    timestamp: 'timestamptz',
  };
  for (const strategy of ['window', 'lateral'] as const) {
    offlineConformance(`PostgreSQL (${strategy} plan)`, {
      async create(views: ConformanceView[]) {
        const defs: FeatureViewDef[] = [];
        for (const { view, data } of views) {
          const names = Object.keys(data.columns);
          const columns = Object.fromEntries(names.map((c) => [c, SQL_TYPES[data.types[c]!]]));
          const n = data.columns[names[0]!]!.length;
          const rows = Array.from({ length: n }, (_, i) =>
            Object.fromEntries(names.map((c) => [c, data.columns[c]![i]])),
          );
          await admin.query('CREATE SCHEMA IF NOT EXISTS conformance');
          await createTable(`conformance.${view.name}`, columns, rows);
          const source = postgresSource({
            table: `conformance.${view.name}`,
            timestampField: view.source.timestampField,
            createdTimestampColumn: view.source.createdTimestampColumn,
          });
          defs.push({ ...view, source: source as unknown as FeatureViewDef['source'] });
        }
        return { store: await PostgresOfflineStore.connect(server.url, { strategy }), views: defs };
      },
    });
  }

  afterAll(async () => {
    for (const s of stores) await s.close();
    await admin?.end();
    cleanupTmp();
  });

  const statsView = (ttl: number | string = 0): FeatureViewDef =>
    pgView({
      name: 'driver_stats',
      keys: ['driver_id'],
      schema: STATS_SCHEMA,
      ttl,
      source: postgresSource({
        table: 'driver_stats',
        timestampField: 'datetime',
        createdTimestampColumn: 'created',
      }),
    });

  test.each(['lateral', 'window', 'auto'] as const)(
    'the seed example comes out exactly (%s plan)',
    async (strategy) => {
      const store = await open(strategy);
      const view = statsView();
      const res = await store.historicalJoin({
        entity: frame([
          { ts: T('2022-12-15'), keys: { driver_id: 1001 } },
          { ts: T('2022-09-15'), keys: { driver_id: 1001 } },
          { ts: T('2022-08-15'), keys: { driver_id: 1001 } },
          { ts: T('2022-12-15'), keys: { driver_id: '1001' } },
          { ts: T('2022-12-15'), keys: { driver_id: 7 } },
        ]),
        views: [{ view, joinKeys: ['driver_id'], features: ['conv_rate', 'acc_rate', 'avg_daily_trips'] }],
        filterByCreatedTimestamp: false,
      });
      const cols = res.driver_stats!;
      expect(Array.from(cols.conv_rate!.data as Float64Array)).toEqual([0.1, 0.4, NaN, 0.1, NaN]);
      expect(Array.from(cols.acc_rate!.data as Float64Array)).toEqual([0.1, 0.4, NaN, 0.1, NaN]);
      expect(Array.from(cols.avg_daily_trips!.data as Float64Array)).toEqual([100, 400, NaN, 100, NaN]);
      expect(Array.from(cols.conv_rate!.nulls)).toEqual([0, 0, 1, 0, 1]);
    },
  );

  describe('random data against the naive reference join', () => {
    const r = rng(2024);
    const H = 3_600_000;
    const t0 = T('2022-01-01');
    const stats: Row[] = [];
    const city: Row[] = [];
    beforeAll(async () => {
      for (let i = 0; i < 3000; i++) {
        stats.push({
          driver_id: Math.floor(r() * 60),
          datetime: t0 + Math.floor(r() * 200) * H,
          created: r() < 0.25 ? null : t0 + Math.floor(r() * 210) * H,
          conv_rate: r() < 0.05 ? null : Math.round(r() * 1e6) / 1e6,
          acc_rate: i,
          avg_daily_trips: Math.floor(r() * 5),
        });
      }
      for (let i = 0; i < 1500; i++) {
        city.push({
          driver_id: Math.floor(r() * 30),
          city: ['Paris', 'Rome', 'Oslo'][Math.floor(r() * 3)],
          event_timestamp: t0 + Math.floor(r() * 200) * H,
          rides: i,
          label: r() < 0.1 ? null : `c${Math.floor(r() * 9)}`,
          busy: r() < 0.5,
        });
      }
      await createTable(
        'rand_stats',
        {
          driver_id: 'int8',
          datetime: 'timestamptz',
          created: 'timestamptz',
          conv_rate: 'float8',
          acc_rate: 'float8',
          avg_daily_trips: 'int4',
        },
        stats,
      );
      await createTable(
        'rand_city',
        {
          driver_id: 'int4',
          city: 'text',
          event_timestamp: 'timestamp',
          rides: 'int8',
          label: 'text',
          busy: 'bool',
        },
        city,
      );
    });

    const entities = (n: number) =>
      Array.from({ length: n }, () => ({
        ts: t0 + Math.floor(r() * 220) * H,
        keys: {
          driver_id: Math.floor(r() * 70),
          city: ['Paris', 'Rome', 'Oslo', 'Nice'][Math.floor(r() * 4)]!,
        },
      }));
    const col = (rows: Row[], c: string): Float64Array =>
      Float64Array.from(rows, (x) => (x[c] === null || x[c] === undefined ? NaN : (x[c] as number)));

    test.each([
      ['window', 0, false],
      ['window', 10 * 3_600_000, false],
      ['lateral', 0, false],
      ['lateral', 10 * 3_600_000, false],
      ['lateral', 10 * 3_600_000, true],
      ['auto', 0, true],
    ] as const)('%s plan, ttl %d ms, filterByCreatedTimestamp %s', async (strategy, ttlMs, filterCreated) => {
      const store = await open(strategy);
      const ents = entities(800);
      const sView = pgView({
        name: 'rand_stats',
        keys: ['driver_id'],
        schema: STATS_SCHEMA,
        ttl: ttlMs,
        source: postgresSource({
          table: 'rand_stats',
          timestampField: 'datetime',
          createdTimestampColumn: 'created',
        }),
      });
      const cView = pgView({
        name: 'rand_city',
        keys: ['driver_id', 'city'],
        schema: { rides: 'int64', label: 'string', busy: 'bool' },
        ttl: ttlMs * 2,
        source: postgresSource({ table: 'public.rand_city', timestampField: 'event_timestamp' }),
      });
      const req: HistoricalJoinRequest = {
        entity: frame(ents),
        views: [
          { view: sView, joinKeys: ['driver_id'], features: ['conv_rate', 'avg_daily_trips'] },
          { view: cView, joinKeys: ['driver_id', 'city'], features: ['rides', 'label', 'busy'] },
        ],
        filterByCreatedTimestamp: filterCreated,
      };
      const res = await store.historicalJoin(req);
      const entityKeys = (ks: string[]): KeyColumn[] =>
        ks.map((k) => ents.map((e) => e.keys[k as 'driver_id']));
      const idxStats = latestAsOfNaive({
        entityKeys: entityKeys(['driver_id']),
        entityTs: Float64Array.from(ents, (e) => e.ts),
        featureKeys: [stats.map((x) => x.driver_id as number)],
        featureTs: col(stats, 'datetime'),
        featureCreated: col(stats, 'created'),
        ttlMs,
        filterByCreatedTimestamp: filterCreated,
      });
      const idxCity = latestAsOfNaive({
        entityKeys: entityKeys(['driver_id', 'city']),
        entityTs: Float64Array.from(ents, (e) => e.ts),
        featureKeys: [city.map((x) => x.driver_id as number), city.map((x) => x.city as string)],
        featureTs: col(city, 'event_timestamp'),
        ttlMs: ttlMs * 2,
        filterByCreatedTimestamp: filterCreated,
      });
      const pick = (rows: Row[], idx: Int32Array, c: string) =>
        Array.from(idx, (i) => (i < 0 ? null : (rows[i]![c] ?? null)));
      const got = (v: string, f: string) => {
        const c = res[v]![f]!;
        return Array.from(c.data as ArrayLike<unknown>, (x, i) => (c.nulls[i] ? null : x));
      };
      expect(idxStats.some((i) => i >= 0) && idxStats.some((i) => i < 0)).toBe(true);
      expect(got('rand_stats', 'conv_rate')).toEqual(pick(stats, idxStats, 'conv_rate'));
      expect(got('rand_stats', 'avg_daily_trips')).toEqual(pick(stats, idxStats, 'avg_daily_trips'));
      expect(got('rand_city', 'rides')).toEqual(pick(city, idxCity, 'rides'));
      expect(got('rand_city', 'label')).toEqual(pick(city, idxCity, 'label'));
      expect(got('rand_city', 'busy')).toEqual(pick(city, idxCity, 'busy'));
    });

    test('pullLatest equals the naive latest row per key in [start, end)', async () => {
      const store = await open();
      const view = pgView({
        name: 'rand_stats',
        keys: ['driver_id'],
        schema: STATS_SCHEMA,
        source: postgresSource({
          table: 'rand_stats',
          timestampField: 'datetime',
          createdTimestampColumn: 'created',
        }),
      });
      const startMs = t0 + 50 * H;
      const endMs = t0 + 120 * H;
      const got = await store.pullLatest({
        view,
        joinKeys: ['driver_id'],
        features: ['conv_rate', 'acc_rate'],
        startMs,
        endMs,
      });
      const idx = latestRowPerKey({
        keys: [stats.map((x) => x.driver_id as number)],
        ts: col(stats, 'datetime'),
        created: col(stats, 'created'),
        startMs,
        endMs,
      });
      const want = Array.from(idx, (i) => stats[i]!).sort(
        (a, b) => (a.driver_id as number) - (b.driver_id as number),
      );
      expect(got.keys.driver_id).toEqual(want.map((x) => x.driver_id));
      expect(Array.from(got.ts)).toEqual(want.map((x) => x.datetime));
      expect(Array.from(got.created!)).toEqual(want.map((x) => (x.created === null ? NaN : x.created)));
      expect(Array.from(got.values.acc_rate!.data as Float64Array)).toEqual(want.map((x) => x.acc_rate));
      expect(Array.from(got.values.conv_rate!.nulls)).toEqual(
        want.map((x) => (x.conv_rate === null ? 1 : 0)),
      );
    });
  });

  test('epoch-ms and naive timestamp columns; string keys in the entity rows; timestamp features', async () => {
    await createTable('epoch_src', { id: 'text', ts_ms: 'int8', seen: 'timestamp', score: 'numeric' }, [
      { id: '1', ts_ms: T('2022-01-01'), seen: T('2021-12-31T10:00:00Z'), score: 1.5 },
      { id: '1', ts_ms: T('2022-01-03'), seen: T('2022-01-02T10:00:00Z'), score: 2.5 },
    ]);
    const view = pgView({
      name: 'epoch_src',
      keys: ['id'],
      schema: { score: 'float64', seen: 'timestamp' },
      ttl: '1d',
      source: postgresSource({ table: 'epoch_src', timestampField: 'ts_ms' }),
    });
    for (const strategy of ['lateral', 'window'] as const) {
      const store = await open(strategy);
      const res = await store.historicalJoin({
        entity: frame([
          { ts: T('2022-01-02'), keys: { id: 1 } }, // exactly ttl after the first row: inclusive
          { ts: T('2022-01-02') + 1, keys: { id: 1 } }, // 1 ms too late
          { ts: T('2022-01-04'), keys: { id: '1' } },
        ]),
        views: [{ view, joinKeys: ['id'], features: ['score', 'seen'] }],
        filterByCreatedTimestamp: false,
      });
      expect(Array.from(res.epoch_src!.score!.data as Float64Array)).toEqual([1.5, NaN, 2.5]);
      expect(Array.from(res.epoch_src!.seen!.data as Float64Array)).toEqual([
        T('2021-12-31T10:00:00Z'),
        NaN,
        T('2022-01-02T10:00:00Z'),
      ]);
    }
  });

  test('bad input: clear errors naming the table, column, key or view', async () => {
    const store = await open();
    const code = async (p: Promise<unknown>, want: string, mention: string) => {
      const e = await p.then(
        () => null,
        (x: unknown) => x,
      );
      expect(e).toBeInstanceOf(CellarError);
      expect((e as CellarError).code).toBe(want);
      expect((e as CellarError).message).toContain(mention);
    };
    const join = (
      view: FeatureViewDef,
      keys: Record<string, KeyValue> = { driver_id: 1001 },
      features = ['conv_rate'],
    ) =>
      store.historicalJoin({
        entity: frame([{ ts: T('2022-12-15'), keys }]),
        views: [{ view, joinKeys: Object.keys(keys), features }],
        filterByCreatedTimestamp: false,
      });
    const src = (table: string, ts = 'datetime') => postgresSource({ table, timestampField: ts });
    await code(
      join(pgView({ name: 'x', keys: ['driver_id'], schema: STATS_SCHEMA, source: src('no_such_table') })),
      'NOT_FOUND',
      'no_such_table',
    );
    await code(
      join(
        pgView({ name: 'x', keys: ['driver_id'], schema: STATS_SCHEMA, source: src('driver_stats', 'when') }),
      ),
      'INVALID_INPUT',
      '"when"',
    );
    await code(
      join(
        pgView({
          name: 'x',
          keys: ['driver_id'],
          schema: { conv_rate: 'string' },
          source: src('driver_stats'),
        }),
      ),
      'INVALID_INPUT',
      '"conv_rate"',
    );
    await code(join(statsView(), { driver_id: 'abc' }), 'INVALID_INPUT', '"driver_id"');
    const fileView = featureView({
      name: 'files',
      entities: ['driver'],
      schema: STATS_SCHEMA,
      source: fileSource({ path: 'x.parquet', timestampField: 'datetime' }),
    });
    await code(join(fileView), 'UNSUPPORTED', '"files"');
    expect(() =>
      postgresSource({ table: 'driver_stats; DROP TABLE driver_stats', timestampField: 'datetime' }),
    ).toThrow(CellarError);
    expect(() => postgresSource({ table: 'a.b.c', timestampField: 'datetime' })).toThrow('not valid');
    expect(() => postgresSource({ table: 't', timestampField: 'x" OR 1=1 --' })).toThrow(CellarError);
    await code(
      PostgresOfflineStore.connect('postgres://nobody@127.0.0.1:1/db'),
      'INVALID_PARAMETER',
      '127.0.0.1:1',
    );
    const stillThere = await admin.query('SELECT count(*)::int AS n FROM driver_stats');
    expect(stillThere.rows[0].n).toBe(4);
  });

  test('materialize from PostgreSQL into the SQLite online store, then serve', async () => {
    const store = await open();
    const db = openDatabase(makeTmp());
    try {
      const online = new SqliteOnlineStore(db);
      const view = statsView('30d');
      const ctx = { offline: store, online, db, views: [view], joinKeysOf: () => ['driver_id'] };
      const res = await materialize({ ...ctx, startMs: 0, endMs: T('2022-12-02'), nowMs: T('2022-12-10') });
      expect(res[0]).toMatchObject({ view: 'driver_stats', rows: 1 });
      const out = await getOnlineFeatures({
        ...ctx,
        features: ['driver_stats:conv_rate', 'driver_stats:avg_daily_trips'],
        entityRows: [{ driver_id: 1001 }, { driver_id: '1001' }, { driver_id: 5 }],
        nowMs: T('2022-12-10'),
      });
      expect(out.toRows()).toEqual([
        { driver_id: 1001, conv_rate: 0.1, avg_daily_trips: 100 },
        { driver_id: '1001', conv_rate: 0.1, avg_daily_trips: 100 },
        { driver_id: 5, conv_rate: null, avg_daily_trips: null },
      ]);
      expect(out.results[1]!.statuses).toEqual(['PRESENT', 'PRESENT', 'NOT_FOUND']);
    } finally {
      db.close();
    }
  });
});
