/**
 * features/pit-place — the inner loops of the point-in-time join (pit-join.ts): each feature row is dropped
 * into the first entity row of its key's time-sorted block that it may serve (lower bound of its time),
 * keeping the best row per slot; a prefix maximum over each block then gives every entity row its winner.
 *
 * When the entity side is small enough to stay in cache, rows are placed in one pass straight from the
 * input; otherwise each chunk of feature rows is first bucketed by key-id range, so a bucket's random
 * accesses stay in a cache-sized slice of the entity blocks. Block searches count eight (or four) padded
 * times at a time, without data-dependent branches.
 *
 * The loops take typed arrays and numbers as arguments, never the short-lived objects that group them, so
 * their compiled code does not depend on those objects' shapes from one join to the next; they allocate
 * nothing per row.
 */
import type { EntityBlocks, KeyLookup } from './pit-keys.js';

const NEG_INF = -Infinity;

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

/**
 * How many of key `id`'s rows are older than `x` (see {@link EntityBlocks} for `meta`, `ts` and `group`):
 * the rank of the first slot whose time is >= x, or at least the block's row count when every row is older
 * (a block without rows may count some of the next block's slots; `ts` ends with a padding group, so the
 * count never reads past it). Callers compare the rank with the row count.
 */
function rankIn(meta: Int32Array, ts: Float64Array, group: number, id: number, x: number): number {
  const s = meta[2 * id]!;
  const c = meta[2 * id + 1]!;
  if (c > LONG_BLOCK) return lowerBound(ts, s, s + c, x) - s;
  return group === 8 ? rank8(ts, s, s + ((c + 7) & ~7), x) : rank4(ts, s, s + ((c + 3) & ~3), x);
}

/** Feature rows are processed in chunks of this many rows (bounds the scratch memory to ~28 bytes a row). */
const CHUNK_ROWS = 1 << 22;
/** Target bytes of entity-side state per partition, so a partition's random accesses stay in L2. */
const PARTITION_BYTES = 64 * 1024;
/** Entity-side state up to this size is used without bucketing the feature rows (it stays in cache). */
const DIRECT_BYTES = 4 << 20;
/** More partitions than this would spread the scatter over too many write streams (TLB misses). */
const MAX_PARTITIONS = 1024;

/** The per-slot best feature row (slot = entity row in block order). */
export interface Best {
  /** Feature row (-1 = none yet). */
  idx: Int32Array;
  ts: Float64Array;
  /** Created time of the best row (-Infinity = null); null when the feature rows have no created times. */
  cr: Float64Array | null;
}

/**
 * One pass over the feature rows without created times: looks up each row's key id, searches its block
 * and keeps the latest row per slot (the later row on equal times).
 */
function placeDirect(
  codes: Int32Array,
  base: number,
  table: Int32Array,
  featureTs: Float64Array,
  meta: Int32Array,
  blockTs: Float64Array,
  group: number,
  bestTs: Float64Array,
  bestIdx: Int32Array,
): void {
  const range = table.length;
  const n = featureTs.length;
  for (let f = 0; f < n; f++) {
    const d = codes[f]! - base;
    if (!(d >= 0 && d < range)) continue;
    const id = table[d]!;
    const t = featureTs[f]!;
    if (id < 0 || !(t > NEG_INF)) continue;
    const r = rankIn(meta, blockTs, group, id, t);
    // r is the row count when every entity row of the key is older than t.
    const lo = meta[2 * id]! + r;
    if (r < meta[2 * id + 1]! && t >= bestTs[lo]!) {
      bestTs[lo] = t;
      bestIdx[lo] = f;
    }
  }
}

/**
 * {@link placeDirect} for feature rows with created times (NaN = null): ties on time go to the larger
 * created time; with `filterCreated` a row serves only entity rows at or after its created time.
 */
