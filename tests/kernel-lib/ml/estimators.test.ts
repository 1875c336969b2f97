/** The estimator interface users rely on: fit/predict on every input shape, params, errors, JSON. */
import pl from 'nodejs-polars';
import { CellarError } from '../../../kernel-lib/errors.js';
import {
  ElasticNet,
  Lasso,
  LinearRegression,
  Ridge,
  enetCoordinateDescent,
  modelFromJSON,
  mulberry32,
  validateModelJSON,
} from '../../../kernel-lib/ml/index.js';
import { gramSwitchPass } from '../../../kernel-lib/ml/elasticnet.js';

function thrown(fn: () => unknown): CellarError {
  try {
    fn();
  } catch (e) {
    if (e instanceof CellarError) return e;
    throw e;
  }
  throw new Error('expected a CellarError');
}

/** Seeded rows {a, b, c} with y = 2a − b + 0.5c + 1 + noise. */
function dataset(n: number, seed = 1): { rows: { a: number; b: number; c: number }[]; y: number[] } {
  const rand = mulberry32(seed);
  const rows = [];
  const y = [];
  for (let i = 0; i < n; i++) {
    const r = { a: rand() * 2 - 1, b: rand() * 2 - 1, c: rand() * 10 };
    rows.push(r);
    y.push(2 * r.a - r.b + 0.5 * r.c + 1 + 0.1 * (rand() - 0.5));
  }
  return { rows, y };
}

const { rows, y } = dataset(60);

describe('fit and predict', () => {
  test('fit returns this; coef, intercept, featureNames, nIter; predict returns number[]', () => {
    const model = new ElasticNet({ alpha: 0.01, l1Ratio: 0.5 });
    expect(model.fit(rows, y)).toBe(model);
    expect(model.featureNames).toEqual(['a', 'b', 'c']);
    expect(model.coef).toHaveLength(3);
    expect(typeof model.intercept).toBe('number');
    expect(model.nIter).toBeGreaterThan(0);
    const pred = model.predict(rows);
    expect(Array.isArray(pred)).toBe(true);
    expect(pred).toHaveLength(rows.length);
    expect(pred[0]).toBeCloseTo(
      model.intercept + model.coef.reduce((s, c, j) => s + c * Object.values(rows[0])[j], 0),
    );
  });

  test('predict matches columns by name, in any order, ignoring extra columns', () => {
    const model = new ElasticNet({ alpha: 0.01 }).fit(rows, y);
    const shuffled = rows.map((r) => ({ id: 'x', c: r.c, a: r.a, b: r.b }));
    expect(model.predict(shuffled)).toEqual(model.predict(rows));
    const columns = { c: rows.map((r) => r.c), b: rows.map((r) => r.b), a: rows.map((r) => r.a) };
    expect(model.predict(columns)).toEqual(model.predict(rows));
  });

  test('predict with a missing column names it; predict before fit is INVALID_STATE', () => {
    const model = new Ridge().fit(rows, y);
    const e = thrown(() => model.predict([{ a: 1, c: 2 }]));
    expect(e.code).toBe('INVALID_INPUT');
    expect(e.message).toMatch(/missing column 'b'/);
    expect(thrown(() => new ElasticNet().predict([[1]])).code).toBe('INVALID_STATE');
  });

  test('polars DataFrame and Series in, same model as from rows', () => {
    const df = pl.DataFrame({ a: rows.map((r) => r.a), b: rows.map((r) => r.b), c: rows.map((r) => r.c) });
    const fromDf = new ElasticNet({ alpha: 0.05, l1Ratio: 0.3 }).fit(df, pl.Series('y', y));
    const fromRows = new ElasticNet({ alpha: 0.05, l1Ratio: 0.3 }).fit(rows, y);
    expect(fromDf.coef).toEqual(fromRows.coef);
    expect(fromDf.intercept).toEqual(fromRows.intercept);
    expect(fromDf.predict(df.select('c', 'b', 'a'))).toEqual(fromRows.predict(rows));
  });

  test('danfo-like frames and number[][] rows', () => {
    const values = rows.map((r) => [r.a, r.b, r.c]);
    const danfo = { columns: ['a', 'b', 'c'], values, dtypes: ['float32', 'float32', 'float32'] };
    const m1 = new Lasso({ alpha: 0.01 }).fit(danfo, { $isSeries: true, columns: ['y'], values: y });
    const m2 = new Lasso({ alpha: 0.01 }).fit(values, y);
    expect(m1.coef).toEqual(m2.coef);
    expect(m1.featureNames).toEqual(['a', 'b', 'c']);
    expect(m2.featureNames).toEqual(['x0', 'x1', 'x2']);
  });

  test('LinearRegression recovers an exact linear relation', () => {
    const X = [
      [1, 0],
      [2, 1],
      [3, 5],
      [4, 2],
    ];
    const yy = X.map(([a, b]) => 3 * a - 2 * b + 7);
    const m = new LinearRegression().fit(X, yy);
    expect(m.coef[0]).toBeCloseTo(3, 10);
    expect(m.coef[1]).toBeCloseTo(-2, 10);
    expect(m.intercept).toBeCloseTo(7, 10);
    expect(m.nIter).toBeUndefined();
  });

  test('LinearRegression gives the minimum-norm solution for collinear features, 0 for a constant one', () => {
    const xs = Array.from({ length: 50 }, (_, i) => 3 * Math.sin(i));
    const dup = new LinearRegression().fit(
      xs.map((x) => [x, 2 * x]),
      xs.map((x) => 3 * x + 1),
    );
    expect(dup.coef[0]).toBeCloseTo(0.6, 10); // scikit-learn (lstsq): [0.6, 1.2]
    expect(dup.coef[1]).toBeCloseTo(1.2, 10);
    expect(dup.intercept).toBeCloseTo(1, 10);
    const constant = new LinearRegression().fit(
      xs.map((x) => [x, 5]),
      xs.map((x) => 3 * x + 1),
    );
    expect(constant.coef[0]).toBeCloseTo(3, 10);
    expect(constant.coef[1]).toBe(0);
    expect(() =>
      new Ridge({ alpha: 0 }).fit(
        xs.map((x) => [x, 2 * x]),
        xs,
      ),
    ).toThrow(/collinear/);
  });

  test('fitIntercept=false gives intercept 0', () => {
    expect(new ElasticNet({ fitIntercept: false, alpha: 0.1 }).fit(rows, y).intercept).toBe(0);
    expect(new Ridge({ fitIntercept: false }).fit(rows, y).intercept).toBe(0);
  });

  test('selection=random is seeded and reaches the cyclic solution', () => {
    const opts = { alpha: 0.02, l1Ratio: 0.5, tol: 1e-12, maxIter: 100000 };
    const cyclic = new ElasticNet(opts).fit(rows, y);
    const r1 = new ElasticNet({ ...opts, selection: 'random', randomState: 7 }).fit(rows, y);
    const r2 = new ElasticNet({ ...opts, selection: 'random', randomState: 7 }).fit(rows, y);
    expect(r1.coef).toEqual(r2.coef);
    r1.coef.forEach((c, j) => expect(Math.abs(c - cyclic.coef[j])).toBeLessThan(1e-8));
  });

  test('an unconverged fit warns once, sets converged=false and still returns the model', () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const m = new ElasticNet({ alpha: 1e-4, maxIter: 1, tol: 1e-12 }).fit(rows, y);
      expect(m.converged).toBe(false);
      expect(m.nIter).toBe(1);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0][0])).toMatch(/did not converge in maxIter=1/);
    } finally {
      warn.mockRestore();
    }
  });
});

