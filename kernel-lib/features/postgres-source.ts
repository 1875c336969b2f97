/**
 * features/postgres-source — feature sources that are PostgreSQL tables (`postgresSource`), the strict
 * identifier quoting every SQL string built from user-given names goes through, and the reading of a source
 * table's column types from the catalog (with the checks that the view's columns exist and fit its schema).
 * Values never enter SQL text: they are always bound parameters.
 */
import type { PoolClient } from 'pg';
import { CellarError } from '../errors.js';
import type { FeatureDtype, FeatureViewDef } from './types.js';

/** A PostgreSQL table holding feature rows with an event timestamp (and optionally a created timestamp). */
export interface PostgresSourceDef {
  kind: 'postgresSource';
  /** `table` or `schema.table` (unquoted names; matched case-sensitively). */
  table: string;
  timestampField: string;
  createdTimestampColumn: string | null;
}

const TABLE_PART = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
const COLUMN = /^[A-Za-z_][A-Za-z0-9_.-]{0,62}$/;

/**
 * Quotes a column name for SQL after a strict check (letters, digits, `_`, `.`, `-`; ≤ 63 characters).
 *
 * @throws CellarError INVALID_PARAMETER naming the column.
 */
export function quoteColumn(name: string): string {
  if (typeof name !== 'string' || !COLUMN.test(name)) {
    throw new CellarError(
      'INVALID_PARAMETER',
      `Column name ${JSON.stringify(name)} cannot be used with PostgreSQL: use letters, digits, "_", "." or "-" (≤ 63).`,
    );
  }
  return `"${name}"`;
}

/**
 * Quotes `table` or `schema.table` after a strict check (letters, digits, `_`).
 *
 * @throws CellarError INVALID_PARAMETER naming the table.
 */
export function quoteTable(table: string): string {
  const parts = typeof table === 'string' ? table.split('.') : [];
  if (parts.length < 1 || parts.length > 2 || !parts.every((p) => TABLE_PART.test(p))) {
    throw new CellarError(
      'INVALID_PARAMETER',
      `Table name ${JSON.stringify(table)} is not valid: use "table" or "schema.table" with letters, digits and "_".`,
    );
  }
  return parts.map((p) => `"${p}"`).join('.');
}

/**
 * Defines a PostgreSQL table as a feature source (read by `PostgresOfflineStore`).
 *
 * @throws CellarError INVALID_PARAMETER for an invalid table or column name.
 * @example
 * const stats = postgresSource({ table: 'public.driver_stats', timestampField: 'datetime', createdTimestampColumn: 'created' })
 */
export function postgresSource(opts: {
  table: string;
  timestampField: string;
  createdTimestampColumn?: string | null;
}): PostgresSourceDef {
  quoteTable(opts?.table);
  if (typeof opts.timestampField !== 'string' || opts.timestampField === '') {
    throw new CellarError(
      'INVALID_PARAMETER',
      `postgresSource ${opts.table} needs timestampField (the event time column).`,
    );
  }
  quoteColumn(opts.timestampField);
  if (opts.createdTimestampColumn) quoteColumn(opts.createdTimestampColumn);
  return {
    kind: 'postgresSource',
    table: opts.table,
    timestampField: opts.timestampField,
    createdTimestampColumn: opts.createdTimestampColumn ?? null,
  };
}

/** True when `source` is a {@link PostgresSourceDef}. */
export function isPostgresSource(source: unknown): source is PostgresSourceDef {
  return (source as { kind?: unknown } | null)?.kind === 'postgresSource';
}

/** How a column is used in SQL: its kind decides casts and conversions. */
export type ColumnKind = 'int' | 'float' | 'numeric' | 'string' | 'bool' | 'time' | 'other';

/** One column of a source table. */
export interface SourceColumn {
  name: string;
  /** The type as PostgreSQL prints it (for messages). */
  type: string;
  kind: ColumnKind;
}

/** What a view needs of its source table, checked. */
export interface SourceInfo {
  source: PostgresSourceDef;
  /** Quoted table name. */
  table: string;
  columns: Map<string, SourceColumn>;
  /** Kind of the event-timestamp column: `time` (timestamp[tz]/date) or a number of epoch ms. */
  tsKind: 'time' | 'epoch';
  createdKind: 'time' | 'epoch' | null;
}

function kindOf(typname: string, category: string): ColumnKind {
  if (typname === 'int2' || typname === 'int4' || typname === 'int8') return 'int';
  if (typname === 'float4' || typname === 'float8') return 'float';
  if (typname === 'numeric') return 'numeric';
  if (typname === 'bool') return 'bool';
  if (typname === 'timestamp' || typname === 'timestamptz' || typname === 'date') return 'time';
  if (category === 'S') return 'string';
  return 'other';
}

