/**
 * cellar — the package's main export: the SDK a notebook or script imports (`import { … } from "cellar"`).
 * Stores, run tracking, the model registry, training helpers, data IO and notebook display.
 */
export { CellarError, isCellarError, httpStatusFor, ERROR_CODES, type ErrorCode } from './errors.js';
export {
  openStore,
  getStore,
  useStore,
  startRun,
  withRun,
  endRun,
  getRun,
  searchRuns,
  getExperiment,
  createExperiment,
  registerModel,
  setAlias,
  listModels,
  loadModel,
} from './sdk.js';
export {
  CellarStore,
  type StartRunOptions,
  type SearchRunsOptions,
  type RegisterModelOptions,
  type RunList,
  type StoredModel,
} from './client.js';
export { ActiveRun, activeRun, type MetricsInput, type ArtifactInput } from './tracking/run.js';
export { autolog, evaluate, getLastFit, type AutologOptions, type LastFit } from './tracking/autolog.js';
export type {
  RunData,
  RunStatus,
  Experiment,
  MetricPoint,
  ArtifactInfo,
  RunInput,
  TrackingStore,
} from './tracking/types.js';
export type { ModelVersion, RegisteredModel, ModelRegistryStore } from './registry/types.js';
export { parseModelUri, type ModelUri } from './registry/uri.js';
export { locateStore, type StoreLocation } from './store/locate.js';
export { driverTrainingData, type DriverTrainingRow } from './data/synthetic.js';
export {
  exportNotebook,
  planExport,
  listPipelines,
  listPipelineVersions,
  getPipelineVersion,
  diffPipelineVersions,
  parsePipelineRef,
  type ExportOptions,
  type ExportResult,
} from './exporter/index.js';
export type { PipelineSpec, StepSpec, StepContext, ParameterSpec } from './exporter/spec.js';
export * from './features/index.js';
export * from './ml/index.js';
export * from './data/index.js';
export * as display from './display/index.js';
export * as bridge from './bridge/index.js';
export * from './monitoring/index.js';
