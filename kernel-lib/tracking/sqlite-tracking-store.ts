/**
 * tracking/sqlite-tracking-store — the embedded `TrackingStore`: experiments, runs, params (write-once),
 * metrics (append-only, with a maintained latest value per key), tags, artifacts (content-addressed blobs
 * indexed per run) and dataset inputs, all in the store's SQLite file. Every write is one IMMEDIATE
 * transaction, validated in full before it starts, so bad input changes nothing.
 */
import { randomUUID } from 'node:crypto';
import { CellarError } from '../errors.js';
import type { ArtifactStore } from '../store/artifacts.js';
import { validateArtifactPath } from '../store/artifacts.js';
import { cachedStatement, type SqliteDb, writeTx } from '../store/sqlite.js';
import {
  experimentId,
  loadRunFields,
  searchRunsInDb,
  toRunData,
  type ExperimentRow,
  type RunFields,
  type RunRow,
} from './sqlite-search.js';
import { reapDeadRunsInDb } from './sqlite-reap.js';
import {
  TERMINAL_STATUSES,
  type ArtifactInfo,
  type CreateRunOptions,
  type Experiment,
  type LogBatch,
  type MetricPoint,
  type RunData,
  type RunInput,
  type RunStatus,
  type RunsPage,
  type SearchRunsQuery,
  type TrackingStore,
} from './types.js';
import {
  setOwn,
  stringifyTag,
  validateKey,
  validateMetric,
  validateName,
  validateStatus,
} from './validate.js';

/** The embedded tracking backend over one SQLite connection and blob store. */
export class SqliteTrackingStore implements TrackingStore {
  /** Wraps an open store database and its blob store. */
  constructor(
    private readonly db: SqliteDb,
    private readonly blobs: ArtifactStore,
  ) {}

  // ---------------------------------------------------------------- experiments

  private experimentFromRow(row: ExperimentRow): Experiment {
    const tags: Record<string, string> = {};
    for (const t of cachedStatement(
      this.db,
      'SELECT key, value FROM experiment_tags WHERE experiment_id = ?',
    ).all(row.experiment_id) as Array<{ key: string; value: string }>) {
      setOwn(tags, t.key, t.value);
    }
    return {
      id: String(row.experiment_id),
      name: row.name,
      lifecycleStage: row.lifecycle_stage,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      tags,
    };
  }

  /** {@inheritDoc TrackingStore.createExperiment} */
  async createExperiment(name: string, opts: { tags?: Record<string, string> } = {}): Promise<Experiment> {
    return this.createExperimentSync(name, opts.tags);
  }

  private createExperimentSync(name: string, tags: Record<string, string> = {}): Experiment {
    validateName('experiment', name);
    const tagEntries = Object.entries(tags).map(
      ([k, v]) => [validateKey('tag', k), stringifyTag(k, v)] as const,
    );
    const id = writeTx(this.db, 'create an experiment', () => {
      if (cachedStatement(this.db, 'SELECT 1 FROM experiments WHERE name = ?').get(name)) {
        throw new CellarError('ALREADY_EXISTS', `An experiment named "${name}" already exists.`, { name });
      }
      const now = Date.now();
      const info = cachedStatement(
        this.db,
        'INSERT INTO experiments (name, created_at, updated_at) VALUES (?, ?, ?)',
      ).run(name, now, now);
      const insertTag = cachedStatement(
        this.db,
        'INSERT INTO experiment_tags (experiment_id, key, value) VALUES (?, ?, ?)',
      );
      for (const [k, v] of tagEntries) insertTag.run(info.lastInsertRowid, k, v);
      return Number(info.lastInsertRowid);
    });
    return this.getExperimentSync(String(id));
  }

  private getExperimentSync(id: string): Experiment {
    const row = cachedStatement(this.db, 'SELECT * FROM experiments WHERE experiment_id = ?').get(
      experimentId(id),
    ) as ExperimentRow | undefined;
    if (!row) throw new CellarError('NOT_FOUND', `No experiment with id "${id}".`, { experimentId: id });
    return this.experimentFromRow(row);
  }

