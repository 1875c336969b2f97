/**
 * scheduler/api — what the CLI (and code) asks of the scheduler: run a pipeline once and wait, trigger a run
 * for the scheduler, backfill a date range, pause/unpause, and read runs, task instances, attempts and logs.
 * Every input is checked before anything is stored, so a bad request changes nothing.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CellarError } from '../../kernel-lib/errors.js';
import { openEmbedded, type EmbeddedBackend } from '../../kernel-lib/store/open.js';
import { currentProcess } from '../../kernel-lib/store/process.js';
import { writeTx } from '../../kernel-lib/store/sqlite.js';
import { newRunId, validatePipelineName, validateRunId } from '../runner/ids.js';
import { resolveParams } from '../runner/params.js';
import { loadPipelineVersion, type LoadedPipelineVersion } from '../runner/version.js';
import { resolveWorkerScript } from '../runner/worker-path.js';
import type { RetryPolicy } from './backoff.js';
import { intervalsWithin, manualInterval, validateCron } from './cron.js';
import { Scheduler } from './scheduler.js';
import {
  SchedulerState,
  type AttemptRow,
  type PipelineRunRow,
  type RunType,
  type TaskInstanceRow,
} from './state.js';

/** A store given as an opened backend or a `.cellar` directory path. */
export type StoreArg = EmbeddedBackend | string;

function backendOf(store: StoreArg): EmbeddedBackend {
  return typeof store === 'string' ? openEmbedded(resolve(store)) : store;
}

/**
 * Parses an instant given on the command line: ISO-8601 with a zone (`2024-01-01T00:00:00Z`, `…+02:00`) or a
 * date `2024-01-01` (midnight UTC).
 *
 * @throws CellarError INVALID_PARAMETER for anything else (a time without a zone is ambiguous).
 */
export function parseInstant(text: string, what: string): number {
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(text);
  const zoned = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/.test(text);
  const t = dateOnly ? Date.parse(`${text}T00:00:00Z`) : Date.parse(text);
  if (!(dateOnly || zoned) || !Number.isFinite(t)) {
    throw new CellarError(
      'INVALID_PARAMETER',
      `${what} ${JSON.stringify(text)} is not an ISO-8601 date with a time zone; write e.g. 2024-01-01T00:00:00Z or 2024-01-01.`,
    );
  }
  return t;
}

/** Common options of the operations that execute steps. */
export interface ExecOptions {
  workerScript?: string;
  concurrency?: number;
  poolSize?: number;
  /** Steps a worker process may run one after another (see SchedulerOptions.maxStepsPerWorker). */
  maxStepsPerWorker?: number;
  /** Cap of each step attempt's log in bytes (see SchedulerOptions.maxLogBytes). */
  maxLogBytes?: number;
  retry?: Partial<RetryPolicy>;
  log?: (line: string) => void;
  /** Called with the runs as soon as they are stored, before any step starts (e.g. to show progress). */
  onRunsCreated?: (runs: PipelineRunRow[]) => void;
}

/** A run with its task instances, attempts and the metrics logged on its tracking run. */
export interface RunSummary {
  run: PipelineRunRow;
  tasks: TaskInstanceRow[];
  attempts: AttemptRow[];
  metrics: Record<string, number>;
}

/**
 * A run and everything recorded about it.
 *
 * @throws CellarError NOT_FOUND for an unknown (or INVALID_PARAMETER for a malformed) run id.
 */
export async function describeRun(store: StoreArg, runId: string): Promise<RunSummary> {
  const backend = backendOf(store);
  const state = new SchedulerState(backend.db);
  const run = state.getRun(validateRunId(runId));
  const metrics = run.trackingRunId ? (await backend.tracking.getRun(run.trackingRunId)).metrics : {};
  return { run, tasks: state.tasks(run.runId), attempts: state.attempts(run.runId), metrics };
}

/** Runs newest first (optionally of one pipeline). */
export function listPipelineRuns(
  store: StoreArg,
  opts: { pipeline?: string; limit?: number } = {},
): PipelineRunRow[] {
  if (opts.pipeline !== undefined) validatePipelineName(opts.pipeline);
  return new SchedulerState(backendOf(store).db).listRuns(opts);
}

interface PreparedRun {
  version: LoadedPipelineVersion;
  params: Record<string, unknown>;
  logicalDate: number;
  interval: { start: number; end: number };
}

