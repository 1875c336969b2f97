/**
 * ml/linear-regression — ordinary least squares (scikit-learn's `LinearRegression`) with cellar's
 * estimator interface, wrapping ml-regression's `MultivariateLinearRegression`.
 */
// Imported from the package ml-regression re-exports it from: `ml-regression` itself pulls in an
// ESM-only dependency (is-any-array) that jest's CommonJS runtime cannot load on Node 20.
import type MultivariateLinearRegression from 'ml-regression-multivariate-linear';
import type { Matrix } from '../data/matrix.js';
import { requireDependency } from '../lazy/load.js';
import { centeredGram } from './coordinate-descent-gram.js';
import { checkBoolParam, LinearEstimator, type ColumnFit } from './estimator.js';
import { choleskyFactor, forwardSolve } from './linalg.js';
import { columnStats } from './linear-core.js';
import type { ModelParams } from './model-json.js';

/** Options of `LinearRegression`. */
export interface LinearRegressionOptions {
  /** Fit an intercept (X and y are centered first, which also helps the conditioning). Default true. */
  fitIntercept?: boolean;
}

/** Rows per feature above which the least-squares problem is first compressed to p rows. */
const COMPRESS_RATIO = 8;

/**
 * Ordinary least squares, minimising `||y − Xw − b||²`. Collinear features get the minimum-norm
 * solution (pseudo-inverse), as in scikit-learn. ml-regression solves the normal equations; on tall
 * data cellar hands it an equivalent p-row problem (`Lᵀw ≈ L⁻¹Xᵀy` with `XᵀX = LLᵀ`, same normal
 * equations) instead of millions of row arrays.
 *
 * @example
 * const model = new LinearRegression().fit([[1], [2], [3]], [2, 4, 6]);
 * model.coef; // [2]
 */
export class LinearRegression extends LinearEstimator {
  protected readonly className: string = 'LinearRegression';
  protected override readonly deferFiniteCheck: boolean = true;
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
    const n = m.nRows;
    const p = m.nCols;
    const { xMean, yMean, norms } = columnStats(m, y, this.fitIntercept);
    const coef =
      (n > COMPRESS_RATIO * p && this.solveCompressed(m, y, xMean, yMean, norms)) ||
      this.solveRows(m, y, xMean, yMean);
    let intercept = yMean;
    for (let j = 0; j < p; j++) intercept -= xMean[j] * coef[j];
    return { coef, intercept };
  }

  /** ml-regression on the p-row equivalent problem; null when XᵀX is singular (then the rows path runs). */
  private solveCompressed(
    m: Matrix,
    y: Float64Array,
    xMean: Float64Array,
    yMean: number,
    norms: Float64Array,
  ): number[] | null {
    const p = m.nCols;
    const { G, q } = centeredGram(m.columns, xMean, y, yMean, norms);
    const L = choleskyFactor(G, p);
    if (L === null) return null;
    const b = forwardSolve(L, q, p);
    const rows: number[][] = [];
    for (let i = 0; i < p; i++) {
      const row = new Array<number>(p);
      for (let j = 0; j < p; j++) row[j] = L[j * p + i]; // row i of Lᵀ
      rows.push(row);
    }
    return solve(
      rows,
      Array.from(b, (v) => [v]),
      p,
    );
  }

  /** ml-regression on the (centered) rows themselves. */
  private solveRows(m: Matrix, y: Float64Array, xMean: Float64Array, yMean: number): number[] {
    const n = m.nRows;
    const p = m.nCols;
    const rows = new Array<number[]>(n);
    const yRows = new Array<number[]>(n);
    for (let i = 0; i < n; i++) {
      const row = new Array<number>(p);
      for (let j = 0; j < p; j++) row[j] = m.columns[j][i] - xMean[j];
      rows[i] = row;
      yRows[i] = [y[i] - yMean];
    }
    return solve(rows, yRows, p);
  }
}

function solve(rows: number[][], yRows: number[][], p: number): number[] {
  // Loaded on first fit: `import 'cellar'` should not pay for ml-matrix up front.
  const Mlr = requireDependency<typeof MultivariateLinearRegression>(
    'ml-regression-multivariate-linear',
    'LinearRegression',
  );
  const mlr = new Mlr(rows, yRows, { intercept: false, statistics: false });
  return mlr.weights.slice(0, p).map((w) => w[0]);
}