function placeDirectCreated(
  codes: Int32Array,
  base: number,
  table: Int32Array,
  featureTs: Float64Array,
  created: Float64Array,
  filterCreated: boolean,
  meta: Int32Array,
  blockTs: Float64Array,
  group: number,
  bestTs: Float64Array,
  bestIdx: Int32Array,
  bestCr: Float64Array,
): void {
  const range = table.length;
  const n = featureTs.length;
  for (let f = 0; f < n; f++) {
    const d = codes[f]! - base;
    if (!(d >= 0 && d < range)) continue;
    const id = table[d]!;
    const t = featureTs[f]!;
    if (id < 0 || !(t > NEG_INF)) continue;
    let c = created[f]!;
    if (c !== c) c = NEG_INF;
    const r = rankIn(meta, blockTs, group, id, filterCreated && c > t ? c : t);
    if (r >= meta[2 * id + 1]!) continue;
    const lo = meta[2 * id]! + r;
    const bt = bestTs[lo]!;
    if (t > bt || (t === bt && c >= bestCr[lo]!)) {
      bestTs[lo] = t;
      bestCr[lo] = c;
      bestIdx[lo] = f;
    }
  }
}

/**
 * First pass of bucketing feature rows [from, to): each row's key id into `rowId` (-1 when the row can
 * serve no entity row: unknown key or a time that is not finite) and the number of kept rows per bucket
 * (`id >>> shift`) into `next[bucket + 1]`. Rows newer than all their key's entity rows are dropped later,
 * by the search (a look-up of each key's newest time here would cost more than it saves).
 */
function countRows(
  codes: Int32Array,
  base: number,
  table: Int32Array,
  featureTs: Float64Array,
  shift: number,
  from: number,
  to: number,
  rowId: Int32Array,
  next: Int32Array,
): void {
  const range = table.length;
  for (let f = from; f < to; f++) {
    const d = codes[f]! - base;
    let id = d >= 0 && d < range ? table[d]! : -1;
    if (id >= 0 && featureTs[f]! > NEG_INF) next[(id >>> shift) + 1]++;
    else id = -1;
    rowId[f - from] = id;
  }
}

/**
 * Second pass: scatters the kept rows of [from, to) into their buckets (`next` holds each bucket's next
 * free position), keeping input order inside a bucket — the tie rule relies on it.
 */
