/**
 * The point-in-time join against its readable reference (`latestAsOfNaive`) on many seeded random inputs —
 * key cardinalities from 1 to thousands, duplicate keys and timestamps, exact TTL edges, created timestamps
 * with nulls, the created-timestamp filter, composite and string keys, every key column container — plus
 * the documented tie rules, `latestRowPerKey`, `gather` and the radix sort it relies on.
 */
import {
  argsortByTime,
  gather,
  latestAsOfNaive,
  latestRowPerKey,
  pointInTimeJoin,
  type KeyColumn,
  type PitJoinInput,
} from '../../../kernel-lib/features/pit-join.js';
import { mulberry32 } from '../../../kernel-lib/ml/random.js';
import { errorCodeOfSync } from '../../helpers/errors.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2023, 0, 1);

interface Shape {
  nE: number;
  nF: number;
  card: number;
  /** Distinct time slots (few → many equal timestamps and exact TTL edges). */
  slots: number;
  ttlSlots: number;
  created: boolean;
  filter: boolean;
  nullKeys: boolean;
}

function randomShape(r: () => number): Shape {
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)]!;
  return {
    nE: 1 + Math.floor(r() * pick([10, 100, 600])),
    nF: Math.floor(r() * pick([10, 100, 2000])),
    card: 1 + Math.floor(r() * pick([1, 5, 50, 3000])),
    slots: 1 + Math.floor(r() * pick([3, 20, 500])),
    ttlSlots: pick([0, 0, 1, 2, 5]),
    created: r() < 0.6,
    filter: r() < 0.5,
    nullKeys: r() < 0.3,
  };
}

function randomInput(seed: number, shape: Shape = randomShape(mulberry32(seed))): PitJoinInput {
  const r = mulberry32(seed * 7919 + 1);
  const time = () => T0 + Math.floor(r() * shape.slots) * HOUR;
  const key = () => (shape.nullKeys && r() < 0.05 ? null : Math.floor(r() * shape.card));
  return {
    entityKeys: [Array.from({ length: shape.nE }, key)],
    entityTs: Float64Array.from({ length: shape.nE }, time),
    featureKeys: [Array.from({ length: shape.nF }, key)],
    featureTs: Float64Array.from({ length: shape.nF }, time),
    featureCreated: shape.created
      ? Float64Array.from({ length: shape.nF }, () =>
          r() < 0.25 ? NaN : time() + Math.floor(r() * 3) * HOUR,
        )
      : null,
    ttlMs: shape.ttlSlots * HOUR,
    filterByCreatedTimestamp: shape.filter,
  };
}

const same = (input: PitJoinInput) =>
  expect(Array.from(pointInTimeJoin(input))).toEqual(Array.from(latestAsOfNaive(input)));

