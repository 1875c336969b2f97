/**
 * store/sqlite — opens the embedded SQLite database the way every cellar process must: WAL, a busy
 * timeout, foreign keys, writes in `BEGIN IMMEDIATE` transactions retried while another process holds the
 * write lock, and the numbered migrations applied exactly once even when several processes open a new
 * store at the same moment (the migration runs inside one IMMEDIATE transaction that re-reads the version).
 */
import type Database from 'better-sqlite3';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  readdirSync,
  statSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { CellarError } from '../errors.js';
import { requireDependency } from '../lazy/load.js';
import { listBackups, rethrowStoreFailure, restoreAdvice, storeFailure } from './failures.js';
import { LATEST_SCHEMA_VERSION, MIGRATIONS, type Migration } from './schema.js';

/** The better-sqlite3 connection type. */
export type SqliteDb = Database.Database;

/** How long one statement waits inside SQLite for a lock before SQLite reports BUSY. */
const BUSY_TIMEOUT_MS = 5_000;
/** How long cellar keeps retrying a write transaction that SQLite reported BUSY before giving up. */
const MAX_BUSY_WAIT_MS = 120_000;

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
/** Blocks the thread for `ms` milliseconds (the store API is synchronous underneath). */
function sleepSync(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, ms);
}

/** Prepared statements per connection, by SQL text (compiling a statement costs more than running it). */
const statementCache = new WeakMap<SqliteDb, Map<string, Database.Statement>>();
/** Bound on cached texts per connection (texts with a variable number of `?` could otherwise grow it). */
const MAX_CACHED_STATEMENTS = 512;

/**
 * The prepared statement for `text` on `db`, compiled once and reused. Callers must not rely on modes set
 * on it (`pluck`, `raw`, `expand`) persisting or not: set the mode they need at every use.
 */
export function cachedStatement(db: SqliteDb, text: string): Database.Statement {
  let byText = statementCache.get(db);
  if (!byText) {
    byText = new Map();
    statementCache.set(db, byText);
  }
  let st = byText.get(text);
  if (!st) {
    if (byText.size >= MAX_CACHED_STATEMENTS) byText.clear();
    st = db.prepare(text);
    byText.set(text, st);
  }
  return st;
}

