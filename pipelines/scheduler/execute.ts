/**
 * scheduler/execute — carries one step attempt from start to recorded end for the Scheduler: take a
 * pre-forked worker (or one that ran an earlier step of the same pipeline version), record the attempt (pid, start time, paths) before handing the step over, run it,
 * record how it ended. An adopted attempt (started by a driver that died) is followed to its end the same
 * way. Whatever goes wrong on the way, an attempt is never left recorded as running with nobody watching it.
 */
import type { LoadedPipelineVersion } from '../runner/version.js';
import type { WorkerPool } from '../runner/pool.js';
import type { StepWorker } from '../runner/worker-handle.js';
import { buildWorkerTask, removeTempOutputs, toAttemptEnd, watchAdoptedAttempt } from './attempt.js';
import type { AttemptRow, PipelineRunRow, TaskInstanceRow } from './state.js';
import {
  failRun,
  finishAttempt,
  startAttempt,
  type AttemptEnd,
  type DriverContext,
  type StartedAttempt,
} from './transitions.js';

/** What executing an attempt needs from the scheduler that drives the run. */
export interface AttemptHost {
  ctx: DriverContext;
  pool(): WorkerPool;
  experimentId(pipeline: string): Promise<string>;
  /** True once the scheduler stops starting attempts. */
  isStopping(): boolean;
  /** Remembers (or forgets, with null) the worker running `key` so that an abort can kill it. */
  track(key: string, worker: StepWorker | null): void;
  /** Called after a transition changed the task instance. */
  taskChanged(runId: string, step: string): void;
  log(line: string): void;
  /** Cap of each attempt's log in bytes (runner/log-cap). */
  maxLogBytes: number;
}

function upstreamTasks(host: AttemptHost, runId: string, steps: string[]): TaskInstanceRow[] {
  return steps.map((s) => host.ctx.state.task(runId, s)).filter((t): t is TaskInstanceRow => t !== null);
}

function record(host: AttemptHost, runId: string, step: string, tryNumber: number, end: AttemptEnd): void {
  finishAttempt(host.ctx, host.ctx.state.getRun(runId), step, tryNumber, end);
  host.taskChanged(runId, step);
}

/**
 * Runs attempt `tryNumber + 1` of `step` in a worker and records it. `written` is called once the attempt row
 * is in the store (or once it is clear there will be none), to release the caller's concurrency reservation.
 */
export async function executeAttempt(
  host: AttemptHost,
  run: PipelineRunRow,
  version: LoadedPipelineVersion,
  step: string,
  written: () => void,
): Promise<void> {
  const key = `${run.runId}/${step}`;
  const stepSpec = version.spec.steps.find((s) => s.name === step)!;
  // Workers are reused only for steps of the same pipeline version (same code, same store).
  const affinity = `${version.spec.name}@${version.spec.version}`;
  let worker: StepWorker | null = null;
  let released = false;
  let started: StartedAttempt | null = null;
  let finished = false;
  try {
    try {
      worker = await host.pool().acquire(affinity);
    } catch (e) {
      // No worker can start (e.g. a broken build): fail the run rather than wait for ever.
      failRun(host.ctx, run.runId, `cannot start step processes: ${(e as Error).message}`);
      return;
    }
    if (host.isStopping()) {
      worker.kill();
      return;
    }
    host.track(key, worker);
    const identity = { host: worker.host, pid: worker.pid, started: worker.started };
    const experimentId = await host.experimentId(run.pipeline);
    try {
      started = startAttempt(host.ctx, run, version.spec, step, identity, experimentId);
      host.taskChanged(run.runId, step);
    } finally {
      written();
    }
    if (!started) {
      worker.kill();
      return;
    }
    const fresh = host.ctx.state.getRun(run.runId);
    const task = buildWorkerTask({
      storeRoot: host.ctx.backend.root,
      version,
      run: fresh,
      step,
      tryNumber: started.tryNumber,
      tasks: upstreamTasks(host, run.runId, stepSpec.upstream),
      stepTrackingRunId: started.stepTrackingRunId,
    });
    task.reuse = host.pool().mayReuse(worker);
    task.maxLogBytes = host.maxLogBytes;
    const outcome = await worker.run(task, stepSpec.timeoutMs);
    if (outcome.reusable) {
      host.track(key, null);
      host.pool().release(worker, affinity);
      released = true;
    }
    const end = toAttemptEnd(outcome, stepSpec.timeoutMs);
    record(host, run.runId, step, started.tryNumber, end);
    finished = true; // after a reusable outcome, the worker may already run another step: never kill it here
    if (!end.ok) removeTempOutputs(started.paths.outputDir);
    host.log(`${run.runId} ${step} try ${started.tryNumber}: ${end.ok ? 'success' : `failed: ${end.error}`}`);
  } catch (e) {
    const message = (e as Error).message;
    host.log(`could not run ${step} of ${run.runId}: ${message}`);
    if (started && !finished) {
      const w = released ? null : (worker as StepWorker | null);
      w?.kill();
      if (w) await w.whenExited();
      try {
        const end = {
          ok: false,
          error: `the runner failed: ${message}`,
          metrics: {},
          exitCode: null,
          signal: null,
        };
        record(host, run.runId, step, started.tryNumber, end);
      } catch (again) {
        host.log(`could not record the failure of ${step}: ${(again as Error).message}`);
      }
    }
  } finally {
    written();
    if (!released) host.track(key, null);
  }
}

/** Follows an attempt whose driver died until it ends (see watchAdoptedAttempt), then records it. */
export async function followAdoptedAttempt(
  host: AttemptHost,
  attempt: AttemptRow,
  abandoned: () => boolean,
): Promise<void> {
  try {
    const end = await watchAdoptedAttempt(attempt, { stopped: abandoned });
    record(host, attempt.runId, attempt.step, attempt.tryNumber, end);
    if (!end.ok) removeTempOutputs(attempt.outputDir);
  } catch (e) {
    host.log(`adopted attempt ${attempt.step}: ${(e as Error).message}`);
  }
}
