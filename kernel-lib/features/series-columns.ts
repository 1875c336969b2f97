/**
 * features/series-columns — converts nodejs-polars Series into the column shapes the feature store joins on:
 * join-key columns (Int32Array for null-free int32 keys, Float64Array with NaN nulls for other numbers,
 * string arrays) and feature value columns (Float64Array with NaN nulls for numbers and times, arrays with
 * null for strings and booleans), plus the mapping of polars types to feature dtypes.
 */
import { pl } from '../data/polars.js';
import type { Series } from 'nodejs-polars';
import { CellarError } from '../errors.js';
import type { KeyColumn } from './pit-keys.js';
import type { ValueColumn } from './stores.js';
import type { FeatureDtype } from './types.js';
import { columnToEpochMs, int64ToFloat64, nullMask, physical } from './timestamps.js';

/** How a source's join-key column stores its values (entity keys are coerced to it). */
export type KeyKind = 'int' | 'float' | 'string';

/** Polars integer and float type names. */
export const INT = /^U?Int(8|16|32|64)$/;
export const FLOAT = /^Float(32|64)$/;

/** The FeatureDtype a polars column maps to, when only feature names are given. */
export function dtypeOf(s: Series): FeatureDtype | null {
  const v = s.dtype.variant;
  if (FLOAT.test(v)) return 'float64';
  if (INT.test(v)) return 'int64';
  if (v === 'String' || v === 'Utf8' || v === 'Categorical') return 'string';
  if (v === 'Bool') return 'bool';
  if (v === 'Datetime' || v === 'Date') return 'timestamp';
  return null;
}

/** Whether a polars column can hold a feature of `dtype` (integers widen to floats; times may be strings). */
export function dtypeMatches(s: Series, dtype: FeatureDtype): boolean {
  const v = s.dtype.variant;
  switch (dtype) {
    case 'float64':
    case 'float32':
      return FLOAT.test(v) || INT.test(v);
    case 'int64':
    case 'int32':
      return INT.test(v);
    case 'string':
      return v === 'String' || v === 'Utf8' || v === 'Categorical';
    case 'bool':
      return v === 'Bool';
    case 'timestamp':
      return v === 'Datetime' || v === 'Date' || v === 'String' || v === 'Utf8';
  }
}

/**
 * Converts a polars Series to a feature value column of `dtype` (numbers and times as Float64Array with
 * NaN at nulls; strings and booleans as arrays with null).
 */
export function seriesToValueColumn(s: Series, dtype: FeatureDtype, column: string): ValueColumn {
  const n = s.length;
  const mask = nullMask(s);
  const nulls = mask ?? new Uint8Array(n);
  if (dtype === 'string' || dtype === 'bool') {
    const data = (dtype === 'string' ? s.cast(pl.String) : s).toArray() as Array<string | boolean | null>;
    return { dtype, data, nulls };
  }
  const v = s.dtype.variant;
  const data =
    dtype === 'timestamp'
      ? columnToEpochMs(s, column, { allowNulls: true })
      : v === 'Float64' && mask === null
        ? (s.toTypedArray() as Float64Array)
        : v === 'Int64'
          ? int64ToFloat64(physical(s, pl.Int64) as BigInt64Array, 1, true)
          : (physical(s, pl.Float64) as Float64Array);
  if (mask !== null) for (let i = 0; i < n; i++) if (mask[i] === 1) data[i] = NaN;
  return { dtype, data, nulls };
}

/**
 * Converts a polars join-key column: integers without nulls that fit in int32 to an Int32Array, other
 * numbers to a Float64Array (NaN = null), strings to an array of strings (null = null).
 *
 * @throws CellarError INVALID_INPUT for other column types, or integers beyond ±2^53.
 */
export function seriesToKeyColumn(s: Series, column: string): { values: KeyColumn; kind: KeyKind } {
  const v = s.dtype.variant;
  if (v === 'String' || v === 'Utf8' || v === 'Categorical') {
    return { values: s.cast(pl.String).toArray() as Array<string | null>, kind: 'string' };
  }
  if (!INT.test(v) && !FLOAT.test(v)) {
    throw new CellarError(
      'INVALID_INPUT',
      `Join-key column "${column}" has type ${String(s.dtype)}; use integers or strings.`,
      {
        column,
      },
    );
  }
  const mask = nullMask(s);
  const kind: KeyKind = INT.test(v) ? 'int' : 'float';
  if (kind === 'int' && mask === null && s.length > 0) {
    // Null-free integer keys within int32 travel as an Int32Array: half the memory of Float64, and the join
    // looks them up as they are. A strict cast fails when some value is out of range.
    let i32: Series | null = null;
    try {
      i32 = s.cast(pl.Int32, true);
    } catch {
      i32 = null;
    }
    if (i32 !== null) return { values: i32.toTypedArray() as Int32Array, kind };
  }
  let values: Float64Array;
  if (v === 'Int64' || v === 'UInt64') {
    const big = physical(s, pl.Int64) as BigInt64Array;
    const hi = new Int32Array(big.buffer, big.byteOffset, big.length * 2);
    for (let j = 1; j < hi.length; j += 2) {
      if (hi[j]! > 0x1fffff || hi[j]! < -0x200000) {
        throw new CellarError(
          'INVALID_INPUT',
          `Join-key column "${column}" holds integers beyond ±2^53; store such keys as strings.`,
          { column },
        );
      }
    }
    values = int64ToFloat64(big, 1, true);
  } else values = physical(s, pl.Float64) as Float64Array;
  if (mask !== null) for (let i = 0; i < values.length; i++) if (mask[i] === 1) values[i] = NaN;
  return { values, kind };
}
