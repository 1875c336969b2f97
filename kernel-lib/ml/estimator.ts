/**
 * ml/estimator — the shared shape of cellar's linear estimators: input coercion and checks on `fit`,
 * name-matched `predict`, `toJSON` in the model format, and the fit event for autologging. Concrete
 * estimators only implement parameter checks and the fit on Float64 columns.
 */
import { CellarError } from '../errors.js';
import { toMatrix, toVector, type Matrix, type MatrixColumnType } from '../data/matrix.js';
import { emitFitEvent, recordFit } from './hooks.js';
import { datasetFingerprint } from './fingerprint.js';
import { predictColumns } from './linear-core.js';
import { regressionMetrics } from './metrics.js';
import type { ModelJSON, ModelParams } from './model-json.js';

/** What every cellar estimator offers (scikit-learn-like, camelCase). */
export interface Estimator {
  /** Fits on X (rows, row objects, column objects, typed arrays or a DataFrame) and y; returns `this`. */
  fit(X: unknown, y: unknown): this;
  /** Predictions for X, whose named columns are matched to `featureNames`. */
  predict(X: unknown): number[];
  coef: number[];
  intercept: number;
  featureNames: string[];
  /** snake_case parameters as MLflow/scikit-learn log them. */
  getParams(): ModelParams;
  /** The fitted model in cellar's model JSON format. */
  toJSON(): ModelJSON;
}

/** What a concrete estimator's column-level fit returns. */
export interface ColumnFit {
  coef: ArrayLike<number>;
  intercept: number;
  nIter?: number;
}

/** Throws INVALID_PARAMETER unless `v` is a finite number within [min, max]. */
export function checkNumberParam(name: string, v: unknown, min: number, max = Infinity, hint = ''): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    const range = max === Infinity ? `>= ${min}` : `in [${min}, ${max}]`;
    throw new CellarError(
      'INVALID_PARAMETER',
      `${name} must be a finite number ${range}, got ${JSON.stringify(v) ?? String(v)}${hint}`,
      { param: name },
    );
  }
  return v;
}

/** Throws INVALID_PARAMETER unless `v` is an integer >= min. */
export function checkIntParam(name: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new CellarError(
      'INVALID_PARAMETER',
      `${name} must be an integer >= ${min}, got ${JSON.stringify(v)}`,
      {
        param: name,
      },
    );
  }
  return v;
}

/** Throws INVALID_PARAMETER unless `v` is a boolean. */
export function checkBoolParam(name: string, v: unknown): boolean {
  if (typeof v !== 'boolean') {
    throw new CellarError('INVALID_PARAMETER', `${name} must be true or false, got ${JSON.stringify(v)}`, {
      param: name,
    });
  }
  return v;
}

/**
 * Base class of the linear estimators. Subclasses set `className`, implement `getParams`,
 * `checkParams` and `fitColumns`; this class does the rest.
 */
export abstract class LinearEstimator implements Estimator {
  /** Coefficients, one per feature (empty before `fit`). */
  coef: number[] = [];
  /** The intercept (0 before `fit`, and when fitIntercept is false). */
  intercept = 0;
  /** Feature names seen at `fit`: from the input's column names, or `x0, x1, …` for unnamed input. */
  featureNames: string[] = [];
  /** Passes over the data of an iterative solver (scikit-learn's `n_iter_`); undefined for closed-form fits. */
  nIter?: number;
  /** sha256 of the training data; computed only when a fit listener is registered. */
  datasetFingerprint?: string;
  /** Types of the training columns, for the signature. */
  protected featureTypes: MatrixColumnType[] = [];
  /** When the last fit finished (ISO 8601). */
  protected fittedAt?: string;
  /** The estimator's name in model JSON and fit events, e.g. 'ElasticNet'. */
  protected abstract readonly className: string;
  /**
   * True when `fitColumns` itself rejects NaN/Infinity in X (e.g. via the column sums it needs anyway,
   * saving a pass over large data); otherwise `fit` checks every value first.
   */
  protected readonly deferFiniteCheck: boolean = false;

  /** snake_case parameters as MLflow/scikit-learn log them. */
  abstract getParams(): ModelParams;
  /** Throws CellarError('INVALID_PARAMETER') for a bad parameter value. */
  protected abstract checkParams(): void;
  /** Fits on validated Float64 columns (not to be modified) and a target of the same length. */
  protected abstract fitColumns(m: Matrix, y: Float64Array): ColumnFit;

  /** True once `fit` has succeeded. */
  get isFitted(): boolean {
    return this.fittedAt !== undefined;
  }

