/**
 * serving — the domain side of model serving (no HTTP here; the server is pipelines/serving): serving specs
 * recorded with model versions, signature validation, the entity → feature lookup policy, the one scoring path,
 * batch prediction, the prediction log, and `serve()` for notebooks (a child `cellar serve`).
 */
export {
  SERVING_TAGS,
  servingSpecFromTags,
  normalizeBindings,
  type ServingSpec,
  type FeatureBinding,
  type MissingPolicy,
} from './spec.js';
export { validateInput, type InputRows, type ValidateOptions } from './validate.js';
export { lookupEntityFeatures, type RowFeatureStatus, type EntityLookup } from './lookup.js';
export {
  loadServableModel,
  normalizeModelRef,
  scoreRequest,
  type ServableModel,
  type ScoreRequest,
  type ScoreResult,
  type RowTransform,
} from './model.js';
export { predictBatch, type PredictBatchOptions, type PredictBatchResult } from './batch.js';
export {
  SqlitePredictionLogStore,
  PredictionLogger,
  readPredictionLog,
  type PredictionLogStore,
  type PredictionRecord,
  type StoredPrediction,
  type ReadPredictionLogOptions,
  type PredictionLoggerOptions,
} from './prediction-log.js';
export { serve, type ServeOptions, type ServingHandle } from './serve.js';
