/**
 * bench/online-features — `getOnlineFeatures` latency in process, 1 entity × 10 features, through the public
 * FeatureStore API on the embedded (SQLite) online store, side by side with its floor in the same loop: a raw
 * better-sqlite3 point read of the same row (prepared statement + JSON.parse) on the same database file.
 *
 * Two conditions, interleaved round by round: "quiet" (nothing else on the store) and "loaded" (a loader
 * process logging metrics, pushing rows and running incremental materializations on the same store, plus a
 * process burning a CPU core). Each lookup iteration times cellar and the raw read of the same key, in
 * alternating order. Prints p50/p99/p99.9 per condition (pooled over rounds), the per-round p99 median and
 * range, and the p99 ratio cellar / raw. Goals: cellar p99 ≤ 1 ms and ≤ 5× the raw read's p99, loaded or not.
 *
 * Run: `npm run bench -- online-features [--entities=100000] [--lookups=20000] [--rounds=5] [--quick]`
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pl from 'nodejs-polars';
import { writeParquet } from '../kernel-lib/data/io.js';
import { entity, featureStore, featureView, fileSource } from '../kernel-lib/features/index.js';
import { encodeEntityKey } from '../kernel-lib/features/stores.js';
import { mulberry32 } from '../kernel-lib/ml/random.js';
import { openStore } from '../kernel-lib/sdk.js';
import { closeAllEmbedded, openEmbedded } from '../kernel-lib/store/open.js';
import { emitResult, machineLoad, median, numArg, percentile, sorted, type BenchRow } from './lib/report.js';

const FEATURES = Array.from({ length: 10 }, (_, i) => `f${i}`);
const HOUR = 3_600_000;
const REFS = FEATURES.map((f) => `stats:${f}`);

/** The loader process: writes to the store the way a busy project does, until killed. */
async function loader(project: string, entities: number): Promise<void> {
  const store = openStore(project);
  const fs = featureStore(join(project, '.cellar'));
  const run = await store.startRun({ experiment: 'bench-load' });
  const rand = mulberry32(99);
  let step = 0;
  let lastMat = Date.now();
  for (;;) {
    const points = [];
    for (let i = 0; i < 100; i++) points.push({ key: `m${i % 10}`, value: rand(), step: step++ });
    await run.logMetrics(points);
    if (step % 5_000 === 0) {
      const rows = [];
      for (let i = 0; i < 200; i++) {
        const row: Record<string, unknown> = {
          driver_id: 1000 + Math.floor(rand() * entities),
          datetime: new Date(),
        };
        for (const f of FEATURES) row[f] = rand();
        rows.push(row);
      }
      await fs.push('stats', rows);
    }
    if (Date.now() - lastMat > 1_000) {
      await fs.materializeIncremental({ end: new Date() });
      lastMat = Date.now();
    }
    await new Promise((r) => setTimeout(r, 1));
  }
}

function startLoad(project: string, entities: number): ChildProcess[] {
  const self = fileURLToPath(import.meta.url);
  const opts = { stdio: ['ignore', 'ignore', 'inherit'] as const };
  return [
    spawn(process.execPath, [self, '--loader-child', project, String(entities)], { stdio: [...opts.stdio] }),
    spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: [...opts.stdio] }),
  ];
}

async function stopLoad(children: ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null) return resolve();
          c.once('exit', () => resolve());
          c.kill('SIGKILL');
        }),
    ),
  );
}

