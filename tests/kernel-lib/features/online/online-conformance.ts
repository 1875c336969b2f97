/**
 * The shared conformance suite of `OnlineStore`: the store contract itself (newer-wins writes, reads,
 * deletes) and, over it, materialization, `getOnlineFeatures` and `push`. Every online backend runs it
 * through its own factory.
 */
import {
  materialize,
  materializeIncremental,
  readWatermarks,
} from '../../../../kernel-lib/features/online/index.js';
import { encodeEntityKey, type OnlineRow, type OnlineStore } from '../../../../kernel-lib/features/stores.js';
import type { SqliteDb } from '../../../../kernel-lib/store/sqlite.js';
import {
  driverStatsView,
  joinKeysOf,
  MemoryOfflineStore,
  newer,
  rng,
  seedStats,
  T,
  type MemRow,
} from './memory-offline.js';
import { expectCode, NOW, servingConformance } from './serving-conformance.js';

/** A fresh, empty online store per test, plus a store database for watermarks. */
export interface OnlineFactory {
  create(): Promise<{ online: OnlineStore; db: SqliteDb }>;
  dispose(): Promise<void>;
}

const key = (id: number | string): string => encodeEntityKey(['driver_id'], [id]);
const row = (id: number | string, eventTs: number, createdTs: number | null, v: number): OnlineRow => ({
  entityKey: key(id),
  eventTs,
  createdTs,
  values: { conv_rate: v },
});

