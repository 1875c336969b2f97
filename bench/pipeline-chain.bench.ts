/**
 * Benchmark: pipeline step execution, with the pipelines built by `cellar export` (the real CLI) from generated
 * notebooks whose steps import and use cellar as the example notebooks do (bench/pipeline-notebook: each step
 * fits a tiny ElasticNet, the chain's last step logs metrics in a tracked run), side by side with a bare
 * `child_process.fork` chain (no state anywhere) in the same rounds:
 *   1. a chain of 40 steps of ~10 ms each (each passes a value to the next): the first run through
 *      `runPipeline` in this fresh process (pool started, cellar loaded in the workers), then the warm median
 *      of ≥ 5 runs on one long-lived scheduler (what `cellar scheduler` / `cellar up` keep), interleaved with
 *      the bare chain (goal ≤ 0.7 s);
 *   2. upstream success → downstream start latency, p50/p99, from the workers' result files (goal p99 ≤ 10 ms);
 *   3. a fan-out of 1,000 independent steps (goal ≥ 1,000 steps/s on a quiet machine), workers reused.
 * Run rows, task instances, attempts and tracking runs are all durable in SQLite. Every step imports cellar;
 * the bench checks that the workers really were reused (no "not reused" line in any step's log).
 * Last line: `BENCH_RESULT {json}`.
 * Run: npm run build && node dist/esm/bench/pipeline-chain.bench.js [--rounds 5] [--fanout 1000] [--concurrency 8] [--pool 3]
 */
import { fork, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { closeAllEmbedded } from '../kernel-lib/store/open.js';
import { describeRun, runPipeline, triggerPipeline } from '../pipelines/scheduler/api.js';
import { Scheduler } from '../pipelines/scheduler/scheduler.js';
import type { AttemptRow } from '../pipelines/scheduler/state.js';
import { resolveWorkerScript } from '../pipelines/runner/worker-path.js';
import { chainNotebook, fanoutNotebook, writeNotebookFile } from './pipeline-notebook.js';

function flag(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : undefined;
  return v === undefined ? dflt : Number(v);
}
const quick = process.argv.includes('--quick') || process.env.BENCH_QUICK === '1';
const CHAIN = 40;
const STEP_MS = 10;
const ROUNDS = Math.max(5, flag('rounds', 5));
const FANOUT = flag('fanout', quick ? 200 : 1000);
const CONCURRENCY = flag('concurrency', 8);
const POOL = flag('pool', 3);
const CLI = fileURLToPath(new URL('../../../bin/cellar.cjs', import.meta.url));

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}
const median = (xs: number[]): number => percentile(xs, 50);
const range = (xs: number[]): string => `${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)}`;

/** Temp directories to remove at exit, also when the benchmark fails half way. */
const scratchDirs: string[] = [];
process.on('exit', () => {
  for (const d of scratchDirs) rmSync(d, { recursive: true, force: true });
});