function scatterRows(
  featureTs: Float64Array,
  created: Float64Array | null,
  shift: number,
  from: number,
  to: number,
  rowId: Int32Array,
  next: Int32Array,
  row: Int32Array,
  ids: Int32Array,
  ts: Float64Array,
  cr: Float64Array | null,
): void {
  for (let f = from; f < to; f++) {
    const id = rowId[f - from]!;
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
 * Drops each of the first `n` bucketed rows into its slot and keeps the latest row per slot (the later row
 * on equal times: rows arrive in input order); rows newer than all their key's entity rows are skipped.
 */
function placeBuckets(
  n: number,
  row: Int32Array,
  ids: Int32Array,
  ts: Float64Array,
  meta: Int32Array,
  blockTs: Float64Array,
  group: number,
  bestTs: Float64Array,
  bestIdx: Int32Array,
): void {
  for (let q = 0; q < n; q++) {
    const t = ts[q]!;
    const id = ids[q]!;
    const r = rankIn(meta, blockTs, group, id, t);
    const lo = meta[2 * id]! + r;
    if (r < meta[2 * id + 1]! && t >= bestTs[lo]!) {
      bestTs[lo] = t;
      bestIdx[lo] = row[q]!;
    }
  }
}

/**
 * {@link placeBuckets} for rows with created times (-Infinity = null): ties on time by created time; with
 * `filterCreated` a row serves only entity rows at or after its created time.
 */
function placeBucketsCreated(
  n: number,
  row: Int32Array,
  ids: Int32Array,
  ts: Float64Array,
  cr: Float64Array,
  filterCreated: boolean,
  meta: Int32Array,
  blockTs: Float64Array,
  group: number,
  bestTs: Float64Array,
  bestIdx: Int32Array,
  bestCr: Float64Array,
): void {
  for (let q = 0; q < n; q++) {
    const t = ts[q]!;
    const c = cr[q]!;
    const id = ids[q]!;
    const r = rankIn(meta, blockTs, group, id, filterCreated && c > t ? c : t);
    if (r >= meta[2 * id + 1]!) continue;
    const lo = meta[2 * id]! + r;
    const bt = bestTs[lo]!;
    if (t > bt || (t === bt && c >= bestCr[lo]!)) {
      bestTs[lo] = t;
      bestCr[lo] = c;
      bestIdx[lo] = row[q]!;
    }
  }
}

/**
 * Places every feature row (the ones that can serve some entity row) into its slot and returns the best row
 * per slot. `chunkRows` forces the bucketed path with chunks of that many rows (tests and tuning).
 */
export function placeFeatureRows(
  lk: KeyLookup,
  featureTs: Float64Array,
  created: Float64Array | null,
  filterCreated: boolean,
  blocks: EntityBlocks,
  chunkRows?: number,
): Best {
  const { codes, base, table } = lk;
  const { nKeys, meta, group, ts: blockTs } = blocks;
  const nS = blockTs.length;
  const nF = featureTs.length;
  const best: Best = {
    idx: new Int32Array(nS).fill(-1),
    ts: new Float64Array(nS).fill(NEG_INF),
    cr: created === null ? null : new Float64Array(nS).fill(NEG_INF),
  };
  const bytes = nS * (created === null ? 20 : 28) + nKeys * 8;
  if (bytes <= DIRECT_BYTES && chunkRows === undefined) {
    if (created === null) placeDirect(codes, base, table, featureTs, meta, blockTs, group, best.ts, best.idx);
    else {
      placeDirectCreated(
        codes,
        base,
        table,
        featureTs,
        created,
        filterCreated,
        meta,
        blockTs,
        group,
        best.ts,
        best.idx,
        best.cr!,
      );
    }
    return best;
  }
  // Buckets are ranges of 2^shift key ids whose entity-side state fits a cache-sized slice.
  const parts = Math.min(MAX_PARTITIONS, Math.ceil(bytes / PARTITION_BYTES));
  let shift = 0;
  while (((nKeys - 1) >>> shift) + 1 > parts) shift++;
  const nParts = ((nKeys - 1) >>> shift) + 1;
  const next = new Int32Array(nParts + 1);
  const chunk = Math.max(1, Math.min(nF, Math.floor(chunkRows ?? CHUNK_ROWS)));
  const rowId = new Int32Array(chunk);
  const row = new Int32Array(chunk);
  const ids = new Int32Array(chunk);
  const ts = new Float64Array(chunk);
  const cr = created === null ? null : new Float64Array(chunk);
  for (let from = 0; from < nF; from += chunk) {
    const to = Math.min(nF, from + chunk);
    next.fill(0);
    countRows(codes, base, table, featureTs, shift, from, to, rowId, next);
    for (let p = 0; p < nParts; p++) next[p + 1] += next[p]!;
    const n = next[nParts]!;
    scatterRows(featureTs, created, shift, from, to, rowId, next, row, ids, ts, cr);
    if (cr === null) placeBuckets(n, row, ids, ts, meta, blockTs, group, best.ts, best.idx);
    else {
      placeBucketsCreated(
        n,
        row,
        ids,
        ts,
        cr,
        filterCreated,
        meta,
        blockTs,
        group,
        best.ts,
        best.idx,
        best.cr!,
      );
    }
  }
  return best;
}

/** The prefix maximum and TTL check of {@link resolveWinners}, over typed arrays only. */
function resolveBlocks(
  nKeys: number,
  meta: Int32Array,
  blockTs: Float64Array,
  blockRow: Int32Array,
  bestIdx: Int32Array,
  bestTs: Float64Array,
  bestCr: Float64Array | null,
  ttl: number,
  out: Int32Array,
): void {
  for (let k = 0; k < nKeys; k++) {
    const start = meta[2 * k]!;
    const end = start + meta[2 * k + 1]!;
    let run = -1;
    let rt = NEG_INF;
    let rc = NEG_INF;
    for (let p = start; p < end; p++) {
      const b = bestIdx[p]!;
      if (b >= 0) {
        const bt = bestTs[p]!;
        const bc = bestCr === null ? NEG_INF : bestCr[p]!;
        if (run < 0 || bt > rt || (bt === rt && (bc > rc || (bc === rc && b > run)))) {
          run = b;
          rt = bt;
          rc = bc;
        }
      }
      if (run >= 0 && (ttl === 0 || rt >= blockTs[p]! - ttl)) out[blockRow[p]!] = run;
    }
  }
}

/**
 * Prefix maximum by (ts, created, row) within each block, then the TTL check on each entity row's winner
 * (it has the largest ts of all its candidates, so if it is too old, all are): writes `out[entity row]`.
 */
export function resolveWinners(best: Best, blocks: EntityBlocks, ttl: number, out: Int32Array): void {
  const { nKeys, meta, ts, row } = blocks;
  resolveBlocks(nKeys, meta, ts, row, best.idx, best.ts, best.cr, ttl, out);
}
