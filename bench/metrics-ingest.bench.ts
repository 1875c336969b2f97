/**
 * Benchmark: metric ingestion. 1 run × 100,000 points through cellar's `run.logMetrics` in batches,
 * side by side with a raw better-sqlite3 insert loop (prepared statement, one IMMEDIATE transaction per
 * batch) into the same schema. Goal: cellar's throughput ≥ 50 % of the raw loop. Prints the ratio.
 * Run: npm run build && node dist/esm/bench/metrics-ingest.bench.js [points] [batch]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../kernel-lib/sdk.js';
import { openDatabase } from '../kernel-lib/store/sqlite.js';

const POINTS = Number(process.argv[2] ?? 100_000);
const BATCH = Number(process.argv[3] ?? 1_000);

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
  for (let rep = 0; rep < 3; rep++) {
    const a = mkdtempSync(join(tmpdir(), 'cellar-bench-'));
    const b = mkdtempSync(join(tmpdir(), 'cellar-bench-'));
    try {
      const raw = rawIngest(b);
      const cel = await cellarIngest(a);
      results.push({ cellar: cel, raw });
    } finally {
      rmSync(a, { recursive: true, force: true });
      rmSync(b, { recursive: true, force: true });
    }
  }
  const best = (k: 'cellar' | 'raw'): number => Math.min(...results.map((r) => r[k]));
  const cel = best('cellar');
  const raw = best('raw');
  console.log(`metric ingestion: ${POINTS} points, batches of ${BATCH} (best of ${results.length})`);
  console.log(
    `  raw better-sqlite3 loop : ${raw.toFixed(1)} ms  (${Math.round((POINTS / raw) * 1000)} points/s)`,
  );
  console.log(
    `  cellar run.logMetrics   : ${cel.toFixed(1)} ms  (${Math.round((POINTS / cel) * 1000)} points/s)`,
  );
  console.log(`  throughput ratio cellar/raw = ${(raw / cel).toFixed(2)}  (goal >= 0.50)`);
}

void main();
