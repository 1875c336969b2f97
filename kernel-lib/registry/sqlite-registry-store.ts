/**
 * registry/sqlite-registry-store — the embedded `ModelRegistryStore`. Versions are numbered per model
 * (never reused, even after a soft delete) and point at the content digest of the model JSON they were
 * created from, so a version's model can never change. Aliases move atomically in one UPDATE.
 */
import { CellarError } from '../errors.js';
import { parseModelJSON } from '../ml/model-json.js';
import type { ArtifactStore } from '../store/artifacts.js';
import { validateArtifactPath } from '../store/artifacts.js';
import { type SqliteDb, writeTx } from '../store/sqlite.js';
import { stringifyTag, validateKey, validateName } from '../tracking/validate.js';
import type {
  CreateModelVersionOptions,
  ModelRegistryStore,
  ModelVersion,
  RegisteredModel,
} from './types.js';

interface ModelRow {
  name: string;
  description: string;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
}

interface VersionRow {
  name: string;
  version: number;
  run_id: string | null;
  source: string;
  artifact_digest: string;
  description: string;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
}

/**
 * Checks an alias: letters, digits, `_` and `-`, at most 255 characters; `latest` and `v<number>` are
 * reserved because they would be ambiguous in `models:/` URIs.
 *
 * @throws CellarError INVALID_PARAMETER naming the alias.
 */
export function validateAlias(alias: unknown): string {
  if (typeof alias !== 'string' || !/^[A-Za-z0-9_-]{1,255}$/.test(alias)) {
    throw new CellarError(
      'INVALID_PARAMETER',
      `Alias ${JSON.stringify(alias)} is not allowed: use 1–255 letters, digits, "_" or "-" (e.g. "champion").`,
    );
  }
  if (alias.toLowerCase() === 'latest' || /^v\d+$/i.test(alias) || /^\d+$/.test(alias)) {
    throw new CellarError(
      'INVALID_PARAMETER',
      `Alias "${alias}" is reserved (it reads like a version); choose another name.`,
    );
  }
  return alias;
}

/** Checks a version number (positive integer). */
export function validateVersion(version: unknown): number {
  const n = typeof version === 'string' && /^\d+$/.test(version) ? Number(version) : version;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) {
    throw new CellarError(
      'INVALID_PARAMETER',
      `Model version must be a positive integer, got ${JSON.stringify(version)}.`,
    );
  }
  return n;
}

/** The embedded registry backend. */
export class SqliteRegistryStore implements ModelRegistryStore {
  /** Wraps an open store database and its blob store. */
  constructor(
    private readonly db: SqliteDb,
    private readonly blobs: ArtifactStore,
  ) {}

  private modelRow(name: string, includeDeleted = false): ModelRow {
    validateName('registered model', name);
    const row = this.db.prepare('SELECT * FROM registered_models WHERE name = ?').get(name) as
      ModelRow | undefined;
    if (!row || (row.deleted_at !== null && !includeDeleted)) {
      throw new CellarError('NOT_FOUND', `No registered model named "${name}".`, { name });
    }
    return row;
  }

  private toModel(row: ModelRow): RegisteredModel {
    const aliases: Record<string, number> = {};
    for (const a of this.db
      .prepare('SELECT alias, version FROM model_aliases WHERE name = ? ORDER BY alias')
      .all(row.name) as Array<{
      alias: string;
      version: number;
    }>) {
      aliases[a.alias] = a.version;
    }
    const tags: Record<string, string> = {};
    for (const t of this.db
      .prepare('SELECT key, value FROM registered_model_tags WHERE name = ?')
      .all(row.name) as Array<{
      key: string;
      value: string;
    }>) {
      tags[t.key] = t.value;
    }
    const latest = this.db
      .prepare('SELECT MAX(version) FROM model_versions WHERE name = ? AND deleted_at IS NULL')
      .pluck()
      .get(row.name) as number | null;
    return {
      name: row.name,
      description: row.description,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      aliases,
      tags,
      latestVersion: latest,
      deleted: row.deleted_at !== null,
    };
  }

