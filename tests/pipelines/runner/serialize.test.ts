/**
 * Values crossing step boundaries: JSON for plain data, v8 for other structured-clone values, Arrow IPC for
 * polars DataFrames, model JSON for cellar models; everything else is refused naming the variable and step.
 */
import pl from 'nodejs-polars';
import { CellarError } from '../../../kernel-lib/errors.js';
import { ElasticNet } from '../../../kernel-lib/ml/index.js';
import { decodeValue, encodeValue } from '../../../pipelines/runner/serialize.js';

async function roundTrip(v: unknown): Promise<{ kind: string; back: unknown }> {
  const e = encodeValue(v, 'x', 'prep');
  return { kind: e.kind, back: await decodeValue(e.kind, e.data, 'x', 'prep') };
}

test('plain data travels as JSON, exactly', async () => {
  const v = { a: [1, 2.5, -3], s: 'quote " backtick ` $(id)\nnewline', n: null, t: true, nested: { k: 'v' } };
  const { kind, back } = await roundTrip(v);
  expect(kind).toBe('json');
  expect(back).toEqual(v);
});

test('structured-clone values travel with v8 serialization (types, cycles and special numbers kept)', async () => {
  const cyc: Record<string, unknown> = { name: 'loop' };
  cyc.self = cyc;
  const v = {
    when: new Date('2024-01-02T03:04:05Z'),
    m: new Map<string, number>([['a', 1]]),
    set: new Set([1, 2]),
    f64: Float64Array.from([0.1, 0.2]),
    big: 10n ** 20n,
    nan: NaN,
    negZero: -0,
    undef: undefined,
    cyc,
  };
  const { kind, back } = await roundTrip(v);
  expect(kind).toBe('v8');
  const b = back as typeof v;
  expect(b.when).toEqual(v.when);
  expect(b.m.get('a')).toBe(1);
  expect([...b.set]).toEqual([1, 2]);
  expect(Object.prototype.toString.call(b.f64)).toBe('[object Float64Array]'); // (jest realms differ)
  expect(Array.from(b.f64)).toEqual([0.1, 0.2]);
  expect(b.big).toBe(10n ** 20n);
  expect(Number.isNaN(b.nan)).toBe(true);
  expect(Object.is(b.negZero, -0)).toBe(true);
  expect('undef' in b).toBe(true);
  expect((b.cyc as Record<string, unknown>).self).toBe(b.cyc);
});

test('polars DataFrames travel as Arrow IPC with their dtypes', async () => {
  const df = pl.DataFrame({ id: [1, 2, 3], rate: [0.5, 0.25, 0.125], name: ['a', 'b', null] });
  const { kind, back } = await roundTrip(df);
  expect(kind).toBe('arrow-ipc');
  const out = back as typeof df;
  expect(out.columns).toEqual(['id', 'rate', 'name']);
  expect(out.toRecords()).toEqual(df.toRecords());
  expect(out.dtypes.map(String)).toEqual(df.dtypes.map(String));
});

test('cellar models travel as their JSON and come back as loaded models that predict the same', async () => {
  const X = Array.from({ length: 40 }, (_, i) => [i / 40, Math.sin(i)]);
  const y = X.map(([a, b]) => 3 * a! - 2 * b! + 1);
  const model = new ElasticNet({ alpha: 0.01, l1Ratio: 0.1 }).fit(X, y);
  const { kind, back } = await roundTrip(model);
  expect(kind).toBe('cellar-model');
  const loaded = back as { predict(x: number[][]): number[] };
  expect(loaded.predict(X.slice(0, 5))).toEqual(model.predict(X.slice(0, 5)));
  const again = await roundTrip(loaded); // a revived model can be passed on again
  expect(again.kind).toBe('cellar-model');
});

test('values that cannot cross a step boundary are refused, naming the variable, the step and the place', () => {
  class Thing {
    x = 1;
  }
  const cases: Array<[unknown, string]> = [
    [() => 1, 'x is a function'],
    [{ deep: { fn: () => 1 } }, 'x.deep.fn is a function'],
    [new Thing(), 'an instance of Thing'],
    [{ df: pl.DataFrame({ a: [1] }) }, 'DataFrame inside another value'],
    [[Promise.resolve(1)], 'x[0] is a Promise'],
    [Symbol('s'), 'a symbol'],
  ];
  for (const [value, fragment] of cases) {
    let err: unknown;
    try {
      encodeValue(value, 'x', 'prep');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CellarError);
    expect((err as CellarError).message).toContain('Step "prep"');
    expect((err as CellarError).message).toContain('"x"');
    expect((err as CellarError).message).toContain(fragment);
  }
});
