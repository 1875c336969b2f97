/**
 * The serving half of the OnlineStore conformance suite: `getOnlineFeatures` (statuses, ttl, key coercion,
 * names, errors) and `push` (newer wins whatever the arrival order, validation before any write), run over
 * whichever online store the suite was given.
 */
import { CellarError } from '../../../../kernel-lib/errors.js';
import { getOnlineFeatures, push } from '../../../../kernel-lib/features/online/index.js';
import { encodeEntityKey, type OnlineStore } from '../../../../kernel-lib/features/stores.js';
import { driverStatsView, joinKeysOf, T, tripsView } from './memory-offline.js';

/** Expects `p` to reject with a CellarError of `code` whose message mentions `mentions`. */
export async function expectCode(p: Promise<unknown>, code: string, mentions?: string): Promise<void> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CellarError);
  expect((err as CellarError).code).toBe(code);
  if (mentions) expect((err as CellarError).message).toContain(mentions);
}

const key = (id: number | string): string => encodeEntityKey(['driver_id'], [id]);
/** "Now" of the serving tests. */
export const NOW = T('2023-01-01');

/** Defines the serving cases inside the caller's describe; `store()` returns the current test's online store. */
export function servingConformance(store: () => OnlineStore): void {
  let online: OnlineStore;
  beforeEach(() => {
    online = store();
  });

  describe('getOnlineFeatures', () => {
    const stats = driverStatsView({ ttl: '2d' });
    const city = tripsView();
    const views = [stats, city];
    beforeEach(async () => {
      await online.write('driver_stats', [
        {
          entityKey: key(1001),
          eventTs: NOW - 86_400_000,
          createdTs: null,
          values: { conv_rate: 0.5, acc_rate: null, avg_daily_trips: 10 },
        },
        {
          entityKey: key(1002),
          eventTs: NOW - 2 * 86_400_000,
          createdTs: null,
          values: { conv_rate: 0.6, acc_rate: 0.7, avg_daily_trips: 11 },
        },
        {
          entityKey: key(1003),
          eventTs: NOW - 2 * 86_400_000 - 1,
          createdTs: null,
          values: { conv_rate: 0.8, acc_rate: 0.9, avg_daily_trips: 12 },
        },
      ]);
      await online.write('driver_city', [
        {
          entityKey: encodeEntityKey(['driver_id', 'city'], [1001, 'Paris']),
          eventTs: T('2020-01-01'),
          createdTs: null,
          values: { last_city: 'Paris', active: true, last_trip: T('2019-12-31'), n: 3 },
        },
      ]);
    });
    const get = (
      features: string[],
      entityRows: Array<Record<string, unknown>>,
      extra: Record<string, unknown> = {},
    ) => getOnlineFeatures({ online, views, joinKeysOf, features, entityRows, nowMs: NOW, ...extra });

    test('values with PRESENT / NULL_VALUE / NOT_FOUND / OUTSIDE_MAX_AGE, ttl bound inclusive', async () => {
      const res = await get(
        ['driver_stats:conv_rate', 'driver_stats:acc_rate'],
        [{ driver_id: 1001 }, { driver_id: 1002 }, { driver_id: 1003 }, { driver_id: 9999 }],
      );
      expect(res.fieldNames).toEqual(['driver_id', 'conv_rate', 'acc_rate']);
      expect(res.results[0]!.values).toEqual([1001, 1002, 1003, 9999]);
      expect(res.results[1]!.values).toEqual([0.5, 0.6, null, null]);
      expect(res.results[1]!.statuses).toEqual(['PRESENT', 'PRESENT', 'OUTSIDE_MAX_AGE', 'NOT_FOUND']);
      expect(res.results[2]!.statuses).toEqual(['NULL_VALUE', 'PRESENT', 'OUTSIDE_MAX_AGE', 'NOT_FOUND']);
      expect(res.results[1]!.eventTimestamps).toEqual([
        new Date(NOW - 86_400_000),
        new Date(NOW - 2 * 86_400_000),
        new Date(NOW - 2 * 86_400_000 - 1),
        null,
      ]);
      expect(res.toRows()[0]).toEqual({ driver_id: 1001, conv_rate: 0.5, acc_rate: null });
      expect(res.toDict()).toEqual({
        driver_id: [1001, 1002, 1003, 9999],
        conv_rate: [0.5, 0.6, null, null],
        acc_rate: [null, 0.7, null, null],
      });
    });

    test('several views, composite keys, string/bool/timestamp values, ttl 0 never expires', async () => {
      const res = await get(
        [
          'driver_stats:avg_daily_trips',
          'driver_city:last_city',
          'driver_city:active',
          'driver_city:last_trip',
        ],
        [
          { driver_id: 1001, city: 'Paris' },
          { driver_id: 1001, city: 'Rome' },
        ],
      );
      expect(res.fieldNames).toEqual([
        'driver_id',
        'city',
        'avg_daily_trips',
        'last_city',
        'active',
        'last_trip',
      ]);
      expect(res.toRows()).toEqual([
        {
          driver_id: 1001,
          city: 'Paris',
          avg_daily_trips: 10,
          last_city: 'Paris',
          active: true,
          last_trip: new Date(T('2019-12-31')),
        },
        {
          driver_id: 1001,
          city: 'Rome',
          avg_daily_trips: 10,
          last_city: null,
          active: null,
          last_trip: null,
        },
      ]);
      expect(res.results[3]!.statuses).toEqual(['PRESENT', 'NOT_FOUND']);
    });

    test('join keys given as strings find numeric keys (probing, or coerced with keyTypes)', async () => {
      const res = await get(['driver_stats:conv_rate'], [{ driver_id: '1001' }, { driver_id: ' 1002' }]);
      expect(res.results[1]!.values).toEqual([0.5, 0.6]);
      const typed = await get(['driver_stats:conv_rate'], [{ driver_id: '1001' }], {
        keyTypesOf: () => ({ driver_id: 'number' }),
      });
      expect(typed.toRows()).toEqual([{ driver_id: 1001, conv_rate: 0.5 }]);
      await expectCode(
        get(['driver_stats:conv_rate'], [{ driver_id: 'abc' }], {
          keyTypesOf: () => ({ driver_id: 'number' }),
        }),
        'INVALID_INPUT',
        'driver_id',
      );
    });

    test('full feature names, name clashes and bad references', async () => {
      const res = await get(['driver_stats:conv_rate'], [{ driver_id: 1001 }], { fullFeatureNames: true });
      expect(res.fieldNames).toEqual(['driver_id', 'driver_stats__conv_rate']);
      const twin = driverStatsView({ name: 'twin' });
      await expectCode(
        getOnlineFeatures({
          online,
          views: [stats, twin],
          joinKeysOf,
          features: ['driver_stats:conv_rate', 'twin:conv_rate'],
          entityRows: [{ driver_id: 1 }],
        }),
        'INVALID_PARAMETER',
        'fullFeatureNames',
      );
      await expectCode(get(['nope:conv_rate'], [{ driver_id: 1001 }]), 'INVALID_PARAMETER', '"nope"');
      await expectCode(get(['driver_stats:nope'], [{ driver_id: 1001 }]), 'INVALID_PARAMETER', '"nope"');
      await expectCode(get(['driver_stats'], [{ driver_id: 1001 }]), 'INVALID_PARAMETER', 'view:feature');
      await expectCode(get(['driver_city:n'], [{ driver_id: 1001 }]), 'INVALID_INPUT', '"city"');
      await expectCode(
        get(['driver_stats:conv_rate'], [{ driver_id: 1001 }, { id: 1 }]),
        'INVALID_INPUT',
        'row 1',
      );
    });
  });

  describe('push', () => {
    const view = driverStatsView();
    const p = (rows: Array<Record<string, unknown>>, extra: Record<string, unknown> = {}) =>
      push({ online, view, joinKeys: ['driver_id'], rows, nowMs: NOW, ...extra });
    const base = { conv_rate: 0.1, acc_rate: 0.2, avg_daily_trips: 3 };

    test('the newer event timestamp wins whatever the arrival order; ties go to the newer created ts', async () => {
      expect(await p([{ driver_id: 1, datetime: '2022-12-02T00:00:00Z', ...base, conv_rate: 2 }])).toBe(1);
      expect(await p([{ driver_id: 1, datetime: new Date(T('2022-12-01')), ...base, conv_rate: 1 }])).toBe(0);
      expect(await p([{ driver_id: 2, event_timestamp: T('2022-12-01'), ...base, conv_rate: 1 }])).toBe(1);
      expect(await p([{ driver_id: 2, datetime: '2022-12-02T01:00:00+01:00', ...base, conv_rate: 2 }])).toBe(
        1,
      );
      const later = T('2022-12-05');
      await p([{ driver_id: 3, datetime: T('2022-12-01'), created: later, ...base, conv_rate: 5 }]);
      expect(
        await p([{ driver_id: 3, datetime: T('2022-12-01'), created: later - 1, ...base, conv_rate: 4 }]),
      ).toBe(0);
      const got = await online.read('driver_stats', [key(1), key(2), key(3)]);
      expect(got.map((g) => g?.values.conv_rate)).toEqual([2, 2, 5]);
      expect(got[0]?.createdTs).toBe(NOW);
    });

    test('bad rows write nothing; errors name the column', async () => {
      const good = { driver_id: 1, datetime: T('2022-12-01'), ...base };
      await expectCode(p([good, { datetime: T('2022-12-01'), ...base }]), 'INVALID_INPUT', '"driver_id"');
      await expectCode(p([good, { ...good, datetime: '2022-12-01 10:00' }]), 'INVALID_INPUT', '"datetime"');
      await expectCode(p([good, { ...good, conv_rate: 'high' }]), 'INVALID_INPUT', '"conv_rate"');
      await expectCode(p([good, { ...good, avg_daily_trips: 1.5 }]), 'INVALID_INPUT', '"avg_daily_trips"');
      await expectCode(p([good, { ...good, speed: 1 }]), 'INVALID_PARAMETER', '"speed"');
      const { acc_rate: _omit, ...partial } = good;
      await expectCode(p([good, partial]), 'INVALID_INPUT', '"acc_rate"');
      await expectCode(
        push({ online, view: driverStatsView({ online: false }), joinKeys: ['driver_id'], rows: [good] }),
        'INVALID_PARAMETER',
        'online',
      );
      expect(await online.read('driver_stats', [key(1)])).toEqual([null]);
    });

    test('a string key updates the entity stored with a numeric key; null values are NULL_VALUE', async () => {
      await online.write('driver_stats', [
        { entityKey: key(1001), eventTs: T('2022-12-01'), createdTs: null, values: base },
      ]);
      expect(await p([{ driver_id: '1001', datetime: T('2022-12-02'), ...base, acc_rate: null }])).toBe(1);
      expect(await online.read('driver_stats', [key('1001')])).toEqual([null]);
      const res = await getOnlineFeatures({
        online,
        views: [view],
        joinKeysOf,
        features: ['driver_stats:acc_rate', 'driver_stats:conv_rate'],
        entityRows: [{ driver_id: 1001 }],
        nowMs: NOW,
      });
      expect(res.results.map((r) => r.statuses[0])).toEqual(['PRESENT', 'NULL_VALUE', 'PRESENT']);
      expect(
        await p([{ driver_id: 'x9', datetime: T('2022-12-02'), ...base }], {
          keyTypes: { driver_id: 'string' },
        }),
      ).toBe(1);
      await expectCode(
        p([{ driver_id: 'x9', datetime: T('2022-12-02'), ...base }], { keyTypes: { driver_id: 'number' } }),
        'INVALID_INPUT',
      );
    });
  });
}
