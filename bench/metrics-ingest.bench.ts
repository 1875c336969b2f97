/**
 * Benchmark: metric ingestion. 1 run × 100,000 points through cellar's `run.logMetrics` in batches,
 * side by side with a raw better-sqlite3 insert loop (prepared statement, one IMMEDIATE transaction per
 * batch) into the same schema, interleaved rounds, medians with their range. Goal: cellar's throughput ≥ 50 % of
 * the raw loop. Prints the ratio.
 * Run: `npm run bench -- metrics-ingest [--points=100000] [--batch=1000] [--rounds=5] [--quick]`
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../kernel-lib/sdk.js';
import { openDatabase } from '../kernel-lib/store/sqlite.js';
import { emitResult, machineLoad, median, medianRange, numArg } from './lib/report.js';

const POINTS = numArg('points', 100_000, 20_000);
const BATCH = numArg('batch', 1_000);
const ROUNDS = numArg('rounds', 5, 3);

async function cellarIngest(dir: string): Promise<number> {
  const store = openStore(dir);
  const run = await store.startRun({ experiment: 'bench' });
  const t0 = performance.now();
  for (let start = 0; start < POINTS; start += BATCH) {
    const points = [];
    for (let i = start; i < Math.min(POINTS, start + BATCH); i++)
      points.push({ key: 'loss', value: 1 / (i + 1), step: i });
    await run.logMetrics(points);
  }
  const ms = performance.now() - t0;
  await run.end();
  store.close();
  return ms;
}

function rawIngest(dir: string): number {
  const db = openDatabase(join(dir, '.cellar'));
  const runId = 'raw0000000000000000000000000000';
  db.prepare("INSERT INTO runs (run_id, experiment_id, status, start_time) VALUES (?, 0, 'RUNNING', 0)").run(
    runId,
  );
  const insert = db.prepare(
    'INSERT INTO metrics (run_id, key, value, step, timestamp) VALUES (?, ?, ?, ?, ?)',
  );
  const t0 = performance.now();
  for (let start = 0; start < POINTS; start += BATCH) {
    db.transaction(() => {
      const now = Date.now();
      for (let i = start; i < Math.min(POINTS, start + BATCH); i++)
        insert.run(runId, 'loss', 1 / (i + 1), i, now);
    }).immediate();
  }
  const ms = performance.now() - t0;
  db.close();
  return ms;
}

async function main(): Promise<void> {
  const results: Array<{ cellar: number; raw: number }> = [];
  for (let rep = 0; rep < ROUNDS; rep++) {
    const a = mkdtempSync(join(tmpdir(), 'cellar-bench-'));
    const b = mkdtempSync(join(tmpdir(), 'cellar-bench-'));
    try {
      // Interleaved, alternating which goes first.
      let raw: number;
      let cel: number;
      if (rep % 2 === 0) {
        raw = rawIngest(b);
        cel = await cellarIngest(a);
      } else {
        cel = await cellarIngest(a);
        raw = rawIngest(b);
      }
      results.push({ cellar: cel, raw });
    } finally {
      rmSync(a, { recursive: true, force: true });
      rmSync(b, { recursive: true, force: true });
    }
  }
  const of = (k: 'cellar' | 'raw'): number[] => results.map((r) => r[k]);
  const cel = median(of('cellar'));
  const raw = median(of('raw'));
  console.log(
    `metric ingestion: ${POINTS} points, batches of ${BATCH}, medians of ${results.length} interleaved rounds (range); ${machineLoad()}`,
  );
  console.log(
    `  first round (fresh process): cellar ${results[0]!.cellar.toFixed(1)} ms, raw ${results[0]!.raw.toFixed(1)} ms`,
  );
  console.log(
    `  raw better-sqlite3 loop : ${medianRange(of('raw'), 1, ' ms')}  (${Math.round((POINTS / raw) * 1000)} points/s)`,
  );
  console.log(
    `  cellar run.logMetrics   : ${medianRange(of('cellar'), 1, ' ms')}  (${Math.round((POINTS / cel) * 1000)} points/s)`,
  );
  const ratio = raw / cel;
  console.log(`  throughput ratio cellar/raw = ${ratio.toFixed(2)}  (goal >= 0.50)`);
  emitResult(
    'metrics-ingest',
    [
      {
        figure: `logMetrics ${POINTS.toLocaleString('en')} points, throughput vs raw (median)`,
        value: cel,
        unit: 'ms',
        peer: 'raw better-sqlite3 insert loop',
        ratio: cel / raw,
        goal: 'throughput ≥ 0.5× raw (ratio ≤ 2)',
        met: ratio >= 0.5,
      },
      { figure: 'logMetrics, first round in a fresh process', value: results[0]!.cellar, unit: 'ms' },
    ],
    { size: `${POINTS} points, batches of ${BATCH}, ${ROUNDS} rounds` },
  );
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