/** True for the SQLite errors that mean "another connection holds a lock, try again". */
export function isBusyError(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

/** Runs `attempt` and retries it with backoff while SQLite reports BUSY, up to a generous deadline. */
export function retryBusy<T>(what: string, attempt: () => T): T {
  const deadline = Date.now() + MAX_BUSY_WAIT_MS;
  let delay = 2;
  while (true) {
    try {
      return attempt();
    } catch (e) {
      if (!isBusyError(e)) throw e;
      if (Date.now() > deadline) {
        throw new CellarError(
          'STORE_BUSY',
          `The store stayed locked by another process for ${MAX_BUSY_WAIT_MS / 1000}s while trying to ${what}. ` +
            'Check for a stuck cellar process and retry.',
        );
      }
      sleepSync(delay + Math.random() * delay);
      delay = Math.min(delay * 2, 100);
    }
  }
}

/**
 * Runs `fn` inside a `BEGIN IMMEDIATE` transaction (or a savepoint when already inside one), retrying the
 * whole transaction while the database is locked by another process. `fn` must be synchronous and may run
 * more than once, so it must not have side effects outside the database.
 */
export function writeTx<T>(db: SqliteDb, what: string, fn: () => T): T {
  if (db.inTransaction) return db.transaction(fn)();
  try {
    return retryBusy(what, () => db.transaction(fn).immediate());
  } catch (e) {
    return rethrowStoreFailure(e, dirname(db.name), what);
  }
}

/** Options for {@link openDatabase}. */
export interface OpenDatabaseOptions {
  /** `full` makes every commit durable against power loss (slower); `normal` (default) against process crashes. */
  synchronous?: 'normal' | 'full';
  /** Open without creating or migrating (fails if the file does not exist). */
  readonly?: boolean;
}

/**
 * Opens (creating if needed) the SQLite database of a store directory, applies pending migrations and
 * returns the connection.
 *
 * @throws CellarError UNSUPPORTED when the file was written by a newer cellar; STORE_CORRUPT when it is not a
 * cellar database.
 */
export function openDatabase(root: string, opts: OpenDatabaseOptions = {}): SqliteDb {
  try {
    mkdirSync(root, { recursive: true });
  } catch (e) {
    rethrowStoreFailure(e, root, 'open the store');
  }
  // Loaded here, not at import: `import 'cellar'` should not pay for the native addon before a store opens.
  const BetterSqlite = requireDependency<typeof Database>('better-sqlite3', 'The embedded store');
  const file = join(root, 'cellar.db');
  checkDatabaseFile(root, file);
  let db: SqliteDb;
  try {
    db = new BetterSqlite(file, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false });
  } catch (e) {
    throw (
      storeFailure(e, root, 'open the store') ??
      new CellarError('STORE_CORRUPT', `Cannot open the store database ${file}: ${(e as Error).message}`)
    );
  }
  try {
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    if (!opts.readonly) retryBusy('switch the store to WAL mode', () => db.pragma('journal_mode = WAL'));
    db.pragma(`synchronous = ${opts.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    db.pragma('foreign_keys = ON');
    if (!opts.readonly) migrate(db, file);
  } catch (e) {
    db.close();
    rethrowStoreFailure(e, root, 'open the store');
  }
  return db;
}

/** The 16 bytes every SQLite database file starts with. */
const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');

/** Pids of other processes holding a POSIX lock on the file with inode `ino` (Linux /proc/locks; [] elsewhere). */
function lockHolders(ino: number): number[] {
  let text: string;
  try {
    text = readFileSync('/proc/locks', 'utf8');
  } catch {
    return [];
  }
  const pids = new Set<number>();
  for (const line of text.split('\n')) {
    const m = /^\d+:\s+\S+\s+\S+\s+\S+\s+(\d+)\s+[0-9a-f]+:[0-9a-f]+:(\d+)\s/.exec(line);
    if (m && Number(m[2]) === ino && Number(m[1]) !== process.pid) pids.add(Number(m[1]));
  }
  return [...pids];
}

function hasPendingWal(file: string): boolean {
  try {
    return statSync(`${file}-wal`).size > 0;
  } catch {
    return false;
  }
}

/**
 * True when the store folder already holds a store's data: artifact blobs or backups, and with `loose` also
 * exported pipelines or logs (files that tools may place before the database exists are left out otherwise).
 */
function holdsData(root: string, loose = false): boolean {
  const nonEmpty = (dir: string): boolean => {
    try {
      return readdirSync(dir).length > 0;
    } catch {
      return false;
    }
  };
  return (
    nonEmpty(join(root, 'artifacts', 'sha256')) ||
    listBackups(root).length > 0 ||
    (loose && (nonEmpty(join(root, 'pipelines')) || nonEmpty(join(root, 'logs'))))
  );
}

/**
 * Refuses a database file that cannot be a working store before SQLite sees it: a directory, a missing,
 * empty or truncated file in a folder that holds a store's data (SQLite would silently start a new empty
 * store beside the old artifacts), or a file that is not SQLite at all.
 *
 * @throws CellarError STORE_CORRUPT naming the newest backup.
 */
export function checkDatabaseFile(root: string, file: string): void {
  let st;
  try {
    st = statSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') rethrowStoreFailure(e, root, 'open the store');
    if (holdsData(root)) {
      throw new CellarError(
        'STORE_CORRUPT',
        `${file} is missing, but ${root} holds a store's data (artifacts or backups); cellar will not ` +
          `start a new empty database beside them. ${restoreAdvice(root)}`,
        { store: root },
      );
    }
    return;
  }
  if (st.isDirectory()) {
    throw new CellarError(
      'STORE_CORRUPT',
      `${file} is a directory, not a cellar database. Move it away and retry.`,
    );
  }
  const damaged = (why: string): CellarError =>
    new CellarError('STORE_CORRUPT', `The store database ${file} ${why}. ${restoreAdvice(root)}`, {
      store: root,
    });
  if (st.size === 0) {
    if (!holdsData(root, true)) return; // a store being created right now (SQLite writes the header on first use)
    throw damaged('is empty (0 bytes) although the store holds data');
  }
  const head = Buffer.alloc(100);
  let n = 0;
  try {
    const fd = openSync(file, 'r');
    try {
      n = readSync(fd, head, 0, 100, 0);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    rethrowStoreFailure(e, root, 'open the store');
  }
  if (n < 100 || !head.subarray(0, 16).equals(SQLITE_HEADER)) throw damaged('is not a SQLite database');
  if (head[18] === 2 && !existsSync(`${file}-shm`)) {
    let holders = lockHolders(st.ino);
    // A process that is opening the store (before it creates -shm) or closing it (after it removed -wal and
    // -shm) holds a lock for a moment: only a state that lasts means the files were deleted under it.
    for (let i = 0; i < 25 && holders.length > 0 && !existsSync(`${file}-shm`); i++) {
      sleepSync(20);
      holders = lockHolders(st.ino);
    }
    if (holders.length > 0 && !existsSync(`${file}-shm`)) {
      throw new CellarError(
        'STORE_UNAVAILABLE',
        `${file}-wal and ${file}-shm were deleted while process(es) ${holders.join(', ')} had the store open: ` +
          'their latest writes live only in those processes now. Let them finish or end them normally ' +
          '(closing the store writes the data back), do not kill -9 them, then retry and run `cellar store check`.',
        { store: root, pids: holders },
      );
    }
  }
  const rawPageSize = head.readUInt16BE(16);
  const pageSize = rawPageSize === 1 ? 65536 : rawPageSize;
  const pages = head.readUInt32BE(28);
  // The in-header page count is valid when "version-valid-for" (offset 92) equals the change counter (24).
  // Only without a pending WAL: a checkpoint interrupted by a crash rewrites page 1 before the pages after
  // it, and SQLite repairs that from the WAL on open.
  const validCount = head.readUInt32BE(92) === head.readUInt32BE(24) && pages > 0 && !hasPendingWal(file);
  if (validCount && st.size < pages * pageSize) {
    throw damaged(`is truncated (${st.size} bytes, its header says ${pages * pageSize})`);
  }
}

