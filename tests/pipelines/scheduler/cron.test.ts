/** Cron data intervals (Airflow semantics), retry backoff with deterministic jitter, trigger rules: pure functions. */
import { CellarError } from '../../../kernel-lib/errors.js';
import { jitterFraction, retryDelayMs } from '../../../pipelines/scheduler/backoff.js';
import {
  inferInterval,
  intervalStartingAt,
  intervalsWithin,
  latestCompleteInterval,
  manualInterval,
  validateCron,
} from '../../../pipelines/scheduler/cron.js';
import { decideTrigger } from '../../../pipelines/scheduler/trigger-rules.js';

const t = (iso: string): number => Date.parse(iso);

test('invalid cron strings are INVALID_PARAMETER with a useful message', () => {
  for (const bad of [
    '61 * * * *',
    '* 24 * * *',
    '0 0 31 2 *',
    '* * * *',
    '0 0 * * * *',
    'H * * * *',
    '@often',
    '',
    7,
  ]) {
    let err: unknown;
    try {
      validateCron(bad);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CellarError);
    expect((err as CellarError).code).toBe('INVALID_PARAMETER');
    expect((err as CellarError).message).toContain('five fields');
  }
  expect(validateCron('  0   *  * * * ')).toBe('0 * * * *');
  expect(validateCron('@daily')).toBe('0 0 * * *'); // presets are read in their 5-field form, as the exporter stores them
});

test('data intervals: the run for [start, end) starts at end; its logical date is start', () => {
  expect(intervalStartingAt('0 * * * *', t('2024-01-01T05:00:00Z'))).toEqual({
    start: t('2024-01-01T05:00:00Z'),
    end: t('2024-01-01T06:00:00Z'),
  });
  // at 06:30 the latest interval that has ended is [05:00, 06:00)
  expect(latestCompleteInterval('0 * * * *', t('2024-01-01T06:30:00Z'))).toEqual({
    start: t('2024-01-01T05:00:00Z'),
    end: t('2024-01-01T06:00:00Z'),
  });
  // exactly at 06:00 that interval has just ended
  expect(latestCompleteInterval('0 * * * *', t('2024-01-01T06:00:00Z')).end).toBe(t('2024-01-01T06:00:00Z'));
  expect(manualInterval(null, 42)).toEqual({ start: 42, end: 42 });
  // an orchestrator's run on a fire time covers the interval starting there; elsewhere, like a manual run
  expect(inferInterval('@daily', t('2024-01-02T00:00:00Z'))).toEqual({
    start: t('2024-01-02T00:00:00Z'),
    end: t('2024-01-03T00:00:00Z'),
  });
  expect(inferInterval('@daily', t('2024-01-02T05:00:00Z'))).toEqual({
    start: t('2024-01-01T00:00:00Z'),
    end: t('2024-01-02T00:00:00Z'),
  });
  expect(manualInterval('@daily', t('2024-01-03T12:00:00Z'))).toEqual({
    start: t('2024-01-02T00:00:00Z'),
    end: t('2024-01-03T00:00:00Z'),
  });
});

test('backfill ranges hold the intervals whose logical date is in [from, to], both ends inclusive (Airflow)', () => {
  const iv = intervalsWithin('0 */6 * * *', t('2024-01-01T01:00:00Z'), t('2024-01-02T00:00:00Z'));
  expect(iv.map((i) => [new Date(i.start).toISOString(), new Date(i.end).toISOString()])).toEqual([
    ['2024-01-01T06:00:00.000Z', '2024-01-01T12:00:00.000Z'],
    ['2024-01-01T12:00:00.000Z', '2024-01-01T18:00:00.000Z'],
    ['2024-01-01T18:00:00.000Z', '2024-01-02T00:00:00.000Z'],
    ['2024-01-02T00:00:00.000Z', '2024-01-02T06:00:00.000Z'],
  ]);
  // airflow dags backfill -s 2024-01-01 -e 2024-01-03 on @daily: the runs of the 1st, 2nd and 3rd
  const daily = intervalsWithin('@daily', t('2024-01-01T00:00:00Z'), t('2024-01-03T00:00:00Z'));
  expect(daily.map((i) => new Date(i.start).toISOString().slice(0, 10))).toEqual([
    '2024-01-01',
    '2024-01-02',
    '2024-01-03',
  ]);
  expect(intervalsWithin('@daily', t('2024-01-01T00:00:00Z'), t('2024-01-01T00:00:00Z'))).toHaveLength(1);
  expect(intervalsWithin('@daily', t('2024-01-01T01:00:00Z'), t('2024-01-01T02:00:00Z'))).toHaveLength(0);
  expect(() => intervalsWithin('@daily', 10, 5)).toThrow(CellarError);
  expect(() => intervalsWithin('* * * * *', 0, t('2030-01-01T00:00:00Z'), 100)).toThrow(/more than 100/);
});

test('retry delays grow exponentially, are capped, and their jitter is deterministic', () => {
  const policy = { baseDelayMs: 1000, maxDelayMs: 10_000 };
  const d = [1, 2, 3, 4, 5, 6].map((n) => retryDelayMs(policy, 'run-1', 'train', n));
  expect(d).toEqual([1, 2, 3, 4, 5, 6].map((n) => retryDelayMs(policy, 'run-1', 'train', n)));
  d.forEach((delay, i) => {
    const capped = Math.min(10_000, 1000 * 2 ** i);
    expect(delay).toBeGreaterThanOrEqual(capped / 2);
    expect(delay).toBeLessThanOrEqual(capped);
  });
  expect(Math.max(...d)).toBeLessThanOrEqual(10_000);
  const fractions = Array.from({ length: 200 }, (_, i) => jitterFraction(`run-${i}`, 'train', 1));
  expect(new Set(fractions).size).toBe(200); // different runs retry at different times
  expect(Math.min(...fractions)).toBeGreaterThanOrEqual(0);
  expect(Math.max(...fractions)).toBeLessThan(1);
});

test('trigger rules decide from upstream states', () => {
  expect(decideTrigger('all_success', [])).toBe('run');
  expect(decideTrigger('all_success', ['success', 'running'])).toBe('wait');
  expect(decideTrigger('all_success', ['success', 'success'])).toBe('run');
  expect(decideTrigger('all_success', ['failed', 'running'])).toBe('upstream_failed');
  expect(decideTrigger('all_success', ['upstream_failed'])).toBe('upstream_failed');
  expect(decideTrigger('all_success', ['skipped', 'success'])).toBe('skipped');
  expect(decideTrigger('all_success', ['up_for_retry'])).toBe('wait');
  expect(decideTrigger('all_done', ['failed', 'running'])).toBe('wait');
  expect(decideTrigger('all_done', ['failed', 'success', 'skipped'])).toBe('run');
  expect(decideTrigger('one_failed', ['failed', 'running'])).toBe('run');
  expect(decideTrigger('one_failed', ['success', 'running'])).toBe('wait');
  expect(decideTrigger('one_failed', ['success', 'skipped'])).toBe('skipped');
});