describe('getParams', () => {
  test('snake_case params as scikit-learn/MLflow log them', () => {
    expect(new ElasticNet({ alpha: 0.5, l1Ratio: 0.1 }).getParams()).toEqual({
      alpha: 0.5,
      l1_ratio: 0.1,
      fit_intercept: true,
      max_iter: 1000,
      tol: 1e-4,
      selection: 'cyclic',
      random_state: null,
    });
    const lasso = new Lasso({ alpha: 0.2 }).getParams();
    expect(lasso).not.toHaveProperty('l1_ratio');
    expect(lasso.alpha).toBe(0.2);
    expect(new Ridge({ alpha: 3 }).getParams()).toEqual({ alpha: 3, fit_intercept: true });
    expect(new LinearRegression({ fitIntercept: false }).getParams()).toEqual({ fit_intercept: false });
  });
});

describe('bad input and parameters', () => {
  const estimators = [() => new ElasticNet(), () => new Ridge(), () => new LinearRegression()];

  test.each([
    ['NaN in X', [[1], [NaN]], [1, 2], /X column 'x0' row 1 is NaN/],
    ['Infinity in X', { a: [1, 2, -Infinity] }, [1, 2, 3], /X column 'a' row 2 is -Infinity/],
    ['NaN in y', [[1], [2]], [1, NaN], /y row 1 is NaN/],
    ['row-count mismatch', [[1], [2]], [1, 2, 3], /X has 2 rows but y has 3 values/],
    ['zero rows', [], [], /X has no rows/],
    ['a non-numeric column', [{ a: 1, s: 'x' }], [1], /column 's' row 0 is the string "x"/],
  ])('%s → INVALID_INPUT', (_name, X, yy, message) => {
    for (const make of estimators) {
      const e = thrown(() => make().fit(X, yy));
      expect(e.code).toBe('INVALID_INPUT');
      expect(e.message).toMatch(message);
    }
  });

  test.each([
    ['alpha < 0', { alpha: -1 }, /alpha must be a finite number >= 0/],
    ['l1Ratio > 1', { l1Ratio: 1.5 }, /l1Ratio must be a finite number in \[0, 1\]/],
    ['l1Ratio < 0', { l1Ratio: -0.1 }, /l1Ratio/],
    ['maxIter 0', { maxIter: 0 }, /maxIter must be an integer >= 1/],
    ['tol < 0', { tol: -1 }, /tol must be/],
    ['alpha NaN', { alpha: NaN }, /alpha must be a finite number/],
  ])('%s → INVALID_PARAMETER', (_name, opts, message) => {
    const e = thrown(() => new ElasticNet(opts).fit(rows, y));
    expect(e.code).toBe('INVALID_PARAMETER');
    expect(e.message).toMatch(message);
  });

  test('unknown selection and negative Ridge alpha', () => {
    const bad = new ElasticNet();
    (bad as { selection: string }).selection = 'shuffle';
    expect(thrown(() => bad.fit(rows, y)).message).toMatch(/selection must be 'cyclic' or 'random'/);
    expect(thrown(() => new Ridge({ alpha: -2 }).fit(rows, y)).code).toBe('INVALID_PARAMETER');
  });
});