  /** {@inheritDoc TrackingStore.getExperiment} */
  async getExperiment(id: string): Promise<Experiment> {
    return this.getExperimentSync(id);
  }

  /** Synchronous lookup by name (used by the SDK's exit hooks and CLI). */
  getExperimentByNameSync(name: string): Experiment | null {
    const row = cachedStatement(this.db, 'SELECT * FROM experiments WHERE name = ?').get(name) as
      ExperimentRow | undefined;
    return row ? this.experimentFromRow(row) : null;
  }

  /** {@inheritDoc TrackingStore.getExperimentByName} */
  async getExperimentByName(name: string): Promise<Experiment | null> {
    return this.getExperimentByNameSync(name);
  }

  /** {@inheritDoc TrackingStore.getOrCreateExperiment} */
  async getOrCreateExperiment(name: string): Promise<Experiment> {
    validateName('experiment', name);
    const existing = this.getExperimentByNameSync(name);
    if (existing) {
      if (existing.lifecycleStage === 'deleted') {
        throw new CellarError(
          'INVALID_STATE',
          `Experiment "${name}" is deleted; restore it or choose another name.`,
        );
      }
      return existing;
    }
    try {
      return this.createExperimentSync(name);
    } catch (e) {
      if (e instanceof CellarError && e.code === 'ALREADY_EXISTS') return this.getExperimentByNameSync(name)!;
      throw e;
    }
  }

  /** {@inheritDoc TrackingStore.listExperiments} */
  async listExperiments(opts: { viewType?: 'active' | 'deleted' | 'all' } = {}): Promise<Experiment[]> {
    const view = opts.viewType ?? 'active';
    const rows = cachedStatement(
      this.db,
      `SELECT * FROM experiments ${view === 'all' ? '' : 'WHERE lifecycle_stage = ?'} ORDER BY experiment_id`,
    ).all(...(view === 'all' ? [] : [view])) as ExperimentRow[];
    return rows.map((r) => this.experimentFromRow(r));
  }

  /** {@inheritDoc TrackingStore.deleteExperiment} */
  async deleteExperiment(id: string): Promise<void> {
    this.getExperimentSync(id);
    writeTx(this.db, 'delete an experiment', () => {
      cachedStatement(
        this.db,
        "UPDATE experiments SET lifecycle_stage = 'deleted', updated_at = ? WHERE experiment_id = ?",
      ).run(Date.now(), experimentId(id));
    });
  }

  /** {@inheritDoc TrackingStore.setExperimentTag} */
  async setExperimentTag(id: string, key: string, value: string): Promise<void> {
    validateKey('tag', key);
    const text = stringifyTag(key, value);
    this.getExperimentSync(id);
    writeTx(this.db, 'tag an experiment', () => {
      cachedStatement(
        this.db,
        'INSERT INTO experiment_tags (experiment_id, key, value) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET value = excluded.value',
      ).run(experimentId(id), key, text);
    });
  }

  // ---------------------------------------------------------------- runs

  private runRow(runId: string): RunRow {
    if (typeof runId !== 'string' || runId === '') {
      throw new CellarError(
        'INVALID_PARAMETER',
        `A run id must be a non-empty string, got ${JSON.stringify(runId)}.`,
      );
    }
    const row = cachedStatement(this.db, 'SELECT * FROM runs WHERE run_id = ?').get(runId) as
      RunRow | undefined;
    if (!row) throw new CellarError('NOT_FOUND', `No run with id "${runId}".`, { runId });
    return row;
  }

  private toRunData(row: RunRow, data?: RunFields): RunData {
    return toRunData(row, data ?? loadRunFields(this.db, [row.run_id]).get(row.run_id)!);
  }

