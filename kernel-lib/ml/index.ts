/**
 * ml — cellar's training helpers for notebooks: scikit-learn-compatible linear estimators (ElasticNet,
 * Lasso, Ridge, LinearRegression), train/test splitting, regression metrics, the model JSON format and
 * the fit hook that tracking uses for autologging. This file is the public surface of the module.
 */
export { ElasticNet, Lasso, type ElasticNetOptions, type LassoOptions } from './elasticnet.js';
export { Ridge, type RidgeOptions } from './ridge.js';
export { LinearRegression, type LinearRegressionOptions } from './linear-regression.js';
export { LinearEstimator, type Estimator } from './estimator.js';
export { trainTestSplit, splitIndices, takeRows, type SplitOptions } from './split.js';
export { rmse, mae, r2, mse, regressionMetrics } from './metrics.js';
export {
  modelFromJSON,
  validateModelJSON,
  type ColumnSpec,
  type ModelSignature,
  type ModelJSON,
  type ModelParams,
  type LoadedModel,
} from './model-json.js';
export { addFitListener, hasFitListeners, type FitEvent, type FitListener } from './hooks.js';
export { datasetFingerprint } from './fingerprint.js';
export {
  enetCoordinateDescent,
  enetDualityGap,
  type EnetCDOptions,
  type EnetCDResult,
} from './coordinate-descent.js';
export { enetObjective } from './linear-core.js';
export { mulberry32, permutation } from './random.js';
