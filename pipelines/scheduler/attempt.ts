/**
 * scheduler/attempt — one step attempt seen from the driver: the task handed to a worker (inputs located in
 * the upstream steps' committed outputs), how a worker's outcome becomes an attempt end, and the watcher
 * of an adopted attempt — a step whose process outlived the scheduler that started it: it is followed
 * through its pid (+ start time) and its result file, killed when it passes its timeout, and failed when
 * it is gone without a result.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { PipelineSpec } from '../../kernel-lib/exporter/spec.js';
import { isProcessAlive } from '../../kernel-lib/store/process.js';
import type { LoadedPipelineVersion } from '../runner/version.js';
import { attemptPaths } from '../runner/paths.js';
import { readResultFile, type AttemptOutcome } from '../runner/worker-handle.js';
import type { WorkerTask } from '../runner/protocol.js';
import type { PipelineRunRow, AttemptRow, TaskInstanceRow } from './state.js';
import type { AttemptEnd } from './transitions.js';

/** Builds the worker task for attempt `started` of `step`. Inputs of upstream steps that did not succeed are absent. */
export function buildWorkerTask(opts: {
  storeRoot: string;
  version: LoadedPipelineVersion;
  run: PipelineRunRow;
  step: string;
  tryNumber: number;
  tasks: TaskInstanceRow[];
  stepTrackingRunId: string | null;
}): WorkerTask {
  const { spec, dir } = opts.version;
  const { run } = opts;
  const s = spec.steps.find((x) => x.name === opts.step)!;
  const byStep = new Map(opts.tasks.map((t) => [t.step, t]));
  const inputs: WorkerTask['inputs'] = [];
  for (const [name, from] of Object.entries(s.inputs)) {
    const up = byStep.get(from);
    if (!up || up.state !== 'success' || up.outputTry === null) continue;
    inputs.push({
      name,
      step: from,
      dir: attemptPaths(opts.storeRoot, run.pipeline, run.runId, from, up.outputTry).outputDir,
    });
  }
  const paths = attemptPaths(opts.storeRoot, run.pipeline, run.runId, s.name, opts.tryNumber);
  const iso = (t: number): string => new Date(t).toISOString();
  return {
    storeRoot: opts.storeRoot,
    pipeline: spec.name,
    version: spec.version,
    step: s.name,
    stepFile: resolve(dir, s.file),
    ...paths,
    context: {
      params: run.params,
      runId: run.runId,
      logicalDate: iso(run.logicalDate),
      dataIntervalStart: iso(run.intervalStart),
      dataIntervalEnd: iso(run.intervalEnd),
      tryNumber: opts.tryNumber,
    },
    inputs,
    outputs: [...s.outputs],
    metrics: metricNames(spec, s.name),
    env: {
      CELLAR_URI: opts.storeRoot,
      CELLAR_EXPERIMENT: spec.name,
      CELLAR_PIPELINE: spec.name,
      CELLAR_PIPELINE_VERSION: String(spec.version),
      CELLAR_PIPELINE_RUN_ID: run.runId,
      CELLAR_PIPELINE_STEP: s.name,
      ...(run.trackingRunId ? { CELLAR_PIPELINE_TRACKING_RUN_ID: run.trackingRunId } : {}),
      ...(opts.stepTrackingRunId ? { CELLAR_STEP_TRACKING_RUN_ID: opts.stepTrackingRunId } : {}),
    },
  };
}

/** The outputs of `step` that the spec lists as pipeline metrics. */
export function metricNames(spec: PipelineSpec, step: string): string[] {
  const s = spec.steps.find((x) => x.name === step);
  return spec.metrics.filter((m) => m.step === step && s?.outputs.includes(m.name)).map((m) => m.name);
}

