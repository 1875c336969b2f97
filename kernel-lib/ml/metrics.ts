/**
 * ml/metrics — regression metrics with scikit-learn's definitions (mean_squared_error, its square root,
 * mean_absolute_error, r2_score). Inputs are anything `toVector` accepts: arrays, typed arrays, Series.
 */
import { CellarError } from '../errors.js';
import { toVector } from '../data/matrix.js';

function pair(yTrue: unknown, yPred: unknown): [Float64Array, Float64Array] {
  const a = toVector(yTrue, { label: 'yTrue' });
  const b = toVector(yPred, { label: 'yPred' });
  if (a.length !== b.length) {
    throw new CellarError(
      'INVALID_INPUT',
      `yTrue has ${a.length} values but yPred has ${b.length}: pass predictions for the same rows`,
      { yTrue: a.length, yPred: b.length },
    );
  }
  if (a.length === 0)
    throw new CellarError('INVALID_INPUT', 'yTrue and yPred are empty: metrics need at least one value');
  return [a, b];
}

/** Sum of squared differences. */
function sse(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    s += d * d;
  }
  return s;
}

/**
 * Mean squared error: `Σ(yTrue − yPred)² / n`.
 *
 * @throws CellarError('INVALID_INPUT') on length mismatch, empty input or non-finite values.
 * @example
 * mse([1, 2, 3], [1, 2, 5]); // 1.3333333333333333
 */
export function mse(yTrue: unknown, yPred: unknown): number {
  const [a, b] = pair(yTrue, yPred);
  return sse(a, b) / a.length;
}

/**
 * Root mean squared error: `√mse` (scikit-learn's `mean_squared_error(squared=False)`).
 *
 * @throws CellarError('INVALID_INPUT') on length mismatch, empty input or non-finite values.
 * @example
 * rmse(yTest, model.predict(XTest));
 */
export function rmse(yTrue: unknown, yPred: unknown): number {
  return Math.sqrt(mse(yTrue, yPred));
}

/**
 * Mean absolute error: `Σ|yTrue − yPred| / n`.
 *
 * @throws CellarError('INVALID_INPUT') on length mismatch, empty input or non-finite values.
 * @example
 * mae([1, 2, 3], [1, 2, 5]); // 0.6666666666666666
 */
export function mae(yTrue: unknown, yPred: unknown): number {
  const [a, b] = pair(yTrue, yPred);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
}

/**
 * Coefficient of determination `1 − SS_res / SS_tot` (scikit-learn's `r2_score`). When yTrue is constant,
 * returns 1 for a perfect prediction and 0 otherwise (scikit-learn's `force_finite`); with a single value
 * it returns NaN, as R² is not defined.
 *
 * @throws CellarError('INVALID_INPUT') on length mismatch, empty input or non-finite values.
 * @example
 * r2([1, 2, 3], [1, 2, 5]); // -1
 */
export function r2(yTrue: unknown, yPred: unknown): number {
  const [a, b] = pair(yTrue, yPred);
  const n = a.length;
  if (n < 2) return NaN;
  let m = 0;
  for (let i = 0; i < n; i++) m += a[i];
  m /= n;
  let ssTot = 0;
  for (let i = 0; i < n; i++) {
    const d = a[i] - m;
    ssTot += d * d;
  }
  const ssRes = sse(a, b);
  if (ssTot === 0) return ssRes === 0 ? 1 : 0;
  return 1 - ssRes / ssTot;
}

/** RMSE, MAE and R² in one call, e.g. for logging. */
export function regressionMetrics(yTrue: unknown, yPred: unknown): { rmse: number; mae: number; r2: number } {
  return { rmse: rmse(yTrue, yPred), mae: mae(yTrue, yPred), r2: r2(yTrue, yPred) };
}
