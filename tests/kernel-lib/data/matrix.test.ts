/** toMatrix / toVector: every input shape a notebook holds, and a clear error for every bad cell. */
import pl from 'nodejs-polars';
import { CellarError } from '../../../kernel-lib/errors.js';
import { toMatrix, toVector } from '../../../kernel-lib/data/matrix.js';

function cols(m: { columns: Float64Array[] }): number[][] {
  return m.columns.map((c) => Array.from(c));
}

function thrown(fn: () => unknown): CellarError {
  try {
    fn();
  } catch (e) {
    if (e instanceof CellarError) return e;
    throw e;
  }
  throw new Error('expected a CellarError');
}

describe('toMatrix shapes', () => {
  test('rows of numbers become columns named x0, x1, …', () => {
    const m = toMatrix([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    expect(m.nRows).toBe(3);
    expect(m.nCols).toBe(2);
    expect(m.featureNames).toEqual(['x0', 'x1']);
    expect(m.types).toEqual(['double', 'double']);
    expect(cols(m)).toEqual([
      [1, 3, 5],
      [2, 4, 6],
    ]);
    expect(m.columns[0]).toBeInstanceOf(Float64Array);
  });

  test('unnamed rows take names from featureNames', () => {
    const m = toMatrix([[1, 2]], { featureNames: ['a', 'b'] });
    expect(m.featureNames).toEqual(['a', 'b']);
  });

  test('a 1-D array or typed array is one feature; a Float64Array is not copied', () => {
    expect(cols(toMatrix([1, 2, 3]))).toEqual([[1, 2, 3]]);
    const f = Float64Array.of(1, 2, 3);
    const m = toMatrix(f);
    expect(m.columns[0]).toBe(f);
    expect(m.featureNames).toEqual(['x0']);
    expect(toMatrix(Int32Array.of(1, 2)).types).toEqual(['integer']);
    expect(toMatrix(Float32Array.of(1, 2)).types).toEqual(['float']);
  });

  test('row objects: names from keys, featureNames selects and reorders, extra keys ignored', () => {
    const rows = [
      { a: 1, b: 2, id: 'x' },
      { a: 3, b: 4, id: 'y' },
    ];
    const m = toMatrix(rows, { featureNames: ['b', 'a'] });
    expect(m.featureNames).toEqual(['b', 'a']);
    expect(cols(m)).toEqual([
      [2, 4],
      [1, 3],
    ]);
    expect(toMatrix([{ a: 1, b: 2 }]).featureNames).toEqual(['a', 'b']);
  });

  test('booleans become 0/1 with type boolean', () => {
    const m = toMatrix([{ flag: true }, { flag: false }]);
    expect(cols(m)).toEqual([[1, 0]]);
    expect(m.types).toEqual(['boolean']);
  });

  test('column objects mix arrays and typed arrays', () => {
    const b = Float64Array.of(3, 4);
    const m = toMatrix({ a: [1, 2], b });
    expect(m.featureNames).toEqual(['a', 'b']);
    expect(m.columns[1]).toBe(b);
  });

  test('polars DataFrames: names from columns, numeric dtypes mapped to signature types', () => {
    const df = pl.DataFrame({
      f64: pl.Series('f64', [1.5, 2.5], pl.Float64),
      f32: pl.Series('f32', [1, 2], pl.Float32),
      i64: pl.Series('i64', [1, 2], pl.Int64),
      i32: pl.Series('i32', [1, 2], pl.Int32),
      u64: pl.Series('u64', [1, 2]).cast(pl.UInt64),
      flag: pl.Series('flag', [true, false]),
    });
    const m = toMatrix(df);
    expect(m.featureNames).toEqual(['f64', 'f32', 'i64', 'i32', 'u64', 'flag']);
    expect(m.types).toEqual(['double', 'float', 'long', 'integer', 'long', 'boolean']);
    expect(cols(m)).toEqual([
      [1.5, 2.5],
      [1, 2],
      [1, 2],
      [1, 2],
      [1, 2],
      [1, 0],
    ]);
    expect(toMatrix(df, { featureNames: ['i32', 'f64'] }).featureNames).toEqual(['i32', 'f64']);
  });

  test('danfo-like frames: {columns, values} and {columns, $data}, with dtypes', () => {
    const viaValues = toMatrix({
      columns: ['a', 'b'],
      values: [
        [1, 2],
        [3, 4],
      ],
      dtypes: ['float32', 'int32'],
    });
    expect(viaValues.featureNames).toEqual(['a', 'b']);
    expect(cols(viaValues)).toEqual([
      [1, 3],
      [2, 4],
    ]);
    expect(viaValues.types).toEqual(['double', 'long']);
    const viaData = toMatrix({ columns: ['a', 'b'], $data: [[1, 2]] }, { featureNames: ['b'] });
    expect(cols(viaData)).toEqual([[2]]);
  });
});

describe('toMatrix errors name the column and row', () => {
  test.each([
    ['NaN in rows', [[1], [NaN]], /column 'x0' row 1 is NaN/],
    ['Infinity in a column object', { a: [1, Infinity] }, /column 'a' row 1 is Infinity/],
    ['a string in row objects', [{ a: 1 }, { a: 'oops' }], /column 'a' row 1 is the string "oops"/],
    ['null in row objects', [{ a: null }], /column 'a' row 0 is null/],
    ['a ragged row', [[1, 2], [3]], /row 1 has 1 values but row 0 has 2/],
    ['columns of different lengths', { a: [1, 2], b: [1] }, /column 'b' has 1 values but column 'a' has 2/],
    ['a row object without a key', [{ a: 1, b: 2 }, { a: 1 }], /row 1 has no column 'b'/],
  ])('%s', (_name, input, message) => {
    const e = thrown(() => toMatrix(input));
    expect(e.code).toBe('INVALID_INPUT');
    expect(e.message).toMatch(message);
  });

  test('a missing named column is an error naming it', () => {
    const e = thrown(() => toMatrix([{ a: 1 }], { featureNames: ['a', 'b'] }));
    expect(e.code).toBe('INVALID_INPUT');
    expect(e.message).toMatch(/missing column 'b'/);
  });

  test('unnamed input with the wrong number of columns', () => {
    expect(thrown(() => toMatrix([[1, 2, 3]], { featureNames: ['a', 'b'] })).message).toMatch(
      /has 3 column\(s\) but 2 are expected/,
    );
  });

  test('a non-numeric polars column and polars nulls', () => {
    const df = pl.DataFrame({ a: [1, 2], s: ['x', 'y'] });
    expect(thrown(() => toMatrix(df)).message).toMatch(/column 's' has dtype String, which is not numeric/);
    const withNull = pl.DataFrame({ a: pl.Series('a', [1, null, 3], pl.Float64) });
    expect(thrown(() => toMatrix(withNull)).message).toMatch(
      /column 'a' has 1 null value\(s\) \(first at row 1\)/,
    );
  });

  test('duplicate feature names are rejected', () => {
    expect(thrown(() => toMatrix([[1, 2]], { featureNames: ['a', 'a'] })).message).toMatch(
      /two columns named 'a'/,
    );
  });

  test('allowNonFinite lets NaN through', () => {
    expect(toMatrix([NaN], { allowNonFinite: true }).columns[0][0]).toBeNaN();
  });
});

describe('toVector', () => {
  test('arrays, typed arrays, polars Series, danfo Series and one-column frames', () => {
    expect(Array.from(toVector([1, 2]))).toEqual([1, 2]);
    const f = Float64Array.of(1, 2);
    expect(toVector(f)).toBe(f);
    expect(Array.from(toVector(Int32Array.of(3, 4)))).toEqual([3, 4]);
    expect(Array.from(toVector(pl.Series('y', [5, 6])))).toEqual([5, 6]);
    expect(Array.from(toVector({ $isSeries: true, columns: ['y'], values: [7, 8] }))).toEqual([7, 8]);
    expect(Array.from(toVector(pl.DataFrame({ y: [9, 10] })))).toEqual([9, 10]);
    expect(Array.from(toVector([{ y: 1 }, { y: 2 }]))).toEqual([1, 2]);
    expect(Array.from(toVector({ y: [3, 4] }))).toEqual([3, 4]);
  });

  test('errors: two columns, NaN, strings', () => {
    expect(thrown(() => toVector({ a: [1], b: [2] })).message).toMatch(/must be one column but has 2/);
    expect(thrown(() => toVector([1, NaN])).message).toMatch(/y row 1 is NaN/);
    expect(thrown(() => toVector(['a'])).code).toBe('INVALID_INPUT');
  });
});
