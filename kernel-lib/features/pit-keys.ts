/**
 * features/pit-keys — the key side of the point-in-time join: join keys to dense integer ids (a
 * direct-address table for compact integer keys, an open-addressing hash on the Float64 value for other
 * numbers, a Map for strings and mixed values; composite keys fold their columns' ids pairwise), and the
 * entity rows grouped into one time-sorted, padded block per key id (searched by pit-place.ts). The entity
 * rows define the ids; feature rows whose key tuple no entity row has get -1 (they can never match). A
 * single Int32Array feature key column (what a polars integer column becomes) is not even given ids: the
 * join looks each value up in the entity keys' direct-address table as it goes (`buildKeyLookup`).
 */
import { CellarError } from '../errors.js';

/**
 * A join-key column: numbers or strings (null, undefined and NaN are null keys). Typed arrays take the
 * fast numeric path; a BigInt64Array must hold values within ±2^53. Values compare by kind and value:
 * the number 1001 and the string "1001" are different keys (the offline store coerces them first).
 */
export type KeyColumn = ArrayLike<string | number | null> | Float64Array | Int32Array | BigInt64Array;

type NumCol = Float64Array | Int32Array;

const TAG_I32 = '[object Int32Array]';

function lengthError(side: string, j: number, got: number, want: number): CellarError {
  return new CellarError(
    'INVALID_INPUT',
    `Join-key column ${j} of the ${side} rows has ${got} values but there are ${want} ${side} rows.`,
  );
}

/** A numeric view of a key column (NaN = null), or null when it holds strings or other values. */
function asNumeric(col: KeyColumn): NumCol | null {
  // Tags, not instanceof: typed arrays made by native addons or other realms (jest, vm) are still typed arrays.
  const tag = Object.prototype.toString.call(col);
  if (tag === '[object Float64Array]' || tag === TAG_I32) return col as NumCol;
  if (tag === '[object BigInt64Array]') {
    const big = col as BigInt64Array;
    const n = big.length;
    const halves = new Int32Array(big.buffer, big.byteOffset, n * 2);
    const out = new Float64Array(n);
    for (let i = 0, j = 0; i < n; i++, j += 2) {
      const hi = halves[j + 1]!;
      if (hi > 0x1fffff || hi < -0x200000) {
        throw new CellarError(
          'INVALID_INPUT',
          `Join-key value ${big[i]} is beyond ±2^53; store such keys as strings.`,
        );
      }
      out[i] = hi * 4294967296 + (halves[j]! >>> 0);
    }
    return out;
  }
  if (ArrayBuffer.isView(col)) return Float64Array.from(col as unknown as ArrayLike<number>);
  const n = col.length;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = col[i];
    if (typeof v === 'number') out[i] = v;
    else if (v === null || v === undefined) out[i] = NaN;
    else return null;
  }
  return out;
}

const scratch = new Float64Array(1);
const scratchBits = new Uint32Array(scratch.buffer);

/** Slot hash of a Float64 key value (integers take a cheaper multiplicative hash). */
function hashNumber(v: number, mask: number): number {
  let h: number;
  if ((v | 0) === v) h = Math.imul(v, 0x9e3779b1);
  else {
    scratch[0] = v;
    h = Math.imul(scratchBits[0]! ^ Math.imul(scratchBits[1]!, 0x85ebca6b), 0x9e3779b1);
  }
  return (h ^ (h >>> 16)) & mask;
}

/** Dense key ids of both sides of a join. */
export interface KeyIds {
  entityIds: Int32Array;
  featureIds: Int32Array;
  nKeys: number;
}

/** A direct-address table from entity key values to dense ids: id of value v = table[v - base] (-1 = none). */
interface DirectTable {
  table: Int32Array;
  base: number;
  entityIds: Int32Array;
  nKeys: number;
}

/**
 * The direct-address table of compact integer entity keys (the common case), or null when the keys are not
 * all integers or spread over too wide a range (the hash path takes those). NaN keys get id -1.
 */
function directTable(e: NumCol): DirectTable | null {
  const nE = e.length;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < nE; i++) {
    const v = e[i]!;
    if (v !== v) continue;
    if (v < min) min = v;
    if (v > max) max = v;
    if (Math.floor(v) !== v) return null;
  }
  const range = max - min + 1;
  if (!(range >= 1 && range <= Math.max(4 * nE, 4096) && range <= 1 << 27)) return null;
  const table = new Int32Array(range).fill(-1);
  const entityIds = new Int32Array(nE);
  let nKeys = 0;
  for (let i = 0; i < nE; i++) {
    const v = e[i]!;
    if (v !== v) {
      entityIds[i] = -1;
      continue;
    }
    const d = v - min;
    let id = table[d]!;
    if (id < 0) id = table[d] = nKeys++;
    entityIds[i] = id;
  }
  return { table, base: min, entityIds, nKeys };
}

