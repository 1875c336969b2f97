/**
 * The shared conformance suite of `OfflineStore`: every backend (files now, PostgreSQL, …) runs exactly these
 * tests through its own factory. The factory receives each view's definition and its rows as columns, loads
 * them wherever the backend reads from (files, tables), and returns the store plus the view definitions to use
 * (same names, schemas, TTLs and column names; only the source may differ).
 *
 * Column conventions of the data: timestamps are epoch milliseconds (UTC), `null` is a missing value, and the
 * row order is the file order (the tie rule "equal (ts, created) → the later row wins" depends on it).
 */
import { latestAsOfNaive, latestRowPerKey } from '../../../kernel-lib/features/pit-join.js';
import type {
  EntityFrame,
  KeyValue,
  OfflineStore,
  ValueColumn,
} from '../../../kernel-lib/features/stores.js';
import {
  entity,
  featureView,
  fileSource,
  type FeatureDtype,
  type FeatureViewDef,
} from '../../../kernel-lib/features/types.js';
import { mulberry32 } from '../../../kernel-lib/ml/random.js';
import { expectCellarError } from '../../helpers/errors.js';

/** Type of one column of test data. */
export type ConformanceColumnType = 'int64' | 'float64' | 'string' | 'bool' | 'timestamp';

/** One view's rows, column-wise. */
export interface ConformanceTable {
  columns: Record<string, Array<number | string | boolean | null>>;
  types: Record<string, ConformanceColumnType>;
}

/** A view to load: its definition (the source path is a placeholder) and its data. */
export interface ConformanceView {
  view: FeatureViewDef;
  data: ConformanceTable;
}

/** Makes a store holding the given views; `dispose` runs after every test. */
export interface OfflineStoreFactory {
  create(views: ConformanceView[]): Promise<{ store: OfflineStore; views: FeatureViewDef[] }>;
  dispose?(): Promise<void>;
  /** False when the backend keeps no row order (then the "later row wins full ties" test is skipped). */
  fileOrderTies?: boolean;
}

/** Join keys of the views made by {@link conformanceView}, by view name. */
const registeredKeys = new Map<string, string[]>();

/** The join keys of a conformance view. */
export function joinKeysOf(view: FeatureViewDef): string[] {
  const keys = registeredKeys.get(view.name);
  if (!keys) throw new Error(`view ${view.name} was not made by conformanceView`);
  return keys;
}

const DAY = 86_400_000;
const HOUR = 3_600_000;
const t = (iso: string): number => Date.parse(iso);

/** Builds a view definition over a placeholder file source. */
export function conformanceView(opts: {
  name: string;
  joinKeys: string[];
  schema: Record<string, FeatureDtype>;
  ttl?: number | string;
  created?: boolean;
}): FeatureViewDef {
  registeredKeys.set(opts.name, opts.joinKeys);
  return featureView({
    name: opts.name,
    entities: [entity({ name: `${opts.name}_entity`, joinKeys: opts.joinKeys })],
    schema: opts.schema,
    ttl: opts.ttl ?? 0,
    source: fileSource({
      path: `placeholder-${opts.name}.parquet`,
      timestampField: 'event_ts',
      createdTimestampColumn: opts.created ? 'created_ts' : null,
    }),
  });
}

/** A ValueColumn as plain values (null where null). */
export function plain(col: ValueColumn | undefined): Array<number | string | boolean | null> {
  if (!col) throw new Error('missing column');
  return Array.from({ length: col.nulls.length }, (_, i) => (col.nulls[i] ? null : (col.data[i] ?? null)));
}

function frame(keys: Record<string, KeyValue[]>, ts: number[]): EntityFrame {
  return { nRows: ts.length, keys, ts: Float64Array.from(ts) };
}

/** The seed's driver_stats and orders (issue 3). */
function seedStats(): ConformanceView {
  const view = conformanceView({
    name: 'driver_stats',
    joinKeys: ['driver_id'],
    schema: { conv_rate: 'float64', acc_rate: 'float64', avg_daily_trips: 'int64' },
  });
  const days = ['2022-12-01', '2022-11-01', '2022-10-01', '2022-09-01'].map((d) => t(`${d}T00:00:00Z`));
  return {
    view,
    data: {
      types: {
        driver_id: 'int64',
        event_ts: 'timestamp',
        conv_rate: 'float64',
        acc_rate: 'float64',
        avg_daily_trips: 'int64',
      },
      columns: {
        driver_id: [1001, 1001, 1001, 1001],
        event_ts: days,
        conv_rate: [0.1, 0.2, 0.3, 0.4],
        acc_rate: [0.1, 0.2, 0.3, 0.4],
        avg_daily_trips: [100, 200, 300, 400],
      },
    },
  };
}