/** Defines the suite for one implementation. */
export function onlineConformance(name: string, factory: OnlineFactory): void {
  describe(`OnlineStore conformance: ${name}`, () => {
    let online: OnlineStore;
    let db: SqliteDb;
    beforeEach(async () => {
      ({ online, db } = await factory.create());
    });
    afterEach(() => factory.dispose());

    describe('store contract', () => {
      test('reads what was written, in order, null where nothing is stored; values round-trip', async () => {
        const values = { s: 'x', b: true, n: 1.5, z: null, i: 7 };
        expect(await online.write('v', [{ entityKey: key(1), eventTs: 10, createdTs: 5, values }])).toBe(1);
        const got = await online.read('v', [key(2), key(1), key(1)]);
        expect(got[0]).toBeNull();
        expect(got[1]).toEqual({ eventTs: 10, createdTs: 5, values });
        expect(got[2]).toEqual(got[1]);
        expect(await online.read('v', [])).toEqual([]);
      });

      test('newer event ts wins whatever the order; ties go to the newer created ts; none < any', async () => {
        expect(await online.write('v', [row(1, 200, null, 2)])).toBe(1);
        expect(await online.write('v', [row(1, 100, 999, 1)])).toBe(0); // older event ts, even if created later
        expect(await online.write('v', [row(1, 200, 50, 3)])).toBe(1); // tie, created beats none
        expect(await online.write('v', [row(1, 200, 40, 4)])).toBe(0); // tie, older created
        expect(await online.write('v', [row(1, 200, null, 5)])).toBe(0); // tie, none loses
        expect(await online.write('v', [row(1, 200, 50, 6)])).toBe(0); // identical (ts, created): kept
        expect((await online.read('v', [key(1)]))[0]).toMatchObject({
          eventTs: 200,
          createdTs: 50,
          values: { conv_rate: 3 },
        });
      });

      test('within one call, later rows of an entity only win when newer', async () => {
        const n = await online.write('v', [
          row(1, 300, null, 3),
          row(1, 100, null, 1),
          row(2, 100, null, 1),
          row(2, 300, null, 3),
        ]);
        expect(n).toBe(3);
        const got = await online.read('v', [key(1), key(2)]);
        expect(got.map((g) => g?.values.conv_rate)).toEqual([3, 3]);
      });

      test('1001 and "1001" are different entities; views are separate; deleteView clears one view', async () => {
        await online.write('a', [row(1001, 1, null, 1), row('1001', 1, null, 2)]);
        await online.write('b', [row(1001, 1, null, 3)]);
        const a = await online.read('a', [key(1001), key('1001')]);
        expect(a.map((g) => g?.values.conv_rate)).toEqual([1, 2]);
        await online.deleteView('a');
        expect(await online.read('a', [key(1001), key('1001')])).toEqual([null, null]);
        expect((await online.read('b', [key(1001)]))[0]?.values.conv_rate).toBe(3);
      });

      test('random writes in random order converge to the newest row per entity', async () => {
        const r = rng(7);
        const all: Array<MemRow & { id: number }> = [];
        for (let i = 0; i < 3000; i++) {
          all.push({
            id: Math.floor(r() * 200),
            ts: Math.floor(r() * 20),
            created: r() < 0.3 ? null : Math.floor(r() * 5),
            v: i,
          });
        }
        // Rows tied on both timestamps have no defined winner: keep only rows without such a twin.
        const tie = (x: MemRow & { id: number }): string => `${x.id}/${x.ts}/${x.created ?? null}`;
        const counts = new Map<string, number>();
        for (const x of all) counts.set(tie(x), (counts.get(tie(x)) ?? 0) + 1);
        const unique = all.filter((x) => counts.get(tie(x)) === 1);
        const shuffled = [...unique].sort(() => r() - 0.5);
        for (let i = 0; i < shuffled.length; i += 250) {
          await online.write(
            'v',
            shuffled.slice(i, i + 250).map((x) => row(x.id, x.ts, x.created ?? null, x.v as number)),
          );
        }
        const bestUnique = new Map<number, MemRow>();
        for (const x of unique)
          if (!bestUnique.has(x.id) || newer(x, bestUnique.get(x.id)!)) bestUnique.set(x.id, x);
        const ids = [...bestUnique.keys()];
        const got = await online.read(
          'v',
          ids.map((id) => key(id)),
        );
        expect(got.map((g) => g?.values.conv_rate)).toEqual(ids.map((id) => bestUnique.get(id)!.v));
      });

      test('a 100K-row write lands completely', async () => {
        const rows: OnlineRow[] = [];
        for (let i = 0; i < 100_000; i++) rows.push(row(i, 1000 + i, null, i / 10));
        expect(await online.write('big', rows)).toBe(100_000);
        const got = await online.read('big', [key(0), key(54_321), key(99_999)]);
        expect(got.map((g) => g?.values.conv_rate)).toEqual([0, 5432.1, 9999.9]);
      });
    });

    describe('materialize', () => {
      const ctx = (offline: MemoryOfflineStore, views = [driverStatsView()]) => ({
        offline,
        online,
        db,
        views,
        joinKeysOf,
        nowMs: NOW,
      });

      test('writes the latest value per entity in [start, end); records the run and the watermark; idempotent', async () => {
        const offline = new MemoryOfflineStore({
          driver_stats: [
            ...seedStats(),
            { ...seedStats()[0]!, driver_id: 1002, ts: T('2022-08-01'), created: null },
          ],
        });
        const res = await materialize({ ...ctx(offline), startMs: T('2022-01-01'), endMs: T('2022-11-15') });
        expect(res).toEqual([
          { view: 'driver_stats', rows: 2, updated: 2, startMs: T('2022-01-01'), endMs: T('2022-11-15') },
        ]);
        const got = await online.read('driver_stats', [key(1001), key(1002)]);
        expect(got[0]).toMatchObject({
          eventTs: T('2022-11-01'),
          values: { conv_rate: 0.2, acc_rate: 0.2, avg_daily_trips: 200 },
        });
        expect(got[1]).toMatchObject({ eventTs: T('2022-08-01'), createdTs: null });
        expect(readWatermarks(db)).toEqual({ driver_stats: T('2022-11-15') });
        const again = await materialize({
          ...ctx(offline),
          startMs: T('2022-01-01'),
          endMs: T('2022-11-15'),
        });
        expect(again[0]).toMatchObject({ rows: 2, updated: 0 });
        expect(await online.read('driver_stats', [key(1001), key(1002)])).toEqual(got);
        const runs = db
          .prepare('SELECT view, start_ts, end_ts, rows FROM materializations ORDER BY id')
          .all();
        expect(runs).toEqual([
          { view: 'driver_stats', start_ts: T('2022-01-01'), end_ts: T('2022-11-15'), rows: 2 },
          { view: 'driver_stats', start_ts: T('2022-01-01'), end_ts: T('2022-11-15'), rows: 2 },
        ]);
      });

      test('an older window after a newer one changes nothing', async () => {
        const offline = new MemoryOfflineStore({ driver_stats: seedStats() });
        await materialize({ ...ctx(offline), startMs: 0, endMs: NOW });
        const res = await materialize({ ...ctx(offline), startMs: 0, endMs: T('2022-10-15') });
        expect(res[0]).toMatchObject({ rows: 1, updated: 0 });
        expect((await online.read('driver_stats', [key(1001)]))[0]?.values.conv_rate).toBe(0.1);
        expect(readWatermarks(db).driver_stats).toBe(NOW); // the watermark never moves back
      });

      test('a future end is rejected before anything is written', async () => {
        const offline = new MemoryOfflineStore({ driver_stats: seedStats() });
        await expectCode(
          materialize({ ...ctx(offline), startMs: 0, endMs: NOW + 1 }),
          'INVALID_PARAMETER',
          'future',
        );
        await expectCode(
          materializeIncremental({ ...ctx(offline), endMs: NOW + 60_000 }),
          'INVALID_PARAMETER',
          'future',
        );
        await expectCode(
          materialize({ ...ctx(offline), startMs: NOW, endMs: NOW - 1 }),
          'INVALID_PARAMETER',
          'after',
        );
        expect(offline.pulls).toBe(0);
        expect(await online.read('driver_stats', [key(1001)])).toEqual([null]);
        expect(readWatermarks(db)).toEqual({});
      });

      test('a failing source writes nothing for any view; a failing online write leaves the watermark', async () => {
        const other = driverStatsView({ name: 'other_stats' });
        const offline = new MemoryOfflineStore({ driver_stats: seedStats(), other_stats: seedStats() });
        offline.failFor.add('other_stats');
        await expectCode(
          materialize({ ...ctx(offline, [driverStatsView(), other]), startMs: 0, endMs: NOW }),
          'NOT_FOUND',
        );
        expect(await online.read('driver_stats', [key(1001)])).toEqual([null]);
        expect(readWatermarks(db)).toEqual({});

        const broken: OnlineStore = {
          write: async () => {
            throw new Error('connection lost');
          },
          read: (v, k) => online.read(v, k),
          deleteView: (v) => online.deleteView(v),
          close: async () => {},
        };
        await expect(
          materializeIncremental({
            ...ctx(new MemoryOfflineStore({ driver_stats: seedStats() })),
            online: broken,
            endMs: NOW,
          }),
        ).rejects.toThrow('connection lost');
        expect(readWatermarks(db)).toEqual({});
        expect(db.prepare('SELECT count(*) AS n FROM materializations').get()).toEqual({ n: 0 });
      });

      test('incremental: starts at end - ttl (or 0), then continues from the watermark; offline views are skipped', async () => {
        const withTtl = driverStatsView({ ttl: '40d' });
        const unbounded = driverStatsView({ name: 'all_time' });
        const offlineOnly = driverStatsView({ name: 'offline_only', online: false });
        const offline = new MemoryOfflineStore({
          driver_stats: seedStats(),
          all_time: seedStats(),
          offline_only: seedStats(),
        });
        const views = [withTtl, unbounded, offlineOnly];
        const first = await materializeIncremental({ ...ctx(offline, views), endMs: T('2022-11-05') });
        expect(first.map((r) => [r.view, r.startMs, r.rows])).toEqual([
          ['driver_stats', T('2022-11-05') - 40 * 86_400_000, 1],
          ['all_time', 0, 1],
        ]);
        expect(await online.read('offline_only', [key(1001)])).toEqual([null]);
        offline.rows.driver_stats!.push({
          driver_id: 1001,
          ts: T('2022-12-10'),
          created: null,
          conv_rate: 0.9,
          acc_rate: 0.9,
          avg_daily_trips: 900,
        });
        const second = await materializeIncremental({ ...ctx(offline, views), endMs: T('2022-12-20') });
        expect(second[0]).toMatchObject({ view: 'driver_stats', startMs: T('2022-11-05'), rows: 1 });
        expect((await online.read('driver_stats', [key(1001)]))[0]?.values.conv_rate).toBe(0.9);
        expect(readWatermarks(db)).toEqual({ driver_stats: T('2022-12-20'), all_time: T('2022-12-20') });
        const third = await materializeIncremental({ ...ctx(offline, views), endMs: T('2022-12-20') });
        expect(third.map((r) => r.rows)).toEqual([0, 0]);
      });

      test('random data, materialized in random incremental steps, equals the naive latest per entity', async () => {
        const r = rng(11);
        const rows: MemRow[] = [];
        for (let i = 0; i < 4000; i++) {
          rows.push({
            driver_id: 1000 + Math.floor(r() * 300),
            ts: T('2022-01-01') + Math.floor(r() * 100) * 3_600_000,
            created: r() < 0.2 ? null : T('2022-01-01') + Math.floor(r() * 4) * 60_000,
            conv_rate: r() < 0.05 ? null : Math.round(r() * 1000) / 1000,
            acc_rate: i,
            avg_daily_trips: Math.floor(r() * 50),
          });
        }
        const offline = new MemoryOfflineStore({ driver_stats: rows });
        let end = T('2022-01-01');
        while (end < T('2022-01-06')) {
          end += Math.floor(r() * 30) * 3_600_000;
          await materializeIncremental({ ...ctx(offline), endMs: Math.min(end, T('2022-01-06')) });
        }
        const best = new Map<number, MemRow>();
        for (const x of rows) {
          const id = x.driver_id as number;
          if (!best.has(id) || newer(x, best.get(id)!)) best.set(id, x);
        }
        const ids = [...best.keys()];
        const got = await online.read(
          'driver_stats',
          ids.map((id) => key(id)),
        );
        // Fully tied rows (same ts and created) have no defined winner: compare the timestamps for those.
        ids.forEach((id, i) => {
          const want = best.get(id)!;
          expect([got[i]?.eventTs, got[i]?.createdTs]).toEqual([want.ts, want.created ?? null]);
          const ties = rows.filter(
            (x) => x.driver_id === id && x.ts === want.ts && (x.created ?? null) === (want.created ?? null),
          );
          if (ties.length === 1)
            expect(got[i]?.values).toEqual({
              conv_rate: want.conv_rate,
              acc_rate: want.acc_rate,
              avg_daily_trips: want.avg_daily_trips,
            });
        });
      });
    });
    servingConformance(() => online);
  });
}
