/**
 * features/pit-keys — the key side of the point-in-time join: join keys to dense integer ids (a
 * direct-address table for compact integer keys, an open-addressing hash on the Float64 value for other
 * numbers, a Map for strings and mixed values; composite keys fold their columns' ids pairwise), and the
 * entity rows grouped into one time-sorted block per key id. The entity rows define the ids; feature rows
 * whose key tuple no entity row has get -1 (they can never match).
 */
import { CellarError } from '../errors.js';

/**
 * A join-key column: numbers or strings (null, undefined and NaN are null keys). Typed arrays take the
 * fast numeric path; a BigInt64Array must hold values within ±2^53. Values compare by kind and value:
 * the number 1001 and the string "1001" are different keys (the offline store coerces them first).
 */
export type KeyColumn = ArrayLike<string | number | null> | Float64Array | Int32Array | BigInt64Array;

type NumCol = Float64Array | Int32Array;

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
  if (tag === '[object Float64Array]' || tag === '[object Int32Array]') return col as NumCol;
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

/** Dense ids of numeric keys: the entity side defines the ids; feature values not among them get -1. */
function numericIds(e: NumCol, f: NumCol): KeyIds {
  const nE = e.length;
  const nF = f.length;
  let min = Infinity;
  let max = -Infinity;
  let allInt = true;
  for (let i = 0; i < nE; i++) {
    const v = e[i]!;
    if (v !== v) continue;
    if (v < min) min = v;
    if (v > max) max = v;
    if (allInt && Math.floor(v) !== v) allInt = false;
  }
  const entityIds = new Int32Array(nE);
  const featureIds = new Int32Array(nF);
  let nKeys = 0;
  const range = max - min + 1;
  if (!(range >= 1)) {
    entityIds.fill(-1);
    featureIds.fill(-1);
    return { entityIds, featureIds, nKeys: 0 };
  }
  if (allInt && range <= Math.max(4 * nE, 4096) && range <= 1 << 27) {
    // Compact integer keys (the common case): a direct-address table.
    const table = new Int32Array(range).fill(-1);
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
    for (let i = 0; i < nF; i++) {
      const d = f[i]! - min;
      const di = d | 0;
      featureIds[i] = di === d && d >= 0 && d < range ? table[di]! : -1;
    }
    return { entityIds, featureIds, nKeys };
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

/**
 * Maps the key tuples of the entity rows to dense ids 0…nKeys-1 (-1 for a null in any key column) and
 * the feature rows to the same ids (-1 when the tuple never occurs among the entity rows). With no
 * feature columns (nF = 0) it just numbers the distinct keys of one side.
 */
export function buildKeyIds(
  entityCols: KeyColumn[],
  nE: number,
  featureCols: KeyColumn[],
  nF: number,
): KeyIds {
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

/** Entity rows grouped by key id, each block sorted by time. */
export interface EntityBlocks {
  /** blockStart[k] … blockStart[k + 1] is key k's slice of `sortedTs` / `sortedRow`. */
  blockStart: Int32Array;
  sortedTs: Float64Array;
  sortedRow: Int32Array;
}

export function entityBlocks(ids: Int32Array, ts: Float64Array, nKeys: number): EntityBlocks {
  const n = ids.length;
  // Counting sort by key id; blocks are then sorted by time with insertion sort when all are short, or
  // the rows are radix-sorted by time first (the counting sort is stable) when some block is long.
  const blockStart = new Int32Array(nKeys + 1);
  for (let i = 0; i < n; i++) {
    const t = ts[i]!;
    if (ids[i]! >= 0 && t === t) blockStart[ids[i]! + 1]++;
  }
  let longest = 0;
  for (let k = 0; k < nKeys; k++) {
    if (blockStart[k + 1]! > longest) longest = blockStart[k + 1]!;
    blockStart[k + 1] += blockStart[k]!;
  }
  const valid = blockStart[nKeys]!;
  let order: Int32Array | null = null;
  if (longest > 48) {
    const rows = new Int32Array(valid);
    for (let i = 0, j = 0; i < n; i++) if (ids[i]! >= 0 && ts[i] === ts[i]) rows[j++] = i;
    order = argsortByTime(ts, rows);
  }
  const fill = blockStart.slice(0, nKeys);
  const sortedRow = new Int32Array(valid);
  const sortedTs = new Float64Array(valid);
  if (order !== null) {
    for (let j = 0; j < valid; j++) {
      const i = order[j]!;
      const p = fill[ids[i]!]++;
      sortedRow[p] = i;
      sortedTs[p] = ts[i]!;
    }
    return { blockStart, sortedTs, sortedRow };
  }
  for (let i = 0; i < n; i++) {
    const t = ts[i]!;
    if (ids[i]! < 0 || t !== t) continue;
    const p = fill[ids[i]!]++;
    sortedRow[p] = i;
    sortedTs[p] = t;
  }
  for (let k = 0; k < nKeys; k++) {
    const a = blockStart[k]!;
    const b = blockStart[k + 1]!;
    for (let p = a + 1; p < b; p++) {
      const t = sortedTs[p]!;
      const r = sortedRow[p]!;
      let q = p - 1;
      while (q >= a && sortedTs[q]! > t) {
        sortedTs[q + 1] = sortedTs[q]!;
        sortedRow[q + 1] = sortedRow[q]!;
        q--;
      }
      sortedTs[q + 1] = t;
      sortedRow[q + 1] = r;
    }
  }
  return { blockStart, sortedTs, sortedRow };
}
