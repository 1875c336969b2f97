/** The model file format: strict validation naming the bad field, and loading without evaluating code. */
import { CellarError } from '../../../kernel-lib/errors.js';
import { modelFromJSON, validateModelJSON, type ModelJSON } from '../../../kernel-lib/ml/index.js';

function sample(): ModelJSON {
  return {
    format: 'cellar-model',
    formatVersion: 1,
    flavor: 'linear',
    estimator: 'ElasticNet',
    params: { alpha: 0.5, l1_ratio: 0.1, fit_intercept: true, random_state: null, selection: 'cyclic' },
    coef: [2, -1, 0.5],
    intercept: 1,
    featureNames: ['a', 'b', 'c'],
    signature: {
      inputs: [
        { name: 'a', type: 'double' },
        { name: 'b', type: 'long' },
        { name: 'c', type: 'boolean' },
      ],
      outputs: [{ name: 'prediction', type: 'double' }],
    },
    datasetFingerprint: 'ab'.repeat(32),
    createdAt: '2026-11-25T10:00:00.000Z',
  };
}

function fieldError(mutate: (j: Record<string, unknown>) => void): CellarError {
  const j = JSON.parse(JSON.stringify(sample())) as Record<string, unknown>;
  mutate(j);
  try {
    validateModelJSON(j);
  } catch (e) {
    if (e instanceof CellarError) return e;
    throw e;
  }
  throw new Error('expected validation to fail');
}

test('a valid document validates to an equal copy', () => {
  const s = sample();
  const v = validateModelJSON(s);
  expect(v).toEqual(s);
  expect(v).not.toBe(s);
});

test.each<[string, (j: Record<string, unknown>) => void, RegExp]>([
  ['format', (j) => (j.format = 'mlflow'), /'format' must be 'cellar-model'/],
  ['formatVersion', (j) => (j.formatVersion = 2), /'formatVersion' must be 1/],
  ['flavor', (j) => (j.flavor = 'tree'), /'flavor' must be 'linear'/],
  ['unknown field', (j) => (j.code = 'process.exit()'), /'code' is not a known field/],
  ['estimator', (j) => (j.estimator = ''), /'estimator' must be a non-empty string/],
  ['coef NaN', (j) => ((j.coef as unknown[])[1] = NaN), /'coef\[1\]' must be a finite number, got NaN/],
  [
    'coef null (Infinity after JSON)',
    (j) => ((j.coef as unknown[])[0] = null),
    /'coef\[0\]' must be a finite number, got null/,
  ],
  ['coef length', (j) => (j.coef = [1, 2]), /'coef' has 2 values but there are 3 featureNames/],
  ['intercept Infinity', (j) => (j.intercept = Infinity), /'intercept' must be a finite number/],
  ['intercept string', (j) => (j.intercept = '1'), /'intercept' must be a finite number, got string/],
  [
    'params nested',
    (j) => ((j.params as Record<string, unknown>).x = { a: 1 }),
    /'params.x' must be a number, string/,
  ],
  [
    'params Infinity',
    (j) => ((j.params as Record<string, unknown>).alpha = Infinity),
    /'params.alpha' must be a finite/,
  ],
  [
    'duplicate feature',
    (j) => (j.featureNames = ['a', 'b', 'a']),
    /'featureNames\[2\]' repeats the name 'a'/,
  ],
  [
    'signature order',
    (j) => ((j.signature as { inputs: unknown[] }).inputs.reverse(), undefined),
    /'signature.inputs' must list the featureNames in order/,
  ],
  [
    'column type',
    (j) => ((j.signature as { inputs: { type: string }[] }).inputs[0].type = 'decimal'),
    /'signature.inputs\[0\].type' must be one of/,
  ],
  [
    'no outputs',
    (j) => ((j.signature as { outputs: unknown[] }).outputs = []),
    /'signature.outputs' must have at least one/,
  ],
  ['createdAt', (j) => (j.createdAt = 'yesterday'), /'createdAt' must be an ISO 8601 timestamp/],
  ['fingerprint', (j) => (j.datasetFingerprint = 5), /'datasetFingerprint' must be a non-empty string/],
])('rejects bad %s', (_name, mutate, message) => {
  const e = fieldError(mutate);
  expect(e.code).toBe('INVALID_INPUT');
  expect(e.message).toMatch(message);
});

test('non-objects are rejected', () => {
  expect(() => validateModelJSON(null)).toThrow(/must be an object/);
  expect(() => validateModelJSON([1])).toThrow(/must be an object/);
});

describe('modelFromJSON', () => {
  test('predicts with columns matched by name; extra columns ignored', () => {
    const m = modelFromJSON(sample());
    expect(m.predict([{ c: 1, b: 2, a: 3, id: 'z' }])).toEqual([1 + 6 - 2 + 0.5]);
    expect(m.predict([[3, 2, 1]])).toEqual([5.5]);
    expect(m.predict({ a: [0, 1], b: [0, 0], c: [false, true] })).toEqual([1, 3.5]);
    expect(m.signature.inputs.map((c) => c.name)).toEqual(['a', 'b', 'c']);
    expect(m.json.estimator).toBe('ElasticNet');
  });

  test('a missing input column is an error naming it', () => {
    const m = modelFromJSON(sample());
    expect(() => m.predict([{ a: 1, b: 2 }])).toThrow(/missing column 'c'/);
    expect(() => m.predict([[1, 2]])).toThrow(/has 2 column\(s\) but 3 are expected/);
  });

  test('loads from a JSON string; bad text is INVALID_INPUT', () => {
    expect(modelFromJSON(JSON.stringify(sample())).intercept).toBe(1);
    let err: unknown;
    try {
      modelFromJSON('{"format": ');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CellarError);
    expect((err as CellarError).code).toBe('INVALID_INPUT');
  });

  test('a document with Infinity written as null fails to load', () => {
    const text = JSON.stringify({ ...sample(), intercept: Infinity });
    expect(() => modelFromJSON(text)).toThrow(/'intercept' must be a finite number, got null/);
  });
});
