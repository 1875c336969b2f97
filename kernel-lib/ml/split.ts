/**
 * ml/split — deterministic train/test splitting (scikit-learn's `train_test_split` sizes, cellar's own
 * seeded shuffle) for arrays of rows, typed arrays, column objects, polars DataFrames/Series and
 * danfo-like frames; each part keeps the input's shape.
 */
import { CellarError } from '../errors.js';
import { isDanfoLike, isPolarsDataFrame, isPolarsSeries } from '../data/matrix.js';
import { mulberry32, permutation } from './random.js';

/** Options of `trainTestSplit`. */
export interface SplitOptions {
  /**
   * Test part size: a fraction in (0, 1) (test rows = ⌈n·testSize⌉, as scikit-learn), or a row count
   * (an integer >= 1). Default 0.25.
   */
  testSize?: number;
  /** Seed of the shuffle (an integer). Default 42. */
  seed?: number;
  /** Shuffle before splitting (default true); false keeps the first rows for training, the last for test. */
  shuffle?: boolean;
}

const OPTION_KEYS = new Set(['testSize', 'seed', 'shuffle']);

interface Gatherable {
  gather(indices: number[]): unknown;
  toFrame?(): unknown;
}

interface DanfoRows {
  iloc(arg: unknown): unknown;
}

function isOptions(x: unknown): x is SplitOptions {
  if (x === undefined) return true;
  if (typeof x !== 'object' || x === null || Array.isArray(x) || ArrayBuffer.isView(x)) return false;
  if (Object.getPrototypeOf(x) !== Object.prototype) return false;
  return Object.keys(x).every((k) => OPTION_KEYS.has(k));
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && Object.getPrototypeOf(x) === Object.prototype;
}

function unsupported(label: string): CellarError {
  return new CellarError(
    'UNSUPPORTED',
    `${label} cannot be split: pass an array of rows, a typed array, a column object, or a polars/danfo DataFrame or Series`,
  );
}

/** Number of rows of a splittable input. */
function rowCount(data: unknown, label: string): number {
  if (Array.isArray(data)) return data.length;
  if (ArrayBuffer.isView(data) && !(data instanceof DataView)) return (data as Float64Array).length;
  if (isPolarsDataFrame(data)) return data.height;
  if (isPolarsSeries(data)) return data.length;
  if (isDanfoLike(data)) return ((data.values ?? data.$data) as unknown[]).length;
  if (isPlainObject(data)) {
    const keys = Object.keys(data);
    if (keys.length === 0) throw new CellarError('INVALID_INPUT', `${label} has no columns`);
    let n = -1;
    for (const k of keys) {
      const col = data[k] as ArrayLike<unknown> | undefined;
      const len = Array.isArray(col) || ArrayBuffer.isView(col) ? (col as ArrayLike<unknown>).length : -1;
      if (len < 0)
        throw new CellarError('INVALID_INPUT', `${label} column '${k}' is not an array`, { column: k });
      if (n >= 0 && len !== n) {
        throw new CellarError(
          'INVALID_INPUT',
          `${label} column '${k}' has ${len} values but column '${keys[0]}' has ${n}: all columns must have the same length`,
          { column: k },
        );
      }
      n = len;
    }
    return n;
  }
  throw unsupported(label);
}

/** The rows of `data` at `idx`, in that order, in the same shape as `data`. */
export function takeRows<T>(data: T, idx: number[]): T {
  if (Array.isArray(data)) return idx.map((i) => data[i]) as T;
  if (ArrayBuffer.isView(data) && !(data instanceof DataView)) {
    const src = data as unknown as Float64Array;
    const Ctor = src.constructor as new (n: number) => Float64Array;
    const out = new Ctor(idx.length);
    for (let k = 0; k < idx.length; k++) out[k] = src[idx[k]];
    return out as unknown as T;
  }
  if (isPolarsDataFrame(data)) {
    // Gather column by column and rebuild with the Series' own methods, so ml never imports polars.
    const cols = data.columns.map(
      (name) => (data.getColumn(name) as unknown as Gatherable).gather(idx) as Gatherable,
    );
    if (cols.length === 0) return data;
    const frame = cols[0].toFrame?.() as { hstack(cols: unknown[]): unknown } | undefined;
    if (!frame) throw unsupported('this DataFrame');
    return (cols.length > 1 ? frame.hstack(cols.slice(1)) : frame) as T;
  }
  if (isPolarsSeries(data)) return (data as unknown as Gatherable).gather(idx) as T;
  if (isDanfoLike(data) && typeof (data as unknown as DanfoRows).iloc === 'function') {
    const d = data as unknown as DanfoRows;
    return (data.$isSeries === true ? d.iloc(idx) : d.iloc({ rows: idx })) as T;
  }
  if (isPlainObject(data)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(data)) out[k] = takeRows(v, idx);
    return out as T;
  }
  throw unsupported('this input');
}

