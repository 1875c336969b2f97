/**
 * ml/linear-core — small numeric helpers shared by the linear estimators and loaded models: column
 * means, centering, prediction and the ElasticNet objective. Pure functions over Float64 columns.
 */
import { assertFiniteColumn, type Matrix } from '../data/matrix.js';
import { centeredSumSq, dot } from './coordinate-descent.js';

/** Mean of a Float64Array (0 for an empty one). */
export function mean(a: Float64Array): number {
  const n = a.length;
  if (n === 0) return 0;
  const q = n - (n & 3);
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i < q; i += 4) {
    s0 += a[i];
    s1 += a[i + 1];
    s2 += a[i + 2];
    s3 += a[i + 3];
  }
  for (; i < n; i++) s0 += a[i];
  return (s0 + s1 + (s2 + s3)) / n;
}

/**
 * Column means (zeros when not centering), the target mean, and centered column norms `Σ(x − mean)²`:
 * what every linear fit needs first. A NaN/Infinity in X makes a mean or norm non-finite, and only then
 * is the column scanned to name the bad cell — estimators that call this skip the separate finite check.
 *
 * @throws CellarError('INVALID_INPUT') naming the column and row of a NaN/Infinity in X.
 */
export function columnStats(
  m: Matrix,
  y: Float64Array,
  center: boolean,
): { xMean: Float64Array; yMean: number; norms: Float64Array } {
  const p = m.nCols;
  const xMean = new Float64Array(p);
  const norms = new Float64Array(p);
  for (let j = 0; j < p; j++) {
    const col = m.columns[j];
    if (center) xMean[j] = mean(col);
    norms[j] = centeredSumSq(col, xMean[j]);
    if (!Number.isFinite(xMean[j]) || !Number.isFinite(norms[j]))
      assertFiniteColumn('X', m.featureNames[j], col);
  }
  return { xMean, yMean: center ? mean(y) : 0, norms };
}

/** `intercept + Σ coef_j · column_j` for every row, as a Float64Array. */
export function predictColumns(
  columns: Float64Array[],
  nRows: number,
  coef: ArrayLike<number>,
  intercept: number,
): Float64Array {
  const out = new Float64Array(nRows);
  out.fill(intercept);
  for (let j = 0; j < columns.length; j++) {
    const c = coef[j];
    if (c === 0) continue;
    const col = columns[j];
    for (let i = 0; i < nRows; i++) out[i] += c * col[i];
  }
  return out;
}

/**
 * scikit-learn's ElasticNet objective at (coef, intercept):
 * `1/(2n)·||y − Xw − b||² + alpha·l1Ratio·||w||₁ + ½·alpha·(1 − l1Ratio)·||w||²`.
 *
 * @example
 * enetObjective(m.columns, y, model.coef, model.intercept, 0.5, 0.1);
 */
export function enetObjective(
  columns: Float64Array[],
  y: Float64Array,
  coef: ArrayLike<number>,
  intercept: number,
  alpha: number,
  l1Ratio: number,
): number {
  const n = y.length;
  const pred = predictColumns(columns, n, coef, intercept);
  for (let i = 0; i < n; i++) pred[i] = y[i] - pred[i];
  let l1 = 0;
  let l2 = 0;
  for (let j = 0; j < columns.length; j++) {
    l1 += Math.abs(coef[j]);
    l2 += coef[j] * coef[j];
  }
  return dot(pred, pred) / (2 * n) + alpha * l1Ratio * l1 + 0.5 * alpha * (1 - l1Ratio) * l2;
}
