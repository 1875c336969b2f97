/**
 * features/registry — the feature store's registry of definitions (entities, feature views, feature services)
 * in the store's `feature_definitions` table. Every change of a definition's spec gets a new version; the same
 * spec applied again is a no-op. An apply is validated as a whole against the state it would produce (every
 * view's entities and every service's features must exist) before anything is written, and is written in one
 * transaction, so a failed apply leaves the registry unchanged.
 */
import { createHash } from 'node:crypto';
import { CellarError } from '../errors.js';
import { writeTx, type SqliteDb } from '../store/sqlite.js';
import {
  entity,
  featureService,
  featureView,
  fileSource,
  parseFeatureRef,
  type EntityDef,
  type FeatureDefinition,
  type FeatureServiceDef,
  type FeatureViewDef,
} from './types.js';

/** The kinds of definitions the registry holds. */
export type DefinitionKind = FeatureDefinition['kind'];
const KINDS: readonly DefinitionKind[] = ['entity', 'featureView', 'featureService'];
const KIND_LABEL: Record<DefinitionKind, string> = {
  entity: 'Entity',
  featureView: 'Feature view',
  featureService: 'Feature service',
};

/** One stored version of a definition. */
export interface StoredDefinition<T extends FeatureDefinition = FeatureDefinition> {
  kind: T['kind'];
  name: string;
  version: number;
  spec: T;
  /** SHA-256 of the canonical JSON of `spec` (keys sorted, so key order alone is not a change). */
  specHash: string;
  /** Epoch milliseconds. */
  createdAt: number;
}

/** One field that differs between the stored and the proposed spec (`path` like `schema.conv_rate`). */
export interface FieldChange {
  path: string;
  before: unknown;
  after: unknown;
}

/** What an apply does (or did) to one definition. */
export interface PlanItem {
  action: 'create' | 'update' | 'unchanged';
  kind: DefinitionKind;
  name: string;
  /** The version the definition has after the apply. */
  version: number;
  /** The latest stored version before the apply (null for a create). */
  previousVersion: number | null;
  /** Field-level differences (empty for create and unchanged). */
  changes: FieldChange[];
}

/** The diff of an apply: one item per definition, in the order given. */
export interface Plan {
  items: PlanItem[];
  /** True when nothing would change. */
  unchanged: boolean;
}

/** A definition's history, for `describe`. */
export interface DefinitionDescription {
  kind: DefinitionKind;
  name: string;
  latest: StoredDefinition;
  versions: Array<{ version: number; specHash: string; createdAt: number; deletedAt: number | null }>;
  /** Live definitions that reference this one (views of an entity, services of a view). */
  referencedBy: Array<{ kind: DefinitionKind; name: string }>;
}

interface Row {
  kind: DefinitionKind;
  name: string;
  version: number;
  spec_json: string;
  spec_hash: string;
  created_at: number;
  deleted_at: number | null;
}

const generations = new WeakMap<SqliteDb, number>();

/**
 * A token that changes whenever the registry may have changed: after a write through this module on this
 * connection, or a commit by any other connection (SQLite's `data_version`). Lets readers cache the registry.
 */
export function registryVersion(db: SqliteDb): string {
  return `${String(statements(db).dataVersion.get())}:${generations.get(db) ?? 0}`;
}

/** SQLite's `data_version` of this connection: it moves when another connection commits anything. */
export function dataVersion(db: SqliteDb): number {
  return Number(statements(db).dataVersion.get());
}

/** How many registry writes this connection made (its own commits do not move `data_version`). */
export function registryGeneration(db: SqliteDb): number {
  return generations.get(db) ?? 0;
}

interface CheapStatements {
  dataVersion: { get(): unknown };
  fingerprint: { get(): unknown };
}
const cheap = new WeakMap<SqliteDb, CheapStatements>();

/** Prepared once per connection: `db.pragma()` would prepare its statement again on every call. */
function statements(db: SqliteDb): CheapStatements {
  let s = cheap.get(db);
  if (!s) {
    s = {
      dataVersion: db.prepare<[]>('PRAGMA data_version').pluck(),
      fingerprint: db
        .prepare<[]>('SELECT count(*), total(rowid), max(rowid), total(deleted_at) FROM feature_definitions')
        .raw(),
    };
    cheap.set(db, s);
  }
  return s;
}

/**
 * A token that changes whenever the registry's content changed (rows added, deleted or marked deleted), by this
 * connection or another. Cheaper than reading the registry: a reader whose {@link registryVersion} moved because
 * another process committed something else (metrics, online values) checks this before re-reading definitions.
 */