interface RandomCase {
  cv: ConformanceView;
  entity: EntityFrame;
  filter: boolean;
}

/** Random data on a coarse time grid so equal timestamps, duplicate keys and exact TTL edges all occur. */
function randomCase(seed: number): RandomCase {
  const r = mulberry32(seed);
  const nF = 50 + Math.floor(r() * 250);
  const nE = 20 + Math.floor(r() * 150);
  const card = 1 + Math.floor(r() * 12);
  const withCreated = r() < 0.7;
  const ttl = [0, 2 * HOUR, 5 * HOUR][Math.floor(r() * 3)]!;
  const grid = (n: number) => t('2023-01-01T00:00:00Z') + Math.floor(r() * n) * HOUR;
  const view = conformanceView({
    name: `rnd${seed}`,
    joinKeys: ['k1', 'k2'],
    schema: { x: 'float64', n: 'int64', s: 'string' },
    ttl,
    created: withCreated,
  });
  const columns: ConformanceTable['columns'] = {
    k1: Array.from({ length: nF }, () => Math.floor(r() * card)),
    k2: Array.from({ length: nF }, () => (r() < 0.5 ? 'a' : 'b')),
    event_ts: Array.from({ length: nF }, () => grid(30)),
    x: Array.from({ length: nF }, () => (r() < 0.1 ? null : Math.round(r() * 1e6) / 1e3)),
    n: Array.from({ length: nF }, () => (r() < 0.1 ? null : Math.floor(r() * 1000) - 500)),
    s: Array.from({ length: nF }, () => (r() < 0.1 ? null : `v${Math.floor(r() * 50)}`)),
  };
  const types: ConformanceTable['types'] = {
    k1: 'int64',
    k2: 'string',
    event_ts: 'timestamp',
    x: 'float64',
    n: 'int64',
    s: 'string',
  };
  if (withCreated) {
    columns.created_ts = columns.event_ts!.map((v) =>
      r() < 0.2 ? null : (v as number) + Math.floor(r() * 3) * HOUR,
    );
    types.created_ts = 'timestamp';
  }
  const entity = frame(
    {
      k1: Array.from({ length: nE }, () => Math.floor(r() * (card + 1))),
      k2: Array.from({ length: nE }, () => (r() < 0.5 ? 'a' : 'b')),
    },
    Array.from({ length: nE }, () => grid(36)),
  );
  return { cv: { view, data: { columns, types } }, entity, filter: withCreated && r() < 0.5 };
}