/** Dense ids of numeric keys: the entity side defines the ids; feature values not among them get -1. */
function numericIds(e: NumCol, f: NumCol): KeyIds {
  const nE = e.length;
  const nF = f.length;
  const direct = directTable(e);
  if (direct !== null) {
    const { table, base } = direct;
    const range = table.length;
    const featureIds = new Int32Array(nF);
    for (let i = 0; i < nF; i++) {
      const d = f[i]! - base;
      const di = d | 0;
      featureIds[i] = di === d && d >= 0 && d < range ? table[di]! : -1;
    }
    return { entityIds: direct.entityIds, featureIds, nKeys: direct.nKeys };
  }
  const entityIds = new Int32Array(nE);
  const featureIds = new Int32Array(nF);
  let nKeys = 0;
  let any = false;
  for (let i = 0; i < nE && !any; i++) any = e[i] === e[i];
  if (!any) {
    entityIds.fill(-1);
    featureIds.fill(-1);
    return { entityIds, featureIds, nKeys: 0 };
  }
  let cap = 16;
  while (cap < 2 * nE) cap *= 2;
  const mask = cap - 1;
  const keys = new Float64Array(cap);
  const slotId = new Int32Array(cap).fill(-1);
  for (let i = 0; i < nE; i++) {
    const v = e[i]! + 0;
    if (v !== v) {
      entityIds[i] = -1;
      continue;
    }
    let s = hashNumber(v, mask);
    while (slotId[s]! >= 0 && keys[s] !== v) s = (s + 1) & mask;
    if (slotId[s]! < 0) {
      keys[s] = v;
      slotId[s] = nKeys++;
    }
    entityIds[i] = slotId[s]!;
  }
  for (let i = 0; i < nF; i++) {
    const v = f[i]! + 0;
    let id = -1;
    if (v === v) {
      let s = hashNumber(v, mask);
      while (slotId[s]! >= 0 && keys[s] !== v) s = (s + 1) & mask;
      id = slotId[s]!;
    }
    featureIds[i] = id;
  }
  return { entityIds, featureIds, nKeys };
}

/** A key value for the Map path: null for missing; bigints as numbers when exact. */
function mapKey(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return v === v ? v + 0 : null;
  if (typeof v === 'bigint') return v >= -(2n ** 53n) && v <= 2n ** 53n ? Number(v) : String(v);
  return v;
}

/** Dense ids of arbitrary key values (strings, mixed) through a Map. */
function mapIds(e: KeyColumn, f: KeyColumn): KeyIds {
  const nE = e.length;
  const nF = f.length;
  const ids = new Map<unknown, number>();
  const entityIds = new Int32Array(nE);
  const featureIds = new Int32Array(nF);
  const ea = e as ArrayLike<unknown>;
  const fa = f as ArrayLike<unknown>;
  for (let i = 0; i < nE; i++) {
    const k = mapKey(ea[i]);
    if (k === null) {
      entityIds[i] = -1;
      continue;
    }
    let id = ids.get(k);
    if (id === undefined) ids.set(k, (id = ids.size));
    entityIds[i] = id;
  }
  for (let i = 0; i < nF; i++) {
    const k = mapKey(fa[i]);
    featureIds[i] = k === null ? -1 : (ids.get(k) ?? -1);
  }
  return { entityIds, featureIds, nKeys: ids.size };
}

function columnIds(e: KeyColumn, f: KeyColumn): KeyIds {
  const en = asNumeric(e);
  const fn = en === null ? null : asNumeric(f);
  return en !== null && fn !== null ? numericIds(en, fn) : mapIds(e, f);
}

function checkKeyColumns(entityCols: KeyColumn[], nE: number, featureCols: KeyColumn[], nF: number): void {
  if (entityCols.length === 0 || (nF > 0 && featureCols.length !== entityCols.length)) {
    throw new CellarError(
      'INVALID_INPUT',
      `The point-in-time join needs the same join-key columns on both sides (got ${entityCols.length} and ${featureCols.length}).`,
    );
  }
  entityCols.forEach((c, j) => {
    if (c.length !== nE) throw lengthError('entity', j, c.length, nE);
  });
  featureCols.forEach((c, j) => {
    if (c.length !== nF) throw lengthError('feature', j, c.length, nF);
  });
}

