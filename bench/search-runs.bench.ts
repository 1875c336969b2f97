/**
 * Benchmark: `searchRuns` at 30,000 runs × (50 params, 50 metrics, 20 tags), through the public API and
 * the CLI, against floors on the same file:
 * - filter `metrics.m1 > 0.5 and params.p1 = 'x'`, order `metrics.m2 DESC`, 100 results, against two
 *   hand-written SQL floors with better-sqlite3 (the plain joins + ORDER BY … LIMIT 100 a user writes, and
 *   the tuned query that walks m2's index in order as cellar does; both then read the 100 runs' params,
 *   metrics and tags) — goal ≤ 100 ms and ≤ 2× the SQL;
 * - no filter, 100 results (newest first) — goal ≤ 20 ms;
 * - `cellar runs list --max 100` (a new process each time) against `cellar --help` and `node -e 0` —
 *   goal ≤ 2× `cellar --help`.
 * The first search of a fresh process is reported beside the warm medians; medians of interleaved rounds
 * with their range; the machine's load printed. The last line is the BENCH_RESULT JSON line.
 * Run: npm run build && node dist/esm/bench/search-runs.bench.js [runs=30000] [rounds=7]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { mulberry32 } from '../kernel-lib/ml/random.js';
import { openStore } from '../kernel-lib/sdk.js';
import { describe, loadLine, median, printBenchResult, type BenchRow } from './bench-stats.js';

const RUNS = Number(process.argv[2] ?? 30_000);
const ROUNDS = Math.max(5, Number(process.argv[3] ?? 7));
const FILTER = "metrics.m1 > 0.5 and params.p1 = 'x'";
const ORDER = 'metrics.m2 DESC';
const PKG = resolve(import.meta.dirname, '..', '..', '..');
const CLI = join(PKG, 'bin', 'cellar.cjs');
const ENTRY = join(PKG, 'dist', 'esm', 'kernel-lib', 'index.js');

/** 30,000 runs: p1 ∈ {x,y,z,w}, other params one of 20 values, metrics uniform in [0,1), tags one of 5. */
async function build(dir: string): Promise<void> {
  const store = openStore(dir);
  const exp = await store.tracking.getOrCreateExperiment('bench');
  const db = store.embedded.db;
  db.pragma('cache_size = -262144'); // building only: keep the index pages in memory
  const rnd = mulberry32(1);
  const st = {
    run: db.prepare(
      "INSERT INTO runs (run_id, experiment_id, run_name, status, start_time, end_time) VALUES (?, ?, ?, 'FINISHED', ?, ?)",
    ),
    param: db.prepare('INSERT INTO params (run_id, key, value) VALUES (?, ?, ?)'),
    metric: db.prepare('INSERT INTO metrics (run_id, key, value, step, timestamp) VALUES (?, ?, ?, 0, ?)'),
    latest: db.prepare(
      'INSERT INTO latest_metrics (run_id, key, value, step, timestamp) VALUES (?, ?, ?, 0, ?)',
    ),
    tag: db.prepare('INSERT INTO tags (run_id, key, value) VALUES (?, ?, ?)'),
  };
  const p1 = ['x', 'y', 'z', 'w'];
  db.transaction(() => {
    for (let i = 0; i < RUNS; i++) {
      const id = i.toString(16).padStart(32, '0');
      const t = 1_700_000_000_000 + i * 1000;
      st.run.run(id, Number(exp.id), `run-${i}`, t, t + 500);
      for (let k = 0; k < 50; k++)
        st.param.run(id, `p${k}`, k === 1 ? p1[Math.floor(rnd() * 4)]! : `v${Math.floor(rnd() * 20)}`);
      for (let k = 0; k < 50; k++) {
        const v = rnd();
        st.metric.run(id, `m${k}`, v, t);
        st.latest.run(id, `m${k}`, v, t);
      }
      for (let k = 0; k < 20; k++) st.tag.run(id, `t${k}`, `tag${Math.floor(rnd() * 5)}`);
    }
  }).immediate();
  db.pragma('wal_checkpoint(TRUNCATE)');
  store.close();
}

