/**
 * exporter/options — validation of the run settings a user passes to the exporter besides the notebook
 * (schedule, catchup, maxActiveRuns, retries, timeout). The name and reference rules live in
 * exporter/names and the schedule rule in exporter/schedule (re-exported here), shared with the runner and
 * the scheduler.
 */
import { CellarError } from '../errors.js';
import { validateSchedule } from './schedule.js';

/** Run settings of a pipeline, validated, with defaults applied. */
export interface RunSettings {
  schedule: string | null;
  catchup: boolean;
  maxActiveRuns: number;
  retries: number;
  timeoutMs: number;
}

function intIn(value: unknown, what: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new CellarError(
      'INVALID_PARAMETER',
      `${what} must be a whole number from ${min} to ${max}, got ${JSON.stringify(value) ?? String(value)}.`,
    );
  }
  return value;
}

/**
 * Validates the run settings of an export and applies the defaults: no schedule, no catchup, one active
 * run at a time, no retries, no timeout.
 *
 * @throws CellarError INVALID_PARAMETER naming the bad setting.
 */
export function validateRunSettings(opts: {
  schedule?: string | null;
  catchup?: boolean;
  maxActiveRuns?: number;
  retries?: number;
  timeoutMs?: number;
}): RunSettings {
  if (opts.catchup !== undefined && typeof opts.catchup !== 'boolean') {
    throw new CellarError('INVALID_PARAMETER', 'catchup must be true or false.');
  }
  return {
    schedule: validateSchedule(opts.schedule),
    catchup: opts.catchup ?? false,
    maxActiveRuns: intIn(opts.maxActiveRuns, 'maxActiveRuns', 1, 1000, 1),
    retries: intIn(opts.retries, 'retries', 0, 100, 0),
    timeoutMs: intIn(opts.timeoutMs, 'timeoutMs', 0, 7 * 24 * 3_600_000, 0),
  };
}

export {
  parsePipelineRef,
  validatePipelineName,
  validatePipelineVersion,
  type PipelineRef,
} from './names.js';
export { validateSchedule } from './schedule.js';
