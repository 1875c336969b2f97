import pl from 'nodejs-polars';
import { isDanfoFrame, isPolarsDataFrame, toDataFrame, toRows } from '../../../kernel-lib/data/frame.js';
import { CellarError } from '../../../kernel-lib/errors.js';

const dtypes = (df: pl.DataFrame): string[] =>
  df.dtypes.map((d) => String(d).replace(/^DataType\((.*)\)$/, '$1'));

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CellarError);
    return (e as CellarError).code;
  }
  return undefined;
}

/** A stand-in with danfo's public DataFrame shape (danfo itself cannot be installed here). */
class FakeDanfoFrame {
  $isSeries = false;
  constructor(
    private readonly rows: unknown[][],
    readonly columns: string[],
    readonly dtypes: string[],
  ) {}
  get values(): unknown[][] {
    return this.rows;
  }
  get $data(): unknown[][] {
    return this.rows;
  }
  get shape(): number[] {
    return [this.rows.length, this.columns.length];
  }
}

describe('toDataFrame', () => {
  it('returns a polars DataFrame as is', () => {
    const df = pl.DataFrame({ a: [1, 2] });
    expect(toDataFrame(df)).toBe(df);
  });

  it('converts row objects with one type per column, nulls for missing keys', () => {
    const when = new Date('2024-05-01T12:00:00Z');
    const df = toDataFrame([
      { id: 1, rate: 0.5, name: 'a', ok: true, at: when },
      { id: 2, rate: null, name: undefined, ok: false, extra: 7n },
    ]);
    expect(df.columns).toEqual(['id', 'rate', 'name', 'ok', 'at', 'extra']);
    expect(dtypes(df)).toEqual(['Float64', 'Float64', 'String', 'Bool', 'Datetime(ms,)', 'Int64']);
    expect(toRows(df)).toEqual([
      { id: 1, rate: 0.5, name: 'a', ok: true, at: when, extra: null },
      { id: 2, rate: null, name: null, ok: false, at: null, extra: 7 },
    ]);
  });

  it('converts column objects, keeping Float64 and widening Float32 to Float64', () => {
    const df = toDataFrame({
      a: [0.1 + 0.2, 2],
      b: new Float64Array([1 / 3, 2]),
      c: new Float32Array([0.5, 1.5]),
      d: new Int32Array([1, 2]),
    });
    expect(dtypes(df)).toEqual(['Float64', 'Float64', 'Float64', 'Int32']);
    const rows = toRows(df);
    expect(rows[0]).toEqual({ a: 0.30000000000000004, b: 1 / 3, c: 0.5, d: 1 });
  });

  it('never produces a Float32 column', () => {
    const inputs = [
      [{ x: 1.1 }],
      { x: new Float32Array([1.1]) },
      new FakeDanfoFrame([[1.1]], ['x'], ['float32']),
    ];
    for (const input of inputs) expect(dtypes(toDataFrame(input))).toEqual(['Float64']);
  });

  it('converts a danfo-shaped DataFrame by dtype, NaN as null', () => {
    const danfo = new FakeDanfoFrame(
      [
        [1.5, 3, 'x', true],
        [NaN, 4, 'y', false],
      ],
      ['f', 'i', 's', 'b'],
      ['float32', 'int32', 'string', 'boolean'],
    );
    expect(isDanfoFrame(danfo)).toBe(true);
    const df = toDataFrame(danfo);
    expect(dtypes(df)).toEqual(['Float64', 'Int64', 'String', 'Bool']);
    expect(toRows(df)).toEqual([
      { f: 1.5, i: 3, s: 'x', b: true },
      { f: null, i: 4, s: 'y', b: false },
    ]);
  });

  it('accepts empty inputs', () => {
    expect(toDataFrame([]).shape).toEqual({ height: 0, width: 0 });
    expect(toDataFrame({}).shape).toEqual({ height: 0, width: 0 });
    expect(toDataFrame({ a: [] }).columns).toEqual(['a']);
  });

  it('rejects mixed columns, ragged columns, non-tables and Invalid Dates with INVALID_INPUT', () => {
    expect(codeOf(() => toDataFrame([{ a: 1 }, { a: 'x' }]))).toBe('INVALID_INPUT');
    expect(codeOf(() => toDataFrame({ a: [1, 2], b: [1] }))).toBe('INVALID_INPUT');
    expect(codeOf(() => toDataFrame({ a: 'not a column' }))).toBe('INVALID_INPUT');
    expect(codeOf(() => toDataFrame([1, 2, 3]))).toBe('INVALID_INPUT');
    expect(codeOf(() => toDataFrame(42))).toBe('INVALID_INPUT');
    expect(codeOf(() => toDataFrame(new Map()))).toBe('INVALID_INPUT');
    expect(codeOf(() => toDataFrame([{ d: new Date('nope') }]))).toBe('INVALID_INPUT');
  });

  it('names the offending column and row in the message', () => {
    expect(() => toDataFrame([{ a: 1 }, { a: 2 }, { a: 'x' }])).toThrow(/'a'.*row 2/);
  });
});

describe('toRows', () => {
  it('returns plain objects with Dates for Datetime and Date columns', () => {
    const df = pl.DataFrame({
      ts: pl.Series('ts', [new Date('2024-01-01T00:00:00Z')]).cast(pl.Datetime('us', 'UTC')),
      day: pl.Series('day', [new Date('2024-02-03T00:00:00Z')]).cast(pl.Date),
      v: [1],
    });
    const [row] = toRows(df);
    expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
    expect(row!.ts).toBeInstanceOf(Date);
    expect((row!.ts as Date).toISOString()).toBe('2024-01-01T00:00:00.000Z');
    expect(row!.day).toBeInstanceOf(Date);
    expect((row!.day as Date).toISOString()).toBe('2024-02-03T00:00:00.000Z');
  });

  it('round-trips row objects', () => {
    const rows = [
      { a: 1.25, b: 'x', c: new Date(0) },
      { a: null, b: null, c: null },
    ];
    expect(toRows(rows)).toEqual(rows);
  });
});

describe('type guards', () => {
  it('tell polars frames, danfo frames and plain data apart', () => {
    const df = pl.DataFrame({ a: [1] });
    expect(isPolarsDataFrame(df)).toBe(true);
    expect(isPolarsDataFrame({ columns: ['a'] })).toBe(false);
    expect(isPolarsDataFrame(null)).toBe(false);
    expect(isDanfoFrame(df)).toBe(false);
    expect(isDanfoFrame({ columns: ['a'], dtypes: ['float32'], values: [[1]] })).toBe(true);
    expect(isDanfoFrame({ columns: ['a'], dtypes: ['float32'], values: [1], $isSeries: true })).toBe(false);
    expect(isDanfoFrame([{ a: 1 }])).toBe(false);
  });
});
