/**
 * scheduler/step-run — `cellar step run <name>@<version> <step> --run-id … --logical-date …`: runs one step
 * of one run by itself, as the tasks of an exported Airflow DAG do. The run (type `external`: the external
 * orchestrator drives it, cellar's scheduler never adopts it) is created by its first step; each step reads
 * the committed outputs of its upstream steps of the same run id and commits its own. Retries are the
 * orchestrator's: each call is one attempt, and a task whose previous attempt is still alive is refused.
 */
import { CellarError } from '../../kernel-lib/errors.js';
import { openEmbedded, type EmbeddedBackend } from '../../kernel-lib/store/open.js';
import { currentProcess, isProcessAlive } from '../../kernel-lib/store/process.js';
import { writeTx } from '../../kernel-lib/store/sqlite.js';
import { validateRunId, validateStepName } from '../runner/ids.js';
import { resolveParams } from '../runner/params.js';
import { forkWorker } from '../runner/worker-handle.js';
import { loadPipelineVersion, parsePipelineRef } from '../runner/version.js';
import { resolveWorkerScript } from '../runner/worker-path.js';
import { buildWorkerTask, removeTempOutputs, toAttemptEnd } from './attempt.js';
import { DEFAULT_RETRY_POLICY } from './backoff.js';
import { inferInterval, validateCron } from './cron.js';
import { createPipelineTrackingRun } from './lineage.js';
import { SchedulerState, type PipelineRunRow } from './state.js';
import { finishAttempt, finishRunIfDone, startAttempt, type DriverContext } from './transitions.js';
import type { TaskState } from './trigger-rules.js';
import { resolve } from 'node:path';

/** Options of {@link runStepStandalone}. */
export interface StepRunOptions {
  store: EmbeddedBackend | string;
  /** `name@version` (or `name` for the latest version). */
  ref: string;
  step: string;
  runId: string;
  logicalDate: number;
  /** Parameter values (used when this call creates the run; must match the run's when it exists). */
  params?: Record<string, unknown>;
  /** Data interval; by default inferred from the schedule (see cron.inferInterval). */
  dataInterval?: { start: number; end: number };
  workerScript?: string;
  /** Aborting it kills the step (e.g. the orchestrator stopped the task); the attempt is recorded failed. */
  signal?: AbortSignal;
}

/** How the step ended. */
export interface StepRunResult {
  run: PipelineRunRow;
  step: string;
  state: TaskState;
  tryNumber: number;
  logFile: string;
  error: string | null;
}

