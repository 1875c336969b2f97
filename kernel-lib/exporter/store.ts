/**
 * exporter/store — pipeline versions in the embedded store. A new version's files are written to a temp
 * folder first and made durable together (one `syncfs` of the file system where the system has it, else one
 * fsync per file), then, inside one write transaction, numbered (next number for the
 * name), moved into `pipelines/<name>/<version>/` with a rename and recorded in `pipeline_versions`.
 * A version folder appears complete or not at all; one left without a row (a crash between the rename
 * and the commit) is adopted by the next export, and an incomplete one is removed.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import type { CellarStore } from '../client.js';
import { CellarError } from '../errors.js';
import { getStore } from '../sdk.js';
import { locateStore } from '../store/locate.js';
import { openEmbedded, type EmbeddedBackend } from '../store/open.js';
import { writeTx } from '../store/sqlite.js';
import type { ParsedNotebook } from './notebook.js';
import { validatePipelineName, validatePipelineVersion } from './options.js';
import type { ExportPlan } from './plan.js';
import type { PipelineSpec } from './spec.js';
import { parsePipelineSpec } from './spec-schema.js';

/** A store argument: a directory, an opened store (`openStore()`), or an embedded backend. */
export type StoreRef = string | CellarStore | EmbeddedBackend;

/** Resolves a store argument; without one, the default store of the SDK (`useStore`, `CELLAR_URI`, nearest `.cellar/`). */
export function resolveBackend(store?: StoreRef): EmbeddedBackend {
  if (store === undefined) return getStore().embedded;
  if (typeof store === 'string') return openEmbedded(locateStore(store).root);
  if ('embedded' in store) return store.embedded;
  if ('db' in store && 'root' in store) return store;
  throw new CellarError(
    'INVALID_PARAMETER',
    'store must be a directory, an opened store or an embedded backend.',
  );
}

/** A stored pipeline version. */
export interface StoredPipelineVersion {
  name: string;
  version: number;
  hash: string;
  /** ISO-8601 UTC. */
  createdAt: string;
  /** Absolute path of the version folder (pipeline.json, steps/, notebook.ipynb). */
  dir: string;
  spec: PipelineSpec;
}

/** One pipeline with its latest version. */
export interface PipelineSummary {
  name: string;
  latestVersion: number;
  versions: number;
  schedule: string | null;
  steps: number;
  hash: string;
  /** When the first version was exported (ISO-8601 UTC). */
  createdAt: string;
  /** When the latest version was exported (ISO-8601 UTC). */
  updatedAt: string;
}

/** Folder of a pipeline version. */
export function versionDir(root: string, name: string, version: number): string {
  return join(root, 'pipelines', name, String(version));
}