/** Which column kinds can hold a feature of each dtype. */
const FITS: Record<FeatureDtype, ColumnKind[]> = {
  float64: ['float', 'int', 'numeric'],
  float32: ['float', 'int', 'numeric'],
  int64: ['int', 'numeric'],
  int32: ['int', 'numeric'],
  string: ['string'],
  bool: ['bool'],
  timestamp: ['time', 'int', 'float', 'numeric'],
};

/** The view's source as a {@link PostgresSourceDef}, or an error saying this store cannot read it. */
export function postgresSourceOf(view: FeatureViewDef): PostgresSourceDef {
  const source: unknown = view.source;
  if (!isPostgresSource(source)) {
    throw new CellarError(
      'UNSUPPORTED',
      `Feature view "${view.name}" reads a ${(source as { kind?: string })?.kind ?? 'unknown'} source; ` +
        'the PostgreSQL offline store reads postgresSource({ table, timestampField }) tables only.',
      { view: view.name },
    );
  }
  return source;
}

/**
 * Reads the column types of a view's source table and checks the join keys, timestamps and features.
 *
 * @throws CellarError NOT_FOUND for a missing table; INVALID_INPUT naming a missing column or one whose type
 * does not fit; UNSUPPORTED for a non-PostgreSQL source.
 */
export async function inspectSource(
  client: PoolClient,
  view: FeatureViewDef,
  joinKeys: string[],
  features: string[],
): Promise<SourceInfo> {
  const source = postgresSourceOf(view);
  const table = quoteTable(source.table);
  const res = await client.query<{
    name: string;
    type: string;
    typname: string;
    cat: string;
    found: boolean;
  }>(
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, t.typname, t.typcategory AS cat
       FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
      WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped`,
    [table],
  );
  if (res.rows.length === 0) {
    const exists = await client.query<{ r: string | null }>('SELECT to_regclass($1)::text AS r', [table]);
    if (exists.rows[0]?.r === null || exists.rows[0]?.r === undefined) {
      throw new CellarError(
        'NOT_FOUND',
        `The source table ${source.table} of feature view "${view.name}" does not exist in the PostgreSQL database.`,
        { view: view.name, table: source.table },
      );
    }
  }
  const columns = new Map<string, SourceColumn>();
  for (const r of res.rows) {
    let type = r.type;
    let kind = kindOf(r.typname, r.cat);
    // Domains and the like: fall back to the base category.
    if (kind === 'other' && r.cat === 'N') kind = 'numeric';
    if (kind === 'other' && r.cat === 'B') kind = 'bool';
    if (kind === 'other' && r.cat === 'D') type = `${type} (unsupported date/time type)`;
    columns.set(r.name, { name: r.name, type, kind });
  }
  const need = (name: string, role: string, allowed: ColumnKind[]): SourceColumn => {
    quoteColumn(name);
    const col = columns.get(name);
    if (!col) {
      throw new CellarError(
        'INVALID_INPUT',
        `The source table ${source.table} of feature view "${view.name}" has no column "${name}" (${role}); ` +
          `it has ${[...columns.keys()].join(', ')}.`,
        { view: view.name, table: source.table, column: name },
      );
    }
    if (!allowed.includes(col.kind)) {
      throw new CellarError(
        'INVALID_INPUT',
        `Column "${name}" (${role}) of ${source.table}, the source of feature view "${view.name}", has type ${col.type}; ` +
          `expected ${allowed.join(' or ')}.`,
        { view: view.name, table: source.table, column: name },
      );
    }
    return col;
  };
  for (const k of joinKeys) need(k, 'join key', ['int', 'float', 'numeric', 'string']);
  const ts = need(source.timestampField, 'event timestamp', ['time', 'int', 'float', 'numeric']);
  const created = source.createdTimestampColumn
    ? need(source.createdTimestampColumn, 'created timestamp', ['time', 'int', 'float', 'numeric'])
    : null;
  for (const f of features) {
    const dtype = view.schema[f];
    if (!dtype) {
      throw new CellarError('INVALID_PARAMETER', `Feature view "${view.name}" has no feature "${f}".`, {
        view: view.name,
      });
    }
    need(f, `feature, ${dtype}`, FITS[dtype]);
  }
  return {
    source,
    table,
    columns,
    tsKind: ts.kind === 'time' ? 'time' : 'epoch',
    createdKind: created ? (created.kind === 'time' ? 'time' : 'epoch') : null,
  };
}