function prepareManualRun(
  backend: EmbeddedBackend,
  opts: { name: string; version?: number | 'latest'; params?: Record<string, unknown>; logicalDate?: number },
): PreparedRun {
  const version = loadPipelineVersion(
    backend.root,
    validatePipelineName(opts.name),
    opts.version ?? 'latest',
  );
  const params = resolveParams(version.spec.parameters, opts.params ?? {});
  const schedule = version.spec.schedule === null ? null : validateCron(version.spec.schedule);
  const logicalDate = opts.logicalDate ?? Date.now();
  return { version, params, logicalDate, interval: manualInterval(schedule, logicalDate) };
}

function createManualRun(
  state: SchedulerState,
  p: PreparedRun,
  runType: RunType,
  owner: ReturnType<typeof currentProcess> | null,
  explicitDate: boolean,
): PipelineRunRow {
  for (let bump = 0; ; bump++) {
    const logicalDate = p.logicalDate + bump;
    try {
      return state.createRun({
        spec: p.version.spec,
        runId: newRunId(runType, logicalDate),
        runType,
        logicalDate,
        intervalStart: p.interval.start,
        intervalEnd: p.interval.end,
        params: p.params,
        owner,
      });
    } catch (e) {
      // Two runs triggered within the same millisecond: the second takes the next one.
      if (explicitDate || bump >= 20 || !(e instanceof CellarError && e.code === 'ALREADY_EXISTS')) throw e;
    }
  }
}

/** Options of {@link runPipeline}. */
export interface RunPipelineOptions extends ExecOptions {
  store: StoreArg;
  name: string;
  version?: number | 'latest';
  /** Parameter values (text is converted by the declared type). */
  params?: Record<string, unknown>;
  /** Logical date (default: now). */
  logicalDate?: number;
  /** Aborting it interrupts the run: its step processes are killed and it ends failed. */
  signal?: AbortSignal;
}

/**
 * Runs a pipeline version once, now, in this process (steps in worker processes), and resolves when it has
 * ended. Retries, timeouts and trigger rules apply as under the scheduler; a paused pipeline still runs.
 *
 * @throws CellarError NOT_FOUND (pipeline/version), INVALID_PARAMETER (parameters, schedule) before anything is stored.
 * @example
 * const { run, metrics } = await runPipeline({ store: '.cellar', name: 'driver-training', params: { alpha: 0.7 } })
 */
export async function runPipeline(opts: RunPipelineOptions): Promise<RunSummary> {
  const backend = backendOf(opts.store);
  const workerScript = resolveWorkerScript(opts.workerScript);
  const prepared = prepareManualRun(backend, opts);
  const state = new SchedulerState(backend.db);
  const run = createManualRun(state, prepared, 'manual', currentProcess(), opts.logicalDate !== undefined);
  opts.log?.(`run ${run.runId} of ${prepared.version.spec.name}@${prepared.version.spec.version}`);
  opts.onRunsCreated?.([run]);
  const scheduler = new Scheduler({
    ...opts,
    workerScript,
    store: backend,
    schedule: false,
    runIds: [run.runId],
  });
  const onAbort = (): void => void scheduler.abort('interrupted before it finished');
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await scheduler.runUntilDone(run.runId);
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    await scheduler.stop();
  }
  return describeRun(backend, run.runId);
}

/**
 * Queues a manual run for the scheduler (`cellar scheduler` starts it) and returns it.
 *
 * @throws CellarError NOT_FOUND, INVALID_PARAMETER (nothing stored), ALREADY_EXISTS for a taken logical date.
 */
export function triggerPipeline(opts: {
  store: StoreArg;
  name: string;
  version?: number | 'latest';
  params?: Record<string, unknown>;
  logicalDate?: number;
}): PipelineRunRow {
  const backend = backendOf(opts.store);
  const prepared = prepareManualRun(backend, opts);
  return createManualRun(
    new SchedulerState(backend.db),
    prepared,
    'manual',
    null,
    opts.logicalDate !== undefined,
  );
}

/** Options of {@link backfillPipeline}. */
export interface BackfillOptions extends ExecOptions {
  store: StoreArg;
  name: string;
  /** Every logical date of the schedule in [from, to] (both inclusive, as Airflow's backfill) gets a run. */
  from: number;
  to: number;
  params?: Record<string, unknown>;
  /** Run them here and wait (default), or only queue them for the scheduler. */
  wait?: boolean;
}

