/**
 * bench/online-features — `getOnlineFeatures` latency in process, 1 entity × 10 features, through the public
 * FeatureStore API on the embedded (SQLite) online store, side by side with its floor in the same script: a
 * raw better-sqlite3 point read of the same row (prepared statement + JSON.parse) on the same database file.
 * The data: one feature view of 10 float64 features for N drivers, materialized from a Parquet source.
 * Lookups pick random drivers (a few percent unknown, to exercise NOT_FOUND). Prints p50/p99/p99.9 and the
 * ratio cellar / raw. Goal: cellar p99 ≤ 1 ms.
 *
 * Run: `npm run build && node dist/esm/bench/online-features.bench.js [entities=100000] [lookups=20000]`
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pl from 'nodejs-polars';
import { writeParquet } from '../kernel-lib/data/io.js';
import { entity, featureStore, featureView, fileSource } from '../kernel-lib/features/index.js';
import { encodeEntityKey } from '../kernel-lib/features/stores.js';
import { mulberry32 } from '../kernel-lib/ml/random.js';
import { closeAllEmbedded, openEmbedded } from '../kernel-lib/store/open.js';

const ENTITIES = Number(process.argv[2] ?? 100_000);
const LOOKUPS = Number(process.argv[3] ?? 20_000);
const FEATURES = Array.from({ length: 10 }, (_, i) => `f${i}`);
const HOUR = 3_600_000;

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

function summary(name: string, times: Float64Array): { p99: number } {
  const s = Float64Array.from(times).sort();
  const us = (ms: number): string => `${(ms * 1000).toFixed(0)} µs`;
  console.log(
    `${name.padEnd(34)} p50 ${us(percentile(s, 50))}, p99 ${us(percentile(s, 99))}, p99.9 ${us(percentile(s, 99.9))}`,
  );
  return { p99: percentile(s, 99) };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'cellar-online-bench-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const now = Date.now();
  const rand = mulberry32(7);
  // Two rows per driver (the older one must lose), event times within the last day.
  const ids: number[] = [];
  const ts: Date[] = [];
  const cols: number[][] = FEATURES.map(() => []);
  for (let d = 0; d < ENTITIES; d++) {
    for (let r = 0; r < 2; r++) {
      ids.push(1000 + d);
      ts.push(new Date(now - Math.floor(rand() * 24 * HOUR)));
      for (const c of cols) c.push(rand());
    }
  }
  const source = join(dir, 'stats.parquet');
  writeParquet(
    pl.DataFrame({
      driver_id: ids,
      datetime: ts,
      ...Object.fromEntries(FEATURES.map((f, i) => [f, cols[i]!])),
    }),
    source,
  );
  const store = featureStore(join(dir, '.cellar'));
  const driver = entity({ name: 'driver', joinKeys: ['driver_id'] });
  const stats = featureView({
    name: 'stats',
    entities: [driver],
    ttl: '2d',
    source: fileSource({ path: source, timestampField: 'datetime' }),
    schema: Object.fromEntries(FEATURES.map((f) => [f, 'float64' as const])),
  });
  await store.apply([driver, stats]);
  const t0 = performance.now();
  await store.materialize({ start: new Date(now - 2 * 24 * HOUR), end: new Date(now) });
  console.log(
    `materialized ${ENTITIES.toLocaleString('en')} drivers × ${FEATURES.length} features (${(2 * ENTITIES).toLocaleString('en')} source rows) in ${(performance.now() - t0).toFixed(0)} ms`,
  );

  const refs = FEATURES.map((f) => `stats:${f}`);
  const pick = mulberry32(11);
  const keys = Array.from({ length: LOOKUPS }, () => 1000 + Math.floor(pick() * ENTITIES * 1.02));
  const WARMUP = Math.min(2000, LOOKUPS);

  const cellarTimes = new Float64Array(LOOKUPS);
  let present = 0;
  for (let i = -WARMUP; i < LOOKUPS; i++) {
    const id = keys[(i + LOOKUPS) % LOOKUPS]!;
    const t = performance.now();
    const res = await store.getOnlineFeatures({ features: refs, entityRows: [{ driver_id: id }] });
    const dt = performance.now() - t;
    if (i >= 0) {
      cellarTimes[i] = dt;
      if (res.results[1]!.statuses[0] === 'PRESENT') present += 1;
    }
  }

  const { db } = openEmbedded(join(dir, '.cellar'));
  const read = db.prepare(
    'SELECT event_ts, created_ts, values_json FROM online_features WHERE view = ? AND entity_key = ?',
  );
  const rawTimes = new Float64Array(LOOKUPS);
  let rawPresent = 0;
  for (let i = -WARMUP; i < LOOKUPS; i++) {
    const id = keys[(i + LOOKUPS) % LOOKUPS]!;
    const t = performance.now();
    const row = read.get('stats', encodeEntityKey(['driver_id'], [id])) as
      { values_json: string } | undefined;
    const values = row ? (JSON.parse(row.values_json) as Record<string, number>) : null;
    const out = FEATURES.map((f) => values?.[f] ?? null);
    const dt = performance.now() - t;
    if (i >= 0) {
      rawTimes[i] = dt;
      if (out[0] !== null) rawPresent += 1;
    }
  }
  if (present !== rawPresent) throw new Error(`cellar found ${present} drivers, the raw read ${rawPresent}`);

  console.log(
    `\n== getOnlineFeatures, 1 entity × ${FEATURES.length} features, ${LOOKUPS.toLocaleString('en')} lookups`,
  );
  console.log(`(${present} present, ${LOOKUPS - present} unknown drivers)`);
  const c = summary('cellar getOnlineFeatures:', cellarTimes);
  const r = summary('raw better-sqlite3 read + JSON.parse:', rawTimes);
  console.log(`cellar p99: ${(c.p99 * 1000).toFixed(0)} µs   goal ≤ 1000 µs`);
  console.log(`ratio p99 cellar / raw read: ${(c.p99 / r.p99).toFixed(2)}`);
  closeAllEmbedded();
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
