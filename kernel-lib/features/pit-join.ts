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
 * old, all are). Feature rows are bucketed by key-id range first, so each bucket's random accesses stay
 * in a cache-sized slice of the entity blocks; the search within a block is branch-free.
 */
import type { ValueColumn } from './stores.js';
import { buildKeyIds, entityBlocks, type KeyColumn } from './pit-keys.js';

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
  /** Feature rows processed per chunk (tuning and tests; default 4,194,304). The result does not depend on it. */
  chunkRows?: number;
}

const NEG_INF = -Infinity;

/**
 * Entity times laid out for searching without unpredictable branches: each key's block is padded with
 * +Infinity to a multiple of `group` slots, and a row's rank in its block is counted a group at a time.
 */
interface SearchIndex {
  group: number;
  padStart: Int32Array;
  padTs: Float64Array;
}

function searchIndex(blockStart: Int32Array, sortedTs: Float64Array, nKeys: number): SearchIndex {
  const avg = sortedTs.length / Math.max(1, nKeys);
  const group = avg >= 2 ? 8 : 4;
  const padStart = new Int32Array(nKeys + 1);
  for (let k = 0; k < nKeys; k++) {
    padStart[k + 1] = padStart[k]! + Math.ceil((blockStart[k + 1]! - blockStart[k]!) / group) * group;
  }
  const padTs = new Float64Array(padStart[nKeys]!).fill(Infinity);
  // A plain copy loop: a subarray per block would allocate one view object per key.
  for (let k = 0; k < nKeys; k++) {
    const end = blockStart[k + 1]!;
    for (let p = blockStart[k]!, q = padStart[k]!; p < end; p++, q++) padTs[q] = sortedTs[p]!;
  }
  return { group, padStart, padTs };
}

/** How many times in the padded block [p, end) are below `x`, eight at a time (unrolled: no data branches). */
function rank8(t: Float64Array, p: number, end: number, x: number): number {
  let c = 0;
  for (;;) {
    const k =
      +(t[p]! < x) +
      +(t[p + 1]! < x) +
      +(t[p + 2]! < x) +
      +(t[p + 3]! < x) +
      +(t[p + 4]! < x) +
      +(t[p + 5]! < x) +
      +(t[p + 6]! < x) +
      +(t[p + 7]! < x);
    c += k;
    p += 8;
    if (k < 8 || p >= end) return c;
  }
}

/** {@link rank8} for blocks padded to multiples of four (keys with few entity rows). */
function rank4(t: Float64Array, p: number, end: number, x: number): number {
  let c = 0;
  for (;;) {
    const k = +(t[p]! < x) + +(t[p + 1]! < x) + +(t[p + 2]! < x) + +(t[p + 3]! < x);
    c += k;
    p += 4;
    if (k < 4 || p >= end) return c;
  }
}

/** Blocks longer than this are searched by halving instead of counting. */
const LONG_BLOCK = 64;

