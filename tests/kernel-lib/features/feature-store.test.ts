/**
 * FeatureStore end to end on the embedded store: the seed example from Parquet files, source checks on apply,
 * bad input leaving registry and online store unchanged, materialization and online reads, pushes, plugged-in
 * backends, and the course workflow (demo data → apply → training data → ElasticNet → materialize → online).
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import pl from 'nodejs-polars';
import { writeCsv, writeParquet } from '../../../kernel-lib/data/io.js';
import {
  driverDefinitions,
  generateDriverData,
  writeDemoData,
} from '../../../kernel-lib/features/demo-data.js';
import { featureStore, FeatureStore, toInstantMs } from '../../../kernel-lib/features/feature-store.js';
import type { OfflineStore, OnlineStore } from '../../../kernel-lib/features/stores.js';
import { entity, featureService, featureView, fileSource } from '../../../kernel-lib/features/types.js';
import { ElasticNet, regressionMetrics, trainTestSplit } from '../../../kernel-lib/ml/index.js';
import { openStore } from '../../../kernel-lib/sdk.js';
import { closeAllEmbedded } from '../../../kernel-lib/store/open.js';
import { openDatabase } from '../../../kernel-lib/store/sqlite.js';
import { apply as registryApply } from '../../../kernel-lib/features/registry.js';
import { cleanupTmp, makeTmp } from '../../helpers/tmp.js';

afterEach(() => {
  closeAllEmbedded();
  cleanupTmp();
});

const D = (iso: string): Date => new Date(iso);
const driver = entity({ name: 'driver', joinKeys: ['driver_id'] });

/** The seed's example files: four monthly stats rows of driver 1001, and two orders. */
function seedFiles(dir: string): { stats: string; orders: string } {
  const stats = join(dir, 'driver_stats.parquet');
  writeParquet(
    pl.DataFrame([
      pl.Series(
        'datetime',
        ['2022-12-01', '2022-11-01', '2022-10-01', '2022-09-01'].map((d) => D(`${d}T00:00:00Z`)),
        pl.Datetime('ms'),
      ),
      pl.Series('driver_id', [1001, 1001, 1001, 1001], pl.Int64),
      pl.Series('conv_rate', [0.1, 0.2, 0.3, 0.4], pl.Float64),
      pl.Series('acc_rate', [0.1, 0.2, 0.3, 0.4], pl.Float64),
      pl.Series('avg_daily_trips', [100, 200, 300, 400], pl.Int64),
      pl.Series(
        'created',
        ['2022-12-01', '2022-11-01', '2022-10-01', '2022-09-01'].map((d) => D(`${d}T01:00:00Z`)),
        pl.Datetime('ms'),
      ),
    ]),
    stats,
  );
  const orders = join(dir, 'orders.csv');
  writeCsv(
    pl.DataFrame({
      driver_id: [1001, 1001],
      event_timestamp: ['2022-12-15T00:00:00Z', '2022-09-15T00:00:00Z'],
      trip_completed: [1, 0],
    }),
    orders,
  );
  return { stats, orders };
}

function statsView(path: string, extra: Partial<Parameters<typeof featureView>[0]> = {}) {
  return featureView({
    name: 'driver_stats',
    entities: [driver],
    schema: { conv_rate: 'float64', acc_rate: 'float64', avg_daily_trips: 'int64' },
    source: fileSource({ path, timestampField: 'datetime', createdTimestampColumn: 'created' }),
    ...extra,
  });
}

function onlineCount(store: FeatureStore): number {
  return (store.db.prepare('SELECT COUNT(*) AS n FROM online_features').get() as { n: number }).n;
}
function definitionCount(store: FeatureStore): number {
  return (store.db.prepare('SELECT COUNT(*) AS n FROM feature_definitions').get() as { n: number }).n;
}

test('the seed example comes out exactly, from Parquet files', async () => {
  const dir = makeTmp();
  const { stats } = seedFiles(dir);
  const store = featureStore(dir);
  const plan = await store.apply([driver, statsView(stats)]);
  expect(plan.items.map((i) => i.action)).toEqual(['create', 'create']);
  expect((await store.listFeatureViews()).map((v) => v.name)).toEqual(['driver_stats']);
  const rows = await store
    .getHistoricalFeatures({
      entityRows: [
        { driver_id: 1001, event_timestamp: '2022-12-15T00:00:00Z' },
        { driver_id: 1001, event_timestamp: '2022-09-15T00:00:00Z' },
      ],
      features: ['driver_stats:conv_rate', 'driver_stats:acc_rate', 'driver_stats:avg_daily_trips'],
    })
    .toRows();
  expect(rows.map((r) => [r.conv_rate, r.acc_rate, r.avg_daily_trips])).toEqual([
    [0.1, 0.1, 100],
    [0.4, 0.4, 400],
  ]);
  expect(rows[0]!.event_timestamp).toEqual(D('2022-12-15T00:00:00Z'));
  await store.close();
});

