/**
 * features/feature-store — `featureStore()` and `FeatureStore`, the object a notebook or pipeline uses:
 * registry (apply / plan / list / describe), training data (`getHistoricalFeatures`), materialization into the
 * online store, online reads and pushes. It owns no algorithm: it resolves names against the registry and wires
 * the offline store (files by default), the online store (the store's SQLite by default) and the functions of
 * `historical.ts` and `online/`.
 */
import { existsSync, statSync } from 'node:fs';
import { pl } from '../data/polars.js';
import type { DataFrame } from 'nodejs-polars';
import { CellarError } from '../errors.js';
import { getStore } from '../sdk.js';
import { locateStore } from '../store/locate.js';
import { openEmbedded, type EmbeddedBackend } from '../store/open.js';
import type { SqliteDb } from '../store/sqlite.js';
import { dtypeKind } from './entity-input.js';
import { FileOfflineStore } from './file-offline-store.js';
import { getHistoricalFeatures, RetrievalJob, type HistoricalFeaturesOptions } from './historical.js';
import {
  getOnlineFeatures,
  materialize,
  materializeIncremental,
  OnlinePlanCache,
  push,
  readWatermarks,
  SqliteOnlineStore,
  type MaterializeResult,
  type OnlineResponse,
} from './online/index.js';
import * as registry from './registry.js';
import type { OfflineStore, OnlineRow, OnlineStore, OnlineValue } from './stores.js';
import { toEpochMs } from './timestamps.js';
import type { EntityDef, FeatureDtype, FeatureServiceDef, FeatureViewDef, FileSourceDef } from './types.js';

interface RegistrySnapshot {
  /** SQLite's data_version when the snapshot was last known to be current (other connections' commits). */
  dataVersion: number;
  /** This connection's registry write count at that time. */
  generation: number;
  /** The registry's content fingerprint: a moved `version` with the same fingerprint keeps the snapshot. */
  fingerprint: string;
  views: Map<string, FeatureViewDef>;
  viewList: FeatureViewDef[];
  entities: Map<string, EntityDef>;
  joinKeys: Map<string, string[]>;
  /** Resolved feature lists of online reads (see `OnlinePlanCache`), valid for this snapshot only. */
  plans: OnlinePlanCache;
}

/** An online store view of the embedded store that remembers the data_version its reads saw. */
class VersionProbe implements OnlineStore {
  dataVersion = -1;
  constructor(private readonly store: SqliteOnlineStore) {}
  async read(view: string, entityKeys: string[]): Promise<Array<OnlineValue | null>> {
    const r = this.store.readSyncVersioned(view, entityKeys);
    if (r.dataVersion > this.dataVersion) this.dataVersion = r.dataVersion;
    return r.values;
  }
  write(view: string, rows: OnlineRow[]): Promise<number> {
    return this.store.write(view, rows);
  }
  deleteView(view: string): Promise<void> {
    return this.store.deleteView(view);
  }
  async close(): Promise<void> {}
}

/** Backends to plug in instead of the embedded ones (e.g. PostgreSQL offline, Redis online). */
export interface FeatureStoreOptions {
  offline?: OfflineStore;
  online?: OnlineStore;
}

/** Options of {@link FeatureStore.apply}. */
export interface ApplyOptions {
  /**
   * Check that each feature view's source file exists and has the join keys, timestamp columns and features
   * (with compatible types). Default: true with the file offline store.
   */
  validateSources?: boolean;
}

/** An instant as users give it: `Date`, epoch milliseconds, or ISO-8601 with a zone. */
export type Instant = Date | number | string;

/** Options of {@link FeatureStore.getOnlineFeatures}. */
export interface OnlineFeaturesOptions {
  /** `"view:feature"` references or a feature service name. */
  features: string[] | string;
  /** One object per entity with its join keys, e.g. `{ driver_id: 1001 }`. */
  entityRows: Array<Record<string, unknown>>;
  fullFeatureNames?: boolean;
}

/** Converts a user instant to epoch ms; a parameter error names the parameter. */
export function toInstantMs(name: string, value: unknown): number {
  if (value === undefined || value === null) {
    throw new CellarError(
      'INVALID_PARAMETER',
      `${name} is required: a Date, epoch milliseconds or an ISO-8601 string with a zone.`,
    );
  }
  try {
    return toEpochMs(value, { column: name });
  } catch (e) {
    if (e instanceof CellarError)
      throw new CellarError('INVALID_PARAMETER', e.message.replace(/^Timestamp/, name), e.details);
    throw e;
  }
}