/** Turns what the runner saw into the attempt's recorded end. */
export function toAttemptEnd(outcome: AttemptOutcome, timeoutMs: number): AttemptEnd {
  const base = { exitCode: outcome.exitCode, signal: outcome.signal };
  if (outcome.timedOut) {
    return {
      ...base,
      ok: false,
      metrics: {},
      error: `timed out after ${timeoutMs} ms; the step process was killed`,
    };
  }
  const r = outcome.result;
  if (r === null) {
    const how = outcome.signal
      ? `was killed by ${outcome.signal}`
      : `exited with code ${String(outcome.exitCode)}`;
    return { ...base, ok: false, metrics: {}, error: `the step process ${how} before reporting a result` };
  }
  if (!r.ok) return { ...base, ok: false, metrics: {}, error: r.error?.message ?? 'the step failed' };
  return { ...base, ok: true, metrics: r.metrics ?? {}, error: null };
}

/** Removes temporary output directories a dead attempt left behind (never the committed ones). */
export function removeTempOutputs(outputDir: string): void {
  const stepDir = dirname(outputDir);
  try {
    for (const name of readdirSync(stepDir)) {
      if (name.startsWith('.try-') && name.includes('.tmp'))
        rmSync(join(stepDir, name), { recursive: true, force: true });
    }
  } catch {
    // nothing there
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Follows an attempt started by a driver that has died, until it ends: by its result file when it wrote one,
 * as a failure when its process is gone without one, or as a timeout (after killing it) when it runs past
 * `timeout_at`. Never returns while the attempt's process is still alive with a failure pending, so a retry
 * cannot overlap it.
 */
export async function watchAdoptedAttempt(
  attempt: AttemptRow,
  opts: { pollMs?: number; stopped?: () => boolean } = {},
): Promise<AttemptEnd> {
  const pollMs = opts.pollMs ?? 50;
  const owner = { host: attempt.host, pid: attempt.pid ?? -1, started: attempt.procStarted ?? '' };
  const alive = (): boolean => attempt.pid !== null && isProcessAlive(owner);
  let killedForTimeout = false;
  while (true) {
    const living = alive();
    const result = readResultFile(attempt.resultPath);
    if (result?.ok)
      return { ok: true, error: null, metrics: result.metrics ?? {}, exitCode: null, signal: null };
    if (!living) {
      if (killedForTimeout) {
        const limit = attempt.timeoutAt! - attempt.startedAt;
        return {
          ok: false,
          error: `timed out after ${limit} ms; the step process was killed`,
          metrics: {},
          exitCode: null,
          signal: 'SIGKILL',
        };
      }
      if (result)
        return {
          ok: false,
          error: result.error?.message ?? 'the step failed',
          metrics: {},
          exitCode: null,
          signal: null,
        };
      // The worker creates the attempt's result file (empty) as soon as it receives the step (workers of
      // earlier versions opened the log instead): neither file, the step never began (its scheduler stopped
      // between recording the attempt and handing the step over).
      if (!existsSync(attempt.resultPath) && !existsSync(attempt.logPath)) {
        return {
          ok: false,
          error: 'the step never started: its scheduler stopped before handing it over',
          metrics: {},
          exitCode: null,
          signal: null,
          neverStarted: true,
        };
      }
      return {
        ok: false,
        error:
          'the step process ended without a result while no scheduler was watching it (it died or was killed)',
        metrics: {},
        exitCode: null,
        signal: null,
      };
    }
    if (!killedForTimeout && attempt.timeoutAt !== null && Date.now() > attempt.timeoutAt) {
      killedForTimeout = true;
      // identity (pid + start time) was checked by alive() just above; the worker leads its process group
      for (const target of [-attempt.pid!, attempt.pid!]) {
        try {
          process.kill(target, 'SIGKILL');
          break;
        } catch {
          // no such group (or already gone): try the process itself
        }
      }
    }
    if (opts.stopped?.()) throw new Error('scheduler stopped while watching an adopted attempt');
    await sleep(pollMs);
  }
}