export function registryFingerprint(db: SqliteDb): string {
  return `${(statements(db).fingerprint.get() as unknown[]).join(':')}:${generations.get(db) ?? 0}`;
}

function bump(db: SqliteDb): void {
  generations.set(db, (generations.get(db) ?? 0) + 1);
}

/** JSON with object keys sorted, so equal specs have equal text and hash. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) out[k] = sortKeys((value as Record<string, unknown>)[k]);
    return out;
  }
  return value;
}

function hashSpec(spec: FeatureDefinition): string {
  return createHash('sha256').update(canonicalJson(spec)).digest('hex');
}

/**
 * Checks one definition (e.g. parsed from JSON) by re-running its factory, and returns it in canonical form.
 *
 * @throws CellarError INVALID_PARAMETER naming the definition and what is wrong
 */
export function normalizeDefinition(def: unknown, index = 0): FeatureDefinition {
  const d = def as Record<string, unknown> | null;
  if (d === null || typeof d !== 'object' || Array.isArray(d)) {
    throw new CellarError(
      'INVALID_PARAMETER',
      `Definition ${index} is not an object: pass definitions made with entity(), featureView() or featureService().`,
    );
  }
  switch (d.kind) {
    case 'entity':
      return entity(d as unknown as EntityDef);
    case 'featureView': {
      const v = d as unknown as FeatureViewDef & { ttl?: unknown };
      const src = (v.source ?? {}) as unknown as Record<string, unknown>;
      if (src.kind !== undefined && src.kind !== 'fileSource') {
        throw new CellarError(
          'INVALID_PARAMETER',
          `Feature view "${String(v.name)}" has a source of kind "${String(src.kind)}"; use fileSource(...).`,
        );
      }
      return featureView({
        name: v.name,
        entities: v.entities,
        schema: v.schema,
        ttl: (v.ttlMs ?? v.ttl) as number | string | undefined,
        source: fileSource(src as Parameters<typeof fileSource>[0]),
        online: v.online,
        tags: v.tags,
      });
    }
    case 'featureService':
      return featureService(d as unknown as FeatureServiceDef);
    default:
      throw new CellarError(
        'INVALID_PARAMETER',
        `Definition ${index}${typeof d.name === 'string' ? ` ("${d.name}")` : ''} has kind ${JSON.stringify(d.kind)}; ` +
          `expected one of ${KINDS.join(', ')} (make definitions with entity(), featureView(), featureService()).`,
      );
  }
}

function rowToStored(r: Row): StoredDefinition {
  return {
    kind: r.kind,
    name: r.name,
    version: r.version,
    spec: JSON.parse(r.spec_json) as FeatureDefinition,
    specHash: r.spec_hash,
    createdAt: r.created_at,
  };
}

/** Latest version row of each (kind, name), deleted ones included (callers filter). */
function latestRows(db: SqliteDb): Row[] {
  return db
    .prepare(
      `SELECT d.* FROM feature_definitions d
       JOIN (SELECT kind, name, MAX(version) AS v FROM feature_definitions GROUP BY kind, name) m
         ON d.kind = m.kind AND d.name = m.name AND d.version = m.v
       ORDER BY d.kind, d.name`,
    )
    .all() as Row[];
}

/**
 * Lists the latest version of every live definition, optionally of one kind, ordered by kind and name.
 *
 * @example
 * list(db, 'featureView').map((d) => d.name)
 */
export function list(db: SqliteDb, kind?: DefinitionKind): StoredDefinition[] {
  if (kind !== undefined && !KINDS.includes(kind)) {
    throw new CellarError(
      'INVALID_PARAMETER',
      `Unknown definition kind "${String(kind)}"; use one of ${KINDS.join(', ')}.`,
    );
  }
  return latestRows(db)
    .filter((r) => r.deleted_at === null && (kind === undefined || r.kind === kind))
    .map(rowToStored);
}

/** The latest live version of a definition, or null when there is none. */
export function get<K extends DefinitionKind>(
  db: SqliteDb,
  kind: K,
  name: string,
): StoredDefinition<Extract<FeatureDefinition, { kind: K }>> | null {
  const r = db
    .prepare('SELECT * FROM feature_definitions WHERE kind = ? AND name = ? ORDER BY version DESC LIMIT 1')
    .get(kind, name) as Row | undefined;
  if (!r || r.deleted_at !== null) return null;
  return rowToStored(r) as StoredDefinition<Extract<FeatureDefinition, { kind: K }>>;
}

/**
 * Describes a definition by name: its latest version, its version history and what references it. With
 * several kinds of the same name, `kind` picks one.
 *
 * @throws CellarError NOT_FOUND for an unknown name; INVALID_PARAMETER when the name is ambiguous without `kind`
 */
