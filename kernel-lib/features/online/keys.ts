/**
 * features/online/keys — turning what users pass to the online path (entity rows, pushed rows) into the
 * canonical pieces the online stores use: join-key values coerced to the type the view's source uses,
 * entity keys encoded with `encodeEntityKey`, and timestamps as epoch milliseconds (UTC).
 */
import { CellarError } from '../../errors.js';
import { encodeEntityKey, type KeyValue } from '../stores.js';
import { toEpochMs } from '../timestamps.js';

/** How a source stores a join key: numbers (integer or float columns) or strings. */
export type KeyType = 'number' | 'string';

/** The key type of each join key of a view (as its source stores them). */
export type KeyTypes = Record<string, KeyType>;

const NUMERIC = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** Names a row in error messages. */
function where(rowIndex: number | undefined): string {
  return rowIndex === undefined ? '' : ` in row ${rowIndex}`;
}

/**
 * Coerces one join-key value to `type` (when known): numeric strings become numbers for a numeric key,
 * numbers become strings for a string key. Without a type, numbers stay numbers and strings stay strings.
 *
 * @throws CellarError INVALID_INPUT when the value is missing, of an unusable type, or not coercible.
 */
export function coerceKeyValue(value: unknown, key: string, type?: KeyType, rowIndex?: number): KeyValue {
  if (value === undefined || value === null) {
    throw new CellarError(
      'INVALID_INPUT',
      `Join key "${key}" is missing${where(rowIndex)}: every row needs it.`,
      {
        column: key,
        row: rowIndex,
      },
    );
  }
  let v: KeyValue;
  if (typeof value === 'bigint') {
    v = Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  } else if (typeof value === 'number') {
    if (!Number.isFinite(value)) {
      throw new CellarError(
        'INVALID_INPUT',
        `Join key "${key}"${where(rowIndex)} is ${value}; use a finite number or a string.`,
        {
          column: key,
          row: rowIndex,
        },
      );
    }
    v = value;
  } else if (typeof value === 'string') {
    v = value;
  } else {
    throw new CellarError(
      'INVALID_INPUT',
      `Join key "${key}"${where(rowIndex)} is a ${value instanceof Date ? 'Date' : typeof value}; use a number or a string.`,
      { column: key, row: rowIndex },
    );
  }
  if (type === 'string' && typeof v === 'number') return String(v);
  if (type === 'number' && typeof v === 'string') {
    const text = v.trim();
    if (!NUMERIC.test(text)) {
      throw new CellarError(
        'INVALID_INPUT',
        `Join key "${key}"${where(rowIndex)} is ${JSON.stringify(v)}, but the source stores "${key}" as numbers; pass a number such as 1001.`,
        { column: key, row: rowIndex },
      );
    }
    return Number(text);
  }
  return v;
}

/** The other plausible form of a key value (number ↔ numeric string), or undefined when there is none. */
export function alternateKeyValue(v: KeyValue): KeyValue | undefined {
  if (typeof v === 'number') return String(v);
  const text = v.trim();
  return NUMERIC.test(text) ? Number(text) : undefined;
}

/** An entity's join-key values read from a row, coerced, with its canonical key and (when any) alternate key. */
export interface RowKey {
  values: KeyValue[];
  entityKey: string;
  /** The key with every value in its other form, when all values have one and no key type is known. */
  alternateKey: string | null;
}

/**
 * Reads and coerces the join keys of one row.
 *
 * @throws CellarError INVALID_INPUT naming the missing or bad join key and the row.
 */
export function rowKey(
  joinKeys: string[],
  row: Record<string, unknown>,
  keyTypes: KeyTypes | undefined,
  rowIndex: number,
): RowKey {
  if (row === null || typeof row !== 'object') {
    throw new CellarError(
      'INVALID_INPUT',
      `Row ${rowIndex} is ${row === null ? 'null' : typeof row}; pass an object.`,
    );
  }
  const values = joinKeys.map((k) => coerceKeyValue(row[k], k, keyTypes?.[k], rowIndex));
  let alternateKey: string | null = null;
  if (!joinKeys.every((k) => keyTypes?.[k])) {
    const alt = values.map((v, i) => (keyTypes?.[joinKeys[i]!] ? v : alternateKeyValue(v)));
    if (alt.every((v) => v !== undefined)) alternateKey = encodeEntityKey(joinKeys, alt as KeyValue[]);
  }
  return { values, entityKey: encodeEntityKey(joinKeys, values), alternateKey };
}

/**
 * Converts a timestamp given by a user (Date, epoch milliseconds, ISO-8601 string WITH a zone) to epoch ms,
 * with the feature store's shared rules (`timestamps.ts`).
 *
 * @throws CellarError INVALID_INPUT naming the column, for zone-less or unparsable strings, nulls and other types.
 */
export function timestampMs(value: unknown, column: string, rowIndex?: number): number {
  return toEpochMs(value, rowIndex === undefined ? { column } : { column, row: rowIndex });
}
