/**
 * scheduler/transitions — the state changes of runs, task instances and attempts, each one `writeTx`
 * transaction that also updates the tracking runs it concerns, so the store never shows a half-made change:
 * claim a run, start it, settle trigger rules, start an attempt (recording pid, process start time, host,
 * log and result paths before the step is handed over), finish an attempt (success, retry with backoff, or
 * failure), and finish the run.
 */
import type { PipelineSpec } from '../../kernel-lib/exporter/spec.js';
import type { EmbeddedBackend } from '../../kernel-lib/store/open.js';
import { isProcessAlive, type ProcessIdentity } from '../../kernel-lib/store/process.js';
import { writeTx } from '../../kernel-lib/store/sqlite.js';
import { attemptPaths, type AttemptPaths } from '../runner/paths.js';
import { retryDelayMs, type RetryPolicy } from './backoff.js';
import {
  createPipelineTrackingRun,
  createStepTrackingRun,
  LINEAGE_TAGS,
  logMetrics,
  reclaimTrackingRun,
} from './lineage.js';
import type { PipelineRunRow, SchedulerState, TaskInstanceRow } from './state.js';
import { decideTrigger, FINISHED_TASK_STATES, type TaskState } from './trigger-rules.js';

/** What the transitions need: the store, the driving process, the retry policy and a clock. */
export interface DriverContext {
  backend: EmbeddedBackend;
  state: SchedulerState;
  me: ProcessIdentity;
  retry: RetryPolicy;
  now(): number;
}

/** How an attempt ended (from the worker's report, or from what the runner saw). */
export interface AttemptEnd {
  ok: boolean;
  error: string | null;
  metrics: Record<string, number>;
  exitCode: number | null;
  signal: string | null;
  /** The step was never handed to its process: the attempt does not count against the retries. */
  neverStarted?: boolean;
}

function sameProcess(a: ProcessIdentity, b: ProcessIdentity): boolean {
  return a.host === b.host && a.pid === b.pid && a.started === b.started;
}

/**
 * Makes this process the driver of a run when nobody drives it or its driver is dead (the tracking runs of
 * a dead driver are reclaimed). Returns false when another live process drives it or it has ended.
 */
export function claimRun(ctx: DriverContext, runId: string): boolean {
  return writeTx(ctx.backend.db, 'claim a pipeline run', () => {
    const run = ctx.state.findRun(runId);
    if (!run || run.state === 'success' || run.state === 'failed') return false;
    if (run.owner && sameProcess(run.owner, ctx.me)) return true;
    if (run.owner && isProcessAlive(run.owner)) return false;
    ctx.state
      .sql('UPDATE pipeline_runs SET owner_host = ?, owner_pid = ?, owner_started = ? WHERE run_id = ?')
      .run(ctx.me.host, ctx.me.pid, ctx.me.started, runId);
    if (run.owner && run.trackingRunId) {
      reclaimTrackingRun(ctx.backend.db, run.trackingRunId, ctx.me);
      for (const t of ctx.state.tasks(runId)) {
        if (t.trackingRunId && !FINISHED_TASK_STATES.has(t.state)) {
          reclaimTrackingRun(ctx.backend.db, t.trackingRunId, ctx.me);
        }
      }
    }
    return true;
  });
}

/** Moves a queued run this process owns to running and opens its tracking run. */
export function startRun(
  ctx: DriverContext,
  runId: string,
  spec: PipelineSpec,
  experimentId: string,
): PipelineRunRow {
  writeTx(ctx.backend.db, 'start a pipeline run', () => {
    const run = ctx.state.getRun(runId);
    if (run.state !== 'queued') return;
    const trackingId =
      run.trackingRunId ?? createPipelineTrackingRun(ctx.backend.tracking, experimentId, spec, run, ctx.me);
    ctx.state
      .sql(
        "UPDATE pipeline_runs SET state = 'running', started_at = ?, tracking_run_id = ? WHERE run_id = ? AND state = 'queued'",
      )
      .run(ctx.now(), trackingId, runId);
  });
  return ctx.state.getRun(runId);
}

/**
 * Applies trigger rules to the queued tasks of a running run (writing upstream_failed / skipped until nothing
 * changes) and returns the steps that may start now: queued ones whose rule says run, and up_for_retry
 * ones whose retry time has come. `rows` (the run's task instances, read by the caller, as a list or by step)
 * are updated in place.
 */