describe('pointInTimeJoin matches latestAsOfNaive', () => {
  test('on 400 random inputs of varied shapes', () => {
    for (let seed = 1; seed <= 400; seed++) same(randomInput(seed));
  });

  test('with tiny chunks (rows of one key split over many chunks)', () => {
    for (let seed = 1; seed <= 60; seed++) {
      const input = randomInput(seed);
      same({ ...input, chunkRows: 1 + (seed % 7) });
    }
  });

  test('with long blocks (hundreds of entity rows per key: radix sort, search by halving), many equal times', () => {
    for (let seed = 1; seed <= 6; seed++) {
      const shape: Shape = {
        nE: 500,
        nF: 800,
        card: 2,
        slots: 50,
        ttlSlots: seed % 3,
        created: true,
        filter: seed % 2 === 0,
        nullKeys: false,
      };
      same(randomInput(1000 + seed, shape));
    }
  });

  test('with one key per entity row (tiny blocks) and with sparse, huge and float keys (hash path)', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const input = randomInput(2000 + seed, {
        nE: 300,
        nF: 900,
        card: 300,
        slots: 40,
        ttlSlots: 2,
        created: true,
        filter: false,
        nullKeys: true,
      });
      const scale = [1e9 + 7, 0.25, -3.5, 2 ** 40][seed % 4]!;
      const rescale = (col: KeyColumn) =>
        Array.from(col as ArrayLike<number | null>, (v) => (v === null ? null : v * scale));
      same({
        ...input,
        entityKeys: input.entityKeys.map(rescale),
        featureKeys: input.featureKeys.map(rescale),
      });
    }
  });

  test('with composite keys mixing numbers and strings', () => {
    for (let seed = 1; seed <= 80; seed++) {
      const a = randomInput(3000 + seed);
      const b = randomInput(4000 + seed, {
        ...randomShape(mulberry32(seed)),
        nE: a.entityTs.length,
        nF: a.featureTs.length,
        card: 3,
      });
      const str = (col: KeyColumn) =>
        Array.from(col as ArrayLike<number | null>, (v) => (v === null ? null : `k${v}`));
      same({
        ...a,
        entityKeys: [a.entityKeys[0]!, str(b.entityKeys[0]!)],
        featureKeys: [a.featureKeys[0]!, str(b.featureKeys[0]!)],
      });
    }
  });

  test('whatever the key container: Float64Array (NaN = null), Int32Array, BigInt64Array, plain arrays', () => {
    for (let seed = 1; seed <= 30; seed++) {
      const input = randomInput(5000 + seed);
      const expected = Array.from(latestAsOfNaive(input));
      const asF64 = (c: KeyColumn) =>
        Float64Array.from(c as ArrayLike<number | null>, (v) => (v === null ? NaN : v));
      const asI32 = (c: KeyColumn) =>
        Int32Array.from(c as ArrayLike<number | null>, (v) => (v === null ? -1 : v));
      const asBig = (c: KeyColumn) =>
        BigInt64Array.from(c as ArrayLike<number | null>, (v) => BigInt(v === null ? -1 : v));
      expect(
        Array.from(
          pointInTimeJoin({
            ...input,
            entityKeys: input.entityKeys.map(asF64),
            featureKeys: input.featureKeys.map(asF64),
          }),
        ),
      ).toEqual(expected);
      // -1 is an ordinary key in integer containers: compare against the reference on the same data.
      const i32 = {
        ...input,
        entityKeys: input.entityKeys.map(asI32),
        featureKeys: input.featureKeys.map(asI32),
      };
      expect(Array.from(pointInTimeJoin(i32))).toEqual(Array.from(latestAsOfNaive(i32)));
      const big = {
        ...input,
        entityKeys: input.entityKeys.map(asBig),
        featureKeys: input.featureKeys.map(asI32),
      };
      expect(Array.from(pointInTimeJoin(big))).toEqual(Array.from(latestAsOfNaive(big)));
    }
  });

  test('Int32Array keys (what polars int columns give) on the bucketed path, with tiny and odd chunks', () => {
    for (let seed = 1; seed <= 60; seed++) {
      const input = randomInput(9000 + seed);
      const asI32 = (c: KeyColumn) =>
        Int32Array.from(c as ArrayLike<number | null>, (v) => (v === null ? -1 : v));
      const i32 = {
        ...input,
        entityKeys: input.entityKeys.map(asI32),
        featureKeys: input.featureKeys.map(asI32),
      };
      const expected = Array.from(latestAsOfNaive(i32));
      for (const chunkRows of [1, 3, 64, 1 + (seed % 13)]) {
        expect(Array.from(pointInTimeJoin({ ...i32, chunkRows }))).toEqual(expected);
      }
    }
  });
});

describe('pointInTimeJoin semantics', () => {
  const base = {
    entityKeys: [[1, 1, 1, 1, 2, null]],
    entityTs: Float64Array.from([10, 11, 12, 9, 10, 10]),
    featureKeys: [[1, 2]],
    featureTs: Float64Array.from([10, 5]),
    ttlMs: 0,
  };

  test('feature_ts <= entity_ts, a null entity key matches nothing, unknown keys get -1', () => {
    expect(Array.from(pointInTimeJoin(base))).toEqual([0, 0, 0, -1, 1, -1]);
  });

  test('the TTL is inclusive at both ends', () => {
    expect(Array.from(pointInTimeJoin({ ...base, ttlMs: 1 }))).toEqual([0, 0, -1, -1, -1, -1]);
    expect(Array.from(pointInTimeJoin({ ...base, ttlMs: 5 }))).toEqual([0, 0, 0, -1, 1, -1]);
  });

  test('ties: larger created wins, null created loses, full ties go to the later row', () => {
    const input = {
      entityKeys: [[7]],
      entityTs: Float64Array.from([100]),
      featureKeys: [[7, 7, 7, 7]],
      featureTs: Float64Array.from([50, 50, 50, 50]),
      ttlMs: 0,
    };
    expect(pointInTimeJoin({ ...input, featureCreated: Float64Array.from([NaN, 3, 2, NaN]) })[0]).toBe(1);
    expect(pointInTimeJoin({ ...input, featureCreated: Float64Array.from([3, 3, 2, NaN]) })[0]).toBe(1);
    expect(pointInTimeJoin({ ...input, featureCreated: null })[0]).toBe(3);
  });

  test('filterByCreatedTimestamp skips rows created after the entity time (rows without created stay)', () => {
    const input = {
      entityKeys: [[1, 1]],
      entityTs: Float64Array.from([20, 40]),
      featureKeys: [[1, 1, 1]],
      featureTs: Float64Array.from([5, 10, 15]),
      featureCreated: Float64Array.from([5, 30, NaN]),
      ttlMs: 0,
    };
    expect(Array.from(pointInTimeJoin(input))).toEqual([2, 2]);
    expect(
      Array.from(
        pointInTimeJoin({
          ...input,
          featureCreated: Float64Array.from([5, 30, 35]),
          filterByCreatedTimestamp: true,
        }),
      ),
    ).toEqual([0, 2]);
  });

  test('NaN times match nothing; empty inputs give -1s; mismatched key columns are INVALID_INPUT', () => {
    const input = {
      entityKeys: [[1, 1]],
      entityTs: Float64Array.from([NaN, 5]),
      featureKeys: [[1, 1]],
      featureTs: Float64Array.from([1, NaN]),
      ttlMs: 0,
    };
    expect(Array.from(pointInTimeJoin(input))).toEqual([-1, 0]);
    expect(
      Array.from(pointInTimeJoin({ ...input, featureKeys: [[]], featureTs: new Float64Array(0) })),
    ).toEqual([-1, -1]);
    expect(errorCodeOfSync(() => pointInTimeJoin({ ...input, featureKeys: [[1]] }))).toBe('INVALID_INPUT');
    expect(
      errorCodeOfSync(() =>
        pointInTimeJoin({
          ...input,
          featureKeys: [
            [1, 1],
            [1, 1],
          ],
        }),
      ),
    ).toBe('INVALID_INPUT');
  });

  test('the number 1 and the string "1" are different keys', () => {
    const input = {
      entityKeys: [['1', 1]],
      entityTs: Float64Array.from([5, 5]),
      featureKeys: [[1]],
      featureTs: Float64Array.from([1]),
      ttlMs: 0,
    };
    expect(Array.from(pointInTimeJoin(input))).toEqual([-1, 0]);
  });
});

