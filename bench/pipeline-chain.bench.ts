/**
 * Benchmark: pipeline step execution, side by side with a bare `child_process.fork` chain in the same script.
 *   1. a chain of 40 steps of ~10 ms each (each passes a value to the next), end to end through
 *      `runPipeline` — run rows, task instances, attempts, tracking runs all durable in SQLite (goal ≤ 1.0 s);
 *   2. upstream success → downstream start latency, p50/p99, from the workers' result files (goal p99 ≤ 20 ms);
 *   3. a fan-out of 1,000 independent no-op steps (goal ≥ 500 steps/s), with worker processes reused for
 *      the steps of the pipeline version (the default) and, for comparison, with a new process per step
 *      (`maxStepsPerWorker: 1`).
 * The bare chain forks one process per step and waits for it, with no state anywhere. Prints ratios.
 * Process start-up costs ~20–30 ms of CPU here, which bounds whatever starts a process per step (the bare
 * side, and cellar with maxStepsPerWorker 1); a set NODE_EXTRA_CA_CERTS adds ~30 ms more to every process.
 * Stores are removed only when the script ends: on this kind of ext4 (no journal), inodes deleted in the last
 * minutes make creating new ones slow, so removing one phase's files would slow the next phase down.
 * Run: npm run build && node dist/esm/bench/pipeline-chain.bench.js [chainReps=3] [fanout=1000] [concurrency=8] [poolSize=3]
 */
import { fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PipelineSpec, StepSpec } from '../kernel-lib/exporter/spec.js';
import { closeAllEmbedded } from '../kernel-lib/store/open.js';
import { runPipeline } from '../pipelines/scheduler/api.js';
import { resolveWorkerScript } from '../pipelines/runner/worker-path.js';

const CHAIN = 40;
const STEP_MS = 10;
const REPS = Number(process.argv[2] ?? 3);
const FANOUT = Number(process.argv[3] ?? 1000);
const CONCURRENCY = Number(process.argv[4] ?? 8);
const POOL = Number(process.argv[5] ?? 3);

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

function step(name: string, upstream: string[], inputs: Record<string, string>, outputs: string[]): StepSpec {
  return {
    name,
    upstream,
    inputs,
    outputs,
    parameters: [],
    file: `steps/${name}.js`,
    sourceFile: `steps/${name}.ts`,
    cells: [],
    retries: 0,
    timeoutMs: 60_000,
    triggerRule: 'all_success',
  };
}

function writeVersion(root: string, name: string, steps: StepSpec[], code: (s: StepSpec) => string): void {
  const dir = join(root, 'pipelines', name, '1');
  const spec: PipelineSpec = {
    format: 'cellar-pipeline',
    formatVersion: 1,
    name,
    version: 1,
    hash: name,
    createdAt: new Date().toISOString(),
    schedule: null,
    catchup: false,
    maxActiveRuns: 1,
    parameters: [],
    metrics: [],
    steps,
    lockfileDigest: null,
    source: { notebookPath: null, notebookDigest: 'bench' },
  };
  for (const s of steps) {
    writeFileSync(join(dir, `${s.file}`), code(s), { flag: 'w' });
  }
  writeFileSync(join(dir, 'pipeline.json'), JSON.stringify(spec));
}

/** Temp directories to remove at exit, also when the benchmark fails half way. */
const scratchDirs: string[] = [];
process.on('exit', () => {
  for (const d of scratchDirs) rmSync(d, { recursive: true, force: true });
});

function prepareStore(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cellar-bench-'));
  scratchDirs.push(dir);
  const root = join(dir, '.cellar');
  const chain = Array.from({ length: CHAIN }, (_, i) =>
    i === 0
      ? step('s0', [], {}, ['v0'])
      : step(`s${i}`, [`s${i - 1}`], { [`v${i - 1}`]: `s${i - 1}` }, [`v${i}`]),
  );
  const fan = Array.from({ length: FANOUT }, (_, i) => step(`n${i}`, [], {}, []));
  for (const [name, steps] of [
    ['chain', chain],
    ['fanout', fan],
  ] as const) {
    mkdirSync(join(root, 'pipelines', name, '1', 'steps'), { recursive: true });
    writeVersion(root, name, [...steps], (s) =>
      name === 'chain'
        ? `exports.run = async (ctx) => { await new Promise((r) => setTimeout(r, ${STEP_MS})); ` +
          `return { ${s.outputs[0]}: { i: ${JSON.stringify(s.name)}, prev: ctx.inputs } }; };\n`
        : 'exports.run = async () => ({});\n',
    );
  }
  return root;
}

interface Measured {
  ms: number;
  latencies: number[];
}

