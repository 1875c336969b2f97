/**
 * tracking/validate — input rules for tracking data, checked before anything is written so that bad
 * input never changes the store. Limits follow MLflow's (key 250 chars, param value 6000, tag value 8000).
 */
import { CellarError } from '../errors.js';
import { RUN_STATUSES, type MetricPoint, type RunStatus } from './types.js';

/** Longest key (param, metric or tag name). */
export const MAX_KEY_LENGTH = 250;
/** Longest param value once stringified. */
export const MAX_PARAM_VALUE_LENGTH = 6000;
/** Longest tag value. */
export const MAX_TAG_VALUE_LENGTH = 8000;
/** Most entries in one batch. */
export const MAX_BATCH_ENTRIES = 1_000_000;

const KEY_PATTERN = /^[\w\-. /:]+$/u;

/**
 * Sets `obj[key] = value` as an own, enumerable property, so that keys such as `__proto__` or
 * `constructor` are stored like any other key instead of reaching the prototype (and being dropped).
 */
export function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * Checks a param/metric/tag key: letters, digits, `_ - . / :` and spaces, at most 250 characters, not a
 * path that climbs (`..`) or starts with `/`.
 *
 * @throws CellarError INVALID_PARAMETER naming the key.
 */
export function validateKey(kind: 'param' | 'metric' | 'tag', key: unknown): string {
  if (typeof key !== 'string' || key.length === 0) {
    throw new CellarError(
      'INVALID_PARAMETER',
      `A ${kind} key must be a non-empty string, got ${JSON.stringify(key)}.`,
    );
  }
  if (key.length > MAX_KEY_LENGTH) {
    throw new CellarError(
      'INVALID_PARAMETER',
      `The ${kind} key "${key.slice(0, 40)}…" is ${key.length} characters; the limit is ${MAX_KEY_LENGTH}.`,
    );
  }
  if (!KEY_PATTERN.test(key) || key.startsWith('/') || key.split('/').includes('..')) {
    throw new CellarError(
      'INVALID_PARAMETER',
      `The ${kind} key ${JSON.stringify(key)} is not allowed: use letters, digits, "_", "-", ".", "/", ":" and spaces ` +
        '(no leading "/" and no ".." segment).',
      { key },
    );
  }
  return key;
}

/** Turns a param value into the string stored (MLflow stores params as strings). */
export function stringifyParam(key: string, value: unknown): string {
  let text: string;
  if (typeof value === 'string') text = value;
  else if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    text = String(value);
  else if (value === null) text = 'null';
  else if (value === undefined) {
    throw new CellarError(
      'INVALID_PARAMETER',
      `Param "${key}" is undefined; log a value or leave the param out.`,
      { key },
    );
  } else {
    try {
      text = JSON.stringify(value);
    } catch {
      throw new CellarError(
        'INVALID_PARAMETER',
        `Param "${key}" cannot be turned into text (circular object?).`,
        { key },
      );
    }
  }
  if (text.length > MAX_PARAM_VALUE_LENGTH) {
    throw new CellarError(
      'INVALID_PARAMETER',
      `Param "${key}" is ${text.length} characters long; the limit is ${MAX_PARAM_VALUE_LENGTH}. Log long values as an artifact.`,
      { key },
    );
  }
  return text;
}

/** Checks a tag value (a string of at most 8000 characters; numbers and booleans are stringified). */
export function stringifyTag(key: string, value: unknown): string {
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
    throw new CellarError('INVALID_PARAMETER', `Tag "${key}" must be a string, number or boolean.`, { key });
  }
  const text = String(value);
  if (text.length > MAX_TAG_VALUE_LENGTH) {
    throw new CellarError(
      'INVALID_PARAMETER',
      `Tag "${key}" is ${text.length} characters long; the limit is ${MAX_TAG_VALUE_LENGTH}.`,
      { key },
    );
  }
  return text;
}

/**
 * Checks one metric point. cellar stores only finite numbers: NaN and ±Infinity are refused (the whole batch
 * is refused, nothing is written) so that comparisons, search filters and plots stay meaningful.
 *
 * @throws CellarError INVALID_PARAMETER naming the key and the value.
 */
export function validateMetric(point: MetricPoint): MetricPoint {
  validateKey('metric', point.key);
  if (typeof point.value !== 'number' || !Number.isFinite(point.value)) {
    throw new CellarError(
      'INVALID_PARAMETER',
      `Metric "${point.key}" has the value ${String(point.value)}; cellar only stores finite numbers. ` +
        'Skip the point or log a finite value (for a diverged loss, log a tag such as diverged=true).',
      { key: point.key, value: String(point.value) },
    );
  }
  if (!Number.isSafeInteger(point.step)) {
    throw new CellarError(
      'INVALID_PARAMETER',
      `Metric "${point.key}" has step ${String(point.step)}; steps are integers.`,
    );
  }
  if (!Number.isFinite(point.timestamp)) {
    throw new CellarError(
      'INVALID_PARAMETER',
      `Metric "${point.key}" has an invalid timestamp ${String(point.timestamp)}.`,
    );
  }
  return point;
}

/** Checks a run status string. */
export function validateStatus(status: unknown): RunStatus {
  if (typeof status !== 'string' || !(RUN_STATUSES as readonly string[]).includes(status.toUpperCase())) {
    throw new CellarError(
      'INVALID_PARAMETER',
      `Unknown run status ${JSON.stringify(status)}; use one of ${RUN_STATUSES.join(', ')}.`,
    );
  }
  return status.toUpperCase() as RunStatus;
}

/** Checks an experiment or registered-model name (non-empty, ≤ 250 chars, no control characters). */
export function validateName(kind: string, name: unknown): string {
  if (typeof name !== 'string' || name.trim() === '') {
    throw new CellarError(
      'INVALID_PARAMETER',
      `A ${kind} name must be a non-empty string, got ${JSON.stringify(name)}.`,
    );
  }
  // eslint-disable-next-line no-control-regex
  if (name.length > MAX_KEY_LENGTH || /[\u0000-\u001f\u007f]/.test(name)) {
    throw new CellarError(
      'INVALID_PARAMETER',
      `The ${kind} name ${JSON.stringify(name)} is too long or has control characters.`,
    );
  }
  return name;
}