  /** Synchronous create (used by the SDK). */
  createRunSync(opts: CreateRunOptions): RunData {
    const expId = experimentId(opts.experimentId);
    const tags = Object.entries(opts.tags ?? {}).map(
      ([k, v]) => [validateKey('tag', k), stringifyTag(k, v)] as const,
    );
    if (opts.runName !== undefined && opts.runName !== null) validateName('run', opts.runName);
    const runId = randomUUID().replace(/-/g, '');
    const start = opts.startTime ?? Date.now();
    writeTx(this.db, 'start a run', () => {
      const exp = cachedStatement(
        this.db,
        'SELECT lifecycle_stage FROM experiments WHERE experiment_id = ?',
      ).get(expId) as { lifecycle_stage: string } | undefined;
      if (!exp) throw new CellarError('NOT_FOUND', `No experiment with id "${opts.experimentId}".`);
      if (exp.lifecycle_stage !== 'active') {
        throw new CellarError(
          'INVALID_STATE',
          `Experiment "${opts.experimentId}" is deleted; runs cannot be added to it.`,
        );
      }
      if (opts.parentRunId) {
        if (!cachedStatement(this.db, 'SELECT 1 FROM runs WHERE run_id = ?').get(opts.parentRunId)) {
          throw new CellarError('NOT_FOUND', `Parent run "${opts.parentRunId}" does not exist.`, {
            runId: opts.parentRunId,
          });
        }
      }
      const owner = opts.owner ?? null;
      cachedStatement(
        this.db,
        `INSERT INTO runs (run_id, experiment_id, run_name, status, start_time, parent_run_id, owner_host, owner_pid, owner_started)
           VALUES (?, ?, ?, 'RUNNING', ?, ?, ?, ?, ?)`,
      ).run(
        runId,
        expId,
        opts.runName ?? null,
        start,
        opts.parentRunId ?? null,
        owner?.host ?? null,
        owner?.pid ?? null,
        owner?.started ?? null,
      );
      const insertTag = cachedStatement(
        this.db,
        'INSERT INTO tags (run_id, key, value) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET value = excluded.value',
      );
      for (const [k, v] of tags) insertTag.run(runId, k, v);
      if (opts.parentRunId) insertTag.run(runId, 'mlflow.parentRunId', opts.parentRunId);
    });
    // The new run holds exactly what was just written: no need to read it back.
    const tagObject: Record<string, string> = {};
    for (const [k, v] of tags) tagObject[k] = v;
    if (opts.parentRunId) tagObject['mlflow.parentRunId'] = opts.parentRunId;
    const row: RunRow = {
      run_id: runId,
      experiment_id: expId,
      run_name: opts.runName ?? null,
      status: 'RUNNING',
      start_time: start,
      end_time: null,
      parent_run_id: opts.parentRunId ?? null,
      lifecycle_stage: 'active',
    };
    return toRunData(row, { params: {}, metrics: {}, tags: tagObject });
  }

  /** {@inheritDoc TrackingStore.createRun} */
  async createRun(opts: CreateRunOptions): Promise<RunData> {
    return this.createRunSync(opts);
  }

  /** {@inheritDoc TrackingStore.getRun} */
  async getRun(runId: string): Promise<RunData> {
    const row = this.runRow(runId);
    if (row.status === 'RUNNING' && this.reapDeadRunsSync(runId).length > 0) {
      return this.toRunData(this.runRow(runId));
    }
    return this.toRunData(row);
  }

  /** Synchronous end (used from process exit hooks, where nothing async can run). */
  endRunSync(runId: string, status: RunStatus, endTime = Date.now()): RunData {
    const s = validateStatus(status);
    if (!TERMINAL_STATUSES.includes(s)) {
      throw new CellarError('INVALID_PARAMETER', `A run ends with FINISHED, FAILED or KILLED, not ${s}.`);
    }
    if (typeof runId !== 'string' || runId === '') this.runRow(runId); // throws INVALID_PARAMETER
    const row = writeTx(
      this.db,
      'end a run',
      () =>
        cachedStatement(
          this.db,
          `UPDATE runs SET status = ?, end_time = COALESCE(end_time, ?), owner_pid = NULL WHERE run_id = ?
           RETURNING run_id, experiment_id, run_name, status, start_time, end_time, parent_run_id, lifecycle_stage`,
        ).get(s, endTime, runId) as RunRow | undefined,
    );
    if (!row) throw new CellarError('NOT_FOUND', `No run with id "${runId}".`, { runId });
    return this.toRunData(row);
  }

  /** {@inheritDoc TrackingStore.endRun} */
  async endRun(runId: string, status: RunStatus, endTime?: number): Promise<RunData> {
    return this.endRunSync(runId, status, endTime);
  }

