/**
 * runner/paths — where a pipeline run's files live in the store:
 *
 *   <store>/pipeline-runs/<pipeline>/<runId>/<step>/try-<n>/          committed outputs of attempt n
 *   <store>/pipeline-runs/<pipeline>/<runId>/<step>/.try-<n>.tmp-<pid>/  outputs being written
 *   <store>/pipeline-runs/<pipeline>/<runId>/<step>.try-<n>.result.json  how attempt n ended
 *   <store>/logs/pipelines/<pipeline>/<runId>/<step>.try-<n>.log      stdout + stderr of attempt n
 *
 * Outputs become visible only when the worker renames the finished temporary directory to `try-<n>`, so a
 * step that dies mid-write leaves nothing a downstream step could read; a step without outputs gets no
 * directory at all (creating files is what a short step spends most of its time on). Every component is
 * checked by runner/ids, so no name can escape these directories. Attempts recorded by earlier versions keep
 * the paths stored with them.
 */
import { join } from 'node:path';
import { validatePipelineName, validateRunId, validateStepName } from './ids.js';

/** The files of one attempt of one step. */
export interface AttemptPaths {
  /** Directory holding the committed outputs (exists only after a successful attempt of a step with outputs). */
  outputDir: string;
  /** Prefix of the worker's temporary output directory (the worker appends `-<pid>`). */
  tmpDir: string;
  /** JSON file saying how the attempt ended (written by the worker, atomically). */
  resultFile: string;
  /** stdout and stderr of the attempt. */
  logFile: string;
}

/** The data directory of one pipeline run. */
export function runDataDir(storeRoot: string, pipeline: string, runId: string): string {
  return join(storeRoot, 'pipeline-runs', validatePipelineName(pipeline), validateRunId(runId));
}

/** The log directory of one pipeline run. */
export function runLogDir(storeRoot: string, pipeline: string, runId: string): string {
  return join(storeRoot, 'logs', 'pipelines', validatePipelineName(pipeline), validateRunId(runId));
}

/** The paths of attempt `tryNumber` (1-based) of `step` in run `runId`. */
export function attemptPaths(
  storeRoot: string,
  pipeline: string,
  runId: string,
  step: string,
  tryNumber: number,
): AttemptPaths {
  validateStepName(step);
  const runDir = runDataDir(storeRoot, pipeline, runId);
  const stepDir = join(runDir, step);
  return {
    outputDir: join(stepDir, `try-${tryNumber}`),
    tmpDir: join(stepDir, `.try-${tryNumber}.tmp`),
    resultFile: join(runDir, `${step}.try-${tryNumber}.result.json`),
    logFile: join(runLogDir(storeRoot, pipeline, runId), `${step}.try-${tryNumber}.log`),
  };
}