/** Lower bound of `x` in the sorted slice `ts[a, b)` by halving (for long blocks). */
function lowerBound(ts: Float64Array, a: number, b: number, x: number): number {
  let lo = a;
  let hi = b;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ts[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The first slot of key `id`'s block whose time is >= x. */
function slotOf(
  ix: SearchIndex,
  blockStart: Int32Array,
  sortedTs: Float64Array,
  id: number,
  x: number,
): number {
  const s = blockStart[id]!;
  const e = blockStart[id + 1]!;
  if (e - s > LONG_BLOCK) return lowerBound(sortedTs, s, e, x);
  const a = ix.padStart[id]!;
  const b = ix.padStart[id + 1]!;
  return s + (ix.group === 8 ? rank8(ix.padTs, a, b, x) : rank4(ix.padTs, a, b, x));
}

/** Feature rows are processed in chunks of this many rows (bounds the scratch memory to ~24 bytes a row). */
const CHUNK_ROWS = 1 << 22;
/** Target bytes of entity-side state per partition, so a partition's random accesses stay in L2. */
const PARTITION_BYTES = 64 * 1024;
/** Entity-side state up to this size is used without bucketing the feature rows (it stays in cache). */
const DIRECT_BYTES = 1 << 20;
/** More partitions than this would spread the scatter over too many write streams (TLB misses). */
const MAX_PARTITIONS = 1024;

/** The per-slot best feature row (slot = entity row in block order), filled by {@link placeRows}. */
interface Best {
  idx: Int32Array;
  ts: Float64Array;
  /** Created time of the best row (-Infinity = null); null when the feature rows have no created times. */
  cr: Float64Array | null;
}

/** Rows of one chunk bucketed by key-id range: row index, key id, time, created time (-Infinity = null). */
interface Buckets {
  n: number;
  row: Int32Array;
  id: Int32Array;
  ts: Float64Array;
  cr: Float64Array | null;
}

/**
 * Buckets feature rows [from, to) by key-id range (`id >>> shift`), keeping input order inside a bucket
 * (the tie rule relies on it). Rows that can serve no entity row (newer than their key's last entity row,
 * not finite, or — when filtering — created after it) are dropped.
 */
function bucketRows(
  b: Buckets,
  from: number,
  to: number,
  featureIds: Int32Array,
  featureTs: Float64Array,
  created: Float64Array | null,
  filterCreated: boolean,
  blockMax: Float64Array,
  shift: number,
  next: Int32Array,
): void {
  const nParts = next.length - 1;
  next.fill(0);
  for (let f = from; f < to; f++) {
    const id = featureIds[f]!;
    if (id < 0) continue;
    const t = featureTs[f]!;
    const max = blockMax[id]!;
    if (!(t <= max && t > NEG_INF) || (filterCreated && created![f]! > max)) featureIds[f] = -1;
    else next[(id >>> shift) + 1]++;
  }
  for (let p = 0; p < nParts; p++) next[p + 1] += next[p]!;
  b.n = next[nParts]!;
  const { row, id: ids, ts, cr } = b;
  for (let f = from; f < to; f++) {
    const id = featureIds[f]!;
    if (id < 0) continue;
    const q = next[id >>> shift]++;
    row[q] = f;
    ids[q] = id;
    ts[q] = featureTs[f]!;
    if (cr !== null) {
      const c = created![f]!;
      cr[q] = c === c ? c : NEG_INF;
    }
  }
}

/**
 * Drops each bucketed row into the first slot (entity row, time order) it may serve and keeps the best row
 * per slot: later ts, then later created, then (rows arriving in input order) the later row.
 */
function placeRows(
  b: Buckets,
  best: Best,
  ix: SearchIndex,
  blockStart: Int32Array,
  sortedTs: Float64Array,
  filterCreated: boolean,
): void {
  const { n, row, id: ids, ts } = b;
  const bestTs = best.ts;
  const bestIdx = best.idx;
  if (b.cr === null || best.cr === null) {
    for (let q = 0; q < n; q++) {
      const t = ts[q]!;
      const lo = slotOf(ix, blockStart, sortedTs, ids[q]!, t);
      if (t >= bestTs[lo]!) {
        bestTs[lo] = t;
        bestIdx[lo] = row[q]!;
      }
    }
    return;
  }
  const cr = b.cr;
  const bestCr = best.cr;
  for (let q = 0; q < n; q++) {
    const t = ts[q]!;
    const c = cr[q]!;
    const lo = slotOf(ix, blockStart, sortedTs, ids[q]!, filterCreated && c > t ? c : t);
    const bt = bestTs[lo]!;
    if (t > bt || (t === bt && c >= bestCr[lo]!)) {
      bestTs[lo] = t;
      bestCr[lo] = c;
      bestIdx[lo] = row[q]!;
    }
  }
}

/** {@link placeRows} straight over the input rows, for entity sides small enough to stay in cache. */
function placeDirect(
  featureIds: Int32Array,
  featureTs: Float64Array,
  created: Float64Array | null,
  filterCreated: boolean,
  blockMax: Float64Array,
  best: Best,
  ix: SearchIndex,
  blockStart: Int32Array,
  sortedTs: Float64Array,
): void {
  const { idx, ts: bestTs, cr: bestCr } = best;
  for (let f = 0; f < featureIds.length; f++) {
    const id = featureIds[f]!;
    if (id < 0) continue;
    const t = featureTs[f]!;
    const max = blockMax[id]!;
    if (!(t <= max && t > NEG_INF)) continue;
    let c = NEG_INF;
    if (created !== null) {
      c = created[f]!;
      if (c !== c) c = NEG_INF;
      if (filterCreated && c > max) continue;
    }
    const lo = slotOf(ix, blockStart, sortedTs, id, filterCreated && c > t ? c : t);
    const bt = bestTs[lo]!;
    if (t > bt || (t === bt && (bestCr === null || c >= bestCr[lo]!))) {
      bestTs[lo] = t;
      if (bestCr !== null) bestCr[lo] = c;
      idx[lo] = f;
    }
  }
}

/** Prefix maximum by (ts, created, row) within each block, then the TTL check on each entity row's winner. */
function resolve(
  best: Best,
  blockStart: Int32Array,
  sortedTs: Float64Array,
  sortedRow: Int32Array,
  ttl: number,
  out: Int32Array,
): void {
  const nKeys = blockStart.length - 1;
  const { idx, ts, cr } = best;
  for (let k = 0; k < nKeys; k++) {
    const end = blockStart[k + 1]!;
    let run = -1;
    let rt = NEG_INF;
    let rc = NEG_INF;
    for (let p = blockStart[k]!; p < end; p++) {
      const b = idx[p]!;
      if (b >= 0) {
        const bt = ts[p]!;
        const bc = cr === null ? NEG_INF : cr[p]!;
        if (run < 0 || bt > rt || (bt === rt && (bc > rc || (bc === rc && b > run)))) {
          run = b;
          rt = bt;
          rc = bc;
        }
      }
      if (run >= 0 && (ttl === 0 || rt >= sortedTs[p]! - ttl)) out[sortedRow[p]!] = run;
    }
  }
}

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
  const { entityIds, featureIds, nKeys } = buildKeyIds(input.entityKeys, nE, input.featureKeys, nF);
  const { blockStart, sortedTs, sortedRow } = entityBlocks(entityIds, entityTs, nKeys);
  const nS = sortedTs.length;
  if (nS === 0) return out;
  const created = input.featureCreated ?? null;
  const filterCreated = input.filterByCreatedTimestamp === true && created !== null;
  const blockMax = new Float64Array(nKeys);
  for (let k = 0; k < nKeys; k++) {
    blockMax[k] = blockStart[k + 1]! > blockStart[k]! ? sortedTs[blockStart[k + 1]! - 1]! : NEG_INF;
  }
  const ix = searchIndex(blockStart, sortedTs, nKeys);
  // Buckets are ranges of 2^shift key ids whose entity-side state fits a cache-sized slice.
  const bytes = nS * (created === null ? 12 : 20) + ix.padTs.length * 8;
  const parts = Math.min(MAX_PARTITIONS, Math.ceil(bytes / PARTITION_BYTES));
  let shift = 0;
  while (((nKeys - 1) >>> shift) + 1 > parts) shift++;
  const next = new Int32Array(((nKeys - 1) >>> shift) + 2);
  const best: Best = {
    idx: new Int32Array(nS).fill(-1),
    ts: new Float64Array(nS).fill(NEG_INF),
    cr: created === null ? null : new Float64Array(nS).fill(NEG_INF),
  };
  if (bytes <= DIRECT_BYTES && input.chunkRows === undefined) {
    // The entity side fits the cache as a whole: place rows straight from the input, no bucketing.
    placeDirect(featureIds, featureTs, created, filterCreated, blockMax, best, ix, blockStart, sortedTs);
  } else {
    const chunk = Math.max(1, Math.min(nF, Math.floor(input.chunkRows ?? CHUNK_ROWS)));
    const buckets: Buckets = {
      n: 0,
      row: new Int32Array(chunk),
      id: new Int32Array(chunk),
      ts: new Float64Array(chunk),
      cr: created === null ? null : new Float64Array(chunk),
    };
    for (let from = 0; from < nF; from += chunk) {
      const to = Math.min(nF, from + chunk);
      bucketRows(buckets, from, to, featureIds, featureTs, created, filterCreated, blockMax, shift, next);
      placeRows(buckets, best, ix, blockStart, sortedTs, filterCreated);
    }
  }
  resolve(best, blockStart, sortedTs, sortedRow, input.ttlMs > 0 ? input.ttlMs : 0, out);
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