test('apply checks sources: a missing file or a missing/mistyped column names view, file and column; nothing is stored', async () => {
  const dir = makeTmp();
  const { stats } = seedFiles(dir);
  const store = featureStore(dir);
  const missing = join(dir, 'nope.parquet');
  await expect(store.apply([driver, statsView(missing)])).rejects.toMatchObject({
    code: 'NOT_FOUND',
    message: expect.stringMatching(/Feature view "driver_stats": source file .*nope\.parquet does not exist/),
  });
  const wrongColumn = statsView(stats, { schema: { conv_rate: 'float64', speed: 'float64' } });
  await expect(store.apply([driver, wrongColumn])).rejects.toMatchObject({
    code: 'INVALID_INPUT',
    message: expect.stringContaining('no feature (float64) column "speed"'),
  });
  const csv = join(dir, 'typed.csv');
  writeCsv(pl.DataFrame({ datetime: ['2022-01-01T00:00:00Z'], driver_id: [1], conv_rate: ['high'] }), csv);
  const mistyped = featureView({
    name: 'typed',
    entities: [driver],
    schema: { conv_rate: 'float64' },
    source: fileSource({ path: csv, timestampField: 'datetime' }),
  });
  await expect(store.apply([driver, mistyped])).rejects.toThrow(
    /column "conv_rate" of .*typed\.csv holds string values/,
  );
  const noKey = featureView({
    name: 'nokey',
    entities: [entity({ name: 'car', joinKeys: ['car_id'] })],
    schema: { conv_rate: 'float64' },
    source: fileSource({ path: stats, timestampField: 'datetime' }),
  });
  await expect(store.apply([entity({ name: 'car', joinKeys: ['car_id'] }), noKey])).rejects.toThrow(
    /no join key column "car_id"/,
  );
  expect(definitionCount(store)).toBe(0);
  // without the check, a view can be registered before its data exists
  await store.apply([driver, statsView(missing)], { validateSources: false });
  expect(definitionCount(store)).toBe(2);
});

test('a source that disappears or changes: retrieval and materialization fail naming the file; online store unchanged', async () => {
  const dir = makeTmp();
  const { stats } = seedFiles(dir);
  const store = featureStore(dir);
  await store.apply([driver, statsView(stats, { ttl: 0 })]);
  await store.materialize({ start: 0, end: '2023-01-01T00:00:00Z' });
  expect(onlineCount(store)).toBe(1);
  const before = store.db.prepare('SELECT * FROM online_features').all();
  rmSync(stats);
  const job = store.getHistoricalFeatures({
    entityRows: [{ driver_id: 1001, event_timestamp: 0 }],
    features: ['driver_stats:conv_rate'],
  });
  await expect(job.toRows()).rejects.toThrow(/driver_stats\.parquet/);
  await expect(store.materialize({ start: 0, end: new Date() })).rejects.toThrow(/driver_stats\.parquet/);
  // wrong schema: the file is back without the acc_rate column
  writeParquet(
    pl.DataFrame({
      datetime: [D('2022-12-01T00:00:00Z')],
      driver_id: [1001],
      conv_rate: [0.5],
      avg_daily_trips: [1],
      created: [D('2022-12-01T00:00:00Z')],
    }),
    stats,
  );
  await expect(store.materializeIncremental({ end: new Date() })).rejects.toThrow(/acc_rate/);
  expect(store.db.prepare('SELECT * FROM online_features').all()).toEqual(before);
  expect(definitionCount(store)).toBe(2);
});

test('materialization parameters: a future end, a zone-less start or start after end write nothing', async () => {
  const dir = makeTmp();
  const { stats } = seedFiles(dir);
  const store = featureStore(dir);
  await store.apply([driver, statsView(stats)]);
  const future = new Date(Date.now() + 3_600_000);
  await expect(store.materialize({ start: 0, end: future })).rejects.toMatchObject({
    code: 'INVALID_PARAMETER',
    message: expect.stringContaining('future'),
  });
  await expect(store.materializeIncremental({ end: future.toISOString() })).rejects.toMatchObject({
    code: 'INVALID_PARAMETER',
  });
  await expect(store.materialize({ start: '2022-01-01T00:00:00', end: new Date() })).rejects.toMatchObject({
    code: 'INVALID_PARAMETER',
    message: expect.stringMatching(/start.*zone/),
  });
  await expect(
    store.materialize({ start: '2023-01-01T00:00:00Z', end: '2022-01-01T00:00:00Z' }),
  ).rejects.toMatchObject({ code: 'INVALID_PARAMETER' });
  await expect(store.materialize({ start: 0, end: new Date(), views: ['nope'] })).rejects.toThrow(
    /No feature view named "nope"/,
  );
  await expect(store.materialize({} as never)).rejects.toThrow(/start is required/);
  expect(onlineCount(store)).toBe(0);
  expect(await store.watermarks()).toEqual({});
  expect(toInstantMs('end', '2022-12-15T01:00:00+01:00')).toBe(Date.parse('2022-12-15T00:00:00Z'));
});

