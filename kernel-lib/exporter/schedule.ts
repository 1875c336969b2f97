/**
 * exporter/schedule — the one rule for pipeline schedules, used by the exporter (what it stores) and the
 * scheduler (what it runs) alike: 5 cron fields in UTC (minute hour day-of-month month day-of-week) checked
 * with cron-parser, or a preset of cron-parser or Airflow, stored in its 5-field form so both sides read
 * the same schedule. `H` (hashed) and `?` are refused; so are presets that are not repeating minute-level
 * schedules (`@once`, `@continuous`, `@reboot`, `@secondly`).
 */
import type { CronExpressionParser } from 'cron-parser';
import { CellarError } from '../errors.js';
import { requireDependency } from '../lazy/load.js';

/** Every preset accepted, with the 5-field form it is stored as (cron-parser's and Airflow's presets). */
export const CRON_PRESETS: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@quarterly': '0 0 1 */3 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
  '@minutely': '* * * * *',
  '@weekdays': '0 0 * * 1-5',
  '@weekends': '0 0 * * 0,6',
};

const NOT_REPEATING: Readonly<Record<string, string>> = {
  '@once':
    'it is not a repeating schedule: export without a schedule and start runs with `cellar pipelines trigger`',
  '@continuous':
    'it is not a repeating schedule: export without a schedule and start runs with `cellar pipelines trigger`',
  '@reboot': 'cellar has no start-up schedule: start runs with `cellar pipelines trigger`',
  '@secondly': 'schedules fire at most once a minute: use @minutely or "* * * * *"',
};

/**
 * Validates a schedule and returns the form stored in a pipeline spec (5 fields, single spaces); `null`,
 * `undefined` or blank means manual runs only (null).
 *
 * @example
 * validateSchedule('@midnight') // '0 0 * * *'
 * validateSchedule(' 0  *  * * * ') // '0 * * * *'
 * @throws CellarError INVALID_PARAMETER saying what is wrong.
 */
export function validateSchedule(schedule: unknown): string | null {
  if (schedule === undefined || schedule === null) return null;
  if (typeof schedule !== 'string') {
    throw new CellarError(
      'INVALID_PARAMETER',
      'The schedule must be a cron string of five fields such as "0 * * * *", or a preset such as @daily.',
      {
        schedule: String(schedule),
      },
    );
  }
  const text = schedule.trim().replace(/\s+/g, ' ');
  if (text === '') return null;
  const bad = (why: string): CellarError =>
    new CellarError(
      'INVALID_PARAMETER',
      `Schedule ${JSON.stringify(schedule)} is not a valid cron expression: ${why}. Use five fields (minute hour ` +
        'day-of-month month day-of-week, in UTC), e.g. "0 * * * *" for every hour, or a preset: ' +
        `${Object.keys(CRON_PRESETS).join(', ')}.`,
      { schedule },
    );
  const lower = text.toLowerCase();
  if (lower.startsWith('@')) {
    if (NOT_REPEATING[lower] !== undefined) throw bad(NOT_REPEATING[lower]);
    if (CRON_PRESETS[lower] === undefined) throw bad(`unknown preset ${text}`);
  }
  const expr = CRON_PRESETS[lower] ?? text;
  const fields = expr.split(' ');
  if (fields.length !== 5) throw bad(`it has ${fields.length} field${fields.length === 1 ? '' : 's'}, not 5`);
  if (/\bH\b/i.test(expr) || expr.includes('?'))
    throw bad('H (hashed) and ? are not supported; write the values');
  try {
    // cron-parser loads on first use: `cellar --help` and `import 'cellar'` never need it.
    const { CronExpressionParser: parser } = requireDependency<{
      CronExpressionParser: typeof CronExpressionParser;
    }>('cron-parser', 'Cron schedules');
    parser.parse(expr, { tz: 'UTC', currentDate: new Date(Date.UTC(2000, 0, 1)) }).next();
  } catch (e) {
    throw bad((e as Error).message);
  }
  return expr;
}