const COMPATIBLE: Record<FeatureDtype, string[]> = {
  float64: ['float', 'int'],
  float32: ['float', 'int'],
  int64: ['int'],
  int32: ['int'],
  string: ['string'],
  bool: ['bool'],
  timestamp: ['datetime', 'date', 'string'],
};
/** Event and created timestamps may also be epoch milliseconds. */
const TIME_COLUMN = ['datetime', 'date', 'string', 'int', 'float'];

/** The columns of a source file and their dtype kinds, read from its header / metadata only. */
function sourceSchema(view: FeatureViewDef, source: FileSourceDef): Map<string, string> {
  const { path, format } = source;
  if (!existsSync(path) || !statSync(path).isFile()) {
    throw new CellarError(
      'NOT_FOUND',
      `Feature view "${view.name}": source file ${path} does not exist. Create it or fix the path.`,
      {
        view: view.name,
        path,
      },
    );
  }
  let head: DataFrame;
  try {
    head =
      format === 'csv'
        ? pl.scanCSV(path, { parseDates: true }).limit(0).collectSync()
        : pl.scanParquet(path).limit(0).collectSync();
  } catch (e) {
    throw new CellarError(
      'INVALID_INPUT',
      `Feature view "${view.name}": cannot read source ${path} as ${format}: ${(e as Error).message.split('\n')[0]}.`,
      { view: view.name, path },
    );
  }
  return new Map(head.columns.map((c) => [c, dtypeKind(head.getColumn(c))]));
}

/**
 * Checks a view's source file has its join keys, timestamp columns and features with compatible types.
 *
 * @throws CellarError NOT_FOUND naming the view and file when it is missing; INVALID_INPUT naming the view, file
 *   and column when a column is missing or of the wrong type
 */
export function checkSource(view: FeatureViewDef, joinKeys: string[]): void {
  const source = view.source;
  if (source.kind !== 'fileSource') return; // SQL tables are checked by the PostgreSQL offline store when queried
  const schema = sourceSchema(view, source);
  const path = source.path;
  const need: Array<[string, string[], string]> = [
    ...joinKeys.map((k): [string, string[], string] => [k, ['int', 'float', 'string'], 'join key']),
    [view.source.timestampField, TIME_COLUMN, 'timestamp field'],
    ...(view.source.createdTimestampColumn
      ? [
          [view.source.createdTimestampColumn, TIME_COLUMN, 'created timestamp column'] as [
            string,
            string[],
            string,
          ],
        ]
      : []),
    ...Object.entries(view.schema).map(([f, t]): [string, string[], string] => [
      f,
      COMPATIBLE[t],
      `feature (${t})`,
    ]),
  ];
  for (const [column, kinds, role] of need) {
    const kind = schema.get(column);
    if (kind === undefined) {
      throw new CellarError(
        'INVALID_INPUT',
        `Feature view "${view.name}": source ${path} has no ${role} column "${column}" (columns: ${[...schema.keys()].join(', ')}).`,
        { view: view.name, path, column },
      );
    }
    if (!kinds.includes(kind)) {
      throw new CellarError(
        'INVALID_INPUT',
        `Feature view "${view.name}": column "${column}" of ${path} holds ${kind} values, which do not fit its ${role}.`,
        { view: view.name, path, column },
      );
    }
  }
}

/**
 * The feature store of one cellar store: definitions in the store's registry, training data from the offline
 * store, serving values in the online store. Made by {@link featureStore}.
 */
export class FeatureStore {
  /** The offline store (FileOfflineStore unless one was plugged in). */
  readonly offline: OfflineStore;
  /** The online store (SQLite in the store unless one was plugged in). */
  readonly online: OnlineStore;
  private readonly ownsOffline: boolean;
  private readonly ownsOnline: boolean;
  private closed = false;

  /** Wraps an opened embedded backend (use `featureStore()` rather than calling this). */
  constructor(
    private readonly backend: Pick<EmbeddedBackend, 'db' | 'root'>,
    opts: FeatureStoreOptions = {},
  ) {
    this.ownsOffline = opts.offline === undefined;
    this.ownsOnline = opts.online === undefined;
    this.offline = opts.offline ?? new FileOfflineStore();
    this.online = opts.online ?? new SqliteOnlineStore(backend.db);
  }