test('materialize, then online reads with statuses; push of fresher values; services by name', async () => {
  const dir = makeTmp();
  const { stats } = seedFiles(dir);
  const store = featureStore(dir);
  await store.apply([
    driver,
    statsView(stats),
    featureService({
      name: 'activity',
      features: ['driver_stats:conv_rate', 'driver_stats:avg_daily_trips'],
    }),
  ]);
  const result = await store.materialize({ start: '2022-01-01T00:00:00Z', end: '2022-11-15T00:00:00Z' });
  expect(result).toEqual([expect.objectContaining({ view: 'driver_stats', rows: 1 })]);
  const res = await store.getOnlineFeatures({
    features: 'activity',
    entityRows: [{ driver_id: 1001 }, { driver_id: 9999 }],
  });
  expect(res.toRows()).toEqual([
    { driver_id: 1001, conv_rate: 0.2, avg_daily_trips: 200 },
    { driver_id: 9999, conv_rate: null, avg_daily_trips: null },
  ]);
  expect(res.results[1]!.statuses).toEqual(['PRESENT', 'NOT_FOUND']);
  // incremental from the watermark picks up December
  await store.materializeIncremental({ end: '2023-01-01T00:00:00Z' });
  expect((await store.watermarks()).driver_stats).toBe(Date.parse('2023-01-01T00:00:00Z'));
  const now = new Date();
  await store.push('driver_stats', [
    { driver_id: 1001, datetime: now, conv_rate: 0.99, acc_rate: 0.5, avg_daily_trips: 7 },
  ]);
  const fresh = await store.getOnlineFeatures({
    features: ['driver_stats:conv_rate'],
    entityRows: [{ driver_id: 1001 }],
  });
  expect(fresh.toRows()).toEqual([{ driver_id: 1001, conv_rate: 0.99 }]);
  await expect(store.push('nope', [])).rejects.toMatchObject({ code: 'NOT_FOUND' });
  await expect(store.getOnlineFeatures({ features: 'nope', entityRows: [] })).rejects.toMatchObject({
    code: 'NOT_FOUND',
  });
});

test('registry changes made through another object or another connection are seen at once', async () => {
  const dir = makeTmp();
  const { stats } = seedFiles(dir);
  const store = featureStore(dir);
  await store.apply([driver, statsView(stats)]);
  await store.materialize({ start: 0, end: '2023-01-01T00:00:00Z' });
  const read = () =>
    store.getOnlineFeatures({ features: ['driver_stats:conv_rate'], entityRows: [{ driver_id: 1001 }] });
  expect((await read()).toRows()).toEqual([{ driver_id: 1001, conv_rate: 0.1 }]);
  // another connection (as another process would) makes the view's ttl 1 day: the value is now too old
  const other = openDatabase(store.root);
  registryApply(other, [statsView(stats, { ttl: '1d' })]);
  other.close();
  expect((await read()).results[1]!.statuses).toEqual(['OUTSIDE_MAX_AGE']);
  // the same connection, through the registry module directly
  registryApply(store.db, [statsView(stats, { ttl: 0 })]);
  expect((await read()).results[1]!.statuses).toEqual(['PRESENT']);
  const view = await store.getFeatureView('driver_stats');
  view.schema.conv_rate = 'string';
  expect((await store.getFeatureView('driver_stats')).schema.conv_rate).toBe('float64');
});

