/** Regression metrics against hand-computed values (scikit-learn's documented examples). */
import pl from 'nodejs-polars';
import { CellarError } from '../../../kernel-lib/errors.js';
import { mae, mse, r2, rmse } from '../../../kernel-lib/ml/index.js';

const yTrue = [3, -0.5, 2, 7];
const yPred = [2.5, 0.0, 2, 8];

test('mse, rmse, mae and r2 match scikit-learn', () => {
  expect(mse(yTrue, yPred)).toBeCloseTo(0.375, 15);
  expect(rmse(yTrue, yPred)).toBeCloseTo(Math.sqrt(0.375), 15);
  expect(mae(yTrue, yPred)).toBeCloseTo(0.5, 15);
  expect(r2(yTrue, yPred)).toBeCloseTo(0.9486081370449679, 15);
});

test('inputs can be typed arrays and polars Series', () => {
  expect(rmse(Float64Array.from(yTrue), pl.Series('p', yPred))).toBeCloseTo(Math.sqrt(0.375), 15);
});

test('r2 edge cases: perfect, constant target, a single value', () => {
  expect(r2([1, 2, 3], [1, 2, 3])).toBe(1);
  expect(r2([2, 2, 2], [2, 2, 2])).toBe(1);
  expect(r2([2, 2, 2], [1, 2, 3])).toBe(0);
  expect(r2([1, 2, 3], [3, 2, 1])).toBeCloseTo(-3, 15);
  expect(r2([1], [1])).toBeNaN();
});

test('length mismatch, empty input and NaN are INVALID_INPUT', () => {
  for (const f of [rmse, mae, r2, mse]) {
    expect(() => f([1, 2], [1])).toThrow(CellarError);
    expect(() => f([1, 2], [1])).toThrow(/yTrue has 2 values but yPred has 1/);
    expect(() => f([], [])).toThrow(/empty/);
    expect(() => f([1, NaN], [1, 2])).toThrow(/yTrue row 1 is NaN/);
  }
});