  /** Absolute path of the store directory (`…/.cellar`). */
  get root(): string {
    return this.backend.root;
  }

  /** The store's SQLite database (registry, watermarks). */
  get db(): SqliteDb {
    if (this.closed)
      throw new CellarError(
        'INVALID_STATE',
        'This feature store is closed; open another with featureStore().',
      );
    return this.backend.db;
  }

  private snapshot: RegistrySnapshot | null = null;

  /**
   * The registered views and entities, re-read only when the registry changed. Keeps online reads fast: a commit
   * by another process (metrics, online values) moves SQLite's data_version, which costs one small aggregate
   * query here, not a re-read and re-parse of every definition.
   */
  private registered(): RegistrySnapshot {
    return this.current(registry.dataVersion(this.db));
  }

  /** The snapshot, checked against `dataVersion` (read by the caller, possibly within one of its statements). */
  private current(dataVersion: number): RegistrySnapshot {
    const generation = registry.registryGeneration(this.db);
    const snap = this.snapshot;
    if (snap?.dataVersion === dataVersion && snap.generation === generation) return snap;
    const fingerprint = registry.registryFingerprint(this.db);
    if (snap?.fingerprint === fingerprint) {
      snap.dataVersion = dataVersion;
      snap.generation = generation;
      return snap;
    }
    const views = new Map(
      registry.list(this.db, 'featureView').map((d) => [d.name, d.spec as FeatureViewDef]),
    );
    const entities = new Map(registry.list(this.db, 'entity').map((d) => [d.name, d.spec as EntityDef]));
    this.snapshot = {
      dataVersion,
      generation,
      fingerprint,
      views,
      viewList: [...views.values()],
      entities,
      joinKeys: new Map(),
      plans: new OnlinePlanCache(),
    };
    return this.snapshot;
  }

  private joinKeysOf = (view: FeatureViewDef): string[] => {
    const snap = this.registered();
    const cached = snap.views.get(view.name) === view ? snap.joinKeys.get(view.name) : undefined;
    if (cached) return cached;
    const keys = view.entities.flatMap((e) => {
      const ent = snap.entities.get(e);
      if (!ent)
        throw new CellarError(
          'INVALID_STATE',
          `Feature view "${view.name}" uses entity "${e}", which is not registered; apply it.`,
        );
      return ent.joinKeys;
    });
    const unique = [...new Set(keys)];
    if (snap.views.get(view.name) === view) snap.joinKeys.set(view.name, unique);
    return unique;
  };

  /**
   * Registers entities, feature views and feature services: a new version for each new or changed definition,
   * nothing for unchanged ones; all or nothing. Sources are checked first (see {@link ApplyOptions}).
   *
   * @throws CellarError INVALID_PARAMETER for invalid or inconsistent definitions (naming them); NOT_FOUND /
   *   INVALID_INPUT for a missing source file or a missing/mistyped column (naming view, file and column)
   * @example
   * await store.apply([driver, driverStats, driverActivity])
   */
  async apply(defs: readonly unknown[], opts: ApplyOptions = {}): Promise<registry.Plan> {
    registry.plan(this.db, defs); // validates the definitions before any source is read
    if (opts.validateSources ?? this.offline instanceof FileOfflineStore) this.checkSources(defs);
    return registry.apply(this.db, defs);
  }

  private checkSources(defs: readonly unknown[]): void {
    const normalized = defs.map((d, i) => registry.normalizeDefinition(d, i));
    const entities = new Map<string, EntityDef>(
      registry.list(this.db, 'entity').map((e) => [e.name, e.spec as EntityDef]),
    );
    for (const d of normalized) if (d.kind === 'entity') entities.set(d.name, d);
    for (const d of normalized) {
      if (d.kind !== 'featureView') continue;
      checkSource(
        d,
        d.entities.flatMap((e) => entities.get(e)?.joinKeys ?? []),
      );
    }
  }

  /**
   * Shows what `apply` would change (create / update with field changes / unchanged), without writing.
   *
   * @example
   * (await store.plan([driver, driverStats])).items
   */
  async plan(defs: readonly unknown[]): Promise<registry.Plan> {
    return registry.plan(this.db, defs);
  }

  /** The registered entities (latest versions). */
  async listEntities(): Promise<EntityDef[]> {
    return registry.list(this.db, 'entity').map((d) => d.spec as EntityDef);
  }

