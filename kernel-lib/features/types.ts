/**
 * features/types — the feature store's definitions (Feast's concepts: entity, file source, feature view,
 * feature service) as plain, JSON-serialisable objects, with the factory functions users call and their
 * validation. Everything else in `features/` consumes these shapes.
 */
import { resolve } from 'node:path';
import { CellarError } from '../errors.js';
import type { PostgresSourceDef } from './postgres-source.js';

/** Column types a feature view schema may declare. */
export type FeatureDtype = 'float64' | 'float32' | 'int64' | 'int32' | 'string' | 'bool' | 'timestamp';
/** All feature dtypes. */
export const FEATURE_DTYPES: readonly FeatureDtype[] = [
  'float64',
  'float32',
  'int64',
  'int32',
  'string',
  'bool',
  'timestamp',
];

/** An entity: what features are about (e.g. a driver), identified by its join keys. */
export interface EntityDef {
  kind: 'entity';
  name: string;
  joinKeys: string[];
  description: string;
}

/** A Parquet or CSV file holding feature rows with an event timestamp (and optionally a created timestamp). */
export interface FileSourceDef {
  kind: 'fileSource';
  /** Absolute path (resolved when defined). */
  path: string;
  format: 'parquet' | 'csv';
  timestampField: string;
  createdTimestampColumn: string | null;
}

/** A feature view: named features of some entities, read from a source, valid for `ttlMs` after their timestamp. */
export interface FeatureViewDef {
  kind: 'featureView';
  name: string;
  /** Entity names. */
  entities: string[];
  /** Feature columns and their types (join keys and timestamps are not listed here). */
  schema: Record<string, FeatureDtype>;
  /** Time to live in milliseconds; 0 = unbounded. */
  ttlMs: number;
  /** A Parquet/CSV file (embedded offline store) or a PostgreSQL table (PostgreSQL offline store). */
  source: FileSourceDef | PostgresSourceDef;
  online: boolean;
  tags: Record<string, string>;
}

/** A named group of feature references (`"view:feature"`). */
export interface FeatureServiceDef {
  kind: 'featureService';
  name: string;
  features: string[];
}

/** Any definition `apply` accepts. */
export type FeatureDefinition = EntityDef | FeatureViewDef | FeatureServiceDef;

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/;

function checkName(what: string, name: unknown): string {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new CellarError(
      'INVALID_PARAMETER',
      `${what} name ${JSON.stringify(name)} is not valid: start with a letter or "_", then letters, digits, "_", "-" or "." (≤ 128).`,
    );
  }
  return name;
}

/**
 * Parses a TTL: milliseconds (number ≥ 0) or a duration string such as `"2d"`, `"36h"`, `"90m"`, `"30s"`,
 * `"500ms"`, `"1w"` (combinations like `"1d12h"` allowed). 0 or absent means unbounded.
 *
 * @throws CellarError INVALID_PARAMETER
 */
export function parseTtl(ttl: unknown): number {
  if (ttl === undefined || ttl === null) return 0;
  if (typeof ttl === 'number') {
    if (!Number.isFinite(ttl) || ttl < 0)
      throw new CellarError('INVALID_PARAMETER', `ttl must be ≥ 0 milliseconds, got ${ttl}.`);
    return Math.round(ttl);
  }
  if (typeof ttl === 'string') {
    const text = ttl.trim();
    const units: Record<string, number> = {
      ms: 1,
      s: 1000,
      m: 60_000,
      h: 3_600_000,
      d: 86_400_000,
      w: 604_800_000,
    };
    const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/gy;
    let total = 0;
    let matched = 0;
    let m: RegExpExecArray | null;
    while ((m = re.exec(text)) !== null) {
      total += Number(m[1]) * units[m[2]!]!;
      matched = re.lastIndex;
    }
    if (text !== '' && matched === text.length) return Math.round(total);
  }
  throw new CellarError(
    'INVALID_PARAMETER',
    `ttl ${JSON.stringify(ttl)} is not a duration: use milliseconds or a string such as "2d", "36h", "1d12h", "30m".`,
  );
}

/**
 * Defines an entity.
 *
 * @example
 * const driver = entity({ name: 'driver', joinKeys: ['driver_id'] })
 */
export function entity(opts: { name: string; joinKeys?: string[]; description?: string }): EntityDef {
  const name = checkName('Entity', opts?.name);
  const joinKeys = opts.joinKeys ?? [name];
  if (!Array.isArray(joinKeys) || joinKeys.length === 0) {
    throw new CellarError(
      'INVALID_PARAMETER',
      `Entity "${name}" needs at least one join key, e.g. joinKeys: ["${name}_id"].`,
    );
  }
  joinKeys.forEach((k) => checkName(`Join key of entity "${name}"`, k));
  return { kind: 'entity', name, joinKeys: [...joinKeys], description: opts.description ?? '' };
}

/**
 * Defines a Parquet or CSV source (format from the extension unless given).
 *
 * @example
 * const stats = fileSource({ path: 'data/driver_stats.parquet', timestampField: 'datetime', createdTimestampColumn: 'created' })
 */
