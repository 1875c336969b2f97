/**
 * bench/monitor — `monitorReport` over 1,000,000 logged predictions (3 features + the prediction, as the
 * prediction log stores them: JSON per request in SQLite) through the public API, beside DuckDB
 * (@duckdb/node-api) computing the same histograms (the PSI decile bins and the 20 equal-width plot bins per
 * column, null and out-of-range counts) from the same logged JSON exported to Parquet (export untimed), and
 * beside DuckDB on typed Parquet columns (the simpler peer, no JSON). cellar does more (it also sorts every
 * column for the KS tests). The first call in a fresh process is printed beside the warm medians of 5
 * interleaved rounds (with their range). The PSI bin counts of cellar and DuckDB are checked to be equal.
 *
 * Run: `npm run build && node dist/esm/bench/monitor.bench.js [rows=1000000]`
 * Last line: `BENCH_RESULT {...}` (goal: the report ≤ 5 s).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pl from 'nodejs-polars';
import { writeParquet } from '../kernel-lib/data/io.js';
import { ElasticNet } from '../kernel-lib/ml/index.js';
import { mulberry32 } from '../kernel-lib/ml/random.js';
import { monitorReport } from '../kernel-lib/monitoring/report.js';
import { logPredictions } from '../kernel-lib/monitoring/sdk.js';
import type { NumericReference, PredictionRow } from '../kernel-lib/monitoring/types.js';
import { getReferenceStats } from '../kernel-lib/monitoring/sdk.js';
import { openStore } from '../kernel-lib/sdk.js';
import { closeAllEmbedded } from '../kernel-lib/store/open.js';

const FEATURES = ['conv_rate', 'acc_rate', 'avg_daily_trips'] as const;
const ROUNDS = 5;

function features(rand: () => number, shift: number): Record<string, number | null> {
  return {
    conv_rate: rand() < 0.01 ? null : rand() + shift,
    acc_rate: 0.5 + 0.5 * rand(),
    avg_daily_trips: Math.floor(rand() * 1000),
  };
}

async function setup(dir: string, rows: number): Promise<void> {
  const store = openStore(dir);
  const rand = mulberry32(1);
  const train = Array.from({ length: 20_000 }, () => {
    const r = features(rand, 0);
    return { conv_rate: r.conv_rate ?? 0.5, acc_rate: r.acc_rate!, avg_daily_trips: r.avg_daily_trips! };
  });
  let runId = '';
  const model = await store.withRun({ experiment: 'bench' }, async (run) => {
    runId = run.id;
    return new ElasticNet({ alpha: 0.01, l1Ratio: 0.1 }).fit(
      train,
      train.map((r) => 0.2 * r.conv_rate + 0.3 * r.acc_rate + 0.0004 * r.avg_daily_trips),
    );
  });
  await store.registerModel({ name: 'driver', runId, alias: 'champion' });
  const t0 = Date.now() - rows;
  const chunk = 100_000;
  const ts: number[] = [];
  const featureJson: string[] = [];
  const predJson: string[] = [];
  const typed: Record<string, Array<number | null>> = Object.fromEntries(
    [...FEATURES, 'prediction'].map((f) => [f, []]),
  );
  for (let start = 0; start < rows; start += chunk) {
    const batch: PredictionRow[] = [];
    for (let i = start; i < Math.min(rows, start + chunk); i++) {
      const f = features(rand, i >= rows / 2 ? 0.2 : 0);
      batch.push({
        ts: t0 + i,
        model: 'driver',
        version: 1,
        requestId: `r${i}`,
        features: f,
        entityKeys: null,
        prediction: 0,
      });
    }
    const preds = model.predict(batch.map((b) => ({ ...b.features, conv_rate: b.features.conv_rate ?? 0 })));
    batch.forEach((b, k) => {
      b.prediction = preds[k]!;
      ts.push(b.ts);
      featureJson.push(JSON.stringify(b.features));
      predJson.push(JSON.stringify(b.prediction));
      for (const f of FEATURES) typed[f]!.push(b.features[f] as number | null);
      typed.prediction!.push(b.prediction);
    });
    await logPredictions(batch, { store });
  }
  writeParquet(
    pl.DataFrame({ ts, features_json: featureJson, prediction_json: predJson }),
    join(dir, 'log.parquet'),
  );
  writeParquet(pl.DataFrame(typed), join(dir, 'typed.parquet'));
  store.close();
}

/** The same histograms as the report: PSI decile bins and 20 equal-width bins per column, nulls, out of range. */
function duckSql(dir: string, refs: Record<string, NumericReference>, json: boolean): string {
  const cols = [...FEATURES, 'prediction'];
  const src = json
    ? `SELECT ${FEATURES.map((f) => `CAST(json_extract(features_json, '$.${f}') AS DOUBLE) AS ${f}`).join(', ')}, ` +
      `CAST(prediction_json AS DOUBLE) AS prediction FROM read_parquet('${join(dir, 'log.parquet')}')`
    : `SELECT ${cols.join(', ')} FROM read_parquet('${join(dir, 'typed.parquet')}')`;
  const parts = cols.map((c) => {
    const r = refs[c]!;
    const inner = r.psi.edges.slice(1, -1);
    const psiBin = inner.map((e) => `(${c} >= ${e})::INT`).join(' + ');
    const e = r.histogram.edges;
    const lo = e[0]!;
    const hi = e[e.length - 1]!;
    const w = (hi - lo) / (e.length - 1);
    return (
      `SELECT '${c}' AS col, 'psi' AS kind, CASE WHEN ${c} IS NULL THEN -1 ELSE ${psiBin} END AS bin, count(*) AS n FROM t GROUP BY ALL ` +
      `UNION ALL SELECT '${c}', 'hist', CASE WHEN ${c} IS NULL THEN -1 WHEN ${c} < ${lo} OR ${c} > ${hi} THEN -2 ` +
      `ELSE least(floor((${c} - ${lo}) / ${w}), ${e.length - 2})::INT END, count(*) FROM t GROUP BY ALL`
    );
  });
  return `WITH t AS (${src}) ${parts.join(' UNION ALL ')}`;
}