  /**
   * The registered feature views (latest versions).
   *
   * @example
   * (await store.listFeatureViews()).map((v) => v.name)
   */
  async listFeatureViews(): Promise<FeatureViewDef[]> {
    return registry.list(this.db, 'featureView').map((d) => d.spec as FeatureViewDef);
  }

  /** The registered feature services (latest versions). */
  async listFeatureServices(): Promise<FeatureServiceDef[]> {
    return registry.list(this.db, 'featureService').map((d) => d.spec as FeatureServiceDef);
  }

  /**
   * A registered feature view.
   *
   * @throws CellarError NOT_FOUND naming the view
   */
  async getFeatureView(name: string): Promise<FeatureViewDef> {
    return structuredClone(this.view(name));
  }

  private view(name: string): FeatureViewDef {
    const { views } = this.registered();
    const v = views.get(name);
    if (!v) {
      const names = [...views.keys()];
      throw new CellarError(
        'NOT_FOUND',
        `No feature view named "${name}"` +
          (names.length ? ` (registered: ${names.join(', ')}).` : '; apply your definitions first.'),
        { view: name },
      );
    }
    return v;
  }

  /** A definition with its version history and what references it (see `registry.describe`). */
  async describe(name: string, kind?: registry.DefinitionKind): Promise<registry.DefinitionDescription> {
    return registry.describe(this.db, name, kind);
  }

  /**
   * Point-in-time correct training data: for each entity row and requested view, the latest feature row of the
   * same entity at or before the row's timestamp (within the view's ttl). Returns a lazy job; errors (unknown
   * references, missing columns, unreadable sources) reject its `toRows()` / `toDataFrame()` / `toParquet()`.
   *
   * @example
   * const train = await store.getHistoricalFeatures({ entityDf: orders,
   *   features: ['driver_stats:conv_rate', 'driver_stats:acc_rate', 'driver_stats:avg_daily_trips'] }).toDataFrame()
   */
  getHistoricalFeatures(opts: HistoricalFeaturesOptions): RetrievalJob {
    let db: SqliteDb;
    try {
      db = this.db;
    } catch (error) {
      return new RetrievalJob(this.offline, { error });
    }
    return getHistoricalFeatures(db, this.offline, opts);
  }

  private onlineViews(names: string[] | undefined): FeatureViewDef[] {
    if (names === undefined)
      return registry.list(this.db, 'featureView').map((d) => d.spec as FeatureViewDef);
    if (!Array.isArray(names))
      throw new CellarError('INVALID_PARAMETER', 'views must be an array of feature view names.');
    return names.map((n) => {
      try {
        return this.view(n);
      } catch (e) {
        throw new CellarError('INVALID_PARAMETER', (e as Error).message, { view: n });
      }
    });
  }

  /**
   * Writes the latest value per entity of every online view (or of `views`) among rows with
   * `start <= event time < end` into the online store; idempotent. The watermark moves only after the write.
   *
   * @throws CellarError INVALID_PARAMETER for a future `end`, `start` after `end`, zone-less strings or unknown
   *   views (nothing written); errors naming the view and file when a source cannot be read
   * @example
   * await store.materialize({ start: '2022-09-01T00:00:00Z', end: new Date() })
   */
  async materialize(opts: { start: Instant; end: Instant; views?: string[] }): Promise<MaterializeResult[]> {
    const startMs = toInstantMs('start', opts?.start);
    const endMs = toInstantMs('end', opts?.end);
    return materialize({
      offline: this.offline,
      online: this.online,
      db: this.db,
      views: this.onlineViews(opts.views),
      joinKeysOf: this.joinKeysOf,
      startMs,
      endMs,
    });
  }

  /**
   * Like `materialize`, from each view's watermark (its last materialized `end`) up to `end`.
   *
   * @throws CellarError INVALID_PARAMETER for a future `end` (nothing written)
   * @example
   * await store.materializeIncremental({ end: new Date() })
   */
  async materializeIncremental(opts: { end: Instant; views?: string[] }): Promise<MaterializeResult[]> {
    const endMs = toInstantMs('end', opts?.end);
    return materializeIncremental({
      offline: this.offline,
      online: this.online,
      db: this.db,
      views: this.onlineViews(opts.views),
      joinKeysOf: this.joinKeysOf,
      endMs,
    });
  }

  /** Each materialized view's watermark (epoch ms): where the next incremental run starts. */
  async watermarks(): Promise<Record<string, number>> {
    return readWatermarks(this.db);
  }