  private versionRow(name: string, version: number, includeDeleted = false): VersionRow {
    this.modelRow(name, includeDeleted);
    const v = validateVersion(version);
    const row = this.db
      .prepare('SELECT * FROM model_versions WHERE name = ? AND version = ?')
      .get(name, v) as VersionRow | undefined;
    if (!row || (row.deleted_at !== null && !includeDeleted)) {
      throw new CellarError('NOT_FOUND', `Model "${name}" has no version ${v}.`, { name, version: v });
    }
    return row;
  }

  private toVersion(row: VersionRow): ModelVersion {
    const aliases = this.db
      .prepare('SELECT alias FROM model_aliases WHERE name = ? AND version = ? ORDER BY alias')
      .pluck()
      .all(row.name, row.version) as string[];
    const tags: Record<string, string> = {};
    for (const t of this.db
      .prepare('SELECT key, value FROM model_version_tags WHERE name = ? AND version = ?')
      .all(row.name, row.version) as Array<{ key: string; value: string }>) {
      tags[t.key] = t.value;
    }
    return {
      name: row.name,
      version: row.version,
      runId: row.run_id,
      source: row.source,
      artifactDigest: row.artifact_digest,
      description: row.description,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      aliases,
      tags,
      deleted: row.deleted_at !== null,
    };
  }

  private ensureModel(name: string, description?: string, tags?: Record<string, string>): void {
    const now = Date.now();
    const existing = this.db.prepare('SELECT deleted_at FROM registered_models WHERE name = ?').get(name) as
      { deleted_at: number | null } | undefined;
    if (existing && existing.deleted_at !== null) {
      throw new CellarError('INVALID_STATE', `Registered model "${name}" was deleted; choose another name.`, {
        name,
      });
    }
    if (!existing) {
      this.db
        .prepare(
          'INSERT INTO registered_models (name, description, created_at, updated_at) VALUES (?, ?, ?, ?)',
        )
        .run(name, description ?? '', now, now);
    }
    const insertTag = this.db.prepare(
      'INSERT INTO registered_model_tags (name, key, value) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET value = excluded.value',
    );
    for (const [k, v] of Object.entries(tags ?? {})) insertTag.run(name, k, v);
  }