function sameParams(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Runs one step of run `runId` in a worker process and records it like the scheduler does.
 *
 * @throws CellarError INVALID_PARAMETER (run id such as `../x`, step, params), NOT_FOUND (pipeline, step, missing
 * upstream outputs), INVALID_STATE (the run belongs to another pipeline/date, or the step is already running) —
 * all before anything is stored.
 * @example
 * await runStepStandalone({ store: '.cellar', ref: 'driver-training@3', step: 'train', runId: 'scheduled__2024-01-01T00:00:00+00:00', logicalDate: Date.parse('2024-01-01T00:00:00Z') })
 */
export async function runStepStandalone(opts: StepRunOptions): Promise<StepRunResult> {
  const runId = validateRunId(opts.runId);
  const stepName = validateStepName(opts.step);
  const ref = parsePipelineRef(opts.ref);
  const backend = typeof opts.store === 'string' ? openEmbedded(resolve(opts.store)) : opts.store;
  const version = loadPipelineVersion(backend.root, ref.name, ref.version);
  const { spec } = version;
  const stepSpec = spec.steps.find((s) => s.name === stepName);
  if (!stepSpec) {
    throw new CellarError(
      'NOT_FOUND',
      `Pipeline ${spec.name}@${spec.version} has no step "${stepName}" (steps: ${spec.steps.map((s) => s.name).join(', ')}).`,
    );
  }
  const state = new SchedulerState(backend.db);
  const ctx: DriverContext = {
    backend,
    state,
    me: currentProcess(),
    retry: DEFAULT_RETRY_POLICY,
    now: Date.now,
  };
  const existing = state.findRun(runId);
  let params: Record<string, unknown>;
  if (existing) {
    if (
      existing.pipeline !== spec.name ||
      existing.version !== spec.version ||
      existing.logicalDate !== opts.logicalDate
    ) {
      throw new CellarError(
        'INVALID_STATE',
        `Run ${runId} is a run of ${existing.pipeline}@${existing.version} at ${new Date(existing.logicalDate).toISOString()}, ` +
          `not of ${spec.name}@${spec.version} at ${new Date(opts.logicalDate).toISOString()}.`,
      );
    }
    params = existing.params;
    if (opts.params && Object.keys(opts.params).length > 0) {
      const given = resolveParams(spec.parameters, opts.params);
      if (!sameParams(given, params)) {
        throw new CellarError(
          'INVALID_STATE',
          `Run ${runId} was started with other parameter values; pass the same ones to every step.`,
        );
      }
    }
  } else {
    params = resolveParams(spec.parameters, opts.params ?? {});
  }
  for (const [name, from] of Object.entries(stepSpec.inputs)) {
    const up = existing ? state.task(runId, from) : null;
    if (!up || up.state !== 'success') {
      throw new CellarError(
        'NOT_FOUND',
        `Step "${stepName}" reads "${name}" from step "${from}", which has not succeeded in run ${runId}; run "${from}" first.`,
      );
    }
  }
  const schedule = spec.schedule === null ? null : validateCron(spec.schedule);
  const interval = opts.dataInterval ?? inferInterval(schedule, opts.logicalDate);
  const experimentId = (await backend.tracking.getOrCreateExperiment(spec.name)).id;

  writeTx(backend.db, 'prepare a standalone step', () => {
    if (!state.findRun(runId)) {
      state.createRun({
        spec,
        runId,
        runType: 'external',
        logicalDate: opts.logicalDate,
        intervalStart: interval.start,
        intervalEnd: interval.end,
        params,
      });
      const run = state.getRun(runId);
      const tracking = createPipelineTrackingRun(backend.tracking, experimentId, spec, run, null);
      backend.db
        .prepare(
          "UPDATE pipeline_runs SET state = 'running', started_at = ?, tracking_run_id = ? WHERE run_id = ?",
        )
        .run(Date.now(), tracking, runId);
    }
    for (const a of state.attempts(runId, stepName)) {
      if (a.state !== 'running') continue;
      if (a.pid !== null && isProcessAlive({ host: a.host, pid: a.pid, started: a.procStarted ?? '' })) {
        throw new CellarError(
          'INVALID_STATE',
          `Step "${stepName}" of run ${runId} is already running (pid ${a.pid}).`,
        );
      }
      backend.db
        .prepare(
          "UPDATE task_attempts SET state = 'failed', ended_at = ?, error = ? WHERE run_id = ? AND step = ? AND try_number = ?",
        )
        .run(Date.now(), 'the step process ended without a result', runId, stepName, a.tryNumber);
    }
    // One call = one attempt: the orchestrator decides about retries.
    backend.db
      .prepare(
        "UPDATE task_instances SET state = 'queued', max_tries = try_number + 1, ended_at = NULL WHERE run_id = ? AND step = ?",
      )
      .run(runId, stepName);
    backend.db
      .prepare("UPDATE pipeline_runs SET state = 'running', ended_at = NULL WHERE run_id = ?")
      .run(runId);
  });

  const worker = forkWorker(resolveWorkerScript(opts.workerScript));
  try {
    await worker.ready;
  } catch {
    throw new CellarError(
      'INTERNAL',
      'The step worker process exited before it was ready. Rebuild cellar (`npm run build`).',
    );
  }
  const run = state.getRun(runId);
  const identity = { host: worker.host, pid: worker.pid, started: worker.started };
  const started = startAttempt(ctx, run, spec, stepName, identity, experimentId);
  if (!started) {
    worker.kill();
    throw new CellarError('INVALID_STATE', `Step "${stepName}" of run ${runId} could not be started.`);
  }
  const task = buildWorkerTask({
    storeRoot: backend.root,
    version,
    run,
    step: stepName,
    tryNumber: started.tryNumber,
    tasks: state.tasks(runId),
    stepTrackingRunId: started.stepTrackingRunId,
  });
  const onAbort = (): void => worker.kill();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const outcome = await worker.run(task, stepSpec.timeoutMs);
  await worker.whenExited();
  opts.signal?.removeEventListener('abort', onAbort);
  const end = toAttemptEnd(outcome, stepSpec.timeoutMs);
  const taskState = finishAttempt(ctx, run, stepName, started.tryNumber, end);
  if (!end.ok) removeTempOutputs(started.paths.outputDir);
  const after = finishRunIfDone(ctx, runId);
  return {
    run: after,
    step: stepName,
    state: taskState,
    tryNumber: started.tryNumber,
    logFile: started.paths.logFile,
    error: end.error,
  };
}
