/**
 * Training/serving skew and feature freshness on a real store with the course's driver data: served values
 * that differ from the point-in-time values are counted per feature with their size; freshness is the age of
 * the newest materialized value against the view's TTL (also as Prometheus text).
 */
import { join } from 'node:path';
import {
  ElasticNet,
  featureStore,
  openStore,
  skewReport,
  logPredictions,
  featureFreshness,
} from '../../../kernel-lib/index.js';
import { freshnessMetrics } from '../../../kernel-lib/monitoring/freshness.js';
import {
  driverDefinitions,
  generateDriverData,
  writeDemoData,
} from '../../../kernel-lib/features/demo-data.js';
import { closeAllEmbedded } from '../../../kernel-lib/store/open.js';
import { errorCodeOf as code } from '../../helpers/errors.js';
import { cleanupTmp, makeTmp } from '../../helpers/tmp.js';

afterEach(() => {
  closeAllEmbedded();
  cleanupTmp();
});

const DATA = { drivers: 5, days: 3, seed: 3, start: '2022-09-01T00:00:00Z' };

async function setup(): Promise<{ dir: string; store: ReturnType<typeof openStore> }> {
  const dir = makeTmp();
  const files = writeDemoData(join(dir, 'data'), DATA);
  const store = openStore(dir);
  await featureStore({ embedded: store.embedded }).apply(driverDefinitions(files.driverStats));
  const { driverStats } = generateDriverData(DATA);
  await store.withRun({ experiment: 'skew' }, async () => {
    new ElasticNet({ alpha: 0.01, l1Ratio: 0.1 }).fit(
      driverStats.map((r) => ({
        conv_rate: r.conv_rate,
        acc_rate: r.acc_rate,
        avg_daily_trips: r.avg_daily_trips,
      })),
      driverStats.map((r) => r.conv_rate + r.acc_rate),
    );
  });
  const run = (await store.searchRuns({ experiment: 'skew' }))[0]!;
  await store.registerModel({ name: 'driver', runId: run.id, alias: 'champion' });
  return { dir, store };
}

test('skew: the share of requests served a value other than the point-in-time one, and by how much', async () => {
  const { store } = await setup();
  const t0 = Date.parse('2022-09-02T00:00:00Z');
  const requests = Array.from({ length: 200 }, (_, i) => ({
    driver_id: 1001 + (i % 5),
    event_timestamp: t0 + i * 600_000 + 17_000,
  }));
  const pit = (await featureStore({ embedded: store.embedded })
    .getHistoricalFeatures({
      entityRows: requests,
      features: ['driver_stats:conv_rate', 'driver_stats:acc_rate', 'driver_stats:avg_daily_trips'],
    })
    .toRows()) as Array<Record<string, number | null>>;
  // every 4th request was served a conv_rate 0.1 too high; every 10th was served no avg_daily_trips
  await logPredictions(
    pit.map((r, i) => ({
      ts: requests[i]!.event_timestamp,
      model: 'driver',
      version: 1,
      requestId: `r${i}`,
      entityKeys: { driver_id: requests[i]!.driver_id },
      features: {
        conv_rate: i % 4 === 0 ? r.conv_rate! + 0.1 : r.conv_rate!,
        acc_rate: r.acc_rate!,
        avg_daily_trips: i % 10 === 0 ? null : r.avg_daily_trips!,
      },
      prediction: 1,
    })),
    { store },
  );
  const skew = await skewReport({ model: 'driver@champion', store });
  expect(skew.rows).toBe(200);
  const by = Object.fromEntries(skew.features.map((f) => [f.feature, f]));
  expect(by.conv_rate).toMatchObject({
    reference: 'driver_stats:conv_rate',
    mismatched: 50,
    share: 0.25,
    servedOnly: 0,
    offlineOnly: 0,
  });
  expect(by.conv_rate!.meanAbsDiff).toBeCloseTo(0.1, 9);
  expect(by.acc_rate).toMatchObject({ mismatched: 0, share: 0, meanAbsDiff: null });
  expect(by.avg_daily_trips).toMatchObject({ mismatched: 20, offlineOnly: 20 });

  const sampled = await skewReport({ model: 'driver@champion', store, sample: 40 });
  expect(sampled.rows).toBe(40);
  expect(await code(skewReport({ model: 'driver@champion', store, features: ['conv_rate'] }))).toBe(
    'INVALID_PARAMETER',
  );
});

test('freshness: age of the newest online value per view, stale past the TTL, as Prometheus gauges', async () => {
  const { store } = await setup();
  const db = store.embedded.db;
  expect(featureFreshness(db)).toEqual([
    expect.objectContaining({
      view: 'driver_stats',
      newestEventTs: null,
      ageSeconds: null,
      ttlSeconds: 86400,
      stale: true,
      entities: 0,
    }),
  ]);
  await featureStore({ embedded: store.embedded }).materialize({ start: 0, end: '2022-09-03T12:00:00Z' });
  const newest = (
    db.prepare("SELECT MAX(event_ts) AS ts FROM online_features WHERE view = 'driver_stats'").get() as {
      ts: number;
    }
  ).ts;
  expect(newest).toBeLessThanOrEqual(Date.parse('2022-09-03T12:00:00Z'));
  const fresh = featureFreshness(db, newest + 3_600_000)[0]!;
  expect(fresh).toMatchObject({
    view: 'driver_stats',
    newestEventTs: newest,
    ageSeconds: 3600,
    stale: false,
    entities: 5,
  });
  expect(featureFreshness(db, newest + 2 * 86_400_000)[0]!.stale).toBe(true);
  const text = freshnessMetrics(db, newest + 60_000);
  expect(text).toContain('cellar_feature_view_age_seconds{view="driver_stats"} 60');
  expect(text).toContain('cellar_feature_view_ttl_seconds{view="driver_stats"} 86400');
});
