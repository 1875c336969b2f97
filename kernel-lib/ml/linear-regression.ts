/**
 * ml/linear-regression — ordinary least squares (scikit-learn's `LinearRegression`) with cellar's
 * estimator interface, wrapping ml-regression's `MultivariateLinearRegression`.
 */
// Imported from the package ml-regression re-exports it from: `ml-regression` itself pulls in an
// ESM-only dependency (is-any-array) that jest's CommonJS runtime cannot load on Node 20.
import MultivariateLinearRegression from 'ml-regression-multivariate-linear';
import type { Matrix } from '../data/matrix.js';
import { checkBoolParam, LinearEstimator, type ColumnFit } from './estimator.js';
import { centerData } from './linear-core.js';
import type { ModelParams } from './model-json.js';

/** Options of `LinearRegression`. */
export interface LinearRegressionOptions {
  /** Fit an intercept (X and y are centered first, which also helps the conditioning). Default true. */
  fitIntercept?: boolean;
}

/**
 * Ordinary least squares, minimising `||y − Xw − b||²`. Collinear features get the minimum-norm
 * solution (pseudo-inverse), as in scikit-learn. Builds row arrays for ml-regression, so for very large
 * data prefer `Ridge` with a small alpha, which works on the columns directly.
 *
 * @example
 * const model = new LinearRegression().fit([[1], [2], [3]], [2, 4, 6]);
 * model.coef; // [2]
 */
export class LinearRegression extends LinearEstimator {
  protected readonly className: string = 'LinearRegression';
  fitIntercept: boolean;

  /** Creates an unfitted model. */
  constructor(opts: LinearRegressionOptions = {}) {
    super();
    this.fitIntercept = opts.fitIntercept ?? true;
  }

  /** `{fit_intercept}` as scikit-learn names it. */
  getParams(): ModelParams {
    return { fit_intercept: this.fitIntercept };
  }

  protected checkParams(): void {
    checkBoolParam('fitIntercept', this.fitIntercept);
  }

  protected fitColumns(m: Matrix, y: Float64Array): ColumnFit {
    const data = this.fitIntercept ? centerData(m.columns, y) : null;
    const X = data ? data.columns : m.columns;
    const yc = data ? data.y : y;
    const n = m.nRows;
    const p = X.length;
    const rows = new Array<number[]>(n);
    const yRows = new Array<number[]>(n);
    for (let i = 0; i < n; i++) {
      const row = new Array<number>(p);
      for (let j = 0; j < p; j++) row[j] = X[j][i];
      rows[i] = row;
      yRows[i] = [yc[i]];
    }
    const mlr = new MultivariateLinearRegression(rows, yRows, { intercept: false, statistics: false });
    const coef = mlr.weights.slice(0, p).map((w) => w[0]);
    let intercept = 0;
    if (data) {
      intercept = data.yMean;
      for (let j = 0; j < p; j++) intercept -= data.xMean[j] * coef[j];
    }
    return { coef, intercept };
  }
}
