/**
 * ml/ridge — Ridge regression with scikit-learn's `Ridge` objective `||y − Xw − b||² + alpha·||w||²`,
 * solved exactly (normal equations on centered data, Cholesky), like scikit-learn's 'cholesky' solver.
 */
import { CellarError } from '../errors.js';
import type { Matrix } from '../data/matrix.js';
import { columnStats } from './linear-core.js';
import { centeredGram } from './coordinate-descent-gram.js';
import { checkBoolParam, checkNumberParam, LinearEstimator, type ColumnFit } from './estimator.js';
import { choleskySolve } from './linalg.js';
import type { ModelParams } from './model-json.js';

/** Options of `Ridge`. */
export interface RidgeOptions {
  /** L2 penalty (>= 0) in scikit-learn's Ridge scaling (not divided by n, unlike ElasticNet). Default 1. */
  alpha?: number;
  /** Fit an intercept by centering X and y first. Default true. */
  fitIntercept?: boolean;
}

/**
 * Linear regression with an L2 penalty, as scikit-learn's `Ridge` (its `alpha` has the same meaning).
 *
 * @example
 * const model = new Ridge({ alpha: 1 }).fit(X, y);
 */
export class Ridge extends LinearEstimator {
  protected readonly className: string = 'Ridge';
  protected override readonly deferFiniteCheck: boolean = true;
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
    const p = m.nCols;
    // Centering happens on the fly inside the Gram products (same doubles as a centered copy, no copy).
    const { xMean, yMean, norms } = columnStats(m, y, this.fitIntercept);
    const { G, q } = centeredGram(m.columns, xMean, y, yMean, norms);
    for (let j = 0; j < p; j++) G[j * p + j] += this.alpha;
    const w = choleskySolve(G, q, p);
    if (w === null) {
      throw new CellarError(
        'INVALID_INPUT',
        `Ridge cannot solve: the features are collinear (or constant) and alpha=${this.alpha} is too small; use alpha > 0 or drop redundant columns`,
      );
    }
    let intercept = yMean;
    for (let j = 0; j < p; j++) intercept -= xMean[j] * w[j];
    return { coef: w, intercept };
  }
}
