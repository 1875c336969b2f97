/**
 * store/backup — backups, restores and integrity checks of the embedded store. Backups use SQLite's
 * online backup API (consistent while other processes keep writing) and land in `.cellar/backups/`;
 * restores check the backup first and keep the damaged database aside; the check runs SQLite's
 * integrity check and re-hashes a sample of the artifact blobs. A schedule (used by `cellar scheduler`,
 * and available to `cellar up`) takes a backup every interval and keeps the newest N.
 */
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CellarError } from '../errors.js';
import { BACKUP_DIR_NAME, listBackups, newestBackup, rethrowStoreFailure } from './failures.js';
import { LATEST_SCHEMA_VERSION } from './schema.js';
import type { SqliteDb } from './sqlite.js';

/** Default number of scheduled backups kept (`CELLAR_BACKUP_KEEP` overrides). */
export const DEFAULT_BACKUP_KEEP = 7;
/** Default pause between scheduled backups: one day (`CELLAR_BACKUP_EVERY_MINUTES` overrides; 0 turns them off). */
export const DEFAULT_BACKUP_EVERY_MS = 24 * 60 * 60 * 1000;

function stamp(now = new Date()): string {
  return now.toISOString().replace(/[:.]/g, '-');
}

/**
 * Copies the live database to `out` (default `.cellar/backups/cellar-<time>.db`) with SQLite's online
 * backup API and returns the file written.
 *
 * @throws CellarError ALREADY_EXISTS when `out` exists; STORE_UNAVAILABLE / RESOURCE_EXHAUSTED on file errors.
 */
export async function backupStore(db: SqliteDb, root: string, out?: string): Promise<string> {
  const target = out === undefined ? join(root, BACKUP_DIR_NAME, `cellar-${stamp()}.db`) : resolve(out);
  if (existsSync(target)) {
    throw new CellarError('ALREADY_EXISTS', `${target} already exists; choose another --out file.`);
  }
  try {
    if (out === undefined) mkdirSync(join(root, BACKUP_DIR_NAME), { recursive: true });
    await db.backup(`${target}.partial`);
    renameSync(`${target}.partial`, target);
  } catch (e) {
    rmSync(`${target}.partial`, { force: true });
    rethrowStoreFailure(e, root, 'back up the store');
  }
  return target;
}

/** Deletes the oldest backups in `.cellar/backups/` so that at most `keep` remain; returns those deleted. */
export function pruneBackups(root: string, keep: number): string[] {
  const dir = join(root, BACKUP_DIR_NAME);
  const inDir = listBackups(root).filter((b) => b.path.startsWith(`${dir}/`));
  const removed = inDir.slice(Math.max(0, keep)).map((b) => b.path);
  for (const p of removed) rmSync(p, { force: true });
  return removed;
}

/** What {@link checkDatabaseAt} and {@link checkStore} found. */
export interface IntegrityReport {
  /** True when nothing is wrong. */
  ok: boolean;
  database: string;
  /** `ok`, or SQLite's integrity messages / the open error. */
  integrity: string[];
  schemaVersion: number | null;
  blobs: { checked: number; missing: string[]; altered: string[] };
  newestBackup: string | null;
}

/** Opens `file` read-only and runs `PRAGMA quick_check` (or the full `integrity_check`). */
export function checkDatabaseAt(
  file: string,
  full = false,
): { integrity: string[]; schemaVersion: number | null; db: SqliteDb | null } {
  let db: SqliteDb | null = null;
  try {
    if (statSync(file).size === 0)
      return { integrity: ['the database file is empty (0 bytes)'], schemaVersion: null, db };
    db = new Database(file, { readonly: true, fileMustExist: true });
    const rows = db.pragma(full ? 'integrity_check' : 'quick_check') as Array<Record<string, string>>;
    const integrity = rows.map((r) => Object.values(r)[0] ?? '');
    const schemaVersion = db.pragma('user_version', { simple: true }) as number;
    return { integrity, schemaVersion, db };
  } catch (e) {
    db?.close();
    const code = (e as { code?: string }).code;
    return { integrity: [`${code ?? 'ERROR'}: ${(e as Error).message}`], schemaVersion: null, db: null };
  }
}

/**
 * Checks the store at `root` without changing it: SQLite's integrity check of `cellar.db` and the digests of
 * up to `sampleBlobs` artifact blobs the database refers to (all of them with `sampleBlobs = Infinity`).
 */
export function checkStore(
  root: string,
  opts: { full?: boolean; sampleBlobs?: number } = {},
): IntegrityReport {
  const file = join(root, 'cellar.db');
  const { integrity, schemaVersion, db } = checkDatabaseAt(file, opts.full);
  const blobs = { checked: 0, missing: [] as string[], altered: [] as string[] };
  if (db !== null) {
    try {
      const digests = db
        .prepare(
          `SELECT d FROM (SELECT digest AS d FROM run_artifacts UNION SELECT artifact_digest FROM model_versions)
             ORDER BY random() LIMIT ?`,
        )
        .pluck()
        .all(Number.isFinite(opts.sampleBlobs ?? 100) ? (opts.sampleBlobs ?? 100) : -1) as string[];
      for (const d of digests) {
        blobs.checked += 1;
        const p = join(root, 'artifacts', 'sha256', d.slice(0, 2), d);
        if (!existsSync(p)) blobs.missing.push(d);
        else if (createHash('sha256').update(readFileSync(p)).digest('hex') !== d) blobs.altered.push(d);
      }
    } catch (e) {
      integrity.push(`cannot list artifacts: ${(e as Error).message}`);
    } finally {
      db.close();
    }
  }
  const ok =
    integrity.length === 1 &&
    integrity[0] === 'ok' &&
    blobs.missing.length === 0 &&
    blobs.altered.length === 0;
  return { ok, database: file, integrity, schemaVersion, blobs, newestBackup: newestBackup(root) };
}

