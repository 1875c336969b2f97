/**
 * features/pit-join — the point-in-time join, cellar's core algorithm, as pure functions over columns:
 * for each entity row, the feature row of the same entity that was known at the entity's time.
 *
 * Semantics (DESIGN.md "Feature store semantics"): candidates share ALL join keys with the entity row and
 * have `feature_ts <= entity_ts`, and when `ttlMs > 0` also `feature_ts >= entity_ts - ttlMs` (both bounds
 * inclusive). The winner has the largest `feature_ts`; ties go to the largest created timestamp, a null
 * created timestamp losing to any non-null one; when (ts, created) are equal too, the row that comes LATER
 * in the feature input wins (the file's last word). With `filterByCreatedTimestamp` only rows with
 * `created_ts <= entity_ts` are candidates (rows without a created timestamp stay candidates). An entity
 * row with a null key or a NaN time matches nothing. Inputs need not be sorted.
 *
 * Algorithm (O(E log E + F log(E/K)), no sort of the feature rows): join keys become dense integer ids
 * (pit-keys.ts); entity rows are sorted by (key id, ts) into one block per key; each feature row is dropped
 * into its key's block at the first entity row it can serve (lower bound of max(ts, created-if-filtered)),
 * keeping the best row per slot; a prefix maximum over each block then gives every entity row its winner,
 * and the TTL is checked on that winner alone (it has the largest ts of all candidates, so if it is too
 * old, all are). The placement loops live in pit-place.ts: one pass over the input when the entity side
 * fits the cache, else feature rows bucketed by key-id range first, so each bucket's random accesses stay
 * in a cache-sized slice of the entity blocks; the search within a block is branch-free.
 */
import type { ValueColumn } from './stores.js';
import { buildKeyIds, buildKeyLookup, entityBlocks, type KeyColumn } from './pit-keys.js';
import { placeFeatureRows, resolveWinners } from './pit-place.js';

export { argsortByTime, type KeyColumn } from './pit-keys.js';

/** Input of {@link pointInTimeJoin} and {@link latestAsOfNaive}. All times are epoch milliseconds. */
export interface PitJoinInput {
  /** Join-key columns of the entity rows (one per key; composite keys use several). */
  entityKeys: KeyColumn[];
  /** Entity (label) timestamps; NaN matches nothing. */
  entityTs: Float64Array;
  /** Join-key columns of the feature rows, in the same order as `entityKeys`. */
  featureKeys: KeyColumn[];
  /** Feature event timestamps; NaN rows are never candidates. */
  featureTs: Float64Array;
  /** Feature created timestamps (NaN = null), or null/absent when the source has none. */
  featureCreated?: Float64Array | null;
  /** Time to live in ms; 0 = unbounded. */
  ttlMs: number;
  /** Only rows created at or before the entity time are candidates. */
  filterByCreatedTimestamp?: boolean;
  /**
   * Feature rows bucketed per chunk (tuning and tests; default 4,194,304). Setting it forces the bucketed
   * placement even for small entity sides. The result does not depend on it.
   */
  chunkRows?: number;
}

const NEG_INF = -Infinity;

/**
 * The point-in-time join: for each entity row, the index of the winning feature row, or -1 when no feature
 * row qualifies (semantics in the module header). Pure; inputs are not modified and need not be sorted.
 * Feature rows whose time is not finite are never candidates.
 *
 * @throws CellarError INVALID_INPUT when the key column counts or lengths disagree.
 * @example
 * const idx = pointInTimeJoin({ entityKeys: [[1001, 1001]], entityTs, featureKeys: [stats.driver_id],
 *   featureTs: stats.ts, ttlMs: 0 });
 * const convRate = gather(stats.values.conv_rate, idx);
 */
export function pointInTimeJoin(input: PitJoinInput): Int32Array {
  const { entityTs, featureTs } = input;
  const nE = entityTs.length;
  const nF = featureTs.length;
  const out = new Int32Array(nE).fill(-1);
  if (nE === 0 || nF === 0) return out;
  const lk = buildKeyLookup(input.entityKeys, nE, input.featureKeys, nF);
  const blocks = entityBlocks(lk.entityIds, entityTs, lk.nKeys);
  if (blocks.nRows === 0) return out;
  const created = input.featureCreated ?? null;
  const filterCreated = input.filterByCreatedTimestamp === true && created !== null;
  const best = placeFeatureRows(lk, featureTs, created, filterCreated, blocks, input.chunkRows);
  resolveWinners(best, blocks, input.ttlMs > 0 ? input.ttlMs : 0, out);
  return out;
}

/** Normalises a key value for the reference implementation: null for missing, numbers and strings as is. */
function naiveKey(col: KeyColumn, i: number): string | number | null {
  const v = (col as ArrayLike<unknown>)[i];
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return Number.isNaN(v) ? null : v + 0;
  if (typeof v === 'bigint') return Number(v);
  return v as string;
}