/** Exports the chain and fan-out notebooks with the real CLI into a new store; returns the store. */
function prepareStore(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cellar-bench-'));
  scratchDirs.push(dir);
  const store = join(dir, '.cellar');
  const notebooks: Array<[string, object]> = [
    ['chain', chainNotebook(CHAIN, STEP_MS)],
    ['fanout', fanoutNotebook(FANOUT)],
  ];
  for (const [name, nb] of notebooks) {
    const path = writeNotebookFile(dir, name, nb);
    const r = spawnSync(process.execPath, [CLI, '--store', store, 'export', path, '--name', name], {
      cwd: dir,
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`cellar export ${name} failed: ${r.stderr}${r.stdout}`);
  }
  return store;
}

/** Fails the bench when any step's log says its worker was not reused. */
function checkReused(attempts: AttemptRow[]): number {
  let notReused = 0;
  for (const a of attempts) {
    if (!existsSync(a.logPath)) continue;
    const log = readFileSync(a.logPath, 'utf8');
    if (log.includes('not reused')) {
      notReused += 1;
      if (notReused === 1) console.log(`worker not reused after ${a.step}: ${log.trim().split('\n').pop()}`);
    }
  }
  return notReused;
}

interface Measured {
  ms: number;
  latencies: number[];
  notReused: number;
}

function handOffs(attempts: AttemptRow[]): number[] {
  const results = attempts
    .map((a) => JSON.parse(readFileSync(a.resultPath, 'utf8')) as { startedAt: number; endedAt: number })
    .sort((x, y) => x.startedAt - y.startedAt);
  return results.slice(1).map((r, i) => r.startedAt - results[i]!.endedAt);
}

/** The first run in this process: `runPipeline` starts its scheduler and pool, workers load cellar. */
async function firstChain(store: string): Promise<Measured> {
  const t0 = performance.now();
  const summary = await runPipeline({ store, name: 'chain', concurrency: CONCURRENCY, poolSize: POOL });
  const ms = performance.now() - t0;
  if (summary.run.state !== 'success') throw new Error(`chain failed: ${summary.run.error}`);
  return { ms, latencies: handOffs(summary.attempts), notReused: checkReused(summary.attempts) };
}

/** One run on the long-lived scheduler (its pool and idle workers stay between runs). */
async function warmRun(scheduler: Scheduler, store: string, name: string): Promise<Measured> {
  const t0 = performance.now();
  const run = triggerPipeline({ store, name });
  const done = await scheduler.runUntilDone(run.runId, 50);
  const ms = performance.now() - t0;
  if (done.state !== 'success') throw new Error(`${name} failed: ${done.error}`);
  const summary = await describeRun(store, run.runId);
  return { ms, latencies: handOffs(summary.attempts), notReused: checkReused(summary.attempts) };
}

const BARE_STEP = `
const started = Date.now();
process.on('message', (m) => {
  setTimeout(() => {
    process.send({ value: { i: m.i, prev: m.value }, started, ended: Date.now() }, () => process.exit(0));
  }, m.ms);
});
`;

function bareOne(
  script: string,
  i: number,
  value: unknown,
  ms: number,
): Promise<{ value: unknown; started: number; ended: number }> {
  return new Promise((resolve, reject) => {
    const child = fork(script, [], { execArgv: [], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    let got: { value: unknown; started: number; ended: number } | null = null;
    child.on('message', (m: { value: unknown; started: number; ended: number }) => (got = m));
    // 'close' comes after the IPC channel is drained ('exit' may arrive before the last message)
    child.on('close', () => (got ? resolve(got) : reject(new Error('bare step died'))));
    child.send({ i, value, ms });
  });
}

async function bareChain(script: string): Promise<Measured> {
  const t0 = performance.now();
  let value: unknown = null;
  let prevEnd = 0;
  const latencies: number[] = [];
  for (let i = 0; i < CHAIN; i++) {
    const r = await bareOne(script, i, value, STEP_MS);
    if (i > 0) latencies.push(r.started - prevEnd);
    prevEnd = r.ended;
    value = r.value;
  }
  return { ms: performance.now() - t0, latencies, notReused: 0 };
}

async function bareFanout(script: string): Promise<number> {
  const t0 = performance.now();
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < FANOUT) {
      const i = next++;
      await bareOne(script, i, null, 0);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, lane));
  return performance.now() - t0;
}

async function main(): Promise<void> {
  console.log(`worker: ${resolveWorkerScript()}`);
  const scratch = mkdtempSync(join(tmpdir(), 'cellar-bench-bare-'));
  scratchDirs.push(scratch);
  const bare = join(scratch, 'bare-step.cjs');
  writeFileSync(bare, BARE_STEP);
  const store = prepareStore();
  const first = await firstChain(store);
  closeAllEmbedded();
  const scheduler = new Scheduler({
    store,
    workerScript: resolveWorkerScript(),
    schedule: false,
    concurrency: CONCURRENCY,
    poolSize: POOL,
  });
  const chains: Measured[] = [];
  const bares: Measured[] = [];
  const fans: number[] = [];
  const bareFans: number[] = [];
  let notReused = first.notReused;
  try {
    for (let r = 0; r < ROUNDS; r++) {
      const c = await warmRun(scheduler, store, 'chain');
      const b = await bareChain(bare);
      chains.push(c);
      bares.push(b);
      notReused += c.notReused;
      let line = `round ${r + 1}: chain ${c.ms.toFixed(0)} ms (bare ${b.ms.toFixed(0)} ms)`;
      if (FANOUT > 0) {
        const f = await warmRun(scheduler, store, 'fanout');
        notReused += f.notReused;
        fans.push(f.ms);
        bareFans.push(await bareFanout(bare));
        line += `, fan-out ${f.ms.toFixed(0)} ms (bare ${bareFans[r]!.toFixed(0)} ms)`;
      }
      console.log(line);
    }
  } finally {
    await scheduler.stop();
    closeAllEmbedded();
  }
  const cms = chains.map((c) => c.ms);
  const bms = bares.map((c) => c.ms);
  const cl = chains.flatMap((c) => c.latencies);
  const bl = bares.flatMap((c) => c.latencies);
  console.log(
    `\n== chain of ${CHAIN} steps × ~${STEP_MS} ms, steps import cellar (${ROUNDS} interleaved rounds)`,
  );
  console.log(`cellar, first run in this process (runPipeline): ${first.ms.toFixed(0)} ms`);
  console.log(
    `cellar, warm scheduler: median ${median(cms).toFixed(0)} ms (range ${range(cms)} ms)   goal ≤ 700 ms`,
  );
  console.log(`bare fork chain (no state): median ${median(bms).toFixed(0)} ms (range ${range(bms)} ms)`);
  console.log(`ratio cellar / bare (medians): ${(median(cms) / median(bms)).toFixed(2)}`);
  console.log(`\n== upstream success → downstream start (${cl.length} hand-offs)`);
  const p99 = percentile(cl, 99);
  console.log(`cellar: p50 ${percentile(cl, 50).toFixed(1)} ms, p99 ${p99.toFixed(1)} ms   goal p99 ≤ 10 ms`);
  console.log(`bare:   p50 ${percentile(bl, 50).toFixed(1)} ms, p99 ${percentile(bl, 99).toFixed(1)} ms`);
  const rate = (ms: number): number => FANOUT / (ms / 1000);
  if (FANOUT > 0) {
    console.log(`\n== fan-out of ${FANOUT} steps importing cellar, ${CONCURRENCY} at a time, workers reused`);
    console.log(
      `cellar: median ${rate(median(fans)).toFixed(0)} steps/s (${median(fans).toFixed(0)} ms, range ${range(fans)} ms)   goal ≥ 1000 steps/s`,
    );
    console.log(`bare fork (a process per step): median ${rate(median(bareFans)).toFixed(0)} steps/s`);
  }
  console.log(`\nsteps whose worker was not reused: ${notReused}`);
  console.log(
    `load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')} on ${cpus().length} cores`,
  );
  const rows = [
    {
      figure: `chain ${CHAIN}×${STEP_MS} ms, first run (fresh process)`,
      value: Math.round(first.ms),
      unit: 'ms',
      peer: 'bare fork chain',
      ratio: Number((first.ms / median(bms)).toFixed(2)),
      goal: '',
      met: null,
    },
    {
      figure: `chain ${CHAIN}×${STEP_MS} ms, warm median`,
      value: Math.round(median(cms)),
      unit: 'ms',
      peer: 'bare fork chain',
      ratio: Number((median(cms) / median(bms)).toFixed(2)),
      goal: '≤ 0.7 s',
      met: median(cms) <= 700,
    },
    {
      figure: 'hand-off p99',
      value: Number(p99.toFixed(1)),
      unit: 'ms',
      peer: 'bare fork chain',
      ratio: Number((p99 / Math.max(0.1, percentile(bl, 99))).toFixed(2)),
      goal: '≤ 10 ms',
      met: p99 <= 10,
    },
    ...(FANOUT > 0
      ? [
          {
            figure: `fan-out ${FANOUT} steps, warm median`,
            value: Math.round(rate(median(fans))),
            unit: 'steps/s',
            peer: 'bare fork per step',
            ratio: Number((rate(median(fans)) / rate(median(bareFans))).toFixed(2)),
            goal: '≥ 1000 steps/s',
            met: rate(median(fans)) >= 1000,
          },
        ]
      : []),
    {
      figure: 'steps whose worker was not reused',
      value: notReused,
      unit: 'steps',
      peer: '',
      ratio: null,
      goal: '0',
      met: notReused === 0,
    },
  ];
  console.log(`BENCH_RESULT ${JSON.stringify({ bench: 'pipeline-chain', load: loadavg()[0], rows })}`);
  rmSync(scratch, { recursive: true, force: true });
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
