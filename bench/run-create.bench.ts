/**
 * Benchmark: creating a tracked run through the public API — `startRun` with 20 tags, `logParams` (50),
 * `logMetrics` (50), `end` — against the floor: the same rows bulk-inserted with better-sqlite3 in one
 * IMMEDIATE transaction per run, on the same store file. The API does four durable commits (one per call,
 * as the README promises); the floor does one. Medians of interleaved rounds with their range; the first
 * run of a fresh process is reported beside them. Goal (issue 9): ≤ 1.5× the bulk insert.
 * Run: npm run build && node dist/esm/bench/run-create.bench.js [runsPerRound=100] [rounds=7]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openStore } from '../kernel-lib/sdk.js';
import { openDatabase } from '../kernel-lib/store/sqlite.js';
import { describe, loadLine, median, printBenchResult } from './bench-stats.js';

const PER_ROUND = Number(process.argv[2] ?? 100);
const ROUNDS = Number(process.argv[3] ?? 7);
const TAGS = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`tag_${i}`, `value ${i}`]));
const PARAMS = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`param_${i}`, i / 4]));
const METRICS = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`metric_${i}`, i / 7]));

async function tracked(dir: string, n: number): Promise<number> {
  const store = openStore(dir);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const run = await store.startRun({ experiment: 'bench', tags: TAGS });
    await run.logParams(PARAMS);
    await run.logMetrics(METRICS);
    await run.end();
  }
  return (performance.now() - t0) / n;
}

let bulkSeq = 0;
function bulk(dir: string, n: number): number {
  const db = openDatabase(dir);
  const st = {
    run: db.prepare(
      "INSERT INTO runs (run_id, experiment_id, status, start_time, end_time) VALUES (?, 0, 'FINISHED', ?, ?)",
    ),
    tag: db.prepare('INSERT INTO tags (run_id, key, value) VALUES (?, ?, ?)'),
    param: db.prepare('INSERT INTO params (run_id, key, value) VALUES (?, ?, ?)'),
    metric: db.prepare('INSERT INTO metrics (run_id, key, value, step, timestamp) VALUES (?, ?, ?, 0, ?)'),
    latest: db.prepare(
      'INSERT INTO latest_metrics (run_id, key, value, step, timestamp) VALUES (?, ?, ?, 0, ?)',
    ),
  };
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const id = `b${(bulkSeq++).toString(16).padStart(31, '0')}`;
    const now = Date.now();
    db.transaction(() => {
      st.run.run(id, now, now);
      for (const [k, v] of Object.entries(TAGS)) st.tag.run(id, k, v);
      for (const [k, v] of Object.entries(PARAMS)) st.param.run(id, k, String(v));
      for (const [k, v] of Object.entries(METRICS)) {
        st.metric.run(id, k, v, now);
        st.latest.run(id, k, v, now);
      }
    }).immediate();
  }
  const ms = (performance.now() - t0) / n;
  db.close();
  return ms;
}

/** The first tracked run of a fresh process that has just imported cellar (what a notebook pays). */
function firstInFreshProcess(dir: string): number {
  const entry = resolve(import.meta.dirname, '..', 'kernel-lib', 'index.js');
  const script = `
    const cellar = await import(${JSON.stringify(entry)});
    const store = cellar.openStore(${JSON.stringify(dir)});
    const tags = ${JSON.stringify(TAGS)}, params = ${JSON.stringify(PARAMS)}, metrics = ${JSON.stringify(METRICS)};
    const t0 = performance.now();
    const run = await store.startRun({ experiment: 'bench', tags });
    await run.logParams(params); await run.logMetrics(metrics); await run.end();
    process.stdout.write(String(performance.now() - t0));`;
  return Number(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }));
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'cellar-run-create-'));
  const dir = join(root, '.cellar');
  try {
    await tracked(dir, 20); // warm-up: creates the store, compiles statements; both sides share the file
    bulk(dir, 20);
    const t: number[] = [];
    const b: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      if (r % 2 === 0) {
        t.push(await tracked(dir, PER_ROUND));
        b.push(bulk(dir, PER_ROUND));
      } else {
        b.push(bulk(dir, PER_ROUND));
        t.push(await tracked(dir, PER_ROUND));
      }
    }
    const first = [0, 1, 2].map(() => firstInFreshProcess(dir));
    const ratios = t.map((x, i) => x / b[i]!);
    const ratio = median(t) / median(b);
    console.log(`creating a tracked run: 20 tags, 50 params, 50 metrics, end; ${PER_ROUND} runs per round`);
    console.log(loadLine());
    console.log(`  cellar startRun/logParams/logMetrics/end : ${describe(t, 2)} per run`);
    console.log(`  bulk insert, 1 transaction per run       : ${describe(b, 2)} per run`);
    console.log(`  first run in a fresh process             : ${describe(first, 2)}`);
    console.log(
      `  ratio cellar / bulk = ${ratio.toFixed(2)} (per round ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}); goal ≤ 1.5`,
    );
    printBenchResult('run-create', [
      {
        figure: 'tracked run (20 tags, 50 params, 50 metrics, end)',
        value: median(t),
        unit: 'ms',
        peer: 'bulk insert of the same rows',
        ratio,
        goal: '≤ 1.5× bulk insert',
        met: ratio <= 1.5,
      },
      {
        figure: 'first tracked run in a fresh process',
        value: median(first),
        unit: 'ms',
        peer: null,
        ratio: null,
        goal: '–',
        met: null,
      },
    ]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
