/**
 * exporter/options — validation of what a user passes to the exporter besides the notebook: the pipeline
 * name (also a folder name, so path tricks such as `../x` are refused), the cron schedule (5 fields,
 * checked with cron-parser; `@hourly`-style shortcuts are stored in their 5-field form), and the run
 * settings. Also parses `name@version` references used by the CLI.
 */
import { CronExpressionParser } from 'cron-parser';
import { CellarError } from '../errors.js';
import { NAME_PATTERN, suggestName } from './tags.js';

/** Run settings of a pipeline, validated, with defaults applied. */
export interface RunSettings {
  schedule: string | null;
  catchup: boolean;
  maxActiveRuns: number;
  retries: number;
  timeoutMs: number;
}

const SHORTCUTS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

/**
 * Checks a pipeline name: 1-64 characters, lower-case letters, digits, `_` and `-`, starting with a letter
 * or digit.
 *
 * @throws CellarError INVALID_PARAMETER naming the rule it breaks.
 */
export function validatePipelineName(name: unknown): string {
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
    const shown = typeof name === 'string' ? JSON.stringify(name) : String(name);
    throw new CellarError(
      'INVALID_PARAMETER',
      `Pipeline name ${shown} is not valid: use 1-64 lower-case letters, digits, "_" or "-", starting with a ` +
        `letter or digit${typeof name === 'string' ? ` (e.g. "${suggestName(name)}")` : ''}.`,
      { name: typeof name === 'string' ? name : null },
    );
  }
  return name;
}

/**
 * Validates a cron schedule (5 fields: minute hour day-of-month month day-of-week, UTC) and returns it in
 * the form stored in the spec; `null`/empty means manual runs only.
 *
 * @example
 * validateSchedule('0 * * * *') // '0 * * * *'
 * @throws CellarError INVALID_PARAMETER for anything cron-parser refuses or that has not 5 fields.
 */
export function validateSchedule(schedule: unknown): string | null {
  if (schedule === undefined || schedule === null) return null;
  if (typeof schedule !== 'string') {
    throw new CellarError('INVALID_PARAMETER', 'The schedule must be a cron string such as "0 * * * *".');
  }
  const text = schedule.trim().replace(/\s+/g, ' ');
  if (text === '') return null;
  const expr = SHORTCUTS[text.toLowerCase()] ?? text;
  const fields = expr.split(' ');
  const bad = (why: string): CellarError =>
    new CellarError(
      'INVALID_PARAMETER',
      `Schedule ${JSON.stringify(schedule)} is not a valid cron expression: ${why}. Use 5 fields ` +
        '(minute hour day-of-month month day-of-week, in UTC), e.g. "0 * * * *" for every hour.',
      { schedule },
    );
  if (fields.length !== 5) throw bad(`it has ${fields.length} field${fields.length === 1 ? '' : 's'}, not 5`);
  try {
    CronExpressionParser.parse(expr, { tz: 'UTC' }).next();
  } catch (e) {
    throw bad((e as Error).message);
  }
  return expr;
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

/** A pipeline reference: `name`, `name@3` or `name@latest`. */
export interface PipelineRef {
  name: string;
  version: number | 'latest';
}

/**
 * Checks a version given by a user: a positive integer (or its decimal text), or `latest`.
 *
 * @throws CellarError INVALID_PARAMETER otherwise.
 */
export function validatePipelineVersion(version: unknown): number | 'latest' {
  if (version === 'latest') return 'latest';
  const n =
    typeof version === 'string' && /^v?\d{1,9}$/.test(version) ? Number(version.replace(/^v/, '')) : version;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) {
    throw new CellarError(
      'INVALID_PARAMETER',
      `Pipeline version ${JSON.stringify(version) ?? String(version)} is not valid: use a number from 1 or "latest".`,
    );
  }
  return n;
}

/**
 * Parses `name`, `name@<version>` or `name@latest`.
 *
 * @example
 * parsePipelineRef('driver-training@2') // { name: 'driver-training', version: 2 }
 * @throws CellarError INVALID_PARAMETER for a bad name or version.
 */
export function parsePipelineRef(ref: string): PipelineRef {
  const at = ref.lastIndexOf('@');
  if (at < 0) return { name: validatePipelineName(ref), version: 'latest' };
  return {
    name: validatePipelineName(ref.slice(0, at)),
    version: validatePipelineVersion(ref.slice(at + 1)),
  };
}