/**
 * Maps the key tuples of the entity rows to dense ids 0…nKeys-1 (-1 for a null in any key column) and
 * the feature rows to the same ids (-1 when the tuple never occurs among the entity rows). With no
 * feature columns (nF = 0) it just numbers the distinct keys of one side.
 *
 * @throws CellarError INVALID_INPUT when the column counts or lengths disagree; UNSUPPORTED for more than
 *   2^53 composite key combinations.
 */
export function buildKeyIds(
  entityCols: KeyColumn[],
  nE: number,
  featureCols: KeyColumn[],
  nF: number,
): KeyIds {
  checkKeyColumns(entityCols, nE, featureCols, nF);
  const none: KeyColumn = new Float64Array(0);
  let acc = columnIds(entityCols[0]!, nF > 0 ? featureCols[0]! : none);
  for (let j = 1; j < entityCols.length; j++) {
    const next = columnIds(entityCols[j]!, nF > 0 ? featureCols[j]! : none);
    if (acc.nKeys * next.nKeys > 2 ** 53) {
      throw new CellarError(
        'UNSUPPORTED',
        'Too many distinct composite join keys (more than 2^53 combinations).',
      );
    }
    // Fold: (previous id, this column's id) → one number → dense ids again.
    const combine = (a: Int32Array, b: Int32Array): Float64Array => {
      const out = new Float64Array(a.length);
      for (let i = 0; i < a.length; i++) out[i] = a[i]! < 0 || b[i]! < 0 ? NaN : a[i]! * next.nKeys + b[i]!;
      return out;
    };
    acc = numericIds(combine(acc.entityIds, next.entityIds), combine(acc.featureIds, next.featureIds));
  }
  return acc;
}

/**
 * How each feature row finds its key id without a per-row id array: feature row f has id
 * `table[codes[f] - base]` when `0 <= codes[f] - base < table.length`, else -1 (no entity row has its key).
 */
export interface KeyLookup {
  entityIds: Int32Array;
  nKeys: number;
  /** Per feature row: the key itself (a single Int32Array key column, not copied) or its key id. */
  codes: Int32Array;
  base: number;
  table: Int32Array;
}

/**
 * {@link buildKeyIds} for the join: when the only feature key column is an Int32Array and the entity keys
 * are compact integers within int32 (the common case: a polars integer column), the feature keys are used
 * as they are through the entity keys' direct-address table — no pass over the feature rows here, no copy.
 * Otherwise the feature rows get key ids (with an identity table).
 *
 * @throws CellarError as {@link buildKeyIds}.
 */
export function buildKeyLookup(
  entityCols: KeyColumn[],
  nE: number,
  featureCols: KeyColumn[],
  nF: number,
): KeyLookup {
  checkKeyColumns(entityCols, nE, featureCols, nF);
  const f = featureCols[0];
  if (entityCols.length === 1 && f !== undefined && Object.prototype.toString.call(f) === TAG_I32) {
    const e = asNumeric(entityCols[0]!);
    const direct = e === null ? null : directTable(e);
    if (direct !== null && direct.base >= -(2 ** 31) && direct.base + direct.table.length <= 2 ** 31) {
      const { entityIds, nKeys, table, base } = direct;
      return { entityIds, nKeys, codes: f as Int32Array, base, table };
    }
  }
  const { entityIds, featureIds, nKeys } = buildKeyIds(entityCols, nE, featureCols, nF);
  const table = new Int32Array(nKeys);
  for (let k = 0; k < nKeys; k++) table[k] = k;
  return { entityIds, nKeys, codes: featureIds, base: 0, table };
}

/**
 * Sorts `rows` (a subset of row indices) by `ts[row]` ascending, stably, with an LSD radix sort on the
 * IEEE-754 bits (16-bit digits, passes whose digit is constant are skipped). Returns a new array.
 */
export function argsortByTime(ts: Float64Array, rows: Int32Array): Int32Array {
  const n = rows.length;
  const hiKey = new Uint32Array(n);
  const loKey = new Uint32Array(n);
  const scratch = new Float64Array(1);
  const bits = new Uint32Array(scratch.buffer);
  for (let i = 0; i < n; i++) {
    scratch[0] = ts[rows[i]!]! + 0; // -0 → +0
    const lo = bits[0]!;
    const hi = bits[1]!;
    // Flip so unsigned order equals numeric order: negatives invert all bits, positives the sign bit.
    if (hi & 0x80000000) {
      hiKey[i] = ~hi >>> 0;
      loKey[i] = ~lo >>> 0;
    } else {
      hiKey[i] = (hi | 0x80000000) >>> 0;
      loKey[i] = lo;
    }
  }
  let src = new Int32Array(n);
  for (let i = 0; i < n; i++) src[i] = i;
  let dst = new Int32Array(n);
  const count = new Int32Array(65536);
  for (let pass = 0; pass < 4; pass++) {
    const key = pass < 2 ? loKey : hiKey;
    const shift = (pass & 1) * 16;
    count.fill(0);
    for (let i = 0; i < n; i++) count[(key[i]! >>> shift) & 0xffff]++;
    if (n === 0 || count[(key[0]! >>> shift) & 0xffff] === n) continue;
    let sum = 0;
    for (let d = 0; d < 65536; d++) {
      const c = count[d]!;
      count[d] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const j = src[i]!;
      dst[count[(key[j]! >>> shift) & 0xffff]++] = j;
    }
    const t = src;
    src = dst;
    dst = t;
  }
  for (let i = 0; i < n; i++) dst[i] = rows[src[i]!]!;
  return dst;
}