/** What a backfill did. */
export interface BackfillResult {
  /** Runs created (and, when waited for, finished). */
  runs: PipelineRunRow[];
  /** Logical dates that already had a run (left as they are). */
  existing: PipelineRunRow[];
}

/**
 * Creates one run per logical date of the pipeline's schedule in [from, to], both inclusive, each covering the
 * interval that starts there (skipping logical dates that already have a run), then runs them here respecting maxActiveRuns, or leaves them queued (`wait: false`).
 *
 * @throws CellarError INVALID_PARAMETER (no or invalid schedule, empty or huge range, bad params) before anything is stored.
 * @example
 * await backfillPipeline({ store: '.cellar', name: 'hourly', from: Date.parse('2024-01-01T00:00Z'), to: Date.parse('2024-01-01T23:00Z') }) // 24 runs
 */
export async function backfillPipeline(opts: BackfillOptions): Promise<BackfillResult> {
  const backend = backendOf(opts.store);
  const wait = opts.wait !== false;
  const workerScript = wait ? resolveWorkerScript(opts.workerScript) : undefined;
  const version = loadPipelineVersion(backend.root, validatePipelineName(opts.name), 'latest');
  const { spec } = version;
  if (spec.schedule === null) {
    throw new CellarError(
      'INVALID_PARAMETER',
      `Pipeline "${spec.name}" has no schedule, so it has no intervals to backfill.`,
    );
  }
  const schedule = validateCron(spec.schedule);
  const params = resolveParams(spec.parameters, opts.params ?? {});
  const intervals = intervalsWithin(schedule, opts.from, opts.to);
  const state = new SchedulerState(backend.db);
  const runs: PipelineRunRow[] = [];
  const existing: PipelineRunRow[] = [];
  writeTx(backend.db, 'create backfill runs', () => {
    runs.length = 0; // the transaction may be retried
    existing.length = 0;
    for (const iv of intervals) {
      const found = state.findRunAt(spec.name, iv.start);
      if (found) {
        existing.push(found);
        continue;
      }
      runs.push(
        state.createRun({
          spec,
          runId: newRunId('backfill', iv.start),
          runType: 'backfill',
          logicalDate: iv.start,
          intervalStart: iv.start,
          intervalEnd: iv.end,
          params,
          owner: wait ? currentProcess() : null,
        }),
      );
    }
  });
  if (!wait || runs.length === 0) return { runs, existing };
  opts.onRunsCreated?.(runs);
  const scheduler = new Scheduler({
    ...opts,
    ...(workerScript ? { workerScript } : {}),
    store: backend,
    schedule: false,
    runIds: runs.map((r) => r.runId),
  });
  try {
    for (const r of runs) await scheduler.runUntilDone(r.runId);
  } finally {
    await scheduler.stop();
  }
  return { runs: runs.map((r) => state.getRun(r.runId)), existing };
}

/**
 * Pauses (no new scheduled runs, queued runs wait) or unpauses a pipeline. Running runs finish.
 *
 * @throws CellarError NOT_FOUND for an unknown pipeline.
 */
export function setPipelinePaused(store: StoreArg, name: string, paused: boolean): void {
  const backend = backendOf(store);
  loadPipelineVersion(backend.root, validatePipelineName(name), 'latest');
  new SchedulerState(backend.db).setPaused(name, paused);
}

/** One attempt's log. */
export interface AttemptLog {
  step: string;
  tryNumber: number;
  path: string;
  text: string;
}

/**
 * The logs of a run's attempts (optionally of one step and one try), in the order they started.
 *
 * @throws CellarError NOT_FOUND for an unknown run or step.
 */
export function runLogs(
  store: StoreArg,
  runId: string,
  opts: { step?: string; tryNumber?: number } = {},
): AttemptLog[] {
  const state = new SchedulerState(backendOf(store).db);
  const run = state.getRun(validateRunId(runId));
  if (opts.step !== undefined && !state.task(run.runId, opts.step)) {
    throw new CellarError('NOT_FOUND', `Run ${run.runId} has no step "${opts.step}".`);
  }
  return state
    .attempts(run.runId, opts.step)
    .filter((a) => opts.tryNumber === undefined || a.tryNumber === opts.tryNumber)
    .map((a) => ({
      step: a.step,
      tryNumber: a.tryNumber,
      path: a.logPath,
      text: existsSync(a.logPath) ? readFileSync(a.logPath, 'utf8') : '',
    }));
}