  /** {@inheritDoc TrackingStore.setRunName} */
  async setRunName(runId: string, name: string): Promise<void> {
    validateName('run', name);
    this.runRow(runId);
    writeTx(this.db, 'rename a run', () => {
      cachedStatement(this.db, 'UPDATE runs SET run_name = ? WHERE run_id = ?').run(name, runId);
    });
  }

  /** Synchronous batch write (used by the SDK). See {@link TrackingStore.logBatch}. */
  logBatchSync(runId: string, batch: LogBatch): void {
    const params = Object.entries(batch.params ?? {});
    for (const [k, v] of params) {
      validateKey('param', k);
      if (typeof v !== 'string')
        throw new CellarError('INVALID_PARAMETER', `Param "${k}" must be stored as a string.`);
    }
    const tags = Object.entries(batch.tags ?? {}).map(
      ([k, v]) => [validateKey('tag', k), stringifyTag(k, v)] as const,
    );
    const metrics = batch.metrics ?? [];
    const latest = new Map<string, MetricPoint>();
    for (const p of metrics) {
      validateMetric(p);
      const cur = latest.get(p.key);
      if (
        !cur ||
        p.step > cur.step ||
        (p.step === cur.step &&
          (p.timestamp > cur.timestamp || (p.timestamp === cur.timestamp && p.value > cur.value)))
      ) {
        latest.set(p.key, p);
      }
    }
    const run = this.runRow(runId);
    if (run.lifecycle_stage === 'deleted') {
      throw new CellarError('INVALID_STATE', `Run "${runId}" is deleted; restore it before logging to it.`, {
        runId,
      });
    }
    writeTx(this.db, 'log to a run', () => {
      if (params.length > 0) {
        const insert = cachedStatement(
          this.db,
          'INSERT INTO params (run_id, key, value) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
        );
        const read = cachedStatement(
          this.db,
          'SELECT value FROM params WHERE run_id = ? AND key = ?',
        ).pluck();
        for (const [k, v] of params) {
          // A new key is inserted (one statement); only an existing key is read back and compared.
          if (insert.run(runId, k, v).changes === 1) continue;
          const stored = read.get(runId, k) as string;
          if (stored !== v) {
            throw new CellarError(
              'PARAM_CONFLICT',
              `Param "${k}" of run ${runId} is already "${stored}"; params are write-once, so "${v}" was not stored. ` +
                'Start a new run to try another value.',
              { key: k, stored, attempted: v },
            );
          }
        }
      }
      if (metrics.length > 0) {
        const insert = cachedStatement(
          this.db,
          'INSERT INTO metrics (run_id, key, value, step, timestamp) VALUES (?, ?, ?, ?, ?)',
        );
        for (const p of metrics) insert.run(runId, p.key, p.value, p.step, p.timestamp);
        const upsert = cachedStatement(
          this.db,
          `INSERT INTO latest_metrics (run_id, key, value, step, timestamp) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value, step = excluded.step, timestamp = excluded.timestamp
           WHERE (excluded.step, excluded.timestamp, excluded.value) > (latest_metrics.step, latest_metrics.timestamp, latest_metrics.value)`,
        );
        for (const p of latest.values()) upsert.run(runId, p.key, p.value, p.step, p.timestamp);
      }
      if (tags.length > 0) {
        const upsertTag = cachedStatement(
          this.db,
          'INSERT INTO tags (run_id, key, value) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET value = excluded.value',
        );
        for (const [k, v] of tags) upsertTag.run(runId, k, v);
      }
    });
  }

  /** {@inheritDoc TrackingStore.logBatch} */
  async logBatch(runId: string, batch: LogBatch): Promise<void> {
    this.logBatchSync(runId, batch);
  }

  /** {@inheritDoc TrackingStore.getMetricHistory} */
  async getMetricHistory(runId: string, key: string): Promise<MetricPoint[]> {
    this.runRow(runId);
    return cachedStatement(
      this.db,
      'SELECT key, value, step, timestamp FROM metrics WHERE run_id = ? AND key = ? ORDER BY step, timestamp, rowid',
    ).all(runId, key) as MetricPoint[];
  }