export function fileSource(opts: {
  path: string;
  timestampField: string;
  createdTimestampColumn?: string | null;
  format?: 'parquet' | 'csv';
}): FileSourceDef {
  if (typeof opts?.path !== 'string' || opts.path.trim() === '') {
    throw new CellarError('INVALID_PARAMETER', 'fileSource needs a path to a .parquet or .csv file.');
  }
  const lower = opts.path.toLowerCase();
  const format =
    opts.format ??
    (lower.endsWith('.csv')
      ? 'csv'
      : lower.endsWith('.parquet') || lower.endsWith('.pq')
        ? 'parquet'
        : undefined);
  if (format !== 'parquet' && format !== 'csv') {
    throw new CellarError(
      'INVALID_PARAMETER',
      `Cannot tell the format of ${opts.path}: name it .parquet or .csv, or pass format.`,
    );
  }
  if (typeof opts.timestampField !== 'string' || opts.timestampField === '') {
    throw new CellarError(
      'INVALID_PARAMETER',
      `fileSource ${opts.path} needs timestampField (the event time column).`,
    );
  }
  // Resolved against the working directory at definition time, so the definition means the same file everywhere.
  return {
    kind: 'fileSource',
    path: resolve(opts.path),
    format,
    timestampField: opts.timestampField,
    createdTimestampColumn: opts.createdTimestampColumn ?? null,
  };
}

/**
 * Defines a feature view.
 *
 * @example
 * const driverStats = featureView({ name: 'driver_stats', entities: [driver], ttl: '2d', source: stats,
 *   schema: { conv_rate: 'float64', acc_rate: 'float64', avg_daily_trips: 'int64' } })
 */
export function featureView(opts: {
  name: string;
  entities: Array<EntityDef | string>;
  schema: Record<string, FeatureDtype>;
  ttl?: number | string | null;
  source: FileSourceDef | PostgresSourceDef;
  online?: boolean;
  tags?: Record<string, string>;
}): FeatureViewDef {
  const name = checkName('Feature view', opts?.name);
  if (!Array.isArray(opts.entities) || opts.entities.length === 0) {
    throw new CellarError('INVALID_PARAMETER', `Feature view "${name}" needs at least one entity.`);
  }
  const entities = opts.entities.map((e) =>
    typeof e === 'string' ? checkName('Entity', e) : checkName('Entity', e?.name),
  );
  if (!opts.schema || typeof opts.schema !== 'object' || Object.keys(opts.schema).length === 0) {
    throw new CellarError(
      'INVALID_PARAMETER',
      `Feature view "${name}" needs a schema such as { conv_rate: 'float64' }.`,
    );
  }
  const schema: Record<string, FeatureDtype> = {};
  for (const [col, dtype] of Object.entries(opts.schema)) {
    checkName(`Feature "${col}" of view "${name}":`, col);
    if (!FEATURE_DTYPES.includes(dtype)) {
      throw new CellarError(
        'INVALID_PARAMETER',
        `Feature "${col}" of view "${name}" has type ${JSON.stringify(dtype)}; use one of ${FEATURE_DTYPES.join(', ')}.`,
      );
    }
    schema[col] = dtype;
  }
  if (!opts.source || opts.source.kind !== 'fileSource') {
    throw new CellarError(
      'INVALID_PARAMETER',
      `Feature view "${name}" needs a source made with fileSource(...).`,
    );
  }
  const tags: Record<string, string> = {};
  for (const [k, v] of Object.entries(opts.tags ?? {})) tags[k] = String(v);
  return {
    kind: 'featureView',
    name,
    entities,
    schema,
    ttlMs: parseTtl(opts.ttl),
    source: { ...opts.source },
    online: opts.online ?? true,
    tags,
  };
}

/**
 * Defines a feature service: a named list of `"view:feature"` references (or whole views by name).
 *
 * @example
 * const svc = featureService({ name: 'driver_activity', features: ['driver_stats:conv_rate', 'driver_stats:acc_rate'] })
 */
export function featureService(opts: {
  name: string;
  features: Array<string | FeatureViewDef>;
}): FeatureServiceDef {
  const name = checkName('Feature service', opts?.name);
  if (!Array.isArray(opts.features) || opts.features.length === 0) {
    throw new CellarError(
      'INVALID_PARAMETER',
      `Feature service "${name}" needs at least one feature reference.`,
    );
  }
  const features: string[] = [];
  for (const f of opts.features) {
    if (typeof f === 'string') {
      parseFeatureRef(f);
      features.push(f);
    } else if (f && f.kind === 'featureView') {
      for (const col of Object.keys(f.schema)) features.push(`${f.name}:${col}`);
    } else {
      throw new CellarError(
        'INVALID_PARAMETER',
        `Feature service "${name}": features must be "view:feature" strings or feature views.`,
      );
    }
  }
  return { kind: 'featureService', name, features };
}

/** A parsed `"view:feature"` reference. */
export interface FeatureRef {
  view: string;
  feature: string;
}

/**
 * Parses `"view:feature"`.
 *
 * @throws CellarError INVALID_PARAMETER naming the reference
 */
export function parseFeatureRef(ref: unknown): FeatureRef {
  if (typeof ref !== 'string')
    throw new CellarError(
      'INVALID_PARAMETER',
      `Feature reference ${JSON.stringify(ref)} must be a "view:feature" string.`,
    );
  const i = ref.indexOf(':');
  if (i <= 0 || i === ref.length - 1 || ref.indexOf(':', i + 1) >= 0) {
    throw new CellarError(
      'INVALID_PARAMETER',
      `Feature reference "${ref}" must look like "view:feature", e.g. "driver_stats:conv_rate".`,
    );
  }
  return { view: ref.slice(0, i), feature: ref.slice(i + 1) };
}