/**
 * Replaces the store's database with `backup` (checked first), using SQLite's backup API. The current
 * database, if any, is kept as `cellar.db.replaced-<time>`. Stop other cellar processes first.
 *
 * @throws CellarError NOT_FOUND / STORE_CORRUPT when the backup is missing or damaged; UNSUPPORTED when it
 * comes from a newer cellar.
 */
export async function restoreStore(
  root: string,
  backup: string,
): Promise<{ restored: string; previous: string | null }> {
  const source = resolve(backup);
  if (!existsSync(source)) throw new CellarError('NOT_FOUND', `No backup file at ${source}.`);
  const check = checkDatabaseAt(source, true);
  check.db?.close();
  if (check.integrity.length !== 1 || check.integrity[0] !== 'ok') {
    throw new CellarError(
      'STORE_CORRUPT',
      `The backup ${source} is damaged too (${check.integrity.slice(0, 3).join('; ')}); pick an older one.`,
    );
  }
  if ((check.schemaVersion ?? 0) > LATEST_SCHEMA_VERSION) {
    throw new CellarError(
      'UNSUPPORTED',
      `The backup ${source} was written by a newer cellar; upgrade cellar first.`,
    );
  }
  const file = join(root, 'cellar.db');
  const partial = `${file}.restoring`;
  let previous: string | null = null;
  try {
    mkdirSync(root, { recursive: true });
    rmSync(partial, { force: true });
    const src = new Database(source, { readonly: true, fileMustExist: true });
    try {
      await src.backup(partial);
    } finally {
      src.close();
    }
    if (existsSync(file)) {
      previous = `${file}.replaced-${stamp()}`;
      renameSync(file, previous);
    }
    for (const side of ['-wal', '-shm', '-journal']) rmSync(`${file}${side}`, { force: true });
    renameSync(partial, file);
  } catch (e) {
    rmSync(partial, { force: true });
    rethrowStoreFailure(e, root, 'restore the store');
  }
  return { restored: file, previous };
}

/** Reads a positive integer (or 0) from the environment, or the default. */
function envCount(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new CellarError('INVALID_PARAMETER', `${name} must be a whole number ≥ 0, got "${raw}".`);
  }
  return n;
}

/** Options of {@link startBackupSchedule}. */
export interface BackupScheduleOptions {
  db: SqliteDb;
  root: string;
  /** Pause between backups in ms (default: `CELLAR_BACKUP_EVERY_MINUTES`, else one day; 0 turns it off). */
  everyMs?: number;
  /** Backups kept in `.cellar/backups/` (default: `CELLAR_BACKUP_KEEP`, else 7). */
  keep?: number;
  /** Called with a line for each backup taken or failed. */
  log?: (line: string) => void;
}

/**
 * Takes a backup whenever the newest one in `.cellar/backups/` is older than `everyMs` (so also right away
 * when there is none), keeping the newest `keep`. For long-running processes
 * (`cellar scheduler`, `cellar up`); the timer does not keep the process alive.
 */
export function startBackupSchedule(opts: BackupScheduleOptions): { stop(): void } {
  const everyMs =
    opts.everyMs ?? envCount('CELLAR_BACKUP_EVERY_MINUTES', DEFAULT_BACKUP_EVERY_MS / 60_000) * 60_000;
  const keep = opts.keep ?? envCount('CELLAR_BACKUP_KEEP', DEFAULT_BACKUP_KEEP);
  if (everyMs <= 0 || keep === 0) return { stop: () => undefined };
  let running = false;
  const dir = join(opts.root, BACKUP_DIR_NAME);
  const due = (): boolean => {
    const last = listBackups(opts.root).find((b) => b.path.startsWith(`${dir}/`));
    return last === undefined || Date.now() - last.mtimeMs >= everyMs;
  };
  const take = async (): Promise<void> => {
    if (running || !opts.db.open || !due()) return;
    running = true;
    try {
      const file = await backupStore(opts.db, opts.root);
      const pruned = pruneBackups(opts.root, keep);
      opts.log?.(`backup ${file}${pruned.length > 0 ? ` (removed ${pruned.length} older)` : ''}`);
    } catch (e) {
      opts.log?.(`backup failed: ${(e as Error).message}`);
    } finally {
      running = false;
    }
  };
  // Checked often, taken when the newest scheduled backup is older than the interval (also across restarts).
  void take();
  const timer = setInterval(() => void take(), Math.min(everyMs, 60_000));
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
