/**
 * features/online/serve — `getOnlineFeatures`: feature values for entity rows from the online store, with a
 * status per value (PRESENT, NULL_VALUE, NOT_FOUND, OUTSIDE_MAX_AGE) and the event time of each value. The
 * response is column-wise like Feast's `GetOnlineFeaturesResponse` (one result per field, one entry per entity
 * row), with `toRows()` / `toDict()` conveniences. Unlike Feast, the view's ttl is enforced here.
 */
import { CellarError } from '../../errors.js';
import type { KeyValue, OnlineStore, OnlineValue } from '../stores.js';
import { parseFeatureRef, type FeatureViewDef } from '../types.js';
import { rowKey, type KeyTypes, type RowKey } from './keys.js';

/** The status of one value in an online response. */
export type FeatureStatus = 'PRESENT' | 'NULL_VALUE' | 'NOT_FOUND' | 'OUTSIDE_MAX_AGE';

/** One field (join key or feature) of an online response: one entry per entity row. */
export interface OnlineFieldResult {
  /** Values; null unless PRESENT. `timestamp` features are `Date`s. */
  values: unknown[];
  statuses: FeatureStatus[];
  /** The event time of each value (null for join keys and NOT_FOUND). */
  eventTimestamps: Array<Date | null>;
}

/**
 * The answer of {@link getOnlineFeatures}. `fieldNames` lists the join keys (as requested) then the features
 * (`feature`, or `view__feature` with `fullFeatureNames`), and `results[i]` belongs to `fieldNames[i]`.
 *
 * Statuses: PRESENT (a value), NULL_VALUE (stored, but null), NOT_FOUND (nothing stored for the entity),
 * OUTSIDE_MAX_AGE (the stored value is older than the view's ttl relative to now; its value is withheld as
 * null, its event timestamp is reported).
 */
export interface OnlineResponse {
  fieldNames: string[];
  results: OnlineFieldResult[];
  /** One plain object per entity row: `{ driver_id: 1001, conv_rate: 0.5, … }` (null where not PRESENT). */
  toRows(): Array<Record<string, unknown>>;
  /** Field name → values per entity row (Feast's `to_dict()`). */
  toDict(): Record<string, unknown[]>;
}

/** Options of {@link getOnlineFeatures}. */
export interface GetOnlineFeaturesOptions {
  online: OnlineStore;
  /** The registered feature views (at least those referenced). */
  views: FeatureViewDef[];
  /** The join keys of a view's entities, in order. */
  joinKeysOf(view: FeatureViewDef): string[];
  /** `"view:feature"` references. */
  features: string[];
  /** One object per entity with its join-key values, e.g. `{ driver_id: 1001 }`. */
  entityRows: Array<Record<string, unknown>>;
  /** "Now" for the ttl check (default `Date.now()`). */
  nowMs?: number;
  /** Name features `view__feature` (needed when two views share a feature name). */
  fullFeatureNames?: boolean;
  /**
   * How each view's source stores its join keys; values are coerced to it (`"1001"` → 1001). Without it, a key
   * not found as given is also looked up in its other form (number ↔ numeric string).
   */
  keyTypesOf?(view: FeatureViewDef): KeyTypes | undefined;
  /**
   * Cache of resolved feature lists for this `views` snapshot (a store keeps one per registry version); strings
   * in `features` must not contain U+0000.
   */
  planCache?: OnlinePlanCache;
}

interface ViewPart {
  view: FeatureViewDef;
  joinKeys: string[];
  features: Array<{ name: string; out: string }>;
  /** The view's ttl lower bound is computed per call; these are fixed per plan. */
  isTimestamp: boolean[];
}

/**
 * Remembers how feature lists resolve against one registry snapshot, so a serving loop asking for the same
 * features again skips the parsing and validation. Whoever owns it must drop it when the registry changes.
 */
export class OnlinePlanCache {
  private readonly plans = new Map<string, ViewPart[]>();
  /** Bounded: a caller generating endless distinct lists only loses the cache, never memory. */
  private static readonly MAX = 256;

  /** The cached plan for `key`, or the one `make` builds (then cached). */
  get(key: string, make: () => ViewPart[]): ViewPart[] {
    let p = this.plans.get(key);
    if (p === undefined) {
      p = make();
      if (this.plans.size >= OnlinePlanCache.MAX) this.plans.clear();
      this.plans.set(key, p);
    }
    return p;
  }
}