export function settleTriggers(
  ctx: DriverContext,
  run: PipelineRunRow,
  spec: PipelineSpec,
  rows: TaskInstanceRow[] | ReadonlyMap<string, TaskInstanceRow> = ctx.state.tasks(run.runId),
): TaskInstanceRow[] {
  const tasks = rows instanceof Map ? rows : new Map((rows as TaskInstanceRow[]).map((t) => [t.step, t]));
  const changes: Array<[string, TaskState]> = [];
  // Decisions of the last pass: it changed nothing, so they hold for the final states.
  let runnable: TaskInstanceRow[] = [];
  let changed = true;
  while (changed) {
    changed = false;
    runnable = [];
    for (const s of spec.steps) {
      const t = tasks.get(s.name);
      if (!t || t.state !== 'queued') continue;
      const decision = decideTrigger(
        s.triggerRule,
        s.upstream.map((u) => tasks.get(u)?.state ?? 'success'),
      );
      if (decision === 'upstream_failed' || decision === 'skipped') {
        t.state = decision;
        changes.push([s.name, decision]);
        changed = true;
      } else if (decision === 'run') runnable.push(t);
    }
  }
  if (changes.length > 0) {
    const now = ctx.now();
    writeTx(ctx.backend.db, 'update task states', () => {
      const update = ctx.state.sql(
        "UPDATE task_instances SET state = ?, ended_at = ? WHERE run_id = ? AND step = ? AND state = 'queued'",
      );
      for (const [step, state] of changes) update.run(state, now, run.runId, step);
    });
  }
  const now = ctx.now();
  const ready: TaskInstanceRow[] = [];
  let next = 0;
  // In spec order, as before: retries that are due and runnable queued tasks interleaved.
  for (const s of spec.steps) {
    const t = tasks.get(s.name)!;
    if (t.state === 'up_for_retry' && (t.nextTryAt ?? 0) <= now) ready.push(t);
    else if (next < runnable.length && runnable[next] === t) {
      ready.push(t);
      next += 1;
    }
  }
  return ready;
}

/** A started attempt. */
export interface StartedAttempt {
  tryNumber: number;
  paths: AttemptPaths;
  stepTrackingRunId: string;
}

/**
 * Records the start of the next attempt of a task, run by `worker` (its pid and start time), before the step
 * is handed over; opens the step's tracking run on its first attempt. Returns null when the task is no
 * longer startable (another path moved it on).
 */
