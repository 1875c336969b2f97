/**
 * store/failures — the one place where raw failures of the store's files (SQLite result codes, Node file
 * errors) become `CellarError`s with a code a program can act on and a message saying what to do:
 * damaged database → STORE_CORRUPT (naming the newest backup), read-only / vanished / unreachable files →
 * STORE_UNAVAILABLE, disk full → RESOURCE_EXHAUSTED. Also knows where backups live, so every message about
 * a damaged store can name the newest one.
 */
import { accessSync, constants, lstatSync, readdirSync, readlinkSync, statSync, statfsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CellarError } from '../errors.js';

/** Folder inside the store directory holding backups made by `cellar store backup` and the schedule. */
export const BACKUP_DIR_NAME = 'backups';

/** A backup file of the store database. */
export interface BackupFile {
  /** Absolute path. */
  path: string;
  /** Modification time (epoch ms). */
  mtimeMs: number;
  size: number;
}

/**
 * Lists the backups of the store at `root`, newest first: `backups/*.db` and the copies taken before
 * migrations (`cellar.db.bak-*`).
 */
export function listBackups(root: string): BackupFile[] {
  const found: BackupFile[] = [];
  const add = (dir: string, accept: (name: string) => boolean): void => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      if (!accept(name)) continue;
      try {
        const st = statSync(join(dir, name));
        if (st.isFile() && st.size > 0)
          found.push({ path: join(dir, name), mtimeMs: st.mtimeMs, size: st.size });
      } catch {
        // vanished or unreadable: not a usable backup
      }
    }
  };
  add(root, (n) => n.startsWith('cellar.db.bak-'));
  add(join(root, BACKUP_DIR_NAME), (n) => n.endsWith('.db'));
  return found.sort((a, b) => b.mtimeMs - a.mtimeMs || b.path.localeCompare(a.path));
}

/** The newest backup of the store at `root`, or null. */
export function newestBackup(root: string): string | null {
  return listBackups(root)[0]?.path ?? null;
}

/** The sentence every STORE_CORRUPT message ends with: which backup to restore, or how to make one next time. */
export function restoreAdvice(root: string): string {
  const backup = newestBackup(root);
  return backup === null
    ? `No backup of this store was found (${join(root, BACKUP_DIR_NAME)} is empty); move the store folder away ` +
        'to start a new one, and take backups with `cellar store backup` from then on.'
    : `The newest backup is ${backup}: restore it with \`cellar store restore ${backup}\`.`;
}

/** Space below which an I/O failure on the store's disk is taken for a full disk. */
const NEARLY_FULL_BYTES = 1024 * 1024;

/** Whether the folder holding the store is writable and has space (used to explain vague SQLite I/O errors). */
function diskState(root: string): 'ok' | 'read-only' | 'full' {
  try {
    accessSync(root, constants.W_OK);
  } catch (e) {
    const c = (e as NodeJS.ErrnoException).code;
    if (c === 'EROFS' || c === 'EACCES' || c === 'EPERM') return 'read-only';
  }
  try {
    const fs = statfsSync(root);
    if (fs.bavail * fs.bsize < NEARLY_FULL_BYTES) return 'full';
  } catch {
    // statfs unsupported here: no hint
  }
  return 'ok';
}

const READONLY_CODES = new Set(['EROFS', 'EPERM']);
const UNAVAILABLE_CODES = new Set([
  'ENOENT',
  'ELOOP',
  'EACCES',
  'ENOTDIR',
  'EEXIST',
  'EIO',
  'ENXIO',
  'ESTALE',
]);
const FULL_CODES = new Set(['ENOSPC', 'EDQUOT', 'SQLITE_FULL']);

/**
 * Turns a raw failure of the store's files into a `CellarError`, or returns null when `e` is not one
 * (`CellarError`s and programming errors pass through unchanged).
 *
 * @param root the store directory (for the message and the backup lookup)
 * @param what what cellar was doing, e.g. "log to a run"
 */
