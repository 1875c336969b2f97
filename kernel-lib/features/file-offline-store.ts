/**
 * features/file-offline-store — the embedded offline store: point-in-time joins and latest-value pulls
 * straight over the feature views' Parquet/CSV files, in process, and the coercion of entity key values to
 * a source's key type. Reading and validation live in columns.ts, the join in pit-join.ts; this class wires
 * them together per view.
 */
import { CellarError } from '../errors.js';
import { gatherValues, readSourceColumns, type KeyKind, type SourceColumns } from './columns.js';
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

/**
 * Coerces entity key values to a source key column's kind, so `1001` and `"1001"` find the same entity:
 * integer sources take integers and integer strings, float sources numbers and numeric strings, string
 * sources strings and numbers (printed as JS prints them). Null/undefined stay null (they match nothing).
 *
 * @throws CellarError INVALID_INPUT naming the value, its row, the key column and the view when a value
 *   cannot be coerced (e.g. "abc" for an integer key, 1.5 for an integer key).
 */
export function coerceKeyValues(
  values: ReadonlyArray<KeyValue | null | undefined | bigint>,
  kind: KeyKind,
  column: string,
  viewName: string,
): KeyColumn {
  const n = values.length;
  const bad = (i: number, want: string): CellarError =>
    new CellarError(
      'INVALID_INPUT',
      `Entity key ${JSON.stringify(String(values[i]))} (column "${column}", row ${i}) cannot match feature view ` +
        `"${viewName}", whose "${column}" column holds ${want}; pass ${want} (or strings of them).`,
      { column, row: i, view: viewName },
    );
  if (kind === 'string') {
    const out = new Array<string | null>(n);
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (v === null || v === undefined) out[i] = null;
      else if (typeof v === 'string') out[i] = v;
      else if (typeof v === 'number' || typeof v === 'bigint') out[i] = String(v);
      else throw bad(i, 'strings');
    }
    return out;
  }
  const out = new Float64Array(n);
  const want = kind === 'int' ? 'integers' : 'numbers';
  for (let i = 0; i < n; i++) {
    const v = values[i];
    let x: number;
    if (v === null || v === undefined) x = NaN;
    else if (typeof v === 'number') x = v;
    else if (typeof v === 'bigint') x = Number(v);
    else if (typeof v === 'string' && v.trim() !== '' && (kind === 'float' || /^[+-]?\d+$/.test(v.trim())))
      x = Number(v);
    else throw bad(i, want);
    if (
      v !== null &&
      v !== undefined &&
      (!Number.isFinite(x) || (kind === 'int' && !Number.isSafeInteger(x)))
    )
      throw bad(i, want);
    out[i] = x;
  }
  return out;
}