export function describe(db: SqliteDb, name: string, kind?: DefinitionKind): DefinitionDescription {
  const live = list(db);
  const matches = live.filter((d) => d.name === name && (kind === undefined || d.kind === kind));
  if (matches.length === 0) {
    const names = live.map((d) => d.name);
    throw new CellarError(
      'NOT_FOUND',
      `No ${kind ? KIND_LABEL[kind].toLowerCase() : 'feature definition'} named "${name}". ` +
        (names.length ? `Registered: ${names.join(', ')}.` : 'Nothing is registered yet: run apply first.'),
    );
  }
  if (matches.length > 1) {
    throw new CellarError(
      'INVALID_PARAMETER',
      `"${name}" names ${matches.map((m) => m.kind).join(' and ')}; say which kind you mean.`,
    );
  }
  const latest = matches[0]!;
  const versions = (
    db
      .prepare('SELECT * FROM feature_definitions WHERE kind = ? AND name = ? ORDER BY version')
      .all(latest.kind, name) as Row[]
  ).map((r) => ({
    version: r.version,
    specHash: r.spec_hash,
    createdAt: r.created_at,
    deletedAt: r.deleted_at,
  }));
  const referencedBy: DefinitionDescription['referencedBy'] = [];
  for (const d of live) {
    if (latest.kind === 'entity' && d.spec.kind === 'featureView' && d.spec.entities.includes(name)) {
      referencedBy.push({ kind: d.kind, name: d.name });
    }
    if (
      latest.kind === 'featureView' &&
      d.spec.kind === 'featureService' &&
      d.spec.features.some((f) => parseFeatureRef(f).view === name)
    ) {
      referencedBy.push({ kind: d.kind, name: d.name });
    }
  }
  return { kind: latest.kind, name, latest, versions, referencedBy };
}