  /**
   * Latest feature values per entity from the online store, with a status per value (PRESENT, NULL_VALUE,
   * NOT_FOUND, OUTSIDE_MAX_AGE — the view's ttl is enforced).
   *
   * @throws CellarError INVALID_PARAMETER for unknown references; INVALID_INPUT for missing join keys
   * @example
   * const res = await store.getOnlineFeatures({ features: ['driver_stats:conv_rate'], entityRows: [{ driver_id: 1001 }] })
   * res.toRows() // [{ driver_id: 1001, conv_rate: 0.52 }]
   */
  async getOnlineFeatures(opts: OnlineFeaturesOptions): Promise<OnlineResponse> {
    let refs = opts?.features;
    if (typeof refs === 'string') {
      const svc = registry.get(this.db, 'featureService', refs);
      if (!svc)
        throw new CellarError('NOT_FOUND', `No feature service named "${refs}".`, { featureService: refs });
      refs = svc.spec.features;
    }
    const features = refs;
    const read = (snap: RegistrySnapshot, online: OnlineStore): Promise<OnlineResponse> =>
      getOnlineFeatures({
        online,
        views: snap.viewList,
        planCache: snap.plans,
        joinKeysOf: this.joinKeysOf,
        features,
        entityRows: opts.entityRows,
        ...(opts.fullFeatureNames === undefined ? {} : { fullFeatureNames: opts.fullFeatureNames }),
      });
    const snap = this.snapshot;
    if (!this.ownsOnline || snap === null || snap.generation !== registry.registryGeneration(this.db)) {
      return read(this.registered(), this.online);
    }
    // Fast path on the embedded store: read with the snapshot as it was, each read also returning the database's
    // data_version; only when another connection committed since the snapshot was checked is the registry
    // checked (and, if it changed, the request answered again from the new snapshot).
    const probe = new VersionProbe(this.online as SqliteOnlineStore);
    let res: OnlineResponse;
    try {
      res = await read(snap, probe);
    } catch {
      return read(this.registered(), this.online); // a stale snapshot may have caused it: answer from a fresh one
    }
    const dv = probe.dataVersion < 0 ? registry.dataVersion(this.db) : probe.dataVersion;
    const now = this.current(dv);
    return now === snap ? res : read(now, this.online);
  }

  /**
   * Writes fresh values of one view straight to the online store (the newer event timestamp wins, whatever the
   * arrival order). Returns how many rows created or replaced a stored value.
   *
   * @throws CellarError NOT_FOUND for an unknown view; INVALID_INPUT / INVALID_PARAMETER for bad rows (nothing written)
   * @example
   * await store.push('driver_stats', [{ driver_id: 1001, datetime: new Date(), conv_rate: 0.9, acc_rate: 0.8, avg_daily_trips: 12 }])
   */
  async push(viewName: string, rows: Array<Record<string, unknown>>): Promise<number> {
    const view = this.view(viewName);
    return push({ online: this.online, view, joinKeys: this.joinKeysOf(view), rows });
  }

  /**
   * Releases the offline and online stores this object created (plugged-in ones stay open: they belong to the
   * caller). The store's SQLite connection is shared with the rest of the process and stays open.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsOffline) await this.offline.close();
    if (this.ownsOnline) await this.online.close();
  }
}

/**
 * Opens the feature store of a cellar store: `dir` (a project folder or its `.cellar`), else the default store of
 * the module-level functions (`useStore`, else `CELLAR_URI`, else the nearest `.cellar/` above the working
 * directory, created when there is none). Pass an
 * opened `CellarStore` to share it, and `offline` / `online` to plug in other backends.
 *
 * @example
 * const store = featureStore()
 * await store.apply([driver, driverStats])
 * @throws CellarError STORE_CORRUPT / UNSUPPORTED when the store cannot be opened
 */
export function featureStore(
  dir?: string | { embedded: EmbeddedBackend },
  opts: FeatureStoreOptions = {},
): FeatureStore {
  if (dir !== undefined && typeof dir === 'object' && dir !== null && 'embedded' in dir)
    return new FeatureStore(dir.embedded, opts);
  if (dir === undefined) return new FeatureStore(getStore().embedded, opts); // the default store, as useStore() set it
  const location = locateStore(dir as string);
  return new FeatureStore(openEmbedded(location.root), opts);
}