/**
 * Row indices of a split of `n` rows: test size ⌈n·testSize⌉ for a fraction, or testSize rows for an
 * integer; with shuffle, a seeded Fisher–Yates permutation (mulberry32) whose first rows are the test
 * part and the rest the training part; without shuffle, training = the first rows, test = the last.
 *
 * @throws CellarError('INVALID_PARAMETER') for a testSize that leaves either part empty, or a bad seed.
 * @example
 * splitIndices(10, { testSize: 0.2, seed: 1 }); // { train: [...8 indices], test: [...2 indices] }
 */
export function splitIndices(n: number, opts: SplitOptions = {}): { train: number[]; test: number[] } {
  const testSize = opts.testSize ?? 0.25;
  const seed = opts.seed ?? 42;
  const shuffle = opts.shuffle ?? true;
  if (n === 0) throw new CellarError('INVALID_INPUT', 'cannot split an input with no rows');
  let nTest: number;
  if (typeof testSize === 'number' && testSize > 0 && testSize < 1) nTest = Math.ceil(n * testSize);
  else if (typeof testSize === 'number' && Number.isInteger(testSize) && testSize >= 1) nTest = testSize;
  else {
    throw new CellarError(
      'INVALID_PARAMETER',
      `testSize must be a fraction in (0, 1) or a row count >= 1, got ${JSON.stringify(testSize)}`,
      { param: 'testSize' },
    );
  }
  const nTrain = n - nTest;
  if (nTrain < 1) {
    throw new CellarError(
      'INVALID_PARAMETER',
      `testSize=${testSize} takes ${nTest} of ${n} rows for testing and leaves none for training: use a smaller testSize`,
      { param: 'testSize' },
    );
  }
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) {
    throw new CellarError('INVALID_PARAMETER', `seed must be an integer, got ${JSON.stringify(seed)}`, {
      param: 'seed',
    });
  }
  if (typeof shuffle !== 'boolean') {
    throw new CellarError(
      'INVALID_PARAMETER',
      `shuffle must be true or false, got ${JSON.stringify(shuffle)}`,
      {
        param: 'shuffle',
      },
    );
  }
  if (!shuffle) {
    const all = Array.from({ length: n }, (_, i) => i);
    return { train: all.slice(0, nTrain), test: all.slice(nTrain) };
  }
  const perm = permutation(n, mulberry32(seed));
  return { train: perm.slice(nTest), test: perm.slice(0, nTest) };
}

/**
 * Splits data into a training and a test part, deterministically for a given seed. With one input it
 * returns `[train, test]`; with features and a target, `[XTrain, XTest, yTrain, yTest]` (as scikit-learn),
 * split with the same rows. Each part has the shape of its input (a DataFrame gives DataFrames, rows give
 * rows); shuffled parts are in permutation order.
 *
 * Sizes: a fractional `testSize` gives ⌈n·testSize⌉ test rows (scikit-learn's rule), an integer gives that
 * many; the rest is for training. The shuffle is cellar's own (mulberry32 + Fisher–Yates), so the rows
 * chosen differ from scikit-learn's for the same seed but are the same on every machine.
 *
 * @throws CellarError('INVALID_PARAMETER') for a bad testSize/seed; CellarError('INVALID_INPUT') when X and y
 *   have different row counts.
 * @example
 * const [train, test] = trainTestSplit(df, { testSize: 0.2, seed: 42 });
 * const [XTrain, XTest, yTrain, yTest] = trainTestSplit(X, y, { testSize: 0.2 });
 */
export function trainTestSplit<T>(data: T, opts?: SplitOptions): [T, T];
export function trainTestSplit<X, Y>(X: X, y: Y, opts?: SplitOptions): [X, X, Y, Y];
export function trainTestSplit(a: unknown, b?: unknown, c?: SplitOptions): unknown[] {
  if (c === undefined && isOptions(b)) {
    const { train, test } = splitIndices(rowCount(a, 'data'), b ?? {});
    return [takeRows(a, train), takeRows(a, test)];
  }
  if (c === undefined && isPlainObject(b)) {
    const values = Object.values(b);
    if (!values.some((v) => Array.isArray(v) || ArrayBuffer.isView(v) || isPolarsSeries(v))) {
      const unknown = Object.keys(b).filter((k) => !OPTION_KEYS.has(k));
      throw new CellarError(
        'INVALID_PARAMETER',
        `unknown split option(s) ${unknown.join(', ')}: the options are testSize, seed and shuffle`,
      );
    }
  }
  if (c !== undefined && !isOptions(c)) {
    throw new CellarError('INVALID_PARAMETER', `unknown split option(s): use { testSize, seed, shuffle }`);
  }
  const nX = rowCount(a, 'X');
  const nY = rowCount(b, 'y');
  if (nX !== nY) {
    throw new CellarError('INVALID_INPUT', `X has ${nX} rows but y has ${nY}: pass the same rows to both`, {
      xRows: nX,
      yRows: nY,
    });
  }
  const { train, test } = splitIndices(nX, c ?? {});
  return [takeRows(a, train), takeRows(a, test), takeRows(b, train), takeRows(b, test)];
}