/** The plain query a user writes by hand (SQLite's planner starts from the filter's index). */
const PLAIN_SQL = `SELECT r.* FROM runs r
    JOIN latest_metrics m1 ON m1.run_id = r.run_id AND m1.key = 'm1'
    JOIN params p1 ON p1.run_id = r.run_id AND p1.key = 'p1'
    LEFT JOIN latest_metrics m2 ON m2.run_id = r.run_id AND m2.key = 'm2'
    WHERE m1.value > 0.5 AND p1.value = 'x'
    ORDER BY m2.value DESC LIMIT 100`;
/** The tuned query (the plan cellar picks here): walk m2's index in order, stop after 100 matches. */
const TUNED_SQL = `SELECT r.* FROM latest_metrics m2 CROSS JOIN runs r
    JOIN latest_metrics m1 ON m1.run_id = r.run_id AND m1.key = 'm1'
    JOIN params p1 ON p1.run_id = r.run_id AND p1.key = 'p1'
    WHERE m2.key = 'm2' AND r.run_id = m2.run_id AND m1.value > 0.5 AND p1.value = 'x'
    ORDER BY m2.value DESC LIMIT 100`;

/** A hand-written floor: the query and the page's fields, as a user would write them. */
function handSql(db: Database.Database, query: string): () => number {
  const search = db.prepare(query);
  const fields = ['params', 'latest_metrics', 'tags'].map((t) =>
    db.prepare(`SELECT run_id, key, value FROM ${t} WHERE run_id IN (SELECT value FROM json_each(?))`).raw(),
  );
  return () => {
    const rows = search.all() as Array<{ run_id: string }>;
    const ids = JSON.stringify(rows.map((r) => r.run_id));
    let n = rows.length;
    for (const f of fields) n += f.all(ids).length;
    return n;
  };
}

function time<T>(fn: () => T): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

