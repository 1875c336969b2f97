/**
 * features/file-offline-store — the embedded offline store: point-in-time joins and latest-value pulls
 * straight over the feature views' Parquet/CSV files, in process. Reading and validation live in
 * columns.ts, the join in pit-join.ts; this class wires them together per view.
 */
import { CellarError } from '../errors.js';
import { coerceKeyValues, gatherValues, readSourceColumns, type SourceColumns } from './columns.js';
import { latestRowPerKey, pointInTimeJoin, type KeyColumn } from './pit-join.js';
import type {
  HistoricalJoinRequest,
  HistoricalJoinResult,
  KeyValue,
  LatestRows,
  OfflineStore,
  ValueColumn,
} from './stores.js';
import type { FeatureDtype, FeatureViewDef } from './types.js';

function featureSchema(view: FeatureViewDef, features: string[]): Record<string, FeatureDtype> {
  const schema: Record<string, FeatureDtype> = {};
  for (const f of features) {
    const dtype = view.schema[f];
    if (dtype === undefined) {
      throw new CellarError(
        'INVALID_INPUT',
        `Feature view "${view.name}" has no feature "${f}"; it has ${Object.keys(view.schema).join(', ')}.`,
        { view: view.name, feature: f },
      );
    }
    schema[f] = dtype;
  }
  return schema;
}

function readView(view: FeatureViewDef, joinKeys: string[], features: string[]): SourceColumns {
  if (view.source.kind !== 'fileSource') {
    throw new CellarError(
      'UNSUPPORTED',
      `Feature view "${view.name}" reads a ${view.source.kind}, which the file offline store cannot read; ` +
        'use the offline store of that backend (e.g. PostgresOfflineStore).',
      { view: view.name },
    );
  }
  return readSourceColumns(view.source, {
    joinKeys,
    features: featureSchema(view, features),
    viewName: view.name,
  });
}

/** Key values of rows `index` of a source key column, as the plain values users see. */
function pickKeys(col: KeyColumn, index: Int32Array): KeyValue[] {
  const out = new Array<KeyValue>(index.length);
  for (let i = 0; i < index.length; i++) out[i] = col[index[i]!] as KeyValue;
  return out;
}

/**
 * The embedded {@link OfflineStore}: reads each feature view's file source (cached while the file is
 * unchanged) and joins in memory with cellar's point-in-time join. Stateless apart from that cache.
 *
 * @example
 * const offline = new FileOfflineStore();
 * const result = await offline.historicalJoin({ entity, views: [{ view, features: ['conv_rate'], joinKeys: ['driver_id'] }],
 *   filterByCreatedTimestamp: false });
 */
export class FileOfflineStore implements OfflineStore {
  /**
   * Point-in-time LEFT join of the entity rows with each requested view (semantics in DESIGN.md).
   *
   * @throws CellarError NOT_FOUND when a view's file is missing; INVALID_INPUT when a column is missing or
   *   mistyped, an entity key column is absent, or an entity key cannot be coerced to the source's key type.
   */
  async historicalJoin(req: HistoricalJoinRequest): Promise<HistoricalJoinResult> {
    const result: HistoricalJoinResult = {};
    const { entity } = req;
    for (const { view, joinKeys } of req.views) {
      for (const k of joinKeys) {
        if (!entity.keys[k]) {
          throw new CellarError(
            'INVALID_INPUT',
            `The entity rows have no join-key column "${k}", which feature view "${view.name}" needs.`,
            { column: k, view: view.name },
          );
        }
      }
    }
    // Read every source first: each starts decoding its feature columns in the background.
    const sources = req.views.map(({ view, features, joinKeys }) => readView(view, joinKeys, features));
    for (let v = 0; v < req.views.length; v++) {
      const { view, features, joinKeys } = req.views[v]!;
      const src = sources[v]!;
      const index = pointInTimeJoin({
        entityKeys: joinKeys.map((k) => coerceKeyValues(entity.keys[k]!, src.keyKinds[k]!, k, view.name)),
        entityTs: entity.ts,
        featureKeys: joinKeys.map((k) => src.keys[k]!),
        featureTs: src.ts,
        featureCreated: src.created,
        ttlMs: view.ttlMs,
        filterByCreatedTimestamp: req.filterByCreatedTimestamp,
      });
      result[view.name] = { ...(result[view.name] ?? {}), ...(await gatherValues(src, features, index)) };
    }
    return result;
  }

  /**
   * The latest row per entity with `startMs <= ts < endMs` (ties: latest created timestamp, then the
   * row later in the file), in order of each entity's first appearance in the file.
   *
   * @throws CellarError as {@link FileOfflineStore.historicalJoin}.
   */
  async pullLatest(req: {
    view: FeatureViewDef;
    joinKeys: string[];
    features: string[];
    startMs: number;
    endMs: number;
  }): Promise<LatestRows> {
    const src = readView(req.view, req.joinKeys, req.features);
    const index = latestRowPerKey({
      keys: req.joinKeys.map((k) => src.keys[k]!),
      ts: src.ts,
      created: src.created,
      startMs: req.startMs,
      endMs: req.endMs,
    });
    const keys: Record<string, KeyValue[]> = {};
    for (const k of req.joinKeys) keys[k] = pickKeys(src.keys[k]!, index);
    const ts = new Float64Array(index.length);
    for (let i = 0; i < index.length; i++) ts[i] = src.ts[index[i]!]!;
    let created: Float64Array | null = null;
    if (src.created !== null) {
      created = new Float64Array(index.length);
      for (let i = 0; i < index.length; i++) created[i] = src.created[index[i]!]!;
    }
    const values: Record<string, ValueColumn> = await gatherValues(src, req.features, index);
    return { nRows: index.length, keys, ts, created, values };
  }

  /** Nothing to release (the read cache is shared by the process). */
  async close(): Promise<void> {}
}