export function startAttempt(
  ctx: DriverContext,
  run: PipelineRunRow,
  spec: PipelineSpec,
  step: string,
  worker: ProcessIdentity,
  experimentId: string,
): StartedAttempt | null {
  const stepSpec = spec.steps.find((s) => s.name === step)!;
  return writeTx(ctx.backend.db, 'start a step attempt', () => {
    const task = ctx.state.task(run.runId, step);
    if (!task || (task.state !== 'queued' && task.state !== 'up_for_retry')) return null;
    const tryNumber = task.tryNumber + 1;
    const paths = attemptPaths(ctx.backend.root, run.pipeline, run.runId, step, tryNumber);
    const now = ctx.now();
    ctx.state
      .sql(
        `INSERT INTO task_attempts (run_id, step, try_number, state, host, pid, proc_started, log_path, result_path,
           output_dir, started_at, timeout_at)
         VALUES (?, ?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        run.runId,
        step,
        tryNumber,
        worker.host,
        worker.pid,
        worker.started,
        paths.logFile,
        paths.resultFile,
        paths.outputDir,
        now,
        stepSpec.timeoutMs > 0 ? now + stepSpec.timeoutMs : null,
      );
    const tracking =
      task.trackingRunId ??
      createStepTrackingRun(ctx.backend.tracking, experimentId, spec, run, step, ctx.me);
    ctx.backend.tracking.logBatchSync(tracking, { tags: { [LINEAGE_TAGS.tries]: String(tryNumber) } });
    ctx.state
      .sql(
        `UPDATE task_instances SET state = 'running', try_number = ?, next_try_at = NULL,
           started_at = COALESCE(started_at, ?), tracking_run_id = ? WHERE run_id = ? AND step = ?`,
      )
      .run(tryNumber, now, tracking, run.runId, step);
    return { tryNumber, paths, stepTrackingRunId: tracking };
  });
}

/**
 * Records how an attempt ended and moves its task on: success (its outputs become the task's), up_for_retry
 * (next try time from the backoff policy; at once and uncounted when the step never started) or failed (no
 * tries left). Logs the step's pipeline metrics on
 * the pipeline run and on the step run. A no-op when the attempt was already finished. Returns the task's
 * new state.
 */
export function finishAttempt(
  ctx: DriverContext,
  run: PipelineRunRow,
  step: string,
  tryNumber: number,
  end: AttemptEnd,
): TaskState {
  return writeTx(ctx.backend.db, 'finish a step attempt', () => {
    const task = ctx.state.task(run.runId, step)!;
    const attempt = ctx.state
      .sql('SELECT state FROM task_attempts WHERE run_id = ? AND step = ? AND try_number = ?')
      .pluck()
      .get(run.runId, step, tryNumber);
    if (attempt !== 'running') return task.state;
    const now = ctx.now();
    ctx.state
      .sql(
        `UPDATE task_attempts SET state = ?, ended_at = ?, exit_code = ?, signal = ?, error = ?
       WHERE run_id = ? AND step = ? AND try_number = ?`,
      )
      .run(
        end.ok ? 'success' : 'failed',
        now,
        end.exitCode,
        end.signal,
        end.error,
        run.runId,
        step,
        tryNumber,
      );
    let state: TaskState;
    if (end.ok) {
      state = 'success';
      ctx.state
        .sql(
          "UPDATE task_instances SET state = 'success', output_try = ?, ended_at = ?, error = NULL WHERE run_id = ? AND step = ?",
        )
        .run(tryNumber, now, run.runId, step);
      if (run.trackingRunId) logMetrics(ctx.backend.tracking, run.trackingRunId, end.metrics);
    } else if (end.neverStarted) {
      state = 'up_for_retry'; // at once, and one more try allowed: this one never ran
      ctx.state
        .sql(
          `UPDATE task_instances SET state = 'up_for_retry', next_try_at = ?, error = ?, max_tries = max_tries + 1
           WHERE run_id = ? AND step = ?`,
        )
        .run(now, end.error, run.runId, step);
    } else if (tryNumber < task.maxTries) {
      state = 'up_for_retry';
      const at = now + retryDelayMs(ctx.retry, run.runId, step, tryNumber);
      ctx.state
        .sql(
          "UPDATE task_instances SET state = 'up_for_retry', next_try_at = ?, error = ? WHERE run_id = ? AND step = ?",
        )
        .run(at, end.error, run.runId, step);
    } else {
      state = 'failed';
      ctx.state
        .sql(
          "UPDATE task_instances SET state = 'failed', ended_at = ?, error = ? WHERE run_id = ? AND step = ?",
        )
        .run(now, end.error, run.runId, step);
    }
    if (task.trackingRunId) {
      logMetrics(ctx.backend.tracking, task.trackingRunId, end.metrics);
      if (state !== 'up_for_retry') {
        ctx.backend.tracking.endRunSync(task.trackingRunId, state === 'success' ? 'FINISHED' : 'FAILED', now);
      }
    }
    return state;
  });
}

/**
 * Ends a running run when all its tasks are finished: success unless a task failed or was upstream_failed.
 * Returns the run (ended or not).
 */
export function finishRunIfDone(ctx: DriverContext, runId: string): PipelineRunRow {
  writeTx(ctx.backend.db, 'finish a pipeline run', () => {
    const run = ctx.state.getRun(runId);
    if (run.state !== 'running') return;
    const tasks = ctx.state.tasks(runId);
    if (!tasks.every((t) => FINISHED_TASK_STATES.has(t.state))) return;
    const bad = tasks.filter((t) => t.state === 'failed' || t.state === 'upstream_failed');
    const failed = tasks.filter((t) => t.state === 'failed');
    const now = ctx.now();
    const error =
      bad.length === 0
        ? null
        : failed.length > 0
          ? `step ${failed.map((t) => `"${t.step}"`).join(', ')} failed: ${failed[0]!.error ?? 'unknown error'}`
          : 'steps did not run because an upstream step failed';
    ctx.state
      .sql('UPDATE pipeline_runs SET state = ?, ended_at = ?, error = ? WHERE run_id = ?')
      .run(bad.length === 0 ? 'success' : 'failed', now, error, runId);
    if (run.trackingRunId) {
      ctx.backend.tracking.endRunSync(run.trackingRunId, bad.length === 0 ? 'FINISHED' : 'FAILED', now);
    }
  });
  return ctx.state.getRun(runId);
}

/**
 * Fails a run that cannot go on (its pipeline version's files are gone, no worker can start, it was
 * interrupted): queued tasks become upstream_failed, tasks waiting for a retry failed, and the run and its
 * tracking run end FAILED. Running attempts are left to finish and be recorded.
 */
export function failRun(ctx: DriverContext, runId: string, error: string): PipelineRunRow {
  writeTx(ctx.backend.db, 'fail a pipeline run', () => {
    const run = ctx.state.getRun(runId);
    if (run.state === 'success' || run.state === 'failed') return;
    const now = ctx.now();
    for (const t of ctx.state.tasks(runId)) {
      if (t.state === 'up_for_retry' && t.trackingRunId)
        ctx.backend.tracking.endRunSync(t.trackingRunId, 'FAILED', now);
    }
    ctx.state
      .sql(
        "UPDATE task_instances SET state = 'upstream_failed', ended_at = ? WHERE run_id = ? AND state = 'queued'",
      )
      .run(now, runId);
    ctx.state
      .sql(
        "UPDATE task_instances SET state = 'failed', ended_at = ? WHERE run_id = ? AND state = 'up_for_retry'",
      )
      .run(now, runId);
    ctx.state
      .sql("UPDATE pipeline_runs SET state = 'failed', ended_at = ?, error = ? WHERE run_id = ?")
      .run(now, error, runId);
    if (run.trackingRunId) ctx.backend.tracking.endRunSync(run.trackingRunId, 'FAILED', now);
  });
  return ctx.state.getRun(runId);
}