async function cellarChain(root: string): Promise<Measured> {
  const t0 = performance.now();
  const summary = await runPipeline({ store: root, name: 'chain', concurrency: CONCURRENCY, poolSize: POOL });
  const ms = performance.now() - t0;
  if (summary.run.state !== 'success') throw new Error(`chain failed: ${summary.run.error}`);
  const results = summary.attempts
    .map((a) => JSON.parse(readFileSync(a.resultPath, 'utf8')) as { startedAt: number; endedAt: number })
    .sort((a, b) => a.startedAt - b.startedAt);
  const latencies = results.slice(1).map((r, i) => r.startedAt - results[i]!.endedAt);
  return { ms, latencies };
}

async function cellarFanout(root: string, maxStepsPerWorker?: number): Promise<number> {
  const t0 = performance.now();
  const summary = await runPipeline({
    store: root,
    name: 'fanout',
    concurrency: CONCURRENCY,
    poolSize: POOL,
    ...(maxStepsPerWorker === undefined ? {} : { maxStepsPerWorker }),
  });
  const ms = performance.now() - t0;
  if (summary.run.state !== 'success') throw new Error(`fan-out failed: ${summary.run.error}`);
  return ms;
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
  return { ms: performance.now() - t0, latencies };
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
  if (process.env.NODE_EXTRA_CA_CERTS) {
    console.log(
      `note: NODE_EXTRA_CA_CERTS is set; every Node process (cellar's workers and the bare chain alike) spends ` +
        'extra time loading it at start-up. Unset it to measure process start-up without it.',
    );
  }
  const scratch = mkdtempSync(join(tmpdir(), 'cellar-bench-bare-'));
  scratchDirs.push(scratch);
  const bare = join(scratch, 'bare-step.cjs');
  writeFileSync(bare, BARE_STEP);
  const chains: Measured[] = [];
  const bares: Measured[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    const root = prepareStore();
    chains.push(await cellarChain(root));
    bares.push(await bareChain(bare));
    closeAllEmbedded();
  }
  const best = (xs: Measured[]): number => Math.min(...xs.map((x) => x.ms));
  const median = (xs: number[]): number => percentile(xs, 50);
  const cl = chains.flatMap((c) => c.latencies);
  const bl = bares.flatMap((c) => c.latencies);
  console.log(`\n== chain of ${CHAIN} steps × ~${STEP_MS} ms (${REPS} reps; median / best)`);
  console.log(
    `cellar (durable state, warm pool): ${median(chains.map((c) => c.ms)).toFixed(0)} ms / ${best(chains).toFixed(0)} ms   goal ≤ 1000 ms`,
  );
  console.log(
    `bare fork chain (no state):        ${median(bares.map((c) => c.ms)).toFixed(0)} ms / ${best(bares).toFixed(0)} ms`,
  );
  console.log(
    `ratio cellar / bare (median):      ${(median(chains.map((c) => c.ms)) / median(bares.map((c) => c.ms))).toFixed(2)}`,
  );
  console.log(`\n== upstream success → downstream start (${cl.length} hand-offs)`);
  console.log(
    `cellar: p50 ${percentile(cl, 50).toFixed(1)} ms, p99 ${percentile(cl, 99).toFixed(1)} ms   goal p99 ≤ 20 ms`,
  );
  console.log(`bare:   p50 ${percentile(bl, 50).toFixed(1)} ms, p99 ${percentile(bl, 99).toFixed(1)} ms`);
  console.log(`ratio p99 cellar / bare: ${(percentile(cl, 99) / percentile(bl, 99)).toFixed(2)}`);

  if (FANOUT > 0) {
    const reused = await cellarFanout(prepareStore());
    const perStep = await cellarFanout(prepareStore(), 1);
    const bms = await bareFanout(bare);
    closeAllEmbedded();
    const rate = (ms: number): number => FANOUT / (ms / 1000);
    console.log(`\n== fan-out of ${FANOUT} no-op steps, ${CONCURRENCY} at a time`);
    console.log(
      `cellar, workers reused (default):  ${reused.toFixed(0)} ms, ${rate(reused).toFixed(0)} steps/s   goal ≥ 500 steps/s`,
    );
    console.log(
      `cellar, a new process per step:    ${perStep.toFixed(0)} ms, ${rate(perStep).toFixed(0)} steps/s`,
    );
    console.log(`bare fork (a process per step):    ${bms.toFixed(0)} ms, ${rate(bms).toFixed(0)} steps/s`);
    console.log(`ratio cellar (default) / bare throughput: ${(rate(reused) / rate(bms)).toFixed(2)}`);
  }
  rmSync(scratch, { recursive: true, force: true });
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