  /**
   * Fits the model. X may be rows (`number[][]`), a 1-D array (one feature), row objects, a column object,
   * a polars DataFrame or a danfo-like DataFrame; y an array, typed array, Series or one-column frame.
   *
   * @throws CellarError('INVALID_INPUT') for NaN/Infinity, non-numeric columns, no rows, or X/y length mismatch;
   *   CellarError('INVALID_PARAMETER') for bad parameters.
   * @example
   * const model = new ElasticNet({ alpha: 0.5, l1Ratio: 0.1 }).fit(XTrain, yTrain);
   */
  fit(X: unknown, y: unknown): this {
    this.checkParams();
    const m = toMatrix(X, { allowNonFinite: this.deferFiniteCheck });
    const yv = toVector(y);
    if (m.nRows === 0) throw new CellarError('INVALID_INPUT', 'X has no rows: fit needs at least one row');
    if (m.nCols === 0)
      throw new CellarError('INVALID_INPUT', 'X has no columns: fit needs at least one feature');
    if (yv.length !== m.nRows) {
      throw new CellarError(
        'INVALID_INPUT',
        `X has ${m.nRows} rows but y has ${yv.length} values: pass the same rows to both`,
        { xRows: m.nRows, yRows: yv.length },
      );
    }
    const r = this.fitColumns(m, yv);
    const coef = Array.from(r.coef);
    if (!coef.every(Number.isFinite) || !Number.isFinite(r.intercept)) {
      throw new CellarError(
        'INVALID_INPUT',
        `${this.className} produced non-finite coefficients: the input has values too large to fit; scale the features first`,
      );
    }
    this.coef = coef;
    this.intercept = r.intercept;
    this.featureNames = m.featureNames.slice();
    this.featureTypes = m.types.slice();
    this.fittedAt = new Date().toISOString();
    this.datasetFingerprint = undefined;
    this.nIter = r.nIter;
    const event = emitFitEvent(() => {
      this.datasetFingerprint = datasetFingerprint(m.featureNames, m.columns, yv);
      const pred = predictColumns(m.columns, m.nRows, coef, r.intercept);
      return {
        className: this.className,
        params: this.getParams(),
        featureNames: this.featureNames.slice(),
        nRows: m.nRows,
        nCols: m.nCols,
        model: this.toJSON(),
        datasetFingerprint: this.datasetFingerprint,
        trainingMetrics: regressionMetrics(yv, pred),
        featureMeans: columnMeans(m.featureNames, m.columns),
        training: { columns: m.columns, target: yv, prediction: pred },
      };
    });
    recordFit({ className: this.className, model: event?.model ?? this.toJSON(), at: Date.now() });
    return this;
  }

  /**
   * Predicts for X. Named input (row objects, column objects, DataFrames) is matched to `featureNames` by
   * name, in any column order, extra columns ignored; unnamed rows must have the features in fit order.
   *
   * @throws CellarError('INVALID_STATE') before `fit`; CellarError('INVALID_INPUT') for a missing column
   *   (named in the message) or bad values.
   * @example
   * const yPred = model.predict(XTest);
   */
  predict(X: unknown): number[] {
    this.requireFitted();
    const m = toMatrix(X, { featureNames: this.featureNames });
    return Array.from(predictColumns(m.columns, m.nRows, this.coef, this.intercept));
  }

  /**
   * The fitted model as cellar model JSON (what the registry stores; `modelFromJSON` loads it).
   *
   * @throws CellarError('INVALID_STATE') before `fit`.
   */
  toJSON(): ModelJSON {
    this.requireFitted();
    const json: ModelJSON = {
      format: 'cellar-model',
      formatVersion: 1,
      flavor: 'linear',
      estimator: this.className,
      params: this.getParams(),
      coef: this.coef.slice(),
      intercept: this.intercept,
      featureNames: this.featureNames.slice(),
      signature: {
        inputs: this.featureNames.map((name, j) => ({ name, type: this.featureTypes[j] ?? 'double' })),
        outputs: [{ name: 'prediction', type: 'double' }],
      },
    };
    if (this.datasetFingerprint !== undefined) json.datasetFingerprint = this.datasetFingerprint;
    if (this.fittedAt !== undefined) json.createdAt = this.fittedAt;
    return json;
  }

  protected requireFitted(): void {
    if (!this.isFitted) {
      throw new CellarError('INVALID_STATE', `${this.className} is not fitted yet: call fit(X, y) first`);
    }
  }
}

/** The mean of each column (non-finite means are left out). */
function columnMeans(names: readonly string[], columns: readonly Float64Array[]): Record<string, number> {
  const out: Record<string, number> = {};
  names.forEach((name, j) => {
    const col = columns[j]!;
    let sum = 0;
    for (let i = 0; i < col.length; i++) sum += col[i]!;
    const mean = col.length > 0 ? sum / col.length : NaN;
    if (Number.isFinite(mean)) out[name] = mean;
  });
  return out;
}