  private checkTags(tags: Record<string, string> | undefined): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(tags ?? {})) out[validateKey('tag', k)] = stringifyTag(k, v);
    return out;
  }

  /** {@inheritDoc ModelRegistryStore.createRegisteredModel} */
  async createRegisteredModel(
    name: string,
    opts: { description?: string; tags?: Record<string, string> } = {},
  ): Promise<RegisteredModel> {
    validateName('registered model', name);
    const tags = this.checkTags(opts.tags);
    writeTx(this.db, 'create a registered model', () => {
      if (this.db.prepare('SELECT 1 FROM registered_models WHERE name = ?').get(name)) {
        throw new CellarError('ALREADY_EXISTS', `A registered model named "${name}" already exists.`, {
          name,
        });
      }
      this.ensureModel(name, opts.description, tags);
    });
    return this.toModel(this.modelRow(name));
  }

  /** {@inheritDoc ModelRegistryStore.getRegisteredModel} */
  async getRegisteredModel(name: string): Promise<RegisteredModel> {
    return this.toModel(this.modelRow(name));
  }

  /** {@inheritDoc ModelRegistryStore.listRegisteredModels} */
  async listRegisteredModels(opts: { includeDeleted?: boolean } = {}): Promise<RegisteredModel[]> {
    const rows = this.db
      .prepare(
        `SELECT * FROM registered_models ${opts.includeDeleted ? '' : 'WHERE deleted_at IS NULL'} ORDER BY name`,
      )
      .all() as ModelRow[];
    return rows.map((r) => this.toModel(r));
  }

  /** {@inheritDoc ModelRegistryStore.updateRegisteredModel} */
  async updateRegisteredModel(name: string, opts: { description: string }): Promise<RegisteredModel> {
    this.modelRow(name);
    if (typeof opts.description !== 'string')
      throw new CellarError('INVALID_PARAMETER', 'description must be a string.');
    writeTx(this.db, 'update a registered model', () => {
      this.db
        .prepare('UPDATE registered_models SET description = ?, updated_at = ? WHERE name = ?')
        .run(opts.description, Date.now(), name);
    });
    return this.toModel(this.modelRow(name));
  }

  /** {@inheritDoc ModelRegistryStore.deleteRegisteredModel} */
  async deleteRegisteredModel(name: string): Promise<void> {
    this.modelRow(name);
    writeTx(this.db, 'delete a registered model', () => {
      const now = Date.now();
      this.db
        .prepare('UPDATE registered_models SET deleted_at = ?, updated_at = ? WHERE name = ?')
        .run(now, now, name);
      this.db
        .prepare('UPDATE model_versions SET deleted_at = COALESCE(deleted_at, ?) WHERE name = ?')
        .run(now, name);
      this.db.prepare('DELETE FROM model_aliases WHERE name = ?').run(name);
    });
  }

  /** {@inheritDoc ModelRegistryStore.setRegisteredModelTag} */
  async setRegisteredModelTag(name: string, key: string, value: string): Promise<void> {
    const tags = this.checkTags({ [key]: value });
    this.modelRow(name);
    writeTx(this.db, 'tag a registered model', () => this.ensureModel(name, undefined, tags));
  }

  /** {@inheritDoc ModelRegistryStore.createModelVersion} */
  async createModelVersion(opts: CreateModelVersionOptions): Promise<ModelVersion> {
    validateName('registered model', opts.name);
    const tags = this.checkTags(opts.tags);
    const artifactPath = validateArtifactPath(opts.artifactPath ?? 'model');
    if (typeof opts.runId !== 'string' || opts.runId === '') {
      throw new CellarError(
        'INVALID_PARAMETER',
        'registerModel needs the runId of the run that logged the model.',
      );
    }
    const run = this.db.prepare('SELECT lifecycle_stage FROM runs WHERE run_id = ?').get(opts.runId) as
      { lifecycle_stage: string } | undefined;
    if (!run) throw new CellarError('NOT_FOUND', `No run with id "${opts.runId}".`, { runId: opts.runId });
    const file = `${artifactPath}/model.json`;
    const digest = this.db
      .prepare('SELECT digest FROM run_artifacts WHERE run_id = ? AND path = ?')
      .pluck()
      .get(opts.runId, file) as string | undefined;
    if (digest === undefined) {
      throw new CellarError(
        'NOT_FOUND',
        `Run "${opts.runId}" has no model at "${file}". Fit a cellar estimator inside the run (autolog logs it) ` +
          'or log one with run.logModel(model).',
        { runId: opts.runId, path: file },
      );
    }
    parseModelJSON(this.blobs.read(digest), `The artifact "${file}" of run ${opts.runId}`);
    const version = writeTx(this.db, 'register a model version', () => {
      this.ensureModel(opts.name);
      const next =
        ((this.db.prepare('SELECT MAX(version) FROM model_versions WHERE name = ?').pluck().get(opts.name) as
          number | null) ?? 0) + 1;
      const now = Date.now();
      this.db
        .prepare(
          `INSERT INTO model_versions (name, version, run_id, source, artifact_digest, description, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          opts.name,
          next,
          opts.runId,
          `runs:/${opts.runId}/${artifactPath}`,
          digest,
          opts.description ?? '',
          now,
          now,
        );
      const insertTag = this.db.prepare(
        'INSERT INTO model_version_tags (name, version, key, value) VALUES (?, ?, ?, ?)',
      );
      for (const [k, v] of Object.entries(tags)) insertTag.run(opts.name, next, k, v);
      this.db.prepare('UPDATE registered_models SET updated_at = ? WHERE name = ?').run(now, opts.name);
      return next;
    });
    return this.toVersion(this.versionRow(opts.name, version));
  }

  /** {@inheritDoc ModelRegistryStore.getModelVersion} */
  async getModelVersion(name: string, version: number): Promise<ModelVersion> {
    return this.toVersion(this.versionRow(name, version));
  }

  /** {@inheritDoc ModelRegistryStore.listModelVersions} */
  async listModelVersions(name: string, opts: { includeDeleted?: boolean } = {}): Promise<ModelVersion[]> {
    this.modelRow(name, opts.includeDeleted);
    const rows = this.db
      .prepare(
        `SELECT * FROM model_versions WHERE name = ? ${opts.includeDeleted ? '' : 'AND deleted_at IS NULL'} ORDER BY version`,
      )
      .all(name) as VersionRow[];
    return rows.map((r) => this.toVersion(r));
  }

  /** {@inheritDoc ModelRegistryStore.updateModelVersion} */
  async updateModelVersion(
    name: string,
    version: number,
    opts: { description: string },
  ): Promise<ModelVersion> {
    const row = this.versionRow(name, version);
    if (typeof opts.description !== 'string')
      throw new CellarError('INVALID_PARAMETER', 'description must be a string.');
    writeTx(this.db, 'update a model version', () => {
      this.db
        .prepare('UPDATE model_versions SET description = ?, updated_at = ? WHERE name = ? AND version = ?')
        .run(opts.description, Date.now(), name, row.version);
    });
    return this.toVersion(this.versionRow(name, row.version));
  }

  /** {@inheritDoc ModelRegistryStore.deleteModelVersion} */
  async deleteModelVersion(name: string, version: number): Promise<void> {
    const row = this.versionRow(name, version);
    writeTx(this.db, 'delete a model version', () => {
      const now = Date.now();
      this.db
        .prepare('UPDATE model_versions SET deleted_at = ?, updated_at = ? WHERE name = ? AND version = ?')
        .run(now, now, name, row.version);
      this.db.prepare('DELETE FROM model_aliases WHERE name = ? AND version = ?').run(name, row.version);
    });
  }

  /** {@inheritDoc ModelRegistryStore.setModelVersionTag} */
  async setModelVersionTag(name: string, version: number, key: string, value: string): Promise<void> {
    const tags = this.checkTags({ [key]: value });
    const row = this.versionRow(name, version);
    writeTx(this.db, 'tag a model version', () => {
      const upsert = this.db.prepare(
        'INSERT INTO model_version_tags (name, version, key, value) VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE SET value = excluded.value',
      );
      for (const [k, v] of Object.entries(tags)) upsert.run(name, row.version, k, v);
    });
  }

  /** {@inheritDoc ModelRegistryStore.setAlias} */
  async setAlias(name: string, alias: string, version: number): Promise<void> {
    const a = validateAlias(alias);
    const row = this.versionRow(name, version);
    writeTx(this.db, 'set a model alias', () => {
      this.db
        .prepare(
          'INSERT INTO model_aliases (name, alias, version) VALUES (?, ?, ?) ON CONFLICT (name, alias) DO UPDATE SET version = excluded.version',
        )
        .run(name, a, row.version);
      this.db.prepare('UPDATE registered_models SET updated_at = ? WHERE name = ?').run(Date.now(), name);
    });
  }

  /** {@inheritDoc ModelRegistryStore.deleteAlias} */
  async deleteAlias(name: string, alias: string): Promise<void> {
    this.modelRow(name);
    const info = writeTx(this.db, 'delete a model alias', () =>
      this.db.prepare('DELETE FROM model_aliases WHERE name = ? AND alias = ?').run(name, alias),
    );
    if (info.changes === 0)
      throw new CellarError('NOT_FOUND', `Model "${name}" has no alias "${alias}".`, { name, alias });
  }

  /** {@inheritDoc ModelRegistryStore.getModelVersionByAlias} */
  async getModelVersionByAlias(name: string, alias: string): Promise<ModelVersion> {
    this.modelRow(name);
    const version = this.db
      .prepare('SELECT version FROM model_aliases WHERE name = ? AND alias = ?')
      .pluck()
      .get(name, alias) as number | undefined;
    if (version === undefined) {
      throw new CellarError(
        'NOT_FOUND',
        `Model "${name}" has no alias "${alias}". Set it with setAlias("${name}", "${alias}", <version>).`,
        {
          name,
          alias,
        },
      );
    }
    return this.toVersion(this.versionRow(name, version));
  }

  /** {@inheritDoc ModelRegistryStore.readModelVersionArtifact} */
  async readModelVersionArtifact(name: string, version: number): Promise<Buffer> {
    return this.blobs.read(this.versionRow(name, version).artifact_digest);
  }
}