async function duck(
  con: { runAndReadAll(sql: string): Promise<{ getRows(): unknown[][] }> },
  sql: string,
): Promise<Map<string, number>> {
  const rows = (await con.runAndReadAll(sql)).getRows();
  return new Map(rows.map((r) => [`${r[0]}:${r[1]}:${r[2]}`, Number(r[3])]));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

async function refsOf(dir: string): Promise<Record<string, NumericReference>> {
  const ref = (await getReferenceStats('driver@champion', { store: dir }))!;
  const out: Record<string, NumericReference> = {};
  for (const f of FEATURES) out[f] = ref.features[f] as NumericReference;
  out.prediction = ref.prediction!;
  return out;
}

/** Child mode: one timed call in a fresh process. */
async function cold(kind: string, dir: string): Promise<void> {
  let ms: number;
  if (kind === 'cellar') {
    const t = performance.now();
    const r = await monitorReport({ model: 'driver@champion', store: dir, display: false });
    ms = performance.now() - t;
    if (r.data.rows === 0) throw new Error('no rows');
  } else {
    const refs = await refsOf(dir);
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const t = performance.now();
    const con = await (await DuckDBInstance.create(':memory:')).connect();
    await duck(con, duckSql(dir, refs, true));
    ms = performance.now() - t;
  }
  console.log(JSON.stringify({ ms }));
}

async function main(): Promise<void> {
  if (process.argv[2] === '--cold') return cold(process.argv[3]!, process.argv[4]!);
  const rows = Number(process.argv[2] ?? 1_000_000);
  const dir = mkdtempSync(join(tmpdir(), 'cellar-monitor-bench-'));
  if (!process.env.BENCH_KEEP) process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  else console.log(`keeping ${dir}`);
  let t = performance.now();
  await setup(dir, rows);
  console.log(
    `setup: model trained and registered, ${rows.toLocaleString('en')} predictions logged in ${((performance.now() - t) / 1000).toFixed(1)} s`,
  );
  console.log(
    `machine load (1/5/15 min): ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );

  const self = fileURLToPath(import.meta.url);
  const coldRun = (kind: string): number => {
    const r = spawnSync(process.execPath, [self, '--cold', kind, dir], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${kind} cold run failed: ${r.stderr}`);
    return (JSON.parse(r.stdout.trim().split('\n').pop()!) as { ms: number }).ms;
  };
  const coldCellar = coldRun('cellar');
  const coldDuck = coldRun('duckdb');

  const refs = await refsOf(dir);
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const con = await (await DuckDBInstance.create(':memory:')).connect();
  const jsonSql = duckSql(dir, refs, true);
  const typedSql = duckSql(dir, refs, false);
  // untimed first calls
  const first = await monitorReport({ model: 'driver@champion', store: dir, display: false });
  const duckCounts = await duck(con, jsonSql);
  await duck(con, typedSql);
  const times: Record<'cellar' | 'duckJson' | 'duckTyped', number[]> = {
    cellar: [],
    duckJson: [],
    duckTyped: [],
  };
  for (let r = 0; r < ROUNDS; r++) {
    t = performance.now();
    await monitorReport({ model: 'driver@champion', store: dir, display: false });
    times.cellar.push(performance.now() - t);
    t = performance.now();
    await duck(con, jsonSql);
    times.duckJson.push(performance.now() - t);
    t = performance.now();
    await duck(con, typedSql);
    times.duckTyped.push(performance.now() - t);
  }
  // the PSI bins must agree: cellar's current shares × rows vs DuckDB's counts
  let mismatched = 0;
  for (const d of [...first.data.features, first.data.prediction!]) {
    d.psiBins!.current.forEach((n, b) => {
      if ((duckCounts.get(`${d.name}:psi:${b}`) ?? 0) !== n) mismatched++;
    });
  }
  const fmt = (xs: number[]): string =>
    `${median(xs).toFixed(0)} ms [${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)}]`;
  console.log(
    `\n== ${rows.toLocaleString('en')} logged predictions, ${FEATURES.length} features + prediction; ${first.data.drifted.length} drifted (${first.data.drifted.join(', ')})`,
  );
  console.log(
    `first call in a fresh process: cellar ${coldCellar.toFixed(0)} ms, DuckDB (JSON) ${coldDuck.toFixed(0)} ms`,
  );
  console.log(`warm, median [range] of ${ROUNDS} interleaved rounds:`);
  console.log(`  cellar monitorReport (SQLite log, JSON, + KS sorts)   ${fmt(times.cellar)}`);
  console.log(`  DuckDB histograms over the logged JSON (Parquet)      ${fmt(times.duckJson)}`);
  console.log(`  DuckDB histograms over typed Parquet columns          ${fmt(times.duckTyped)}`);
  const ratio = median(times.cellar) / median(times.duckJson);
  const ratioTyped = median(times.cellar) / median(times.duckTyped);
  console.log(
    `  ratio cellar / DuckDB JSON: ${ratio.toFixed(2)}×, cellar / DuckDB typed: ${ratioTyped.toFixed(2)}×`,
  );
  console.log(`  PSI bin counts equal to DuckDB's: ${mismatched === 0 ? 'yes' : `NO (${mismatched})`}`);
  closeAllEmbedded();
  const goal = 5000;
  const result = {
    bench: 'monitor',
    rows: [
      {
        figure: `monitorReport over ${rows} logged predictions (warm median)`,
        value: Math.round(median(times.cellar)),
        unit: 'ms',
        peer: 'DuckDB histograms over the same logged JSON',
        ratio: Number(ratio.toFixed(2)),
        goal: `≤ ${goal} ms`,
        met: median(times.cellar) <= goal,
      },
      {
        figure: `monitorReport over ${rows} logged predictions (first call, fresh process)`,
        value: Math.round(coldCellar),
        unit: 'ms',
        peer: 'DuckDB, first call in a fresh process',
        ratio: Number((coldCellar / coldDuck).toFixed(2)),
        goal: `≤ ${goal} ms`,
        met: coldCellar <= goal,
      },
    ],
  };
  console.log(`BENCH_RESULT ${JSON.stringify(result)}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