/**
 * Entity rows grouped by key id, each block sorted by time and padded with +Infinity (row -1) to a
 * multiple of `group` slots, so a block can be searched a group at a time without data branches.
 */
export interface EntityBlocks {
  nKeys: number;
  /** Entity rows in the blocks (rows with a key and a time). */
  nRows: number;
  /** Slots per search group: 8, or 4 when keys have fewer than two rows on average. */
  group: number;
  /** meta[2k] = first slot of key k's block, meta[2k + 1] = its number of rows (slots past them are padding). */
  meta: Int32Array;
  /** Entity time per slot, ascending within a block; +Infinity in padding (and one padding group at the end). */
  ts: Float64Array;
  /** Entity row per slot; -1 in padding. */
  row: Int32Array;
}

/** Insertion sort of each block's rows by time (stable: ties keep row order, as the rows arrived). */
function sortBlocks(meta: Int32Array, nKeys: number, ts: Float64Array, row: Int32Array): void {
  for (let k = 0; k < nKeys; k++) {
    const a = meta[2 * k]!;
    const b = a + meta[2 * k + 1]!;
    for (let p = a + 1; p < b; p++) {
      const t = ts[p]!;
      const r = row[p]!;
      let q = p - 1;
      while (q >= a && ts[q]! > t) {
        ts[q + 1] = ts[q]!;
        row[q + 1] = row[q]!;
        q--;
      }
      ts[q + 1] = t;
      row[q + 1] = r;
    }
  }
}

/**
 * Groups the rows with a key id (>= 0) and a time (not NaN) by key id into padded blocks sorted by time
 * (ties keep row order): a counting sort by key id, then an insertion sort of each block when blocks are
 * short, or a radix sort by time first (the counting sort's scatter is stable) when some block is long.
 */
export function entityBlocks(ids: Int32Array, ts: Float64Array, nKeys: number): EntityBlocks {
  const n = ids.length;
  const meta = new Int32Array(2 * nKeys);
  let valid = 0;
  for (let i = 0; i < n; i++) {
    const id = ids[i]!;
    if (id >= 0 && ts[i] === ts[i]) {
      meta[2 * id + 1]++;
      valid++;
    }
  }
  const group = valid >= 2 * nKeys ? 8 : 4;
  const mask = group - 1;
  let longest = 0;
  let slots = 0;
  for (let k = 0; k < nKeys; k++) {
    const c = meta[2 * k + 1]!;
    meta[2 * k] = slots;
    slots += (c + mask) & ~mask;
    if (c > longest) longest = c;
  }
  // One more group of padding at the end: a search of an empty last block reads only padding.
  const sortedTs = new Float64Array(slots + group).fill(Infinity);
  const sortedRow = new Int32Array(slots + group).fill(-1);
  // fill[k]: the next free slot of block k.
  const fill = new Int32Array(nKeys);
  for (let k = 0; k < nKeys; k++) fill[k] = meta[2 * k]!;
  if (longest > 48) {
    const rows = new Int32Array(valid);
    for (let i = 0, j = 0; i < n; i++) if (ids[i]! >= 0 && ts[i] === ts[i]) rows[j++] = i;
    const order = argsortByTime(ts, rows);
    for (let j = 0; j < valid; j++) {
      const i = order[j]!;
      const p = fill[ids[i]!]++;
      sortedRow[p] = i;
      sortedTs[p] = ts[i]!;
    }
  } else {
    // Scatter first (writes only), then sort each short block in place: block by block, in cache.
    for (let i = 0; i < n; i++) {
      const id = ids[i]!;
      const t = ts[i]!;
      if (id < 0 || t !== t) continue;
      const p = fill[id]++;
      sortedTs[p] = t;
      sortedRow[p] = i;
    }
    sortBlocks(meta, nKeys, sortedTs, sortedRow);
  }
  return { nKeys, nRows: valid, group, meta, ts: sortedTs, row: sortedRow };
}
