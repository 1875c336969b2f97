/**
 * features/online — the online side of the feature store: the SQLite and Redis online stores, materialization
 * from the offline store, `getOnlineFeatures` and `push`.
 */
export { SqliteOnlineStore } from './sqlite-online-store.js';
export { RedisOnlineStore, type RedisOnlineStoreOptions } from './redis-online-store.js';
export {
  materialize,
  materializeIncremental,
  readWatermarks,
  latestToOnlineRows,
  type MaterializeContext,
  type MaterializeResult,
} from './materialize.js';
export {
  getOnlineFeatures,
  OnlinePlanCache,
  type GetOnlineFeaturesOptions,
  type OnlineResponse,
  type OnlineFieldResult,
  type FeatureStatus,
} from './serve.js';
export { push, pushRows, type PushOptions } from './push.js';
export { coerceKeyValue, timestampMs, type KeyType, type KeyTypes } from './keys.js';