/** Field-level differences between two specs (objects recurse; arrays and scalars compare whole). */
export function diffSpecs(before: unknown, after: unknown, path = ''): FieldChange[] {
  const isObj = (x: unknown): x is Record<string, unknown> =>
    x !== null && typeof x === 'object' && !Array.isArray(x);
  if (isObj(before) && isObj(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((k) => diffSpecs(before[k], after[k], path ? `${path}.${k}` : k));
  }
  if (canonicalJson(before) === canonicalJson(after)) return [];
  return [{ path, before: before ?? null, after: after ?? null }];
}

function toList(defs: unknown): unknown[] {
  if (Array.isArray(defs)) return defs;
  if (defs !== null && typeof defs === 'object') return [defs];
  throw new CellarError(
    'INVALID_PARAMETER',
    'apply/plan takes an array of definitions made with entity(), featureView(), featureService().',
  );
}

/**
 * Checks the definitions as a whole against the state they would produce together with what is registered,
 * and returns them normalized. Reports every problem at once.
 */
function validate(db: SqliteDb, rawDefs: unknown): FeatureDefinition[] {
  const defs = toList(rawDefs).map((d, i) => normalizeDefinition(d, i));
  const problems: string[] = [];
  const seen = new Map<string, number>();
  for (const d of defs) seen.set(`${d.kind}:${d.name}`, (seen.get(`${d.kind}:${d.name}`) ?? 0) + 1);
  for (const [key, n] of seen) {
    if (n > 1) {
      const [kind, name] = key.split(/:(.*)/s) as [DefinitionKind, string];
      problems.push(`${KIND_LABEL[kind]} "${name}" is defined ${n} times in this apply; keep one.`);
    }
  }
  // The state after the apply: registered definitions overridden by the new ones.
  const state = new Map<string, FeatureDefinition>();
  for (const d of list(db)) state.set(`${d.kind}:${d.name}`, d.spec);
  for (const d of defs) state.set(`${d.kind}:${d.name}`, d);
  const entities = new Map<string, EntityDef>();
  const views = new Map<string, FeatureViewDef>();
  for (const d of state.values()) {
    if (d.kind === 'entity') entities.set(d.name, d);
    if (d.kind === 'featureView') views.set(d.name, d);
  }
  for (const d of state.values()) {
    if (d.kind === 'featureView') {
      const joinKeys: string[] = [];
      for (const e of d.entities) {
        const ent = entities.get(e);
        if (!ent)
          problems.push(
            `Feature view "${d.name}" references unknown entity "${e}"; define it with entity({ name: '${e}', joinKeys: [...] }).`,
          );
        else joinKeys.push(...ent.joinKeys);
      }
      const reserved = new Set([...joinKeys, d.source.timestampField, d.source.createdTimestampColumn ?? '']);
      for (const f of Object.keys(d.schema)) {
        if (reserved.has(f))
          problems.push(
            `Feature view "${d.name}" lists "${f}" as a feature, but it is a join key or timestamp column.`,
          );
      }
    }
    if (d.kind === 'featureService') {
      for (const ref of d.features) {
        const { view, feature } = parseFeatureRef(ref);
        const v = views.get(view);
        if (!v)
          problems.push(
            `Feature service "${d.name}" references unknown feature view "${view}" (in "${ref}").`,
          );
        else if (!(feature in v.schema)) {
          problems.push(
            `Feature service "${d.name}" references unknown feature "${ref}"; view "${view}" has ${Object.keys(v.schema).join(', ')}.`,
          );
        }
      }
    }
  }
  if (problems.length > 0) {
    throw new CellarError(
      'INVALID_PARAMETER',
      `The definitions are not consistent (nothing was applied):\n- ${problems.join('\n- ')}`,
      {
        problems,
      },
    );
  }
  return defs;
}

function planFor(db: SqliteDb, defs: FeatureDefinition[]): Plan {
  const items = defs.map((d): PlanItem => {
    const last = db
      .prepare('SELECT * FROM feature_definitions WHERE kind = ? AND name = ? ORDER BY version DESC LIMIT 1')
      .get(d.kind, d.name) as Row | undefined;
    if (!last)
      return { action: 'create', kind: d.kind, name: d.name, version: 1, previousVersion: null, changes: [] };
    if (last.deleted_at !== null) {
      return {
        action: 'create',
        kind: d.kind,
        name: d.name,
        version: last.version + 1,
        previousVersion: null,
        changes: [],
      };
    }
    if (last.spec_hash === hashSpec(d)) {
      return {
        action: 'unchanged',
        kind: d.kind,
        name: d.name,
        version: last.version,
        previousVersion: last.version,
        changes: [],
      };
    }
    return {
      action: 'update',
      kind: d.kind,
      name: d.name,
      version: last.version + 1,
      previousVersion: last.version,
      changes: diffSpecs(JSON.parse(last.spec_json), d),
    };
  });
  return { items, unchanged: items.every((i) => i.action === 'unchanged') };
}

/**
 * Shows what `apply` would do with these definitions, without writing anything.
 *
 * @throws CellarError INVALID_PARAMETER when the definitions are invalid or inconsistent (as apply would)
 * @example
 * plan(db, [driver, driverStats]).items.map((i) => `${i.action} ${i.name}`)
 */
export function plan(db: SqliteDb, defs: readonly unknown[]): Plan {
  return planFor(db, validate(db, defs));
}

/**
 * Registers definitions: a new version for each new or changed one, nothing for unchanged ones. Validates
 * everything first and writes in one transaction: on any error nothing is stored.
 *
 * @throws CellarError INVALID_PARAMETER naming unknown entities / views / features, duplicate names or invalid definitions
 * @example
 * apply(db, [driver, driverStats, driverActivity])
 */
export function apply(db: SqliteDb, defs: readonly unknown[]): Plan {
  const result = writeTx(db, 'apply feature definitions', () => {
    const normalized = validate(db, defs); // re-validated under the write lock: another process may have applied
    const result = planFor(db, normalized);
    const insert = db.prepare(
      'INSERT INTO feature_definitions (kind, name, version, spec_json, spec_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    );
    const now = Date.now();
    normalized.forEach((d, i) => {
      const item = result.items[i]!;
      if (item.action !== 'unchanged')
        insert.run(d.kind, d.name, item.version, JSON.stringify(d), hashSpec(d), now);
    });
    return result;
  });
  if (!result.unchanged) bump(db);
  return result;
}

/**
 * Removes a definition (all its versions are kept, marked deleted; applying it again makes a new version).
 *
 * @throws CellarError NOT_FOUND when it is not registered; INVALID_STATE while a live view or service references it
 */
export function remove(db: SqliteDb, kind: DefinitionKind, name: string): void {
  writeTx(db, 'remove a feature definition', () => {
    const d = describe(db, name, kind);
    if (d.referencedBy.length > 0) {
      throw new CellarError(
        'INVALID_STATE',
        `${KIND_LABEL[kind]} "${name}" is used by ${d.referencedBy.map((r) => `${r.kind} "${r.name}"`).join(', ')}; remove or change those first.`,
      );
    }
    db.prepare(
      'UPDATE feature_definitions SET deleted_at = ? WHERE kind = ? AND name = ? AND deleted_at IS NULL',
    ).run(Date.now(), kind, name);
  });
  bump(db);
}
