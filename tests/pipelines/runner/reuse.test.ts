/**
 * Worker reuse: after a clean success a worker process runs the next step of the same pipeline version, and
 * that step sees none of the earlier one — fresh module state, environment and working directory. A step that
 * leaves timers, globals or process listeners behind, fails, or is the last one allowed retires its process.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { closeAllEmbedded } from '../../../kernel-lib/store/open.js';
import { isProcessAlive } from '../../../kernel-lib/store/process.js';
import { WorkerPool } from '../../../pipelines/runner/pool.js';
import type { WorkerTask } from '../../../pipelines/runner/protocol.js';
import { attemptPaths } from '../../../pipelines/runner/paths.js';
import { runPipeline } from '../../../pipelines/scheduler/api.js';
import { cleanupTmp, makeTmp, REPO_ROOT } from '../../helpers/tmp.js';
import { makeStore, workerScript, writePipeline } from '../../fixtures/pipelines/fixture.js';
import { readOutput } from '../../fixtures/pipelines/outputs.js';

afterEach(() => {
  closeAllEmbedded();
  cleanupTmp();
});

/** A chain: each step runs after the previous one, returning `{ pid, ...what its code returns }`. */
function chain(root: string, name: string, bodies: string[]): void {
  writePipeline(root, {
    name,
    steps: bodies.map((code, i) => ({
      name: `s${i}`,
      upstream: i === 0 ? [] : [`s${i - 1}`],
      outputs: ['out'],
      code: `const out = await (async () => { ${code} })(); return { out: { pid: process.pid, ...out } };`,
    })),
  });
}

async function outs(
  attempts: Parameters<typeof readOutput>[0],
  n: number,
): Promise<Array<Record<string, unknown>>> {
  const all: Array<Record<string, unknown>> = [];
  for (let i = 0; i < n; i++)
    all.push((await readOutput(attempts, `s${i}`, 'out')) as Record<string, unknown>);
  return all;
}

test('a reused worker gives each step fresh module state, environment and working directory', async () => {
  const root = makeStore();
  const lib = join(makeTmp(), 'counter.js');
  writeFileSync(lib, 'let n = 0;\nexports.bump = () => ++n;\n');
  const step = `
    const c = require(${JSON.stringify(lib)});
    const seen = { n: c.bump(), leak: process.env.LEAKED ?? null, cwd: process.cwd(), step: process.env.CELLAR_PIPELINE_STEP };
    process.env.LEAKED = 'from ' + process.env.CELLAR_PIPELINE_STEP;
    process.chdir(require('os').tmpdir());
    return seen;`;
  chain(root, 'clean', [step, step, step]);
  const summary = await runPipeline({ store: root, name: 'clean', workerScript: workerScript() });
  expect(summary.run.state).toBe('success');
  const o = await outs(summary.attempts, 3);
  expect(new Set(o.map((x) => x.pid)).size).toBe(1); // one process ran all three
  expect(o[0]!.pid).not.toBe(process.pid);
  for (const [i, x] of o.entries()) {
    expect(x).toMatchObject({ n: 1, leak: null, cwd: process.cwd(), step: `s${i}` });
  }
  expect(summary.attempts.map((a) => a.pid)).toEqual(o.map((x) => x.pid));
});

test.each([
  ['a timer still armed', 'setInterval(() => undefined, 60_000); return {};', 'active Timeout'],
  [
    "an unref'd timer",
    "setInterval(() => undefined, 60_000).unref(); require('timers').setTimeout(() => undefined, 60_000).unref(); return {};",
    "2 unref'd timer(s)",
  ],
  [
    'a patched prototype',
    'Array.prototype.total = function () { return 1; }; return {};',
    'Array.prototype.total',
  ],
  ['a replaced built-in', 'Math.random = () => 4; return {};', 'patched built-ins Math.random'],
  [
    'a global set after it returned',
    'Promise.resolve().then(() => Promise.resolve()).then(() => { globalThis.leftBehind = 1; }); return {};',
    'globals leftBehind',
  ],
  ['a new global', 'globalThis.leftBehind = 42; return {};', 'globals leftBehind'],
  ['a process listener', "process.on('SIGUSR2', () => undefined); return {};", "process 'SIGUSR2' listener"],
])('a step that leaves %s retires its worker; the next step gets a new process', async (_what, body, why) => {
  const root = makeStore();
  chain(root, 'leaky', [
    body,
    'return { globalSeen: typeof globalThis.leftBehind, listeners: process.listenerCount("SIGUSR2") };',
  ]);
  const summary = await runPipeline({ store: root, name: 'leaky', workerScript: workerScript() });
  expect(summary.run.state).toBe('success');
  const [first, second] = await outs(summary.attempts, 2);
  expect(second!.pid).not.toBe(first!.pid);
  expect(second).toMatchObject({ globalSeen: 'undefined', listeners: 0 });
  const log = readFileSync(summary.attempts.find((a) => a.step === 's0')!.logPath, 'utf8');
  expect(log).toContain('not reused');
  expect(log).toContain(why);
});