async function setup(dir: string, entities: number): Promise<number> {
  const now = Date.now();
  const rand = mulberry32(7);
  // Two rows per driver (the older one must lose), event times within the last day.
  const ids: number[] = [];
  const ts: Date[] = [];
  const cols: number[][] = FEATURES.map(() => []);
  for (let d = 0; d < entities; d++) {
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
  return performance.now() - t0;
}

interface Round {
  cellar: Float64Array;
  raw: Float64Array;
}

async function main(): Promise<void> {
  const entities = numArg('entities', 100_000, 10_000);
  const lookups = numArg('lookups', 20_000, 5_000);
  const rounds = numArg('rounds', 5, 3);
  const dir = mkdtempSync(join(tmpdir(), 'cellar-online-bench-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const matMs = await setup(dir, entities);
  console.log(
    `materialized ${entities.toLocaleString('en')} drivers × ${FEATURES.length} features in ${matMs.toFixed(0)} ms`,
  );

  const store = featureStore(join(dir, '.cellar'));
  const { db } = openEmbedded(join(dir, '.cellar'));
  const read = db.prepare(
    'SELECT event_ts, created_ts, values_json FROM online_features WHERE view = ? AND entity_key = ?',
  );
  const pick = mulberry32(11);
  const keys = Array.from({ length: lookups }, () => 1000 + Math.floor(pick() * entities * 1.02));
  // The first call in this process (what a notebook pays), then a warm-up.
  const t0 = performance.now();
  await store.getOnlineFeatures({ features: REFS, entityRows: [{ driver_id: keys[0] }] });
  const firstMs = performance.now() - t0;
  for (let i = 0; i < Math.min(2000, lookups); i++)
    await store.getOnlineFeatures({ features: REFS, entityRows: [{ driver_id: keys[i] }] });

  const cellarOnce = async (id: number): Promise<number> => {
    const t = performance.now();
    await store.getOnlineFeatures({ features: REFS, entityRows: [{ driver_id: id }] });
    return performance.now() - t;
  };
  const rawOnce = (id: number): number => {
    const t = performance.now();
    const row = read.get('stats', encodeEntityKey(['driver_id'], [id])) as
      { values_json: string } | undefined;
    const values = row ? (JSON.parse(row.values_json) as Record<string, number>) : null;
    FEATURES.map((f) => values?.[f] ?? null);
    return performance.now() - t;
  };
  const runRound = async (): Promise<Round> => {
    const cellar = new Float64Array(lookups);
    const raw = new Float64Array(lookups);
    for (let i = 0; i < lookups; i++) {
      const id = keys[i]!;
      if (i % 2 === 0) {
        cellar[i] = await cellarOnce(id);
        raw[i] = rawOnce(id);
      } else {
        raw[i] = rawOnce(id);
        cellar[i] = await cellarOnce(id);
      }
    }
    return { cellar, raw };
  };

  const results: Record<'quiet' | 'loaded', Round[]> = { quiet: [], loaded: [] };
  for (let r = 0; r < rounds; r++) {
    for (const cond of r % 2 === 0 ? (['quiet', 'loaded'] as const) : (['loaded', 'quiet'] as const)) {
      let children: ChildProcess[] = [];
      if (cond === 'loaded') {
        children = startLoad(dir, entities);
        await new Promise((res) => setTimeout(res, 500)); // let the loader start writing
      }
      results[cond].push(await runRound());
      await stopLoad(children);
    }
  }

  const us = (ms: number): string => `${(ms * 1000).toFixed(0)} µs`;
  console.log(
    `\n== getOnlineFeatures, 1 entity × ${FEATURES.length} features, ${entities.toLocaleString('en')} entities, ` +
      `${rounds} interleaved rounds × ${lookups.toLocaleString('en')} lookups per condition; ${machineLoad()}`,
  );
  console.log(`first call in a fresh process: ${us(firstMs)}`);
  const rows: BenchRow[] = [];
  for (const cond of ['quiet', 'loaded'] as const) {
    const all = (k: keyof Round): Float64Array => sorted(results[cond].flatMap((x) => [...x[k]]));
    const c = all('cellar');
    const w = all('raw');
    const roundP99 = (k: keyof Round): number[] => results[cond].map((x) => percentile(sorted(x[k]), 99));
    const cr = roundP99('cellar');
    const rr = roundP99('raw');
    const line = (name: string, s: Float64Array, p99s: number[]): void =>
      console.log(
        `  ${name.padEnd(30)} p50 ${us(percentile(s, 50))}, p99 ${us(percentile(s, 99))}, p99.9 ${us(percentile(s, 99.9))}; ` +
          `per-round p99 median ${us(median(p99s))} (${us(Math.min(...p99s))}–${us(Math.max(...p99s))})`,
      );
    console.log(`${cond}${cond === 'loaded' ? ' (loader process writing the store + a CPU burner)' : ''}:`);
    line('cellar getOnlineFeatures', c, cr);
    line('raw better-sqlite3 + JSON.parse', w, rr);
    const p99 = percentile(c, 99);
    const ratio = p99 / percentile(w, 99);
    console.log(`  p99 ratio cellar / raw: ${ratio.toFixed(2)}   goal: p99 ≤ 1000 µs and ratio ≤ 5`);
    rows.push(
      {
        figure: `online read p50, ${cond}`,
        value: percentile(c, 50) * 1000,
        unit: 'µs',
        peer: 'raw better-sqlite3 read',
        ratio: percentile(c, 50) / percentile(w, 50),
      },
      {
        figure: `online read p99, ${cond}`,
        value: p99 * 1000,
        unit: 'µs',
        peer: 'raw better-sqlite3 read',
        ratio,
        goal: '≤ 1000 µs and ≤ 5× raw',
        met: p99 <= 1 && ratio <= 5,
      },
      {
        figure: `online read p99.9, ${cond}`,
        value: percentile(c, 99.9) * 1000,
        unit: 'µs',
        peer: 'raw better-sqlite3 read',
        ratio: percentile(c, 99.9) / percentile(w, 99.9),
      },
    );
  }
  rows.push({ figure: 'online read, first call in a fresh process', value: firstMs * 1000, unit: 'µs' });
  closeAllEmbedded();
  emitResult('online-features', rows, {
    size: `${entities} entities × 10 features, ${rounds}×${lookups} lookups`,
  });
}

if (process.argv[2] === '--loader-child') {
  loader(process.argv[3]!, Number(process.argv[4])).catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
} else {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
