/**
 * A run is never left RUNNING by its process: normal exit → FINISHED, a crash or exit(1) → FAILED,
 * SIGTERM/SIGINT → KILLED, and kill -9 → KILLED as soon as any process opens the store again.
 * Real child processes running the built package.
 */
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { openStore } from '../../../kernel-lib/sdk.js';
import { builtEntry, cleanupTmp, makeTmp, REPO_ROOT } from '../../helpers/tmp.js';

const script = join(REPO_ROOT, 'tests', 'fixtures', 'procs', 'run-lifecycle.mjs');
afterEach(cleanupTmp);

function runToEnd(storeDir: string, mode: string): { runId: string; status: number | null } {
  const res = spawnSync(process.execPath, [script, builtEntry(), storeDir, mode], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { runId: res.stdout.trim().split('\n')[0]!, status: res.status };
}

async function statusOf(storeDir: string, runId: string): Promise<string> {
  const store = openStore(storeDir);
  try {
    return (await store.getRun(runId)).status;
  } finally {
    store.close();
  }
}

test.each([
  ['finish-normally', 'FINISHED', 0],
  ['throw', 'FAILED', 1],
  ['exit-1', 'FAILED', 1],
])('a process that ends by %s leaves its run %s', async (mode, expected, exitCode) => {
  const dir = makeTmp();
  const { runId, status } = runToEnd(dir, mode);
  expect(status).toBe(exitCode);
  expect(runId).toMatch(/^[0-9a-f]{32}$/);
  expect(await statusOf(dir, runId)).toBe(expected);
});

async function startWaiting(dir: string): Promise<{ runId: string; child: ReturnType<typeof spawn> }> {
  const child = spawn(process.execPath, [script, builtEntry(), dir, 'wait'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const runId = await new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.includes('\n')) resolve(buf.trim());
    });
    child.on('exit', () => reject(new Error('child exited early')));
  });
  return { runId, child };
}

test.each(['SIGTERM', 'SIGINT'] as const)('a process stopped by %s leaves its run KILLED', async (signal) => {
  const dir = makeTmp();
  const { runId, child } = await startWaiting(dir);
  expect(await statusOf(dir, runId)).toBe('RUNNING');
  const exited = new Promise((r) => child.on('exit', r));
  child.kill(signal);
  await exited;
  expect(await statusOf(dir, runId)).toBe('KILLED');
});

test('a run of a process killed with SIGKILL is marked KILLED when the store is opened again', async () => {
  const dir = makeTmp();
  const { runId, child } = await startWaiting(dir);
  const exited = new Promise((r) => child.on('exit', r));
  child.kill('SIGKILL');
  await exited;
  const store = openStore(dir);
  const run = await store.getRun(runId);
  expect(run.status).toBe('KILLED');
  expect(run.endTime).not.toBeNull();
  store.close();
});

test('a process that had the store open before the kill -9 sees the run KILLED on its next read', async () => {
  const dir = makeTmp();
  const store = openStore(dir); // process A: opened before B exists, stays open (a kernel, a server)
  try {
    const first = await startWaiting(dir); // process B
    expect((await store.getRun(first.runId)).status).toBe('RUNNING');
    let exited = new Promise((r) => first.child.on('exit', r));
    first.child.kill('SIGKILL');
    await exited;
    const run = await store.getRun(first.runId);
    expect(run.status).toBe('KILLED');
    expect(run.endTime).not.toBeNull();

    const second = await startWaiting(dir);
    const running = await store.searchRuns({ filter: "attributes.status = 'RUNNING'" });
    expect(running.map((r) => r.id)).toEqual([second.runId]);
    exited = new Promise((r) => second.child.on('exit', r));
    second.child.kill('SIGKILL');
    await exited;
    const listed = await store.searchRuns({ experiment: 'lifecycle' });
    expect(listed.map((r) => [r.id, r.status])).toEqual([
      [second.runId, 'KILLED'],
      [first.runId, 'KILLED'],
    ]);
    expect(await store.searchRuns({ filter: "attributes.status = 'RUNNING'" })).toHaveLength(0);
  } finally {
    store.close();
  }
});

test.each(['SIGTERM', 'SIGINT'] as const)(
  '%s stops a script looping on await run.logMetrics: the run ends KILLED and the process dies of the signal',
  async (signal) => {
    const dir = makeTmp();
    const child = spawn(process.execPath, [script, builtEntry(), dir, 'log-loop'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('exit', (code, sig) => resolve({ code, signal: sig })),
    );
    const runId = await new Promise<string>((resolve) => {
      let buf = '';
      child.stdout!.on('data', (d: Buffer) => {
        buf += d.toString();
        if (buf.includes('\n')) resolve(buf.trim());
      });
    });
    child.kill(signal);
    // Without the fix the loop never lets the handler run: the child would still be writing after 20 s.
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      exited,
      new Promise<'still running'>((resolve) => {
        timer = setTimeout(() => resolve('still running'), 20_000);
      }),
    ]);
    clearTimeout(timer);
    if (outcome === 'still running') child.kill('SIGKILL');
    expect(outcome).toEqual({ code: null, signal });
    const store = openStore(dir);
    try {
      const run = await store.getRun(runId);
      expect(run.status).toBe('KILLED');
      expect(run.metrics.loss).toBeGreaterThan(0);
    } finally {
      store.close();
    }
  },
  30_000,
);
