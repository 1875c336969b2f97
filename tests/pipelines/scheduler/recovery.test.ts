/**
 * Recovery with real processes: `cellar scheduler` is killed with SIGKILL in the middle of a step. On
 * restart the attempt is found through its pid + process start time: a step still running is adopted (its
 * result file is waited for, no second attempt), a step that died is failed and retried (after its process
 * is gone) or, without retries left, fails the run — never two live attempts, never a run left running.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { closeAllEmbedded, openEmbedded } from '../../../kernel-lib/store/open.js';
import { isProcessAlive } from '../../../kernel-lib/store/process.js';
import { attemptPaths } from '../../../pipelines/runner/paths.js';
import { triggerPipeline } from '../../../pipelines/scheduler/api.js';
import { Scheduler } from '../../../pipelines/scheduler/scheduler.js';
import { SchedulerState, type AttemptRow } from '../../../pipelines/scheduler/state.js';
import { cleanupTmp, makeTmp, REPO_ROOT } from '../../helpers/tmp.js';
import { makeStore, waitFor, workerScript, writePipeline } from '../../fixtures/pipelines/fixture.js';
import { readOutput } from '../../fixtures/pipelines/outputs.js';

const started: ChildProcess[] = [];
const schedulers: Scheduler[] = [];
const gates: string[] = [];
afterEach(async () => {
  for (const g of gates.splice(0)) if (existsSync(dirname(g))) writeFileSync(g, ''); // no gated step waits for ever
  for (const s of schedulers.splice(0)) await s.stop();
  for (const c of started.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  closeAllEmbedded();
  cleanupTmp();
});

/** Starts `cellar scheduler` as a separate process. */
function startCliScheduler(root: string): ChildProcess {
  workerScript(); // fails clearly when the package is not built
  const child = spawn(
    process.execPath,
    [
      join(REPO_ROOT, 'bin', 'cellar.cjs'),
      '--store',
      root,
      'scheduler',
      '--poll',
      '50',
      '--retry-delay',
      '20',
      '--max-retry-delay',
      '40',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout!.resume();
  child.stderr!.resume();
  started.push(child);
  return child;
}

function gatedPipeline(root: string, name: string, gate: string, retries: number): void {
  gates.push(gate);
  writePipeline(root, {
    name,
    steps: [
      {
        name: 'slow',
        retries,
        outputs: ['pid'],
        code: `
          const fs = require('fs');
          fs.writeFileSync(${JSON.stringify(`${gate}.started`)}, String(process.pid));
          while (!fs.existsSync(${JSON.stringify(gate)})) await new Promise((r) => setTimeout(r, 20));
          return { pid: process.pid };`,
      },
      { name: 'after', inputs: { pid: 'slow' }, outputs: ['seen'], code: 'return { seen: ctx.inputs.pid };' },
    ],
  });
}

/** The running attempt of the gated step, once the step itself has begun (it wrote its marker). */
async function runningAttempt(state: SchedulerState, runId: string, gate: string): Promise<AttemptRow> {
  await waitFor(() => existsSync(`${gate}.started`), 60_000);
  return waitFor(
    () => state.attempts(runId, 'slow').find((a) => a.state === 'running' && a.pid !== null),
    60_000,
  );
}

async function killHard(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

async function restartAndFinish(root: string, runId: string): Promise<Scheduler> {
  const s = new Scheduler({
    store: root,
    workerScript: workerScript(),
    retry: { baseDelayMs: 20, maxDelayMs: 40 },
  });
  schedulers.push(s);
  await s.runUntilDone(runId, 50);
  return s;
}

test('a step still running when the scheduler is killed is adopted and finishes as one attempt', async () => {
  const root = makeStore();
  const gate = join(makeTmp(), 'go');
  gatedPipeline(root, 'adopt', gate, 0);
  const run = triggerPipeline({ store: root, name: 'adopt' });
  const state = new SchedulerState(openEmbedded(root).db);
  const first = startCliScheduler(root);
  const attempt = await runningAttempt(state, run.runId, gate);
  const firstOwner = state.getRun(run.runId).owner!;
  expect(firstOwner.pid).toBe(first.pid);

  await killHard(first);
  const worker = { host: attempt.host, pid: attempt.pid!, started: attempt.procStarted! };
  expect(isProcessAlive(worker)).toBe(true); // the step outlives its scheduler

  const restart = new Scheduler({ store: root, workerScript: workerScript() });
  schedulers.push(restart);
  const report = await restart.tick();
  expect(report.adopted).toEqual([`${run.runId}/slow#1`]);
  expect(state.getRun(run.runId).owner!.pid).toBe(process.pid);
  writeFileSync(gate, '');
  const done = await restart.runUntilDone(run.runId, 50);

  expect(done.state).toBe('success');
  const attempts = state.attempts(run.runId);
  expect(attempts.map((a) => [a.step, a.tryNumber, a.state])).toEqual([
    ['slow', 1, 'success'],
    ['after', 1, 'success'],
  ]);
  expect(await readOutput(attempts, 'after', 'seen')).toBe(attempt.pid); // the adopted process's outputs were used
  const tracking = await openEmbedded(root).tracking.getRun(done.trackingRunId!);
  expect(tracking.status).toBe('FINISHED');
});

test('a step that died with its scheduler is failed and retried, after its process is gone', async () => {
  const root = makeStore();
  const gate = join(makeTmp(), 'go');
  gatedPipeline(root, 'retry', gate, 1);
  const run = triggerPipeline({ store: root, name: 'retry' });
  const state = new SchedulerState(openEmbedded(root).db);
  const first = startCliScheduler(root);
  const attempt = await runningAttempt(state, run.runId, gate);
  await killHard(first);
  process.kill(attempt.pid!, 'SIGKILL');
  writeFileSync(gate, '');

  const s = await restartAndFinish(root, run.runId);
  const done = s.state.getRun(run.runId);
  expect(done.state).toBe('success');
  const [a1, a2] = state.attempts(run.runId, 'slow');
  expect(a1).toMatchObject({ tryNumber: 1, state: 'failed' });
  expect(a1!.error).toContain('without a result');
  expect(a2).toMatchObject({ tryNumber: 2, state: 'success' });
  expect(a2!.pid).not.toBe(a1!.pid);
  expect(a2!.startedAt).toBeGreaterThanOrEqual(a1!.endedAt!); // never two live attempts
  // the store itself refuses a second live attempt of a task
  expect(() =>
    openEmbedded(root)
      .db.prepare(
        `INSERT INTO task_attempts (run_id, step, try_number, state, host, log_path, result_path, output_dir, started_at)
         VALUES (?, 'slow', 9, 'running', 'h', 'l', 'r', 'o', 0), (?, 'slow', 10, 'running', 'h', 'l', 'r', 'o', 0)`,
      )
      .run(run.runId, run.runId),
  ).toThrow(/UNIQUE/);
});

test('without retries left, a step that died with its scheduler fails the run instead of leaving it running', async () => {
  const root = makeStore();
  const gate = join(makeTmp(), 'go');
  gatedPipeline(root, 'fail', gate, 0);
  const run = triggerPipeline({ store: root, name: 'fail' });
  const state = new SchedulerState(openEmbedded(root).db);
  const first = startCliScheduler(root);
  const attempt = await runningAttempt(state, run.runId, gate);
  await killHard(first);
  process.kill(attempt.pid!, 'SIGKILL');

  const s = await restartAndFinish(root, run.runId);
  const done = s.state.getRun(run.runId);
  expect(done.state).toBe('failed');
  expect(s.state.tasks(run.runId).map((t) => [t.step, t.state])).toEqual([
    ['slow', 'failed'],
    ['after', 'upstream_failed'],
  ]);
  const tracking = await openEmbedded(root).tracking.getRun(done.trackingRunId!);
  expect(tracking.status).toBe('FAILED');
});

test('an attempt recorded but never handed to its process does not use up a try', async () => {
  const root = makeStore();
  writePipeline(root, {
    name: 'lost',
    steps: [{ name: 'only', retries: 0, outputs: ['v'], code: 'return { v: 1 };' }],
  });
  const run = triggerPipeline({ store: root, name: 'lost' });
  // A scheduler that died right after recording the attempt: its pid and the worker's are gone, no log exists.
  const gone = spawn(process.execPath, ['-e', '0']);
  await new Promise((r) => gone.once('exit', r));
  const dead = gone.pid!;
  const db = openEmbedded(root).db;
  const paths = attemptPaths(root, 'lost', run.runId, 'only', 1);
  db.prepare(
    "UPDATE pipeline_runs SET state = 'running', owner_host = ?, owner_pid = ?, owner_started = '' WHERE run_id = ?",
  ).run(hostname(), dead, run.runId);
  db.prepare("UPDATE task_instances SET state = 'running', try_number = 1 WHERE run_id = ?").run(run.runId);
  db.prepare(
    `INSERT INTO task_attempts (run_id, step, try_number, state, host, pid, proc_started, log_path, result_path, output_dir, started_at)
     VALUES (?, 'only', 1, 'running', ?, ?, '', ?, ?, ?, ?)`,
  ).run(run.runId, hostname(), dead, paths.logFile, paths.resultFile, paths.outputDir, Date.now());

  const s = await restartAndFinish(root, run.runId);
  expect(s.state.getRun(run.runId).state).toBe('success');
  const attempts = s.state.attempts(run.runId, 'only');
  expect(attempts.map((a) => [a.tryNumber, a.state])).toEqual([
    [1, 'failed'],
    [2, 'success'],
  ]);
  expect(attempts[0]!.error).toContain('never started');
});
