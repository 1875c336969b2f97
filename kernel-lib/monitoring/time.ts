/**
 * monitoring/time — instants and durations as monitoring's options take them: epoch milliseconds, Dates,
 * ISO-8601 strings with a zone, and relative windows such as `24h` or `7d`.
 */
import { CellarError } from '../errors.js';
import { parseTtl } from '../features/types.js';

const ZONED = /(Z|[+-]\d\d:?\d\d)$/i;

/**
 * Epoch milliseconds of a Date, a number of epoch ms, or an ISO-8601 string with a zone.
 *
 * @throws CellarError INVALID_INPUT naming `what` for anything else (a zone-less string is refused, never read as local time)
 */
export function instantMs(value: unknown, what: string): number {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (value instanceof Date && Number.isFinite(value.getTime())) return value.getTime();
  if (typeof value === 'string' && ZONED.test(value.trim())) {
    const ms = Date.parse(value);
    if (Number.isFinite(ms)) return ms;
  }
  throw new CellarError(
    'INVALID_INPUT',
    `${what} must be epoch milliseconds, a Date or an ISO-8601 string with a zone (e.g. 2026-12-01T00:00:00Z); got ${JSON.stringify(value)}.`,
  );
}

/**
 * Milliseconds of a duration such as `90s`, `15m`, `24h`, `7d`, `1d12h` (the feature store's TTL syntax) or a
 * number of ms.
 *
 * @throws CellarError INVALID_PARAMETER for anything else
 */
export function durationMs(value: string | number, what = 'duration'): number {
  try {
    return parseTtl(value);
  } catch {
    throw new CellarError(
      'INVALID_PARAMETER',
      `${what} must look like 30m, 24h or 7d; got ${JSON.stringify(value)}.`,
    );
  }
}

/**
 * The start of a window: `since` as a duration back from `now` (`24h`), or an instant.
 *
 * @throws CellarError INVALID_PARAMETER for an unreadable value
 */
export function sinceMs(since: unknown, now: number): number | undefined {
  if (since === undefined || since === null) return undefined;
  if (
    typeof since === 'string' &&
    /^\s*\d+(?:\.\d+)?\s*(ms|s|m|h|d|w)/.test(since) &&
    !/^\d{4}-/.test(since.trim())
  ) {
    return now - durationMs(since, 'since');
  }
  try {
    return instantMs(since, 'since');
  } catch (e) {
    throw new CellarError('INVALID_PARAMETER', (e as Error).message);
  }
}
