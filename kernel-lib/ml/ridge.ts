/**
 * ml/ridge — Ridge regression with scikit-learn's `Ridge` objective `||y − Xw − b||² + alpha·||w||²`,
 * solved exactly (normal equations on centered data, Cholesky), like scikit-learn's 'cholesky' solver.
 */
import { CellarError } from '../errors.js';
import type { Matrix } from '../data/matrix.js';
import { dot } from './coordinate-descent.js';
import { checkBoolParam, checkNumberParam, LinearEstimator, type ColumnFit } from './estimator.js';
import { centerData } from './linear-core.js';
import type { ModelParams } from './model-json.js';

/** Options of `Ridge`. */
export interface RidgeOptions {
  /** L2 penalty (>= 0) in scikit-learn's Ridge scaling (not divided by n, unlike ElasticNet). Default 1. */
  alpha?: number;
  /** Fit an intercept by centering X and y first. Default true. */
  fitIntercept?: boolean;
}

/**
 * Solves `A x = b` for a symmetric positive definite `A` (row-major, p×p) by Cholesky; returns null when
 * `A` is not (numerically) positive definite.
 */
export function choleskySolve(A: Float64Array, b: Float64Array, p: number): Float64Array | null {
  const L = new Float64Array(p * p);
  for (let i = 0; i < p; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * p + j];
      for (let k = 0; k < j; k++) s -= L[i * p + k] * L[j * p + k];
      if (i === j) {
        if (!(s > 1e-13 * A[i * p + i])) return null; // also catches NaN and a zero diagonal
        L[i * p + i] = Math.sqrt(s);
      } else L[i * p + j] = s / L[j * p + j];
    }
  }
  const z = new Float64Array(p);
  for (let i = 0; i < p; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= L[i * p + k] * z[k];
    z[i] = s / L[i * p + i];
  }
  const x = new Float64Array(p);
  for (let i = p - 1; i >= 0; i--) {
    let s = z[i];
    for (let k = i + 1; k < p; k++) s -= L[k * p + i] * x[k];
    x[i] = s / L[i * p + i];
  }
  return x;
}

/**
 * Linear regression with an L2 penalty, as scikit-learn's `Ridge` (its `alpha` has the same meaning).
 *
 * @example
 * const model = new Ridge({ alpha: 1 }).fit(X, y);
 */
export class Ridge extends LinearEstimator {
  protected readonly className: string = 'Ridge';
  alpha: number;
  fitIntercept: boolean;

  /** Creates an unfitted Ridge model; parameters are checked by `fit`. */
  constructor(opts: RidgeOptions = {}) {
    super();
    this.alpha = opts.alpha ?? 1;
    this.fitIntercept = opts.fitIntercept ?? true;
  }

  /** `{alpha, fit_intercept}` as scikit-learn names them. */
  getParams(): ModelParams {
    return { alpha: this.alpha, fit_intercept: this.fitIntercept };
  }

  protected checkParams(): void {
    checkNumberParam('alpha', this.alpha, 0);
    checkBoolParam('fitIntercept', this.fitIntercept);
  }

  protected fitColumns(m: Matrix, y: Float64Array): ColumnFit {
    const data = this.fitIntercept ? centerData(m.columns, y) : null;
    const X = data ? data.columns : m.columns;
    const yc = data ? data.y : y;
    const p = X.length;
    const G = new Float64Array(p * p);
    const b = new Float64Array(p);
    for (let i = 0; i < p; i++) {
      b[i] = dot(X[i], yc);
      for (let j = 0; j <= i; j++) {
        const v = dot(X[i], X[j]);
        G[i * p + j] = v;
        G[j * p + i] = v;
      }
      G[i * p + i] += this.alpha;
    }
    const w = choleskySolve(G, b, p);
    if (w === null) {
      throw new CellarError(
        'INVALID_INPUT',
        `Ridge cannot solve: the features are collinear (or constant) and alpha=${this.alpha} is too small; use alpha > 0 or drop redundant columns`,
      );
    }
    let intercept = 0;
    if (data) {
      intercept = data.yMean;
      for (let j = 0; j < p; j++) intercept -= data.xMean[j] * w[j];
    }
    return { coef: w, intercept };
  }
}
