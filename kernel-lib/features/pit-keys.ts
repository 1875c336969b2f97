/**
 * features/pit-keys — join keys to dense integer ids for the point-in-time join: a direct-address table for
 * compact integer keys, an open-addressing hash on the Float64 value for other numbers, a Map for strings
 * and mixed values; composite keys fold their columns' ids pairwise into one id. The entity rows define
 * the ids; feature rows whose key tuple no entity row has get -1 (they can never match).
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
