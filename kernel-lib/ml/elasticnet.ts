/**
 * ml/elasticnet — ElasticNet and Lasso, fitted like scikit-learn's (same objective, same coordinate
 * descent, same stopping rule), so coefficients and `nIter` match it. Thin classes over
 * `enetCoordinateDescent`.
 */
import { CellarError } from '../errors.js';
import type { Matrix } from '../data/matrix.js';
import { enetCoordinateDescent } from './coordinate-descent.js';
import {
  checkBoolParam,
  checkIntParam,
  checkNumberParam,
  LinearEstimator,
  type ColumnFit,
} from './estimator.js';
import { columnStats } from './linear-core.js';
import type { ModelParams } from './model-json.js';
import { mulberry32 } from './random.js';

/** Options of `ElasticNet` (scikit-learn's parameters, camelCase). */
export interface ElasticNetOptions {
  /** Overall penalty strength (>= 0). Default 1. */
  alpha?: number;
  /** Share of the L1 penalty, in [0, 1] (1 = Lasso, 0 = ridge-like). Default 0.5. */
  l1Ratio?: number;
  /** Fit an intercept by centering X and y first. Default true. */
  fitIntercept?: boolean;
  /** Maximum passes over the features. Default 1000. */
  maxIter?: number;
  /** Stopping tolerance (on the duality gap, scaled by ||y||²/n). Default 1e-4. */
  tol?: number;
  /** 'cyclic' (default) visits features in order; 'random' picks a random feature at each step. */
  selection?: 'cyclic' | 'random';
  /** Seed of cellar's own generator for selection='random' (default 0). It is not numpy's stream. */
  randomState?: number | null;
}

/**
 * When a fit on large, tall data has not converged after this many passes, the rest runs on the Gram
 * matrix: building it costs about as much as (p + 3) / 5 residual passes, so switching then at most
 * doubles the cost of a fit that would have converged right after, and saves most of a long one.
 * Small data keeps scikit-learn's residual form throughout (Infinity).
 */
export function gramSwitchPass(nRows: number, nCols: number): number {
  if (nRows * nCols < 1 << 20 || nRows < 4 * nCols || nCols > 2048) return Infinity;
  return Math.max(3, Math.ceil((nCols + 3) / 5));
}

/**
 * Linear regression with combined L1 and L2 penalties, minimising scikit-learn's objective
 * `1/(2n)·||y − Xw − b||² + alpha·l1Ratio·||w||₁ + ½·alpha·(1 − l1Ratio)·||w||²` by coordinate descent.
 * Matches scikit-learn's `ElasticNet` (precompute=False): coefficients to ~1e-13 relative and the same
 * `nIter` on the oracle fixtures. As in scikit-learn, `l1Ratio = 0` never meets the duality-gap test (the
 * L1 term scales the dual point), so such fits run `maxIter` passes and warn; prefer `Ridge` for that.
 *
 * @example
 * const model = new ElasticNet({ alpha: 0.5, l1Ratio: 0.1 }).fit(XTrain, yTrain);
 * const rmseTest = rmse(yTest, model.predict(XTest));
 */
export class ElasticNet extends LinearEstimator {
  protected readonly className: string = 'ElasticNet';
  protected override readonly deferFiniteCheck: boolean = true;
  alpha: number;
  l1Ratio: number;
  fitIntercept: boolean;
  maxIter: number;
  tol: number;
  selection: 'cyclic' | 'random';
  randomState: number | null;
  /** Duality gap at the end of the fit, in scikit-learn's `dual_gap_` units. */
  dualGap?: number;
  /** False when the last fit stopped at `maxIter` before reaching `tol`. */
  converged?: boolean;

  /** Creates an unfitted model; parameters are checked when `fit` is called (as in scikit-learn). */
  constructor(opts: ElasticNetOptions = {}) {
    super();
    this.alpha = opts.alpha ?? 1;
    this.l1Ratio = opts.l1Ratio ?? 0.5;
    this.fitIntercept = opts.fitIntercept ?? true;
    this.maxIter = opts.maxIter ?? 1000;
    this.tol = opts.tol ?? 1e-4;
    this.selection = opts.selection ?? 'cyclic';
    this.randomState = opts.randomState ?? null;
  }

  /** `{alpha, l1_ratio, fit_intercept, max_iter, tol, selection, random_state}` as scikit-learn names them. */
  getParams(): ModelParams {
    return {
      alpha: this.alpha,
      l1_ratio: this.l1Ratio,
      fit_intercept: this.fitIntercept,
      max_iter: this.maxIter,
      tol: this.tol,
      selection: this.selection,
      random_state: this.randomState,
    };
  }

  protected checkParams(): void {
    checkNumberParam('alpha', this.alpha, 0);
    checkNumberParam('l1Ratio', this.l1Ratio, 0, 1);
    checkBoolParam('fitIntercept', this.fitIntercept);
    checkIntParam('maxIter', this.maxIter, 1);
    checkNumberParam('tol', this.tol, 0);
    if (this.selection !== 'cyclic' && this.selection !== 'random') {
      throw new CellarError(
        'INVALID_PARAMETER',
        `selection must be 'cyclic' or 'random', got ${JSON.stringify(this.selection)}`,
        { param: 'selection' },
      );
    }
    if (this.randomState !== null) checkIntParam('randomState', this.randomState, 0);
  }

  protected fitColumns(m: Matrix, y: Float64Array): ColumnFit {
    const n = m.nRows;
    const p = m.nCols;
    const { xMean, yMean, norms } = columnStats(m, y, this.fitIntercept);
    const r = enetCoordinateDescent(m.columns, y, {
      l1Reg: this.alpha * this.l1Ratio * n,
      l2Reg: this.alpha * (1 - this.l1Ratio) * n,
      maxIter: this.maxIter,
      tol: this.tol,
      random: this.selection === 'random' ? mulberry32(this.randomState ?? 0) : null,
      xOffset: xMean,
      yOffset: yMean,
      norms,
      gramAfter: gramSwitchPass(n, p),
    });
    this.dualGap = r.dualGap / n;
    this.converged = r.converged;
    if (!r.converged) {
      console.warn(
        `cellar: ${this.className} did not converge in maxIter=${this.maxIter} passes (duality gap ${this.dualGap.toExponential(3)}); ` +
          'increase maxIter, scale the features, or raise tol',
      );
    }
    let intercept = 0;
    if (this.fitIntercept) {
      intercept = yMean;
      for (let j = 0; j < p; j++) intercept -= xMean[j] * r.coef[j];
    }
    return { coef: r.coef, intercept, nIter: r.nIter };
  }
}

/** Options of `Lasso`: those of ElasticNet without `l1Ratio` (fixed at 1). */
export type LassoOptions = Omit<ElasticNetOptions, 'l1Ratio'>;

/**
 * Linear regression with an L1 penalty, `1/(2n)·||y − Xw − b||² + alpha·||w||₁` (ElasticNet with
 * l1Ratio = 1), as scikit-learn's `Lasso`.
 *
 * @example
 * const model = new Lasso({ alpha: 0.1 }).fit(X, y);
 * model.coef; // several exact zeros
 */
export class Lasso extends ElasticNet {
  protected override readonly className: string = 'Lasso';

  /** Creates an unfitted Lasso model. */
  constructor(opts: LassoOptions = {}) {
    super({ ...opts, l1Ratio: 1 });
  }

  /** `{alpha, fit_intercept, max_iter, tol, selection, random_state}` as scikit-learn names them. */
  override getParams(): ModelParams {
    const { l1_ratio: _l1, ...rest } = super.getParams();
    return rest;
  }
}