test('plugged-in backends are used and stay open; featureStore shares an opened CellarStore', async () => {
  const dir = makeTmp();
  const calls: string[] = [];
  const offline: OfflineStore = {
    historicalJoin: async (req) => {
      calls.push('join');
      return {
        driver_stats: {
          conv_rate: {
            dtype: 'float64',
            data: Float64Array.from({ length: req.entity.nRows }, () => 0.5),
            nulls: new Uint8Array(req.entity.nRows),
          },
        },
      };
    },
    pullLatest: async () => {
      throw new Error('unused');
    },
    close: async () => void calls.push('offline.close'),
  };
  const online: OnlineStore = {
    write: async () => 0,
    read: async (_v, keys) => keys.map(() => null),
    deleteView: async () => undefined,
    close: async () => void calls.push('online.close'),
  };
  const cellar = openStore(dir);
  const store = featureStore(cellar, { offline, online });
  expect(store.root).toBe(cellar.root);
  expect(store.offline).toBe(offline);
  await store.apply([driver, statsView('/nowhere/stats.parquet')]); // no source check with a custom offline store
  const rows = await store
    .getHistoricalFeatures({
      entityRows: [{ driver_id: 1, event_timestamp: 0 }],
      features: ['driver_stats:conv_rate'],
    })
    .toRows();
  expect(rows).toEqual([{ driver_id: 1, event_timestamp: new Date(0), conv_rate: 0.5 }]);
  const res = await store.getOnlineFeatures({
    features: ['driver_stats:conv_rate'],
    entityRows: [{ driver_id: 1 }],
  });
  expect(res.results[1]!.statuses).toEqual(['NOT_FOUND']);
  await store.close();
  expect(calls).toEqual(['join']);
  await expect(store.listFeatureViews()).rejects.toMatchObject({ code: 'INVALID_STATE' });
  expect(cellar.embedded.db.open).toBe(true); // the shared connection stays open
});

test('the course workflow: demo data → apply → training data → ElasticNet → materialize → online features', async () => {
  const dir = makeTmp();
  const start = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000 - 14 * 86_400_000);
  const opts = { drivers: 6, days: 14, seed: 11, start, ordersPerDriverPerDay: 20 };
  const files = writeDemoData(join(dir, 'data'), opts);
  const store = featureStore(dir);
  await store.apply(driverDefinitions(files.driverStats));
  const orders = pl.readParquet(files.driverOrders);
  const train = await store
    .getHistoricalFeatures({ entityDf: orders, features: 'driver_activity' })
    .toDataFrame();
  expect(train.height).toBe(orders.height);
  expect(train.columns).toEqual([
    'event_timestamp',
    'driver_id',
    'trip_completed',
    'conv_rate',
    'acc_rate',
    'avg_daily_trips',
  ]);

  // The join agrees with a naive point-in-time lookup over the generated rows (late and corrected rows included).
  const { driverStats, driverOrders } = generateDriverData(opts);
  const got = train.select('conv_rate', 'acc_rate', 'avg_daily_trips').toRecords();
  driverOrders.forEach((o, i) => {
    let best: (typeof driverStats)[number] | null = null;
    for (const s of driverStats) {
      if (
        s.driver_id !== o.driver_id ||
        s.datetime > o.event_timestamp ||
        +s.datetime < +o.event_timestamp - 86_400_000
      )
        continue;
      if (!best || s.datetime > best.datetime || (+s.datetime === +best.datetime && s.created > best.created))
        best = s;
    }
    expect(got[i]).toEqual(
      best
        ? { conv_rate: best.conv_rate, acc_rate: best.acc_rate, avg_daily_trips: best.avg_daily_trips }
        : { conv_rate: null, acc_rate: null, avg_daily_trips: null },
    );
  });

  const X = train.select('conv_rate', 'acc_rate', 'avg_daily_trips');
  const y = train.getColumn('trip_completed').cast(pl.Float64).toArray() as number[];
  const [Xtr, Xte, ytr, yte] = trainTestSplit(X, y, { testSize: 0.2, seed: 42 });
  const model = new ElasticNet({ alpha: 0.5, l1Ratio: 0.1 }).fit(Xtr, ytr);
  const metrics = regressionMetrics(yte, model.predict(Xte));
  expect(metrics.r2).toBeGreaterThan(0.02); // the labels depend on the stats: the model learns something
  expect(metrics.rmse).toBeLessThan(0.5);

  const done = await store.materializeIncremental({ end: new Date() });
  expect(done[0]!.rows).toBe(6);
  const online = await store.getOnlineFeatures({
    features: 'driver_activity',
    entityRows: [{ driver_id: 1001 }, { driver_id: '1006' }],
  });
  const onlineRows = online.toRows();
  expect(onlineRows).toHaveLength(2);
  for (const f of online.results.slice(1)) expect(f.statuses).toEqual(['PRESENT', 'PRESENT']);
  const latest1001 = driverStats
    .filter((s) => s.driver_id === 1001)
    .reduce((a, b) =>
      b.datetime > a.datetime || (+b.datetime === +a.datetime && b.created > a.created) ? b : a,
    );
  expect(onlineRows[0]).toMatchObject({
    conv_rate: latest1001.conv_rate,
    avg_daily_trips: latest1001.avg_daily_trips,
  });
  const prediction = model.predict(
    pl.DataFrame([onlineRows[0]!]).select('conv_rate', 'acc_rate', 'avg_daily_trips'),
  );
  expect(Number.isFinite(prediction[0])).toBe(true);
});