describe('model JSON from estimators', () => {
  test('toJSON validates, round-trips through text, and predicts the same', () => {
    const model = new ElasticNet({ alpha: 0.5, l1Ratio: 0.1 }).fit(rows, y);
    const json = model.toJSON();
    expect(validateModelJSON(json)).toEqual(json);
    expect(json).toMatchObject({
      format: 'cellar-model',
      formatVersion: 1,
      flavor: 'linear',
      estimator: 'ElasticNet',
      featureNames: ['a', 'b', 'c'],
      signature: {
        inputs: [
          { name: 'a', type: 'double' },
          { name: 'b', type: 'double' },
          { name: 'c', type: 'double' },
        ],
        outputs: [{ name: 'prediction', type: 'double' }],
      },
    });
    const loaded = modelFromJSON(JSON.stringify(json));
    expect(loaded.predict(rows)).toEqual(model.predict(rows));
    expect(loaded.coef).toEqual(model.coef);
    expect(loaded.estimator).toBe('ElasticNet');
    expect(thrown(() => new Lasso().toJSON()).code).toBe('INVALID_STATE');
  });

  test('signature types follow the training columns', () => {
    const df = pl.DataFrame({
      n: pl.Series('n', [1, 2, 3, 4], pl.Int64),
      f: pl.Series('f', [true, false, true, true]),
      x: [0.5, 0.1, 0.9, 0.3],
    });
    const json = new Ridge().fit(df, [1, 2, 3, 5]).toJSON();
    expect(json.signature.inputs.map((c) => c.type)).toEqual(['long', 'boolean', 'double']);
  });
});

describe('large tall data switches to the Gram form with the same result', () => {
  test('gramSwitchPass only kicks in for large, tall data', () => {
    expect(gramSwitchPass(200, 5)).toBe(Infinity);
    expect(gramSwitchPass(1_000_000, 10)).toBe(3);
    expect(gramSwitchPass(1_000_000, 100)).toBe(21);
    expect(gramSwitchPass(2000, 1000)).toBe(Infinity);
  });

  test('ElasticNet on 120k × 10 correlated rows equals the pure residual-form descent', () => {
    const n = 120_000;
    const p = 10;
    const rand = mulberry32(3);
    const cols = Array.from({ length: p }, () => new Float64Array(n));
    const yy = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let prev = rand() - 0.5;
      for (let j = 0; j < p; j++) {
        prev = 0.9 * prev + 0.3 * (rand() - 0.5);
        cols[j][i] = prev + j;
      }
      yy[i] = 3 * cols[0][i] - 2 * cols[3][i] + cols[7][i] + (rand() - 0.5);
    }
    const X: Record<string, Float64Array> = {};
    cols.forEach((c, j) => (X[`f${j}`] = c));
    const model = new ElasticNet({ alpha: 0.001, l1Ratio: 0.5 }).fit(X, yy);
    expect(model.nIter).toBeGreaterThan(gramSwitchPass(n, p)); // the Gram form was used

    const xMean = Float64Array.from(cols, (c) => c.reduce((s, v) => s + v, 0) / n);
    const yMean = yy.reduce((s, v) => s + v, 0) / n;
    const ref = enetCoordinateDescent(cols, yy, {
      l1Reg: 0.001 * 0.5 * n,
      l2Reg: 0.001 * 0.5 * n,
      maxIter: 1000,
      tol: 1e-4,
      xOffset: xMean,
      yOffset: yMean,
    });
    expect(model.nIter).toBe(ref.nIter);
    const scale = Math.max(...Array.from(ref.coef, Math.abs));
    model.coef.forEach((c, j) => expect(Math.abs(c - ref.coef[j])).toBeLessThanOrEqual(1e-9 * scale));
  });
});