/** Resolves feature references into views and output names (through the plan cache when one is given). */
function plan(opts: GetOnlineFeaturesOptions): ViewPart[] {
  const cache = opts.planCache;
  if (cache === undefined || !Array.isArray(opts.features)) return resolve(opts);
  const key = `${opts.fullFeatureNames ? 1 : 0}\u0000${opts.features.join('\u0000')}`;
  return cache.get(key, () => resolve(opts));
}

/** Parses and validates feature references against the views. */
function resolve(opts: GetOnlineFeaturesOptions): ViewPart[] {
  if (!Array.isArray(opts.features) || opts.features.length === 0) {
    throw new CellarError(
      'INVALID_PARAMETER',
      'features must be a non-empty list of "view:feature" references.',
    );
  }
  const byName = new Map(opts.views.map((v) => [v.name, v]));
  const parts = new Map<string, ViewPart>();
  const outNames = new Map<string, string>();
  for (const ref of opts.features) {
    const { view: viewName, feature } = parseFeatureRef(ref);
    const view = byName.get(viewName);
    if (!view) {
      throw new CellarError(
        'INVALID_PARAMETER',
        `Unknown feature view "${viewName}" in "${ref}"; known views: ${[...byName.keys()].join(', ') || 'none (apply definitions first)'}.`,
        { view: viewName },
      );
    }
    if (!(feature in view.schema)) {
      throw new CellarError(
        'INVALID_PARAMETER',
        `Unknown feature "${feature}" of view "${viewName}" in "${ref}"; it has ${Object.keys(view.schema).join(', ')}.`,
        { view: viewName, feature },
      );
    }
    if (!view.online) {
      throw new CellarError(
        'INVALID_PARAMETER',
        `Feature view "${viewName}" is not online (online: false); set online: true, apply and materialize it.`,
        { view: viewName },
      );
    }
    let part = parts.get(viewName);
    if (!part) {
      part = { view, joinKeys: opts.joinKeysOf(view), features: [], isTimestamp: [] };
      parts.set(viewName, part);
    }
    if (part.features.some((f) => f.name === feature)) continue;
    const out = opts.fullFeatureNames ? `${viewName}__${feature}` : feature;
    const clash = outNames.get(out);
    if (clash !== undefined) {
      throw new CellarError(
        'INVALID_PARAMETER',
        `Feature name "${out}" is requested from both "${clash}" and "${ref}"; pass fullFeatureNames: true to get view__feature names.`,
        { feature: out },
      );
    }
    outNames.set(out, ref);
    part.features.push({ name: feature, out });
    part.isTimestamp.push(view.schema[feature] === 'timestamp');
  }
  return [...parts.values()];
}

/** Reads the values of every entity row for one view, trying the alternate key form for misses when needed. */
async function readView(
  online: OnlineStore,
  part: ViewPart,
  keys: RowKey[],
  typed: boolean,
): Promise<Array<OnlineValue | null>> {
  const unique = new Map<string, number>();
  for (const k of keys) if (!unique.has(k.entityKey)) unique.set(k.entityKey, unique.size);
  const stored = await online.read(part.view.name, [...unique.keys()]);
  if (!typed) {
    const missing = new Map<string, number>();
    for (const k of keys) {
      if (
        k.alternateKey !== null &&
        stored[unique.get(k.entityKey)!] === null &&
        !missing.has(k.alternateKey)
      ) {
        missing.set(k.alternateKey, missing.size);
      }
    }
    if (missing.size > 0) {
      const alt = await online.read(part.view.name, [...missing.keys()]);
      return keys.map((k) => {
        const v = stored[unique.get(k.entityKey)!] ?? null;
        if (v !== null || k.alternateKey === null) return v;
        return alt[missing.get(k.alternateKey)!] ?? null;
      });
    }
  }
  return keys.map((k) => stored[unique.get(k.entityKey)!] ?? null);
}