/** Reads the schema version recorded in the file. */
export function schemaVersion(db: SqliteDb): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Applies the migrations the file has not seen yet. An existing store (version > 0) is first copied to
 * `cellar.db.bak-v<from>-<time>` so a failed or unwanted upgrade can be undone.
 */
export function migrate(db: SqliteDb, file: string, migrations: readonly Migration[] = MIGRATIONS): void {
  const latest = migrations.length === 0 ? 0 : migrations[migrations.length - 1]!.version;
  const before = schemaVersion(db);
  if (before > latest) {
    throw new CellarError(
      'UNSUPPORTED',
      `The store ${file} has schema version ${before}, newer than this cellar understands (${latest}). ` +
        'Upgrade cellar to use this store.',
    );
  }
  if (before === latest) return;
  if (before > 0) {
    const backup = `${file}.bak-v${before}-${Date.now()}`;
    retryBusy('back up the store before migrating', () => db.prepare('VACUUM INTO ?').run(backup));
  }
  retryBusy('migrate the store', () =>
    db
      .transaction(() => {
        const current = schemaVersion(db); // re-read under the write lock: another process may have migrated
        for (const m of migrations) {
          if (m.version <= current) continue;
          db.exec(m.sql);
          db.pragma(`user_version = ${m.version}`);
        }
      })
      .immediate(),
  );
}

export { LATEST_SCHEMA_VERSION };