function writeFile(path: string, content: string | Buffer, durable: boolean): void {
  mkdirSync(dirname(path), { recursive: true });
  const fd = openSync(path, 'w', 0o644);
  try {
    const buf = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    if (durable) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Writes and fsyncs one file. */
function writeFileDurably(path: string, content: string | Buffer): void {
  writeFile(path, content, true);
}

/**
 * Writes many files and makes them all durable. One fsync per file costs ~4 ms each (8 s for a 1,000-step
 * pipeline); `sync -f` (Linux syncfs) flushes the whole file system in one call. Where it is missing or
 * fails, every file is fsynced.
 */
function writeFilesDurably(files: Array<[string, string | Buffer]>): void {
  for (const [path, content] of files) writeFile(path, content, false);
  if (files.length === 0) return;
  if (process.platform === 'linux') {
    try {
      execFileSync('sync', ['-f', dirname(files[0]![0])], { stdio: 'ignore', timeout: 60_000 });
      return;
    } catch {
      // no coreutils `sync -f` here: fsync each file below
    }
  }
  for (const [path] of files) {
    const fd = openSync(path, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
}

function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // some file systems do not allow fsync on directories; the rename is still atomic
  }
}

interface VersionRow {
  name: string;
  version: number;
  hash: string;
  spec_json: string;
  created_at: number;
}

function toStored(root: string, row: VersionRow): StoredPipelineVersion {
  return {
    name: row.name,
    version: row.version,
    hash: row.hash,
    createdAt: new Date(row.created_at).toISOString(),
    dir: versionDir(root, row.name, row.version),
    spec: parsePipelineSpec(JSON.parse(row.spec_json), `${row.name}@${row.version}`),
  };
}

function isUniqueViolation(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_CONSTRAINT');
}

function maxVersion(backend: EmbeddedBackend, name: string): number {
  return (
    backend.db
      .prepare<[string], { v: number | null }>(
        'SELECT MAX(version) AS v FROM pipeline_versions WHERE name = ?',
      )
      .get(name)!.v ?? 0
  );
}

function insertVersion(
  backend: EmbeddedBackend,
  spec: PipelineSpec,
  specJson: string,
  notebookPath: string | null,
  createdAt: number,
): void {
  backend.db
    .prepare(
      `INSERT INTO pipeline_versions (name, version, hash, spec_json, schedule, notebook_digest, notebook_path, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(
      spec.name,
      spec.version,
      spec.hash,
      specJson,
      spec.schedule,
      spec.source.notebookDigest,
      notebookPath,
      createdAt,
    );
}

/** Reads a version folder left without a row; returns its spec when the folder is complete. */
function readOrphan(dir: string, name: string, version: number): { spec: PipelineSpec; text: string } | null {
  try {
    const text = readFileSync(join(dir, 'pipeline.json'), 'utf8');
    const spec = parsePipelineSpec(JSON.parse(text), `${name}@${version}`);
    const complete =
      spec.name === name &&
      spec.version === version &&
      typeof spec.hash === 'string' &&
      /^[0-9a-f]{64}$/.test(spec.hash) &&
      Array.isArray(spec.steps) &&
      existsSync(join(dir, 'notebook.ipynb')) &&
      spec.steps.every((s) => existsSync(join(dir, s.file)) && existsSync(join(dir, s.sourceFile)));
    return complete ? { spec, text } : null;
  } catch {
    return null;
  }
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === 'EPERM';
  }
}

/**
 * Under the write lock: version folders numbered above the last recorded version have no row because a
 * process died between moving them into place and committing. A complete one is adopted (its row is
 * inserted: it may already have been seen and run); anything else is removed.
 */
function recoverOrphans(backend: EmbeddedBackend, name: string): void {
  const dir = join(backend.root, 'pipelines', name);
  const recorded = maxVersion(backend, name);
  const entries = readdirSync(dir);
  // Temp folders of exporters that died before their transaction (a live exporter's folder is kept).
  for (const entry of entries) {
    const pid = /^\.tmp-(\d+)-[0-9a-f]+$/.exec(entry)?.[1];
    if (pid !== undefined && !isAlive(Number(pid)))
      rmSync(join(dir, entry), { recursive: true, force: true });
  }
  const numbers = entries
    .filter((d) => /^[1-9]\d{0,8}$/.test(d))
    .map(Number)
    .filter((n) => n > recorded)
    .sort((a, b) => a - b);
  for (const n of numbers) {
    const folder = versionDir(backend.root, name, n);
    const orphan = readOrphan(folder, name, n);
    const taken =
      orphan !== null &&
      backend.db
        .prepare('SELECT 1 FROM pipeline_versions WHERE name = ? AND hash = ?')
        .get(name, orphan.spec.hash) !== undefined;
    if (orphan === null || taken) {
      rmSync(folder, { recursive: true, force: true });
      continue;
    }
    const created = Date.parse(orphan.spec.createdAt);
    insertVersion(
      backend,
      orphan.spec,
      orphan.text,
      orphan.spec.source?.notebookPath ?? null,
      Number.isFinite(created) ? created : Date.now(),
    );
  }
}

/**
 * Stores a planned version: returns the existing version when one of this name has the same hash,
 * otherwise writes the next number.
 *
 * @throws CellarError STORE_BUSY when the store stays locked.
 */
export function storePlan(
  backend: EmbeddedBackend,
  plan: ExportPlan,
  notebook: ParsedNotebook,
): { stored: StoredPipelineVersion; created: boolean } {
  const { db, root } = backend;
  const findByHash = db.prepare<[string, string], VersionRow>(
    'SELECT name, version, hash, spec_json, created_at FROM pipeline_versions WHERE name = ? AND hash = ?',
  );
  const existing = findByHash.get(plan.name, plan.hash);
  if (existing !== undefined) return { stored: toStored(root, existing), created: false };

  const pipelineDir = join(root, 'pipelines', plan.name);
  mkdirSync(pipelineDir, { recursive: true });
  const tmp = join(pipelineDir, `.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
  writeFilesDurably([
    ...Object.entries(plan.files).map(([rel, text]): [string, string] => [join(tmp, rel), text]),
    [join(tmp, 'notebook.ipynb'), notebook.bytes],
  ]);

  let placed: string | null = null; // the version folder this attempt moved into place (undone on rollback)
  try {
    return writeTx(db, `export pipeline ${plan.name}`, () => {
      if (placed !== null) {
        renameSync(placed, tmp);
        placed = null;
      }
      const now = Date.now();
      db.prepare('INSERT INTO pipelines (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING').run(
        plan.name,
        now,
      );
      recoverOrphans(backend, plan.name);
      const again = findByHash.get(plan.name, plan.hash);
      if (again !== undefined) return { stored: toStored(root, again), created: false };
      const version = maxVersion(backend, plan.name) + 1;
      const spec: PipelineSpec = { ...plan.spec, version, createdAt: new Date(now).toISOString() };
      const specJson = JSON.stringify(spec, null, 2) + '\n';
      writeFileDurably(join(tmp, 'pipeline.json'), specJson);
      insertVersion(backend, spec, specJson, notebook.path, now);
      // The rename is the last step before COMMIT: a crash in between leaves a complete folder without a
      // row, which the next export adopts (recoverOrphans).
      renameSync(tmp, versionDir(root, plan.name, version));
      placed = versionDir(root, plan.name, version);
      fsyncDir(pipelineDir);
      const row: VersionRow = {
        name: plan.name,
        version,
        hash: plan.hash,
        spec_json: specJson,
        created_at: now,
      };
      return { stored: toStored(root, row), created: true };
    });
  } catch (e) {
    if (placed !== null) rmSync(placed, { recursive: true, force: true });
    if (isUniqueViolation(e)) {
      const winner = findByHash.get(plan.name, plan.hash);
      if (winner !== undefined) return { stored: toStored(root, winner), created: false };
    }
    throw e;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * Lists the exported pipelines with their latest version, by name.
 *
 * @example
 * listPipelines().map((p) => `${p.name}@${p.latestVersion}`)
 */
export function listPipelines(store?: StoreRef): PipelineSummary[] {
  const { db } = resolveBackend(store);
  const rows = db
    .prepare<[], VersionRow & { first_created: number; n: number }>(
      `SELECT v.name, v.version, v.hash, v.spec_json, v.created_at, p.created_at AS first_created,
              (SELECT COUNT(*) FROM pipeline_versions c WHERE c.name = v.name) AS n
         FROM pipelines p
         JOIN pipeline_versions v ON v.name = p.name
        WHERE v.version = (SELECT MAX(version) FROM pipeline_versions m WHERE m.name = p.name)
        ORDER BY v.name`,
    )
    .all();
  return rows.map((r) => {
    const spec = parsePipelineSpec(JSON.parse(r.spec_json), `${r.name}@${r.version}`);
    return {
      name: r.name,
      latestVersion: r.version,
      versions: r.n,
      schedule: spec.schedule,
      steps: spec.steps.length,
      hash: r.hash,
      createdAt: new Date(r.first_created).toISOString(),
      updatedAt: new Date(r.created_at).toISOString(),
    };
  });
}

/**
 * Lists the versions of one pipeline, oldest first.
 *
 * @throws CellarError NOT_FOUND when no pipeline has that name.
 */
export function listPipelineVersions(store: StoreRef | undefined, name: string): StoredPipelineVersion[] {
  validatePipelineName(name);
  const backend = resolveBackend(store);
  const rows = backend.db
    .prepare<[string], VersionRow>(
      'SELECT name, version, hash, spec_json, created_at FROM pipeline_versions WHERE name = ? ORDER BY version',
    )
    .all(name);
  if (rows.length === 0) {
    throw new CellarError(
      'NOT_FOUND',
      `No pipeline named "${name}": export a notebook with --name ${name} first.`,
      {
        name,
      },
    );
  }
  return rows.map((r) => toStored(backend.root, r));
}

/**
 * Reads one version of a pipeline (`'latest'` for the newest).
 *
 * @example
 * const { spec, dir } = getPipelineVersion(undefined, 'driver-training', 'latest')
 * @throws CellarError NOT_FOUND for an unknown pipeline or version, INVALID_PARAMETER for a bad name/version.
 */
export function getPipelineVersion(
  store: StoreRef | undefined,
  name: string,
  version: number | 'latest' | string,
): StoredPipelineVersion {
  validatePipelineName(name);
  const v = validatePipelineVersion(version);
  const backend = resolveBackend(store);
  const row =
    v === 'latest'
      ? backend.db
          .prepare<[string], VersionRow>(
            'SELECT name, version, hash, spec_json, created_at FROM pipeline_versions WHERE name = ? ORDER BY version DESC LIMIT 1',
          )
          .get(name)
      : backend.db
          .prepare<[string, number], VersionRow>(
            'SELECT name, version, hash, spec_json, created_at FROM pipeline_versions WHERE name = ? AND version = ?',
          )
          .get(name, v);
  if (row === undefined) {
    const latest = backend.db
      .prepare<[string], { v: number | null }>(
        'SELECT MAX(version) AS v FROM pipeline_versions WHERE name = ?',
      )
      .get(name)!.v;
    throw new CellarError(
      'NOT_FOUND',
      latest === null
        ? `No pipeline named "${name}": export a notebook with --name ${name} first.`
        : `Pipeline "${name}" has no version ${String(v)}; its versions are 1 to ${latest}.`,
      { name, version: v },
    );
  }
  return toStored(backend.root, row);
}
