/**
 * The warm worker pool: workers are forked ahead of time, each runs exactly one step and exits, replacements
 * are forked as workers are taken; the worker script is found from the environment or the running script.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CellarError } from '../../../kernel-lib/errors.js';
import { isProcessAlive } from '../../../kernel-lib/store/process.js';
import { attemptPaths } from '../../../pipelines/runner/paths.js';
import { WorkerPool } from '../../../pipelines/runner/pool.js';
import type { WorkerTask } from '../../../pipelines/runner/protocol.js';
import { resolveWorkerScript, WORKER_RELATIVE_PATH } from '../../../pipelines/runner/worker-path.js';
import { cleanupTmp, makeTmp, REPO_ROOT } from '../../helpers/tmp.js';
import { waitFor, workerScript } from '../../fixtures/pipelines/fixture.js';

afterEach(cleanupTmp);

function task(dir: string, i: number, body = 'return { who: process.pid, n: ctx.params.n };'): WorkerTask {
  const stepFile = join(dir, `step${i}.js`);
  writeFileSync(stepFile, `exports.run = async (ctx) => { ${body} };`);
  const paths = attemptPaths(dir, 'p', 'run-1', `s${i}`, 1);
  return {
    storeRoot: dir,
    pipeline: 'p',
    version: 1,
    step: `s${i}`,
    stepFile,
    ...paths,
    context: {
      params: { n: i },
      runId: 'run-1',
      logicalDate: '',
      dataIntervalStart: '',
      dataIntervalEnd: '',
      tryNumber: 1,
    },
    inputs: [],
    outputs: ['who', 'n'],
    metrics: ['n'],
    env: {},
  };
}

test.each([
  ['through the launcher', false],
  ['forked directly', true],
])('each step gets a fresh pre-started process that exits after it (%s)', async (_how, direct) => {
  const dir = makeTmp();
  const pool = new WorkerPool({ script: workerScript(), size: 2, direct });
  try {
    const workers = await Promise.all([0, 1, 2].map(() => pool.acquire()));
    const pids = workers.map((w) => w.pid);
    expect(new Set(pids).size).toBe(3);
    expect(pids).not.toContain(process.pid);
    const outcomes = await Promise.all(workers.map((w, i) => w.run(task(dir, i))));
    expect(outcomes.map((o) => [o.result?.ok, o.result?.pid, o.result?.metrics.n])).toEqual(
      pids.map((pid, i) => [true, pid, i]),
    );
    await Promise.all(workers.map((w) => w.whenExited()));
    for (const w of workers)
      expect(isProcessAlive({ host: w.host, pid: w.pid, started: w.started })).toBe(false);
    const next = await pool.acquire(); // a replacement, started ahead of time
    expect(pids).not.toContain(next.pid);
    next.kill();
  } finally {
    pool.close();
  }
});

test('a step outlives a dead launcher: its end is still seen, and new workers come from a new launcher', async () => {
  const dir = makeTmp();
  const gate = join(dir, 'go');
  const pool = new WorkerPool({ script: workerScript(), size: 1 });
  try {
    const worker = await pool.acquire();
    const launcher = pool.launcherPid!;
    expect(launcher).toBeGreaterThan(0);
    const running = worker.run(
      task(
        dir,
        7,
        `const fs = require('fs'); fs.writeFileSync(${JSON.stringify(`${gate}.started`)}, ''); while (!fs.existsSync(${JSON.stringify(gate)})) await new Promise((r) => setTimeout(r, 10)); return { who: process.pid, n: 7 };`,
      ),
    );
    await waitFor(() => existsSync(`${gate}.started`)); // the step has begun
    process.kill(launcher, 'SIGKILL');
    await waitFor(() => pool.launcherPid === null || undefined);
    expect(isProcessAlive({ host: worker.host, pid: worker.pid, started: worker.started })).toBe(true);
    writeFileSync(gate, '');
    const outcome = await running;
    expect(outcome.result).toMatchObject({ ok: true, pid: worker.pid });
    const next = await pool.acquire();
    expect(pool.launcherPid).not.toBe(launcher);
    next.kill();
  } finally {
    pool.close();
  }
});

test('the worker script comes from an option, CELLAR_WORKER_SCRIPT, CELLAR_PACKAGE_ROOT or the running script', () => {
  const built = workerScript();
  expect(resolveWorkerScript(built)).toBe(built);
  expect(resolveWorkerScript(undefined, { CELLAR_WORKER_SCRIPT: built })).toBe(built);
  expect(resolveWorkerScript(undefined, { CELLAR_PACKAGE_ROOT: REPO_ROOT })).toBe(built);
  expect(resolveWorkerScript(undefined, {})).toBe(built); // found walking up from jest's script
  const pkg = makeTmp();
  mkdirSync(join(pkg, 'dist', 'cjs', 'pipelines', 'runner'), { recursive: true });
  writeFileSync(join(pkg, WORKER_RELATIVE_PATH), '');
  expect(resolveWorkerScript(undefined, { CELLAR_PACKAGE_ROOT: pkg })).toBe(join(pkg, WORKER_RELATIVE_PATH));
  let err: unknown;
  try {
    resolveWorkerScript(undefined, { CELLAR_PACKAGE_ROOT: join(pkg, 'nope') });
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(CellarError);
  expect((err as CellarError).message).toContain('npm run build');
});