  /** {@inheritDoc TrackingStore.searchRuns} */
  async searchRuns(query: SearchRunsQuery = {}): Promise<RunsPage> {
    this.reapDeadRunsSync();
    return searchRunsInDb(this.db, query, (id) => this.getExperimentSync(id));
  }

  private setLifecycle(runId: string, stage: 'active' | 'deleted'): void {
    this.runRow(runId);
    writeTx(this.db, `${stage === 'deleted' ? 'delete' : 'restore'} a run`, () => {
      cachedStatement(this.db, 'UPDATE runs SET lifecycle_stage = ? WHERE run_id = ?').run(stage, runId);
    });
  }

  /** {@inheritDoc TrackingStore.deleteRun} */
  async deleteRun(runId: string): Promise<void> {
    this.setLifecycle(runId, 'deleted');
  }

  /** {@inheritDoc TrackingStore.restoreRun} */
  async restoreRun(runId: string): Promise<void> {
    this.setLifecycle(runId, 'active');
  }

  /** {@inheritDoc TrackingStore.deleteTag} */
  async deleteTag(runId: string, key: string): Promise<void> {
    this.runRow(runId);
    const info = writeTx(this.db, 'delete a tag', () =>
      cachedStatement(this.db, 'DELETE FROM tags WHERE run_id = ? AND key = ?').run(runId, key),
    );
    if (info.changes === 0) throw new CellarError('NOT_FOUND', `Run "${runId}" has no tag "${key}".`);
  }

  // ---------------------------------------------------------------- artifacts and inputs

  private indexArtifact(
    runId: string,
    path: string,
    digest: string,
    size: number,
    kind: string,
  ): ArtifactInfo {
    const createdAt = Date.now();
    writeTx(this.db, 'record an artifact', () => {
      cachedStatement(
        this.db,
        `INSERT INTO run_artifacts (run_id, path, digest, size, kind, created_at) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (run_id, path) DO UPDATE SET digest = excluded.digest, size = excluded.size, kind = excluded.kind,
           created_at = excluded.created_at`,
      ).run(runId, path, digest, size, kind, createdAt);
    });
    return { path, digest, size, kind, createdAt };
  }

  private checkWritableRun(runId: string): void {
    const run = this.runRow(runId);
    if (run.lifecycle_stage === 'deleted') {
      throw new CellarError('INVALID_STATE', `Run "${runId}" is deleted; restore it before logging to it.`, {
        runId,
      });
    }
  }

  /** Synchronous variant of {@link logArtifactBytes}. */
  logArtifactBytesSync(runId: string, path: string, data: Uint8Array | string, kind = 'file'): ArtifactInfo {
    const p = validateArtifactPath(path);
    this.checkWritableRun(runId);
    const blob = this.blobs.putBytes(data);
    return this.indexArtifact(runId, p, blob.digest, blob.size, kind);
  }

  /** {@inheritDoc TrackingStore.logArtifactBytes} */
  async logArtifactBytes(
    runId: string,
    path: string,
    data: Uint8Array | string,
    kind = 'file',
  ): Promise<ArtifactInfo> {
    return this.logArtifactBytesSync(runId, path, data, kind);
  }

  /** {@inheritDoc TrackingStore.logArtifactFile} */
  async logArtifactFile(
    runId: string,
    path: string,
    localFile: string,
    kind = 'file',
  ): Promise<ArtifactInfo> {
    const p = validateArtifactPath(path);
    this.checkWritableRun(runId);
    const blob = this.blobs.putFile(localFile);
    return this.indexArtifact(runId, p, blob.digest, blob.size, kind);
  }

