/**
 * features/online/push — `push`: fresh feature values written straight to the online store (Feast's push
 * source), validated against the view's schema first so a bad row writes nothing. The store's newer-wins rule
 * makes the result independent of arrival order: the larger event timestamp wins, ties go to the larger
 * created timestamp (a pushed row without one is created "now").
 */
import { CellarError } from '../../errors.js';
import type { OnlineRow, OnlineStore } from '../stores.js';
import type { FeatureDtype, FeatureViewDef } from '../types.js';
import { rowKey, timestampMs, type KeyTypes, type RowKey } from './keys.js';

/** Options of {@link push}. */
export interface PushOptions {
  online: OnlineStore;
  view: FeatureViewDef;
  /** The join keys of the view's entities, in order. */
  joinKeys: string[];
  /**
   * Rows with every join key, the event timestamp (the source's `timestampField`, or `event_timestamp`), every
   * feature of the view (null allowed) and optionally the source's created-timestamp column.
   */
  rows: Array<Record<string, unknown>>;
  /** How the source stores the join keys (values are coerced to it); without it, an existing entity's key form is reused. */
  keyTypes?: KeyTypes;
  /** The created timestamp given to rows without one (default `Date.now()`). */
  nowMs?: number;
}

/** Checks one feature value against its declared type; returns what is stored. */
function featureValue(value: unknown, dtype: FeatureDtype, column: string, rowIndex: number): unknown {
  if (value === null || value === undefined) return null;
  const bad = (want: string): never => {
    throw new CellarError(
      'INVALID_INPUT',
      `Column "${column}" in row ${rowIndex} is ${JSON.stringify(String(value))} (${typeof value}); the view declares ${dtype}, so pass ${want}.`,
      { column, row: rowIndex },
    );
  };
  switch (dtype) {
    case 'float64':
    case 'float32':
    case 'int64':
    case 'int32': {
      const v = typeof value === 'bigint' ? Number(value) : value;
      if (typeof v !== 'number') return bad('a number');
      if (Number.isNaN(v)) return null;
      if (!Number.isFinite(v)) return bad('a finite number');
      if ((dtype === 'int64' || dtype === 'int32') && !Number.isInteger(v)) return bad('an integer');
      return v;
    }
    case 'string':
      return typeof value === 'string' ? value : bad('a string');
    case 'bool':
      return typeof value === 'boolean' ? value : bad('true or false');
    case 'timestamp':
      return timestampMs(value, column, rowIndex);
  }
}

/** Turns pushed rows into online rows (all validated; throws before anything is written). */
export function pushRows(opts: PushOptions): { rows: OnlineRow[]; keys: RowKey[] } {
  const { view, joinKeys } = opts;
  if (!Array.isArray(opts.rows))
    throw new CellarError('INVALID_INPUT', 'push needs rows: an array of objects.');
  const tsField = view.source.timestampField;
  const createdField = view.source.createdTimestampColumn;
  const features = Object.entries(view.schema);
  const known = new Set([...joinKeys, tsField, 'event_timestamp', ...features.map(([f]) => f)]);
  if (createdField) known.add(createdField);
  const now = opts.nowMs ?? Date.now();
  const rows: OnlineRow[] = [];
  const keys: RowKey[] = [];
  opts.rows.forEach((row, i) => {
    const key = rowKey(joinKeys, row, opts.keyTypes, i);
    for (const col of Object.keys(row)) {
      if (!known.has(col)) {
        throw new CellarError(
          'INVALID_PARAMETER',
          `Unknown feature "${col}" in row ${i} pushed to view "${view.name}"; it has ${features.map(([f]) => f).join(', ')}.`,
          { view: view.name, feature: col },
        );
      }
    }
    const tsCol =
      row[tsField] !== undefined ? tsField : row.event_timestamp !== undefined ? 'event_timestamp' : tsField;
    const eventTs = timestampMs(row[tsCol], tsCol, i);
    const createdGiven = createdField ? row[createdField] : undefined;
    const createdTs =
      createdGiven === undefined || createdGiven === null ? now : timestampMs(createdGiven, createdField!, i);
    const values: Record<string, unknown> = {};
    for (const [f, dtype] of features) {
      if (!(f in row)) {
        throw new CellarError(
          'INVALID_INPUT',
          `Row ${i} pushed to view "${view.name}" has no column "${f}"; push every feature (null for none).`,
          { view: view.name, column: f, row: i },
        );
      }
      values[f] = featureValue(row[f], dtype, f, i);
    }
    keys.push(key);
    rows.push({ entityKey: key.entityKey, eventTs, createdTs, values });
  });
  return { rows, keys };
}

/**
 * Writes fresh values of one feature view to the online store. Returns how many rows created or replaced a
 * stored value (a row older than what is stored changes nothing). Without `keyTypes`, a key given as `"1001"`
 * updates the entity stored as `1001` (and vice versa) when that one exists.
 *
 * @throws CellarError INVALID_PARAMETER for a view with `online: false` or an unknown feature column;
 * INVALID_INPUT for a missing join key, timestamp or feature column, or a value of the wrong type — nothing is
 * written then.
 * @example
 * await push({ online, view: driverStats, joinKeys: ['driver_id'],
 *   rows: [{ driver_id: 1001, datetime: new Date(), conv_rate: 0.9, acc_rate: 0.8, avg_daily_trips: 12 }] })
 */
export async function push(opts: PushOptions): Promise<number> {
  if (!opts.view.online) {
    throw new CellarError(
      'INVALID_PARAMETER',
      `Feature view "${opts.view.name}" is not online (online: false); set online: true to push to it.`,
      { view: opts.view.name },
    );
  }
  const { rows, keys } = pushRows(opts);
  if (rows.length === 0) return 0;
  const typed = opts.joinKeys.every((k) => opts.keyTypes?.[k]);
  if (!typed) await reuseStoredKeyForms(opts.online, opts.view.name, rows, keys);
  return opts.online.write(opts.view.name, rows);
}

/** Where an entity is stored only under the other key form (1001 vs "1001"), write to that one. */
async function reuseStoredKeyForms(
  online: OnlineStore,
  view: string,
  rows: OnlineRow[],
  keys: RowKey[],
): Promise<void> {
  const candidates = [...new Set(keys.filter((k) => k.alternateKey !== null).map((k) => k.entityKey))];
  if (candidates.length === 0) return;
  const primary = await online.read(view, candidates);
  const absent = new Set(candidates.filter((_, i) => primary[i] === null));
  const alternates = [...new Set(keys.filter((k) => absent.has(k.entityKey)).map((k) => k.alternateKey!))];
  if (alternates.length === 0) return;
  const alt = await online.read(view, alternates);
  const found = new Set(alternates.filter((_, i) => alt[i] !== null));
  keys.forEach((k, i) => {
    if (absent.has(k.entityKey) && found.has(k.alternateKey!)) rows[i]!.entityKey = k.alternateKey!;
  });
}
