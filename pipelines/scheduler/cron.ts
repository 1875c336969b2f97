/**
 * scheduler/cron — cron schedules as explicit data intervals (Airflow semantics), as pure functions of the
 * expression and a time. A schedule's consecutive fire times t0 < t1 < t2 … cut time into data intervals
 * [t0, t1), [t1, t2), …; the run for [start, end) starts once `end` has passed, and its logical date is
 * `start`. All times are epoch milliseconds evaluated in UTC.
 */
import type { CronExpression, CronExpressionParser } from 'cron-parser';
import { requireDependency } from '../../kernel-lib/lazy/load.js';
import { CellarError } from '../../kernel-lib/errors.js';

/** A data interval [start, end) in epoch milliseconds. */
export interface DataInterval {
  start: number;
  end: number;
}

const ALIASES = new Set(['@hourly', '@daily', '@weekly', '@monthly', '@yearly', '@annually']);

function parse(expr: string, at: number): CronExpression {
  // cron-parser (with luxon) loads on first use: `cellar --help` and `cellar runs list` never need it.
  const { CronExpressionParser: parser } = requireDependency<{
    CronExpressionParser: typeof CronExpressionParser;
  }>('cron-parser', 'Cron schedules');
  return parser.parse(expr, { tz: 'UTC', currentDate: new Date(at) });
}

/**
 * Checks a cron expression: five fields (minute hour day-of-month month day-of-week) or one of @hourly,
 * @daily, @weekly, @monthly, @yearly; every value in range; a schedule that fires at all. Returns it trimmed.
 *
 * @throws CellarError INVALID_PARAMETER saying what is wrong, e.g. for `61 * * * *`.
 * @example
 * validateCron('0 * * * *') // '0 * * * *'
 */
export function validateCron(expr: unknown): string {
  const bad = (why: string): CellarError =>
    new CellarError(
      'INVALID_PARAMETER',
      `Invalid cron schedule ${JSON.stringify(expr)}: ${why}. Use five fields (minute hour day-of-month month ` +
        'day-of-week), e.g. "0 * * * *" for hourly, or @hourly/@daily/@weekly/@monthly/@yearly.',
      { schedule: expr },
    );
  if (typeof expr !== 'string') throw bad('not a string');
  const text = expr.trim().replace(/\s+/g, ' ');
  if (text.startsWith('@')) {
    if (!ALIASES.has(text)) throw bad(`unknown alias ${text}`);
  } else {
    const fields = text.split(' ');
    if (fields.length !== 5) throw bad(`it has ${fields.length} field(s), not 5`);
    if (/[Hh?]/.test(text)) throw bad('H (hashed) and ? are not supported; write the values');
  }
  try {
    const e = parse(text, Date.UTC(2000, 0, 1));
    e.next();
  } catch (err) {
    throw bad((err as Error).message);
  }
  return text;
}

/** The first fire time strictly after `t`. */
export function nextFireAfter(expr: string, t: number): number {
  return parse(expr, t).next().getTime();
}

/** The last fire time at or before `t`. */
export function lastFireAtOrBefore(expr: string, t: number): number {
  return parse(expr, t + 1)
    .prev()
    .getTime();
}

/** The first fire time at or after `t`. */
export function firstFireAtOrAfter(expr: string, t: number): number {
  return nextFireAfter(expr, t - 1);
}

/** The data interval that starts at fire time `start`. */
export function intervalStartingAt(expr: string, start: number): DataInterval {
  return { start, end: nextFireAfter(expr, start) };
}

/**
 * The latest interval whose end has passed at `now` (what a run without catchup covers), i.e. the one ending
 * at the last fire time at or before `now`.
 */
export function latestCompleteInterval(expr: string, now: number): DataInterval {
  const end = lastFireAtOrBefore(expr, now);
  return { start: parse(expr, end).prev().getTime(), end };
}

/**
 * The intervals whose logical date (start) lies in [from, to], both inclusive — what `backfill --from --to`
 * runs, like Airflow's backfill (`-s 2024-01-01 -e 2024-01-03` on `@daily` gives the runs of the 1st, 2nd
 * and 3rd, the last covering [3rd, 4th)) — at most `limit` of them.
 *
 * @throws CellarError INVALID_PARAMETER when `to` is before `from`, or the range holds more than `limit` intervals.
 */
export function intervalsWithin(expr: string, from: number, to: number, limit = 10_000): DataInterval[] {
  if (!(to >= from)) {
    throw new CellarError(
      'INVALID_PARAMETER',
      `The backfill range is empty: --to must not be before --from.`,
    );
  }
  const out: DataInterval[] = [];
  let start = firstFireAtOrAfter(expr, from);
  while (start <= to) {
    const end = nextFireAfter(expr, start);
    if (out.length >= limit) {
      throw new CellarError(
        'INVALID_PARAMETER',
        `The range holds more than ${limit} intervals of "${expr}"; backfill a shorter range.`,
      );
    }
    out.push({ start, end });
    start = end;
  }
  return out;
}

/**
 * The interval a manual run covers when the pipeline has a schedule: the latest complete one at its
 * logical date (Airflow's inference for manual runs); without a schedule, the empty interval at that date.
 */
export function manualInterval(expr: string | null, logicalDate: number): DataInterval {
  if (expr === null) return { start: logicalDate, end: logicalDate };
  return latestCompleteInterval(expr, logicalDate);
}

/**
 * The interval of a run started by an external orchestrator at `logicalDate` when it did not say: a logical
 * date on a fire time is a scheduled run's, covering [logicalDate, next fire); otherwise as a manual run.
 */
export function inferInterval(expr: string | null, logicalDate: number): DataInterval {
  if (expr !== null && lastFireAtOrBefore(expr, logicalDate) === logicalDate)
    return intervalStartingAt(expr, logicalDate);
  return manualInterval(expr, logicalDate);
}