  /** {@inheritDoc TrackingStore.logArtifactFiles} */
  async logArtifactFiles(
    runId: string,
    files: ReadonlyArray<{ path: string; localFile: string }>,
    kind = 'file',
  ): Promise<ArtifactInfo[]> {
    const paths = files.map((f) => validateArtifactPath(f.path));
    this.checkWritableRun(runId);
    for (const f of files) this.blobs.checkFile(f.localFile);
    // Blobs are content-addressed, so storing them before the index is harmless if a later one fails.
    const blobs = files.map((f) => this.blobs.putFile(f.localFile));
    const createdAt = Date.now();
    writeTx(this.db, 'record artifacts', () => {
      const insert = cachedStatement(
        this.db,
        `INSERT INTO run_artifacts (run_id, path, digest, size, kind, created_at) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (run_id, path) DO UPDATE SET digest = excluded.digest, size = excluded.size, kind = excluded.kind,
           created_at = excluded.created_at`,
      );
      paths.forEach((p, i) => insert.run(runId, p, blobs[i]!.digest, blobs[i]!.size, kind, createdAt));
    });
    return paths.map((p, i) => ({
      path: p,
      digest: blobs[i]!.digest,
      size: blobs[i]!.size,
      kind,
      createdAt,
    }));
  }

  /** {@inheritDoc TrackingStore.listArtifacts} */
  async listArtifacts(runId: string, prefix?: string): Promise<ArtifactInfo[]> {
    this.runRow(runId);
    const rows = cachedStatement(
      this.db,
      'SELECT path, digest, size, kind, created_at AS createdAt FROM run_artifacts WHERE run_id = ? ORDER BY path',
    ).all(runId) as ArtifactInfo[];
    if (prefix === undefined || prefix === '') return rows;
    const p = validateArtifactPath(prefix);
    return rows.filter((r) => r.path === p || r.path.startsWith(`${p}/`));
  }

  /** Looks up the blob digest of a run's artifact. */
  artifactDigest(runId: string, path: string): string {
    const p = validateArtifactPath(path);
    this.runRow(runId);
    const digest = cachedStatement(this.db, 'SELECT digest FROM run_artifacts WHERE run_id = ? AND path = ?')
      .pluck()
      .get(runId, p) as string | undefined;
    if (digest === undefined) {
      throw new CellarError('NOT_FOUND', `Run "${runId}" has no artifact "${p}".`, { runId, path: p });
    }
    return digest;
  }

  /** {@inheritDoc TrackingStore.readArtifact} */
  async readArtifact(runId: string, path: string): Promise<Buffer> {
    return this.blobs.read(this.artifactDigest(runId, path));
  }

  /** Synchronous variant of {@link logInput}. */
  logInputSync(runId: string, input: RunInput): void {
    this.checkWritableRun(runId);
    writeTx(this.db, 'record a dataset input', () => {
      cachedStatement(
        this.db,
        `INSERT INTO run_inputs (run_id, fingerprint, context, n_rows, n_cols, schema_json, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      ).run(
        runId,
        input.fingerprint,
        input.context,
        input.nRows,
        input.nCols,
        JSON.stringify(input.schema ?? null),
        Date.now(),
      );
    });
  }

  /** {@inheritDoc TrackingStore.logInput} */
  async logInput(runId: string, input: RunInput): Promise<void> {
    this.logInputSync(runId, input);
  }

  /** {@inheritDoc TrackingStore.listInputs} */
  async listInputs(runId: string): Promise<RunInput[]> {
    this.runRow(runId);
    const rows = cachedStatement(
      this.db,
      'SELECT fingerprint, context, n_rows, n_cols, schema_json FROM run_inputs WHERE run_id = ? ORDER BY created_at',
    ).all(runId) as Array<{
      fingerprint: string;
      context: string;
      n_rows: number | null;
      n_cols: number | null;
      schema_json: string;
    }>;
    return rows.map((r) => ({
      fingerprint: r.fingerprint,
      context: r.context,
      nRows: r.n_rows,
      nCols: r.n_cols,
      schema: JSON.parse(r.schema_json) as unknown,
    }));
  }

  // ---------------------------------------------------------------- liveness

  /**
   * Synchronous variant of {@link reapDeadRuns}; with `runId`, checks only that run. Cheap enough for reads
   * (see sqlite-reap.ts), which call it so that a long-lived process sees a killed run as KILLED.
   */
  reapDeadRunsSync(runId?: string): string[] {
    return reapDeadRunsInDb(this.db, runId);
  }

  /** {@inheritDoc TrackingStore.reapDeadRuns} */
  async reapDeadRuns(): Promise<string[]> {
    return this.reapDeadRunsSync();
  }
}