function makeResponse(fieldNames: string[], results: OnlineFieldResult[], nRows: number): OnlineResponse {
  return {
    fieldNames,
    results,
    toRows() {
      const rows: Array<Record<string, unknown>> = [];
      for (let i = 0; i < nRows; i++) {
        const row: Record<string, unknown> = {};
        fieldNames.forEach((name, j) => (row[name] = results[j]!.values[i]));
        rows.push(row);
      }
      return rows;
    },
    toDict() {
      const out: Record<string, unknown[]> = {};
      fieldNames.forEach((name, j) => (out[name] = [...results[j]!.values]));
      return out;
    },
  };
}

/**
 * Reads online feature values for entity rows. Join keys are coerced to the source's key types when known
 * (`keyTypesOf`); duplicate entity rows are read once.
 *
 * @throws CellarError INVALID_PARAMETER for an unknown view or feature, a view with `online: false`, or a
 * feature-name clash without `fullFeatureNames`; INVALID_INPUT for an entity row missing a join key (named).
 * @example
 * const res = await getOnlineFeatures({ online, views, joinKeysOf, features: ['driver_stats:conv_rate'],
 *   entityRows: [{ driver_id: 1001 }] })
 * res.toRows() // [{ driver_id: 1001, conv_rate: 0.1 }]
 * res.results[1].statuses // ['PRESENT']
 */
export async function getOnlineFeatures(opts: GetOnlineFeaturesOptions): Promise<OnlineResponse> {
  const parts = plan(opts);
  if (!Array.isArray(opts.entityRows)) {
    throw new CellarError(
      'INVALID_INPUT',
      'entityRows must be an array of objects such as [{ driver_id: 1001 }].',
    );
  }
  const rows = opts.entityRows;
  const n = rows.length;
  const now = opts.nowMs ?? Date.now();
  // Validate every row for every view before reading anything.
  const keysPerView = parts.map((part) => {
    const types = opts.keyTypesOf?.(part.view);
    return { types, keys: rows.map((row, i) => rowKey(part.joinKeys, row, types, i)) };
  });

  const fieldNames: string[] = [];
  const results: OnlineFieldResult[] = [];
  const keyFields = new Map<string, KeyValue[]>();
  parts.forEach((part, p) => {
    part.joinKeys.forEach((k, j) => {
      if (!keyFields.has(k))
        keyFields.set(
          k,
          keysPerView[p]!.keys.map((rk) => rk.values[j]!),
        );
    });
  });
  for (const part of parts) {
    for (const f of part.features) {
      if (keyFields.has(f.out)) {
        throw new CellarError(
          'INVALID_PARAMETER',
          `Feature name "${f.out}" of view "${part.view.name}" is also a join key; pass fullFeatureNames: true.`,
          { feature: f.out },
        );
      }
    }
  }
  for (const [k, values] of keyFields) {
    fieldNames.push(k);
    results.push({
      values,
      statuses: new Array(n).fill('PRESENT'),
      eventTimestamps: new Array(n).fill(null),
    });
  }

  const stored = await Promise.all(
    parts.map((part, p) => {
      const typed = part.joinKeys.every((k) => keysPerView[p]!.types?.[k]);
      return readView(opts.online, part, keysPerView[p]!.keys, typed);
    }),
  );
  parts.forEach((part, p) => {
    const minTs = part.view.ttlMs > 0 ? now - part.view.ttlMs : -Infinity;
    const values = stored[p]!;
    for (let fi = 0; fi < part.features.length; fi++) {
      const f = part.features[fi]!;
      const isTs = part.isTimestamp[fi]!;
      const out: OnlineFieldResult = {
        values: new Array(n),
        statuses: new Array(n),
        eventTimestamps: new Array(n),
      };
      for (let i = 0; i < n; i++) {
        const s = values[i];
        if (!s) {
          out.values[i] = null;
          out.statuses[i] = 'NOT_FOUND';
          out.eventTimestamps[i] = null;
          continue;
        }
        out.eventTimestamps[i] = new Date(s.eventTs);
        const v = s.values[f.name];
        if (s.eventTs < minTs) {
          out.values[i] = null;
          out.statuses[i] = 'OUTSIDE_MAX_AGE';
        } else if (v === null || v === undefined) {
          out.values[i] = null;
          out.statuses[i] = 'NULL_VALUE';
        } else {
          out.values[i] = isTs && typeof v === 'number' ? new Date(v) : v;
          out.statuses[i] = 'PRESENT';
        }
      }
      fieldNames.push(f.out);
      results.push(out);
    }
  });
  return makeResponse(fieldNames, results, n);
}
