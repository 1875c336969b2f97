/**
 * cellar — the package's main export: the SDK a notebook or script imports (`import { … } from "cellar"`).
 * Stores, run tracking, the model registry, training helpers, data IO, the feature store, pipelines and
 * notebook display — the public API only (internals are imported by path inside the package). Everything
 * heavy (polars, SQLite, the TypeScript compiler, database clients) loads on first use (see kernel-lib/lazy).
 */
export { CellarError, isCellarError, ERROR_CODES, type ErrorCode } from './errors.js';
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
export { autolog, evaluate, type AutologOptions } from './tracking/autolog.js';
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
export type { ModelUri } from './registry/uri.js';
export type { StoreLocation } from './store/locate.js';
export { driverTrainingData, type DriverTrainingRow } from './data/synthetic.js';
export {
  exportNotebook,
  planExport,
  listPipelines,
  listPipelineVersions,
  getPipelineVersion,
  diffPipelineVersions,
} from './lazy/exporter.js';
export type { ExportOptions, ExportResult } from './exporter/index.js';
export type { PipelineSpec, StepSpec, StepContext, ParameterSpec } from './exporter/spec.js';
export {
  entity,
  fileSource,
  featureView,
  featureService,
  featureStore,
  FeatureStore,
  RetrievalJob,
  generateDriverData,
  writeDemoData,
  SqliteOnlineStore,
  RedisOnlineStore,
  FileOfflineStore,
  PostgresOfflineStore,
  postgresSource,
  type EntityDef,
  type FileSourceDef,
  type FeatureViewDef,
  type FeatureServiceDef,
  type FeatureDefinition,
  type FeatureDtype,
  type FeatureRef,
  type FeatureStoreOptions,
  type ApplyOptions,
  type Instant,
  type OnlineFeaturesOptions,
  type HistoricalFeaturesOptions,
  type Plan,
  type PlanItem,
  type FieldChange,
  type StoredDefinition,
  type DefinitionDescription,
  type DefinitionKind,
  type OfflineStore,
  type OnlineStore,
  type OnlineRow,
  type OnlineValue,
  type MaterializeResult,
  type OnlineResponse,
  type OnlineFieldResult,
  type FeatureStatus,
  type DriverDataOptions,
  type DriverData,
  type DriverStatsRow,
  type DriverOrderRow,
  type WriteDemoDataOptions,
  type DemoDataFiles,
  type RedisOnlineStoreOptions,
  type PostgresSourceDef,
} from './features/index.js';
export {
  ElasticNet,
  Lasso,
  Ridge,
  LinearRegression,
  trainTestSplit,
  rmse,
  mae,
  r2,
  mse,
  regressionMetrics,
  modelFromJSON,
  addFitListener,
  type ElasticNetOptions,
  type LassoOptions,
  type RidgeOptions,
  type LinearRegressionOptions,
  type LinearEstimator,
  type Estimator,
  type SplitOptions,
  type ColumnSpec,
  type ModelSignature,
  type ModelJSON,
  type ModelParams,
  type LoadedModel,
  type FitEvent,
  type FitListener,
} from './ml/index.js';
export {
  readCsv,
  readParquet,
  writeCsv,
  writeParquet,
  toDataFrame,
  toRows,
  isPolarsDataFrame,
  type ReadCsvOptions,
  type ReadParquetOptions,
  type WriteCsvOptions,
  type WriteParquetOptions,
  type DataFrameLike,
} from './data/index.js';
export * as display from './display/index.js';
export * as bridge from './bridge/index.js';
export * from './serving/index.js';
export * from './monitoring/index.js';