async function timeAsync(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

function wall(args: string[]): number {
  const t0 = performance.now();
  execFileSync(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return performance.now() - t0;
}

/** The goal search as the first call of a new process that has just imported cellar. */
function firstSearch(dir: string): number {
  const script = `const cellar = await import(${JSON.stringify(ENTRY)});
    const store = cellar.openStore(${JSON.stringify(dir)});
    const t0 = performance.now();
    await store.searchRuns({ filter: ${JSON.stringify(FILTER)}, orderBy: ${JSON.stringify(ORDER)}, maxResults: 100 });
    process.stdout.write(String(performance.now() - t0));`;
  return Number(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }));
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'cellar-search-bench-'));
  const dir = join(root, '.cellar');
  try {
    const t0 = performance.now();
    await build(dir);
    console.log(
      `built ${RUNS.toLocaleString('en')} runs × (50 params, 50 metrics, 20 tags) in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    const store = openStore(dir);
    const raw = new Database(join(dir, 'cellar.db'), { readonly: true });
    const floor = handSql(raw, PLAIN_SQL);
    const tuned = handSql(raw, TUNED_SQL);
    const goal = () => store.searchRuns({ filter: FILTER, orderBy: ORDER, maxResults: 100 });
    const plain = () => store.searchRuns({ maxResults: 100 });
    // Same answer as the floor (the floor orders ties on m2 arbitrarily; m2 values are distinct here).
    const ours = (await goal()).map((r) => r.id);
    const theirs = raw
      .prepare(
        `SELECT r.run_id FROM runs r JOIN latest_metrics m1 ON m1.run_id = r.run_id AND m1.key = 'm1'
      JOIN params p1 ON p1.run_id = r.run_id AND p1.key = 'p1' LEFT JOIN latest_metrics m2 ON m2.run_id = r.run_id AND m2.key = 'm2'
      WHERE m1.value > 0.5 AND p1.value = 'x' ORDER BY m2.value DESC LIMIT 100`,
      )
      .pluck()
      .all() as string[];
    if (JSON.stringify(ours) !== JSON.stringify(theirs))
      throw new Error('searchRuns and the SQL floor disagree');

    const s = { goal: [] as number[], floor: [] as number[], tuned: [] as number[], plain: [] as number[] };
    const c = { list: [] as number[], help: [] as number[], node: [] as number[] };
    for (let r = 0; r < ROUNDS; r++) {
      const steps: Array<() => Promise<void>> = [
        async () => void s.goal.push(await timeAsync(goal)),
        async () => void s.floor.push(time(floor)),
        async () => void s.tuned.push(time(tuned)),
        async () => void s.plain.push(await timeAsync(plain)),
        async () => void c.list.push(wall([CLI, '--store', dir, 'runs', 'list', '--max', '100'])),
        async () => void c.help.push(wall([CLI, '--help'])),
        async () => void c.node.push(wall(['-e', '0'])),
      ];
      for (const step of r % 2 === 0 ? steps : [...steps].reverse()) await step();
    }
    const first = [0, 1, 2].map(() => firstSearch(dir));
    raw.close();
    store.close();

    const ratio = median(s.goal) / median(s.floor);
    const tunedRatio = median(s.goal) / median(s.tuned);
    const cliRatio = median(c.list) / median(c.help);
    console.log(`\n== searchRuns at ${RUNS.toLocaleString('en')} runs`);
    console.log(loadLine());
    console.log(`filter ${FILTER}, order ${ORDER}, 100 results`);
    console.log(`  cellar searchRuns (warm)        : ${describe(s.goal)}`);
    console.log(`  cellar searchRuns (fresh proc.) : ${describe(first)}`);
    console.log(`  hand-written SQL, plain joins   : ${describe(s.floor)}`);
    console.log(`  hand-written SQL, index walk    : ${describe(s.tuned)}`);
    console.log(
      `  ratio cellar / plain SQL = ${ratio.toFixed(2)}, cellar / tuned SQL = ${tunedRatio.toFixed(2)}`,
    );
    console.log(`  goals: ≤ 100 ms on a quiet machine, ≤ 2× the SQL`);
    console.log(`no filter, 100 results`);
    console.log(`  cellar searchRuns (warm)        : ${describe(s.plain)}   goal ≤ 20 ms`);
    console.log(`CLI (a new process each time)`);
    console.log(`  cellar runs list --max 100      : ${describe(c.list, 0)}`);
    console.log(`  cellar --help                   : ${describe(c.help, 0)}`);
    console.log(`  node -e 0                       : ${describe(c.node, 0)}`);
    console.log(`  ratio runs list / --help = ${cliRatio.toFixed(2)}   goal ≤ 2×`);
    const rows: BenchRow[] = [
      {
        figure: `searchRuns ${RUNS} runs, filter + order, 100 results`,
        value: median(s.goal),
        unit: 'ms',
        peer: 'hand-written SQL (better-sqlite3), same file',
        ratio,
        goal: '≤ 100 ms and ≤ 2× SQL',
        met: median(s.goal) <= 100 && ratio <= 2,
      },
      {
        figure: `searchRuns ${RUNS} runs, filter + order, 100 results (against tuned SQL)`,
        value: median(s.goal),
        unit: 'ms',
        peer: 'hand-written SQL walking the order index (CROSS JOIN), same file',
        ratio: tunedRatio,
        goal: '≤ 2× SQL',
        met: tunedRatio <= 2,
      },
      {
        figure: 'searchRuns first call in a fresh process',
        value: median(first),
        unit: 'ms',
        peer: 'hand-written SQL (better-sqlite3), same file',
        ratio: median(first) / median(s.floor),
        goal: '–',
        met: null,
      },
      {
        figure: `searchRuns ${RUNS} runs, no filter, 100 results`,
        value: median(s.plain),
        unit: 'ms',
        peer: null,
        ratio: null,
        goal: '≤ 20 ms',
        met: median(s.plain) <= 20,
      },
      {
        figure: `cellar runs list --max 100 at ${RUNS} runs`,
        value: median(c.list),
        unit: 'ms',
        peer: `cellar --help (${median(c.help).toFixed(0)} ms; node -e 0 ${median(c.node).toFixed(0)} ms)`,
        ratio: cliRatio,
        goal: '≤ 2× cellar --help',
        met: cliRatio <= 2,
      },
    ];
    printBenchResult('search-runs', rows);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
