/** trainTestSplit: deterministic, scikit-learn sizes, and the same shape out as in. */
import pl from 'nodejs-polars';
import { CellarError } from '../../../kernel-lib/errors.js';
import { splitIndices, trainTestSplit } from '../../../kernel-lib/ml/index.js';

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

test('same seed → same split; another seed → another split', () => {
  const rows = range(100).map((i) => ({ i }));
  const [a1, b1] = trainTestSplit(rows, { seed: 7 });
  const [a2, b2] = trainTestSplit(rows, { seed: 7 });
  const [a3] = trainTestSplit(rows, { seed: 8 });
  expect(a1).toEqual(a2);
  expect(b1).toEqual(b2);
  expect(a3).not.toEqual(a1);
});

test('the split for seed 42 is pinned (cellar’s own mulberry32 + Fisher–Yates)', () => {
  expect(splitIndices(10, { testSize: 0.2, seed: 42 })).toEqual({
    train: [3, 5, 2, 1, 8, 9, 4, 6],
    test: [0, 7],
  });
});

test('test size is ceil(n · testSize) for fractions, or a row count', () => {
  expect(splitIndices(10, { testSize: 0.25 }).test).toHaveLength(3);
  expect(splitIndices(10).test).toHaveLength(3); // default 0.25
  expect(splitIndices(5, { testSize: 0.2 }).test).toHaveLength(1);
  expect(splitIndices(1000, { testSize: 0.2 }).test).toHaveLength(200);
  expect(splitIndices(10, { testSize: 4 }).test).toHaveLength(4);
  const { train, test } = splitIndices(50, { testSize: 0.3, seed: 1 });
  expect([...train, ...test].sort((a, b) => a - b)).toEqual(range(50));
});

test('shuffle=false keeps order: first rows train, last rows test', () => {
  expect(splitIndices(5, { testSize: 2, shuffle: false })).toEqual({ train: [0, 1, 2], test: [3, 4] });
});

test('X, y overload returns [XTrain, XTest, yTrain, yTest] with aligned rows', () => {
  const X = range(20).map((i) => [i, i * 2]);
  const y = range(20).map((i) => i * 10);
  const [XTrain, XTest, yTrain, yTest] = trainTestSplit(X, y, { testSize: 0.2, seed: 3 });
  expect(XTrain).toHaveLength(16);
  expect(XTest).toHaveLength(4);
  XTrain.forEach((r, k) => expect(yTrain[k]).toBe(r[0] * 10));
  XTest.forEach((r, k) => expect(yTest[k]).toBe(r[0] * 10));
});

test('typed arrays and column objects keep their shape', () => {
  const y = Float64Array.from(range(10));
  const cols = { a: range(10), b: Float64Array.from(range(10), (v) => v * 2) };
  const [cTrain, cTest, yTrain, yTest] = trainTestSplit(cols, y, { testSize: 3, seed: 5 });
  expect(yTrain).toBeInstanceOf(Float64Array);
  expect(yTest).toHaveLength(3);
  expect(cTest.b).toBeInstanceOf(Float64Array);
  expect(Array.from(cTest.b)).toEqual(Array.from(yTest, (v) => v * 2));
  expect(cTrain.a).toEqual(Array.from(yTrain));
});

test('polars DataFrames split into DataFrames; Series into Series', () => {
  const df = pl.DataFrame({ id: range(10), x: range(10).map((i) => i / 10), s: range(10).map(String) });
  const [train, test] = trainTestSplit(df, { testSize: 0.2, seed: 42 });
  expect(train.height).toBe(8);
  expect(test.height).toBe(2);
  expect(train.columns).toEqual(['id', 'x', 's']);
  expect(test.getColumn('id').toArray()).toEqual([0, 7]);
  expect(test.getColumn('s').toArray()).toEqual(['0', '7']);
  const yS = pl.Series(
    'y',
    range(10).map((i) => i * 100),
  );
  const [, XTest, , yTest] = trainTestSplit(df, yS, { testSize: 0.2, seed: 42 });
  expect(XTest.getColumn('id').toArray()).toEqual([0, 7]);
  expect(yTest.toArray()).toEqual([0, 700]);
});

test('bad sizes, seeds, options and mismatched X/y', () => {
  const bad = (fn: () => unknown, code: string, msg: RegExp) => {
    let err: unknown;
    try {
      fn();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CellarError);
    expect((err as CellarError).code).toBe(code);
    expect((err as CellarError).message).toMatch(msg);
  };
  bad(() => splitIndices(10, { testSize: 0 }), 'INVALID_PARAMETER', /testSize must be a fraction/);
  bad(() => splitIndices(10, { testSize: 1.5 }), 'INVALID_PARAMETER', /testSize must be a fraction/);
  bad(() => splitIndices(10, { testSize: 10 }), 'INVALID_PARAMETER', /leaves none for training/);
  bad(() => splitIndices(10, { seed: 1.5 }), 'INVALID_PARAMETER', /seed must be an integer/);
  bad(() => splitIndices(0), 'INVALID_INPUT', /no rows/);
  bad(() => trainTestSplit([1, 2, 3], [1, 2]), 'INVALID_INPUT', /X has 3 rows but y has 2/);
  bad(
    () => trainTestSplit([1, 2, 3], { testsize: 0.5 } as never),
    'INVALID_PARAMETER',
    /unknown split option\(s\) testsize/,
  );
});