test('a failed step ends its process: its retry runs in a new one', async () => {
  const root = makeStore();
  writePipeline(root, {
    name: 'flaky',
    steps: [
      {
        name: 'once',
        retries: 1,
        outputs: ['pid'],
        code: `if (ctx.tryNumber === 1) throw new Error('first try fails'); return { pid: process.pid };`,
      },
    ],
  });
  const summary = await runPipeline({
    store: root,
    name: 'flaky',
    workerScript: workerScript(),
    retry: { baseDelayMs: 10, maxDelayMs: 10 },
  });
  expect(summary.run.state).toBe('success');
  const [first, second] = summary.attempts;
  expect(first!.state).toBe('failed');
  expect(second!.pid).not.toBe(first!.pid);
  expect(isProcessAlive({ host: first!.host, pid: first!.pid!, started: first!.procStarted! })).toBe(false);
});

test('maxStepsPerWorker bounds how many steps one process runs (1: a process per step)', async () => {
  const root = makeStore();
  chain(
    root,
    'bounded',
    Array.from({ length: 5 }, () => 'return {};'),
  );
  const two = await runPipeline({
    store: root,
    name: 'bounded',
    workerScript: workerScript(),
    maxStepsPerWorker: 2,
  });
  const pidsTwo = (await outs(two.attempts, 5)).map((x) => x.pid);
  expect(pidsTwo[0]).toBe(pidsTwo[1]);
  expect(pidsTwo[2]).toBe(pidsTwo[3]);
  expect(new Set(pidsTwo).size).toBe(3);
  const one = await runPipeline({
    store: root,
    name: 'bounded',
    workerScript: workerScript(),
    maxStepsPerWorker: 1,
  });
  expect(new Set((await outs(one.attempts, 5)).map((x) => x.pid)).size).toBe(5);
});

function task(dir: string, pipeline: string, i: number, reuse: boolean): WorkerTask {
  const stepFile = join(dir, `${pipeline}-${i}.js`);
  writeFileSync(stepFile, 'exports.run = async () => ({ pid: process.pid });');
  return {
    storeRoot: dir,
    pipeline,
    version: 1,
    step: `s${i}`,
    stepFile,
    ...attemptPaths(dir, pipeline, 'run-1', `s${i}`, 1),
    context: {
      params: {},
      runId: 'run-1',
      logicalDate: '',
      dataIntervalStart: '',
      dataIntervalEnd: '',
      tryNumber: 1,
    },
    inputs: [],
    outputs: ['pid'],
    metrics: [],
    env: {},
    reuse,
  };
}

test('the pool hands a released worker only to steps of the same pipeline version, and stops it on close', async () => {
  const dir = makeTmp();
  const pool = new WorkerPool({ script: workerScript(), size: 1 });
  try {
    const w = await pool.acquire('a@1');
    const outcome = await w.run(task(dir, 'a', 0, pool.mayReuse(w)));
    expect(outcome).toMatchObject({ reusable: true, result: { ok: true } });
    pool.release(w, 'a@1');
    const other = await pool.acquire('b@1');
    expect(other.pid).not.toBe(w.pid); // another version gets another process
    other.kill();
    const same = await pool.acquire('a@1');
    expect(same).toBe(w);
    const again = await same.run(task(dir, 'a', 1, false)); // the runner says: last step for this one
    expect(again.reusable).toBe(false);
    await same.whenExited();
    pool.release(same, 'a@1'); // an exited worker is not kept
    const fresh = await pool.acquire('a@1');
    expect(fresh.pid).not.toBe(w.pid);
    const out = await fresh.run(task(dir, 'a', 2, true));
    expect(out.reusable).toBe(true);
    pool.release(fresh, 'a@1');
    pool.close();
    await fresh.whenExited();
  } finally {
    pool.close();
  }
});

test('steps that import cellar and fit inside a tracked run keep their worker (cellar leaves no globals)', async () => {
  const root = makeStore();
  const project = makeTmp();
  const entry = join(REPO_ROOT, 'dist', 'cjs', 'kernel-lib', 'index.js');
  const step = `
    const c = require(${JSON.stringify(entry)});
    c.useStore(${JSON.stringify(project)});
    const X = [[1, 2], [2, 1], [3, 4], [4, 3], [5, 7]];
    const y = [3.1, 2.9, 7.2, 6.8, 12.1];
    new c.ElasticNet({ alpha: 0.1 }).fit(X, y); // outside a run: no event, nothing logged
    const runId = await c.withRun({ experiment: 'reuse' }, async (run) => {
      new c.ElasticNet({ alpha: 0.1 }).fit(X, y); // autologged
      return run.id;
    });
    await new Promise((r) => setTimeout(r, 0));
    const run = await c.getRun(runId);
    c.getStore().close();
    return { runId, rmse: run.metrics.training_rmse ?? null, fingerprint: run.tags['cellar.dataset.fingerprint'] ?? null };`;
  chain(root, 'with-cellar', [step, step, step]);
  const summary = await runPipeline({ store: root, name: 'with-cellar', workerScript: workerScript() });
  expect(summary.run.state).toBe('success');
  const o = await outs(summary.attempts, 3);
  const logs = summary.attempts
    .map((a) => (existsSync(a.logPath) ? readFileSync(a.logPath, 'utf8') : ''))
    .join('\n');
  expect(logs).not.toContain('not reused');
  expect(new Set(o.map((x) => x.pid)).size).toBe(1); // the worker was reused for every step
  for (const x of o) {
    expect(typeof x.rmse).toBe('number');
    expect(x.fingerprint).toMatch(/^[0-9a-f]{64}$/);
  }
  expect(new Set(o.map((x) => x.runId)).size).toBe(3);
});
