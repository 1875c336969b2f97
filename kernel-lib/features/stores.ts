/**
 * features/stores — the interfaces between the feature store's API and its backends: the offline store
 * (point-in-time joins and latest-value pulls over a source: files in the embedded case, SQL tables in
 * PostgreSQL) and the online store (latest value per entity: SQLite embedded, Redis scale-out), plus the
 * column shapes they exchange and the canonical entity-key encoding every online backend shares.
 */
import type { FeatureDtype, FeatureViewDef } from './types.js';

/**
 * One column of feature values aligned with some rows. Numeric dtypes (float*, int*, timestamp as epoch ms)
 * use a Float64Array; string and bool use a plain array. `nulls[i] === 1` marks row i as null (for arrays,
 * the value is also `null`).
 */
export interface ValueColumn {
  dtype: FeatureDtype;
  data: Float64Array | Array<string | boolean | number | null>;
  nulls: Uint8Array;
}

/** A join-key value as users give it. */
export type KeyValue = string | number;

/** Entity rows of a historical request, column-wise: join-key columns and event timestamps (epoch ms, UTC). */
export interface EntityFrame {
  nRows: number;
  keys: Record<string, KeyValue[]>;
  ts: Float64Array;
}

/** One feature view's part of a historical request. */
export interface ViewRequest {
  view: FeatureViewDef;
  /** The view's feature columns wanted (a subset of `view.schema`). */
  features: string[];
  /** The join keys of the view's entities, in order (columns that must exist in both the entity frame and the source). */
  joinKeys: string[];
}

/** A historical (training data) request. */
export interface HistoricalJoinRequest {
  entity: EntityFrame;
  views: ViewRequest[];
  /** Also require created_ts <= entity_ts, so values backfilled later do not leak into the past. */
  filterByCreatedTimestamp: boolean;
}

/** For each view name, its feature columns aligned with the entity rows (nulls where nothing matched). */
export type HistoricalJoinResult = Record<string, Record<string, ValueColumn>>;

/** The latest row per entity of one view within a time window, column-wise. */
export interface LatestRows {
  nRows: number;
  keys: Record<string, KeyValue[]>;
  /** Event timestamps (epoch ms). */
  ts: Float64Array;
  /** Created timestamps (epoch ms, NaN when the source has none or the value is null), or null. */
  created: Float64Array | null;
  values: Record<string, ValueColumn>;
}

/** An offline store: reads a view's source for training data and for materialization. */
export interface OfflineStore {
  /** Point-in-time LEFT join (semantics in DESIGN.md "Feature store semantics"). */
  historicalJoin(req: HistoricalJoinRequest): Promise<HistoricalJoinResult>;
  /**
   * For each entity, the row with the latest event timestamp (ties: latest created timestamp) among rows with
   * `startMs <= ts < endMs`.
   */
  pullLatest(req: {
    view: FeatureViewDef;
    joinKeys: string[];
    features: string[];
    startMs: number;
    endMs: number;
  }): Promise<LatestRows>;
  /** Releases connections. */
  close(): Promise<void>;
}

/** One value to write to the online store. */
export interface OnlineRow {
  /** Canonical key from {@link encodeEntityKey}. */
  entityKey: string;
  eventTs: number;
  createdTs: number | null;
  values: Record<string, unknown>;
}

/** What the online store holds for one entity of one view. */
export interface OnlineValue {
  eventTs: number;
  createdTs: number | null;
  values: Record<string, unknown>;
}

/**
 * An online store: the latest feature values per (view, entity). Writes are idempotent and order-independent:
 * a row replaces the stored one only when its (eventTs, createdTs) is newer, so replays and out-of-order
 * pushes converge to the same state.
 */
export interface OnlineStore {
  /** Writes rows; returns how many replaced or created a stored value. Atomic per call where the backend allows. */
  write(view: string, rows: OnlineRow[]): Promise<number>;
  /** Reads values for entity keys, in order; null where nothing is stored. */
  read(view: string, entityKeys: string[]): Promise<Array<OnlineValue | null>>;
  /** Removes everything stored for a view. */
  deleteView(view: string): Promise<void>;
  /** Releases connections. */
  close(): Promise<void>;
}

/**
 * Encodes the join-key values of one entity as a canonical string shared by every online backend:
 * keys sorted by name, values typed, so `{driver_id: 1001}` and `{driver_id: "1001"}` stay distinct.
 */
export function encodeEntityKey(joinKeys: string[], values: KeyValue[]): string {
  // One join key (the common case): the same text without building and sorting the pairs.
  if (joinKeys.length === 1) return `[[${JSON.stringify(joinKeys[0])},${JSON.stringify(values[0] ?? null)}]]`;
  const pairs = joinKeys
    .map((k, i) => [k, values[i]] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return JSON.stringify(pairs);
}