/**
 * The readable reference implementation of {@link pointInTimeJoin} (same contract, same result), used as the
 * oracle in tests: feature rows are grouped by their key tuple, then every entity row scans its group.
 */
export function latestAsOfNaive(input: PitJoinInput): Int32Array {
  const nE = input.entityTs.length;
  const nF = input.featureTs.length;
  const created = input.featureCreated ?? null;
  const keyOf = (cols: KeyColumn[], i: number): string | null => {
    const parts = cols.map((c) => naiveKey(c, i));
    return parts.includes(null) ? null : JSON.stringify(parts.map((p) => [typeof p, p]));
  };
  const groups = new Map<string, number[]>();
  for (let f = 0; f < nF; f++) {
    const k = keyOf(input.featureKeys, f);
    if (k === null) continue;
    const g = groups.get(k);
    if (g) g.push(f);
    else groups.set(k, [f]);
  }
  const createdAt = (f: number): number =>
    created === null || Number.isNaN(created[f]) ? -Infinity : created[f]!;
  const out = new Int32Array(nE).fill(-1);
  for (let e = 0; e < nE; e++) {
    const et = input.entityTs[e]!;
    const k = keyOf(input.entityKeys, e);
    if (k === null || Number.isNaN(et)) continue;
    let best = -1;
    for (const f of groups.get(k) ?? []) {
      const ft = input.featureTs[f]!;
      if (Number.isNaN(ft) || ft > et) continue;
      if (input.ttlMs > 0 && ft < et - input.ttlMs) continue;
      if (input.filterByCreatedTimestamp && created !== null && createdAt(f) > et) continue;
      const better =
        best < 0 ||
        ft > input.featureTs[best]! ||
        (ft === input.featureTs[best]! && createdAt(f) >= createdAt(best)); // later row wins full ties
      if (better) best = f;
    }
    out[e] = best;
  }
  return out;
}

/**
 * For each distinct key of `keys`, the row with the latest `ts` among rows with `startMs <= ts < endMs`
 * (ties: latest created timestamp, then the later row) — what materialization writes to the online store.
 * Rows with a null key or NaN time are skipped. Returns row indices in order of each key's first
 * appearance.
 */
export function latestRowPerKey(opts: {
  keys: KeyColumn[];
  ts: Float64Array;
  created?: Float64Array | null;
  startMs: number;
  endMs: number;
}): Int32Array {
  const n = opts.ts.length;
  const { entityIds: ids, nKeys } = buildKeyIds(opts.keys, n, [], 0);
  const created = opts.created ?? null;
  const best = new Int32Array(nKeys).fill(-1);
  const bestTs = new Float64Array(nKeys);
  const bestCr = new Float64Array(nKeys);
  const { startMs, endMs } = opts;
  for (let i = 0; i < n; i++) {
    const id = ids[i]!;
    const t = opts.ts[i]!;
    if (id < 0 || !(t >= startMs && t < endMs)) continue;
    let c = created === null ? NEG_INF : created[i]!;
    if (c !== c) c = NEG_INF;
    if (best[id]! < 0 || t > bestTs[id]! || (t === bestTs[id]! && c >= bestCr[id]!)) {
      best[id] = i;
      bestTs[id] = t;
      bestCr[id] = c;
    }
  }
  let m = 0;
  for (let k = 0; k < nKeys; k++) if (best[k]! >= 0) m++;
  const out = new Int32Array(m);
  for (let k = 0, j = 0; k < nKeys; k++) if (best[k]! >= 0) out[j++] = best[k]!;
  return out;
}

/**
 * Picks `column`'s values at `index` (an output of {@link pointInTimeJoin}): row i gets value `index[i]`,
 * or null where `index[i] === -1` (numeric columns hold NaN there and `nulls[i] = 1`).
 *
 * @example
 * const convRate = gather(stats.values.conv_rate, pointInTimeJoin(input));
 */
export function gather(column: ValueColumn, index: Int32Array): ValueColumn {
  const n = index.length;
  const nulls = new Uint8Array(n);
  const srcNulls = column.nulls;
  if (!Array.isArray(column.data)) {
    const src = column.data as Float64Array;
    const data = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const j = index[i]!;
      if (j < 0 || srcNulls[j] === 1) {
        data[i] = NaN;
        nulls[i] = 1;
      } else data[i] = src[j]!;
    }
    return { dtype: column.dtype, data, nulls };
  }
  const src = column.data;
  const data = new Array<string | boolean | number | null>(n);
  for (let i = 0; i < n; i++) {
    const j = index[i]!;
    const v = j < 0 || srcNulls[j] === 1 ? null : (src[j] ?? null);
    data[i] = v;
    if (v === null) nulls[i] = 1;
  }
  return { dtype: column.dtype, data, nulls };
}