describe('latestRowPerKey', () => {
  test('picks the latest row per key inside [start, end), ties by created then by row, like a naive scan', () => {
    for (let seed = 1; seed <= 100; seed++) {
      const input = randomInput(6000 + seed);
      const keys = input.featureKeys;
      const ts = input.featureTs;
      const created = input.featureCreated ?? null;
      const startMs = T0 + 2 * HOUR;
      const endMs = T0 + 9 * HOUR;
      const best = new Map<unknown, number>();
      const cr = (i: number) => (created === null || Number.isNaN(created[i]) ? -Infinity : created[i]!);
      for (let i = 0; i < ts.length; i++) {
        const k = (keys[0] as ArrayLike<number | null>)[i];
        if (k === null || !(ts[i]! >= startMs && ts[i]! < endMs)) continue;
        const b = best.get(k);
        if (b === undefined || ts[i]! > ts[b]! || (ts[i] === ts[b] && cr(i) >= cr(b))) best.set(k, i);
      }
      const got = latestRowPerKey({ keys, ts, created, startMs, endMs });
      expect(Array.from(got).sort((a, b) => a - b)).toEqual([...best.values()].sort((a, b) => a - b));
    }
  });
});

describe('gather', () => {
  test('numeric columns get NaN and a null flag where nothing matched or the value is null', () => {
    const col = {
      dtype: 'float64' as const,
      data: Float64Array.from([1.5, 2.5, 0]),
      nulls: Uint8Array.from([0, 0, 1]),
    };
    const out = gather(col, Int32Array.from([1, -1, 2, 0]));
    expect(Array.from(out.nulls)).toEqual([0, 1, 1, 0]);
    expect(Array.from(out.data as Float64Array)).toEqual([2.5, NaN, NaN, 1.5]);
    expect(out.dtype).toBe('float64');
  });

  test('string and bool columns get null', () => {
    const col = { dtype: 'string' as const, data: ['a', null, 'c'], nulls: Uint8Array.from([0, 1, 0]) };
    const out = gather(col, Int32Array.from([2, 1, -1]));
    expect(out.data).toEqual(['c', null, null]);
    expect(Array.from(out.nulls)).toEqual([0, 1, 1]);
  });
});

describe('argsortByTime', () => {
  test('sorts stably by value, including negatives, -0, fractions and huge values', () => {
    const r = mulberry32(99);
    const pool = [-1e15, -2.5, -0, 0, 1e-9, 3, 3, 1.6e12, 1.6e12 + 0.5, 2 ** 60];
    const ts = Float64Array.from(
      { length: 5000 },
      () => pool[Math.floor(r() * pool.length)]! + (r() < 0.5 ? 0 : r()),
    );
    const rows = Int32Array.from({ length: 3000 }, (_, i) => (i * 7) % 5000);
    const got = Array.from(argsortByTime(ts, rows));
    const position = new Map(Array.from(rows, (row, i) => [row, i]));
    const want = Array.from(rows).sort(
      (a, b) => ts[a]! + 0 - (ts[b]! + 0) || position.get(a)! - position.get(b)!,
    );
    expect(got).toEqual(want);
  });
});
