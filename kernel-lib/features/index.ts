/**
 * features — the public surface of cellar's feature store: definitions (entity, fileSource, featureView,
 * featureService), `featureStore()` / `FeatureStore` with training-data retrieval (`RetrievalJob`),
 * materialization, online reads and pushes, the store interfaces for other backends, and the course's
 * demo-data generator.
 */
export {
  entity,
  fileSource,
  featureView,
  featureService,
  parseTtl,
  parseFeatureRef,
  FEATURE_DTYPES,
  type EntityDef,
  type FileSourceDef,
  type FeatureViewDef,
  type FeatureServiceDef,
  type FeatureDefinition,
  type FeatureDtype,
  type FeatureRef,
} from './types.js';
export {
  featureStore,
  FeatureStore,
  checkSource,
  type FeatureStoreOptions,
  type ApplyOptions,
  type Instant,
  type OnlineFeaturesOptions,
} from './feature-store.js';
export { RetrievalJob, type HistoricalFeaturesOptions } from './historical.js';
export type {
  Plan,
  PlanItem,
  FieldChange,
  StoredDefinition,
  DefinitionDescription,
  DefinitionKind,
} from './registry.js';
export type {
  OfflineStore,
  OnlineStore,
  OnlineRow,
  OnlineValue,
  ValueColumn,
  EntityFrame,
  LatestRows,
  HistoricalJoinRequest,
  HistoricalJoinResult,
  ViewRequest,
  KeyValue,
} from './stores.js';
export type { MaterializeResult, OnlineResponse, OnlineFieldResult, FeatureStatus } from './online/index.js';
export {
  generateDriverData,
  writeDemoData,
  driverDefinitions,
  type DriverDataOptions,
  type DriverData,
  type DriverStatsRow,
  type DriverOrderRow,
  type WriteDemoDataOptions,
  type DemoDataFiles,
} from './demo-data.js';
export {
  SqliteOnlineStore,
  RedisOnlineStore,
  type RedisOnlineStoreOptions,
  type KeyType,
  type KeyTypes,
} from './online/index.js';
export { FileOfflineStore } from './file-offline-store.js';
export { PostgresOfflineStore } from './postgres-offline-store.js';
export { postgresSource, type PostgresSourceDef } from './postgres-source.js';