/** Defines the suite for one implementation. */
export function offlineConformance(name: string, factory: OfflineStoreFactory): void {
  describe(`OfflineStore conformance: ${name}`, () => {
    let store: OfflineStore | null = null;
    afterEach(async () => {
      await store?.close();
      store = null;
      await factory.dispose?.();
    });
    const load = async (...views: ConformanceView[]): Promise<FeatureViewDef[]> => {
      const made = await factory.create(views);
      store = made.store;
      return made.views;
    };
    const join = async (views: FeatureViewDef[], entity: EntityFrame, filterByCreatedTimestamp = false) =>
      store!.historicalJoin({
        entity,
        views: views.map((view) => ({
          view,
          features: Object.keys(view.schema),
          joinKeys: joinKeysOf(view),
        })),
        filterByCreatedTimestamp,
      });

    test("the seed's example: orders get the stats known at their time", async () => {
      const [stats] = await load(seedStats());
      const entity = frame({ driver_id: [1001, 1001] }, [
        t('2022-12-15T00:00:00Z'),
        t('2022-09-15T00:00:00Z'),
      ]);
      const out = (await join([stats!], entity)).driver_stats!;
      expect(plain(out.conv_rate)).toEqual([0.1, 0.4]);
      expect(plain(out.acc_rate)).toEqual([0.1, 0.4]);
      expect(plain(out.avg_daily_trips)).toEqual([100, 400]);
    });

    test('entities without rows, keys given as strings, and times before every row get nulls', async () => {
      const [stats] = await load(seedStats());
      const entity = frame({ driver_id: ['1001', 1002, 1001] }, [
        t('2022-10-02T00:00:00Z'),
        t('2022-12-15T00:00:00Z'),
        t('2022-08-01T00:00:00Z'),
      ]);
      const out = (await join([stats!], entity)).driver_stats!;
      expect(plain(out.conv_rate)).toEqual([0.3, null, null]);
    });

    test('TTL bounds are inclusive at both ends, to the millisecond', async () => {
      const base = seedStats();
      const view = { ...base.view, ttlMs: 2 * DAY };
      const [stats] = await load({ view, data: base.data });
      const sep1 = t('2022-09-01T00:00:00Z');
      const entity = frame({ driver_id: [1001, 1001, 1001, 1001] }, [
        sep1 + 2 * DAY,
        sep1 + 2 * DAY + 1,
        sep1,
        sep1 - 1,
      ]);
      const out = (await join([stats!], entity)).driver_stats!;
      expect(plain(out.conv_rate)).toEqual([0.4, null, 0.4, null]);
    });

    test('equal event times: the latest created time wins, a null created time loses', async () => {
      const view = conformanceView({
        name: 'ties',
        joinKeys: ['id'],
        schema: { v: 'float64' },
        created: true,
      });
      const ts = t('2023-01-01T00:00:00Z');
      const [v] = await load({
        view,
        data: {
          types: { id: 'int64', event_ts: 'timestamp', created_ts: 'timestamp', v: 'float64' },
          columns: {
            id: [1, 1, 1, 2, 2],
            event_ts: [ts, ts, ts, ts, ts],
            created_ts: [ts + 5, ts + 9, null, null, ts],
            v: [1, 2, 3, 4, 5],
          },
        },
      });
      const out = (await join([v!], frame({ id: [1, 2] }, [ts, ts + DAY]))).ties!;
      expect(plain(out.v)).toEqual([2, 5]);
    });

    (factory.fileOrderTies === false ? test.skip : test)(
      'full ties (same event and created time): the later row wins',
      async () => {
        const view = conformanceView({
          name: 'dups',
          joinKeys: ['id'],
          schema: { v: 'float64' },
          created: true,
        });
        const ts = t('2023-01-01T00:00:00Z');
        const [v] = await load({
          view,
          data: {
            types: { id: 'int64', event_ts: 'timestamp', created_ts: 'timestamp', v: 'float64' },
            columns: { id: [1, 1, 1], event_ts: [ts, ts, ts - 1], created_ts: [ts, ts, ts], v: [1, 2, 3] },
          },
        });
        expect(plain((await join([v!], frame({ id: [1] }, [ts]))).dups!.v)).toEqual([2]);
      },
    );

    test('a null value in the winning row stays null (no fallback to older rows); types round-trip', async () => {
      const view = conformanceView({
        name: 'typed',
        joinKeys: ['id'],
        schema: { f: 'float64', i: 'int64', s: 'string', b: 'bool', when: 'timestamp' },
      });
      const d1 = t('2023-01-01T00:00:00Z');
      const [v] = await load({
        view,
        data: {
          types: {
            id: 'string',
            event_ts: 'timestamp',
            f: 'float64',
            i: 'int64',
            s: 'string',
            b: 'bool',
            when: 'timestamp',
          },
          columns: {
            id: ['a', 'a', 'b'],
            event_ts: [d1, d1 + DAY, d1],
            f: [0.1, null, 1 / 3],
            i: [1, 2, -3],
            s: ['x', 'y', null],
            b: [true, false, null],
            when: [d1 - DAY, null, d1 + 7],
          },
        },
      });
      const out = (await join([v!], frame({ id: ['a', 'b', 'c'] }, [d1 + 2 * DAY, d1, d1]))).typed!;
      expect(plain(out.f)).toEqual([null, 1 / 3, null]);
      expect(plain(out.i)).toEqual([2, -3, null]);
      expect(plain(out.s)).toEqual(['y', null, null]);
      expect(plain(out.b)).toEqual([false, null, null]);
      expect(plain(out.when)).toEqual([null, d1 + 7, null]);
    });

    test('filterByCreatedTimestamp hides rows created after the entity time', async () => {
      const view = conformanceView({
        name: 'late',
        joinKeys: ['id'],
        schema: { v: 'float64' },
        created: true,
      });
      const d1 = t('2023-01-01T00:00:00Z');
      const [v] = await load({
        view,
        data: {
          types: { id: 'int64', event_ts: 'timestamp', created_ts: 'timestamp', v: 'float64' },
          columns: {
            id: [1, 1, 1],
            event_ts: [d1, d1 + HOUR, d1 + 2 * HOUR],
            created_ts: [d1, d1 + DAY, null],
            v: [1, 2, 3],
          },
        },
      });
      const entity = frame({ id: [1, 1] }, [d1 + 90 * 60_000, d1 + 2 * DAY]);
      expect(plain((await join([v!], entity, false)).late!.v)).toEqual([2, 3]);
      expect(plain((await join([v!], entity, true)).late!.v)).toEqual([1, 3]);
    });

    test('several views with different keys and TTLs, composite keys, unsorted rows, entity order kept', async () => {
      const trips = conformanceView({
        name: 'trips',
        joinKeys: ['driver_id', 'city'],
        schema: { trips: 'int64' },
        ttl: '1d',
      });
      const d1 = t('2023-01-01T00:00:00Z');
      const [stats, tv] = await load(seedStats(), {
        view: trips,
        data: {
          types: { driver_id: 'int64', city: 'string', event_ts: 'timestamp', trips: 'int64' },
          columns: {
            driver_id: [1001, 1001, 1001, 1002],
            city: ['paris', 'rome', 'paris', 'paris'],
            event_ts: [d1 + 2 * HOUR, d1, d1, d1],
            trips: [12, 20, 10, 30],
          },
        },
      });
      const entity = frame(
        { driver_id: [1001, 1001, 1001, 1002, 1001], city: ['paris', 'rome', 'paris', 'rome', 'paris'] },
        [d1 + HOUR, d1 + 3 * HOUR, d1 + 3 * HOUR, d1, d1 + 3 * DAY],
      );
      const out = await join([stats!, tv!], entity);
      expect(plain(out.trips!.trips)).toEqual([10, 20, 12, null, null]);
      expect(plain(out.driver_stats!.conv_rate)).toEqual([0.1, 0.1, 0.1, null, 0.1]);
    });

    test('a missing entity key column is an INVALID_INPUT error', async () => {
      const [stats] = await load(seedStats());
      await expectCellarError(join([stats!], frame({ other: [1] }, [0])), 'INVALID_INPUT');
    });

    test('matches the reference join on random data (ties, nulls, TTL edges, composite keys)', async () => {
      const cases = [1, 2, 3, 4, 5, 6].map(randomCase);
      const views = await load(...cases.map((c) => c.cv));
      for (let i = 0; i < cases.length; i++) {
        const { cv, entity, filter } = cases[i]!;
        const cols = cv.data.columns;
        const index = latestAsOfNaive({
          entityKeys: [entity.keys.k1!, entity.keys.k2!],
          entityTs: entity.ts,
          featureKeys: [cols.k1 as number[], cols.k2 as string[]],
          featureTs: Float64Array.from(cols.event_ts as number[]),
          featureCreated: cols.created_ts
            ? Float64Array.from(cols.created_ts, (v) => (v === null ? NaN : (v as number)))
            : null,
          ttlMs: cv.view.ttlMs,
          filterByCreatedTimestamp: filter,
        });
        const out = (await join([views[i]!], entity, filter))[cv.view.name]!;
        for (const f of ['x', 'n', 's']) {
          expect(plain(out[f])).toEqual(Array.from(index, (j) => (j < 0 ? null : cols[f]![j]!)));
        }
      }
    });

    test('pullLatest returns the latest row per entity inside [start, end)', async () => {
      const cases = [11, 12, 13].map(randomCase);
      const views = await load(...cases.map((c) => c.cv));
      for (let i = 0; i < cases.length; i++) {
        const cols = cases[i]!.cv.data.columns;
        const startMs = t('2023-01-01T05:00:00Z');
        const endMs = t('2023-01-01T20:00:00Z');
        const expected = latestRowPerKey({
          keys: [cols.k1 as number[], cols.k2 as string[]],
          ts: Float64Array.from(cols.event_ts as number[]),
          created: cols.created_ts
            ? Float64Array.from(cols.created_ts, (v) => (v === null ? NaN : (v as number)))
            : null,
          startMs,
          endMs,
        });
        const got = await store!.pullLatest({
          view: views[i]!,
          joinKeys: ['k1', 'k2'],
          features: ['x', 's'],
          startMs,
          endMs,
        });
        const rowsOf = (k1: unknown[], k2: unknown[], ts: ArrayLike<number>, x: unknown[]) =>
          k1.map((_, j) => JSON.stringify([k1[j], k2[j], ts[j], x[j]])).sort();
        expect(rowsOf(got.keys.k1!, got.keys.k2!, got.ts, plain(got.values.x))).toEqual(
          rowsOf(
            Array.from(expected, (j) => cols.k1![j]),
            Array.from(expected, (j) => cols.k2![j]),
            Array.from(expected, (j) => cols.event_ts![j] as number),
            Array.from(expected, (j) => cols.x![j]),
          ),
        );
      }
    });
  });
}