export function storeFailure(e: unknown, root: string, what: string): CellarError | null {
  if (e instanceof CellarError || e === null || typeof e !== 'object') return null;
  const code = (e as { code?: unknown }).code;
  if (typeof code !== 'string') return null;
  const raw = (e as Error).message ?? String(e);
  const details = { cause: code, store: root };
  // SQLite reports a read-only or full disk as CANTOPEN/IOERR when it fails on its side files (-wal, -shm).
  const vague = code.startsWith('SQLITE_IOERR') || code.startsWith('SQLITE_CANTOPEN');
  const disk = vague ? diskState(root) : 'ok';
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') {
    return new CellarError(
      'STORE_CORRUPT',
      `The store database ${join(root, 'cellar.db')} is damaged (${raw}) and cannot be used to ${what}. ` +
        `Run \`cellar store check\` to see what is wrong. ${restoreAdvice(root)}`,
      details,
    );
  }
  if (FULL_CODES.has(code) || disk === 'full') {
    return new CellarError(
      'RESOURCE_EXHAUSTED',
      `The disk holding the store ${root} is full (${code}) while trying to ${what}; nothing partial was recorded. ` +
        'Free some space (or raise the quota) and retry.',
      details,
    );
  }
  if (code.startsWith('SQLITE_READONLY') || READONLY_CODES.has(code) || disk === 'read-only') {
    return new CellarError(
      'STORE_UNAVAILABLE',
      `The store ${root} is read-only (${raw}), so cellar cannot ${what}. Make the folder and its files ` +
        'writable by this user (or remount the disk read-write), or point --store / CELLAR_URI at a writable copy.',
      details,
    );
  }
  if (code.startsWith('SQLITE_IOERR') || code.startsWith('SQLITE_CANTOPEN')) {
    return new CellarError(
      'STORE_UNAVAILABLE',
      `Cannot read or write the store files in ${root} (${code}: ${raw}) while trying to ${what}. ` +
        'Another process may have deleted cellar.db-wal or cellar.db-shm, or the disk went away: stop the ' +
        'cellar processes using this store, check the folder, then run `cellar store check`.',
      details,
    );
  }
  if (UNAVAILABLE_CODES.has(code)) {
    const path = (e as { path?: unknown }).path;
    const where = typeof path === 'string' ? path : root;
    const why =
      code === 'ELOOP'
        ? 'is a symbolic link loop'
        : code === 'EACCES'
          ? 'is not accessible to this user'
          : code === 'EEXIST' || code === 'ENOENT'
            ? 'is missing or a dangling symbolic link'
            : `cannot be used (${code})`;
    return new CellarError(
      'STORE_UNAVAILABLE',
      `The store path ${where} ${why}, so cellar cannot ${what}. Fix or remove the link/folder ` +
        `(its parent is ${dirname(where)}), or point --store / CELLAR_URI at the store you mean.`,
      details,
    );
  }
  return null;
}

/** Rethrows `e` as the `CellarError` {@link storeFailure} makes of it, or unchanged. */
export function rethrowStoreFailure(e: unknown, root: string, what: string): never {
  throw storeFailure(e, root, what) ?? e;
}

/**
 * Wraps a store object so that every method's raw file/SQLite failures (thrown or rejected) arrive as
 * `CellarError`s: the store boundary the SDK, the CLI and the bridge all go through.
 */
export function guardStore<T extends object>(target: T, root: string, what: string): T {
  const wrapped = new Map<PropertyKey, unknown>(); // one wrapper per method, made on first use
  return new Proxy(target, {
    get(obj, prop, receiver) {
      const value: unknown = Reflect.get(obj, prop, receiver);
      if (typeof value !== 'function' || prop === 'constructor') return value;
      const cached = wrapped.get(prop);
      if (cached !== undefined) return cached;
      const fn = value as (...args: unknown[]) => unknown;
      const doing = `${what} (${String(prop)})`;
      const guarded = function guarded(...args: unknown[]): unknown {
        try {
          const out = fn.apply(obj, args);
          if (out instanceof Promise) return out.catch((e: unknown) => rethrowStoreFailure(e, root, doing));
          return out;
        } catch (e) {
          return rethrowStoreFailure(e, root, doing);
        }
      };
      wrapped.set(prop, guarded);
      return guarded;
    },
  });
}

/**
 * Refuses a store directory that is a dangling symbolic link or a link loop, naming the link and its target
 * (instead of the EEXIST/ELOOP a `mkdir` would report).
 *
 * @throws CellarError STORE_UNAVAILABLE
 */
export function checkStoreRoot(root: string): void {
  let link: string;
  try {
    if (!lstatSync(root).isSymbolicLink()) return;
    link = readlinkSync(root);
  } catch {
    return; // does not exist yet: it will be created
  }
  try {
    statSync(root);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'ERROR';
    const why = code === 'ELOOP' ? 'part of a symbolic link loop' : 'a symbolic link to a missing folder';
    throw new CellarError(
      'STORE_UNAVAILABLE',
      `The store ${root} is ${why} (it points to ${link}). Restore the folder it points to, or remove the ` +
        'link (`rm` on the link only) and run `cellar init` to start a new store.',
      { cause: code, store: root, target: link },
    );
  }
}
