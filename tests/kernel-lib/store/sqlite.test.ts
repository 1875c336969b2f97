/** Opening the embedded database: location rules, WAL, migrations (once, with a backup), newer schemas. */
import Database from 'better-sqlite3';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { locateStore, parseStoreUri } from '../../../kernel-lib/store/locate.js';
import {
  LATEST_SCHEMA_VERSION,
  migrate,
  openDatabase,
  schemaVersion,
} from '../../../kernel-lib/store/sqlite.js';
import { errorCodeOfSync as errorCode } from '../../helpers/errors.js';
import { cleanupTmp, makeTmp } from '../../helpers/tmp.js';

afterEach(cleanupTmp);

describe('locating the store', () => {
  test('walks up from the working directory to the nearest .cellar, like git', () => {
    const project = makeTmp();
    mkdirSync(join(project, '.cellar'));
    const deep = join(project, 'a', 'b', 'c');
    mkdirSync(deep, { recursive: true });
    expect(locateStore(undefined, {}, deep)).toEqual({
      kind: 'sqlite',
      root: join(project, '.cellar'),
      source: 'search',
    });
  });

  test('creates .cellar in the working directory when none is found', () => {
    const dir = makeTmp();
    const loc = locateStore(undefined, {}, dir);
    // /tmp has no .cellar above it on a clean machine; whatever is found must be a .cellar dir
    expect(loc.root.endsWith('.cellar')).toBe(true);
  });

  test('an explicit directory or CELLAR_URI overrides the search', () => {
    const dir = makeTmp();
    expect(locateStore(dir, { CELLAR_URI: '/elsewhere' }).root).toBe(join(dir, '.cellar'));
    expect(locateStore(join(dir, '.cellar')).root).toBe(join(dir, '.cellar'));
    expect(locateStore(undefined, { CELLAR_URI: dir }).root).toBe(join(dir, '.cellar'));
    expect(locateStore(undefined, { CELLAR_URI: `sqlite://${dir}` }).root).toBe(join(dir, '.cellar'));
    expect(locateStore(undefined, { CELLAR_URI: `sqlite:///${dir}/store/cellar.db` }).root).toBe(
      join(dir, 'store'),
    );
    expect(locateStore(undefined, { CELLAR_URI: `file:${dir}` }).root).toBe(join(dir, '.cellar'));
  });

  test('URI schemes without a backend yet are refused with a clear error', () => {
    expect(errorCode(() => parseStoreUri('http://localhost:5000'))).toBe('UNSUPPORTED');
    expect(errorCode(() => parseStoreUri('postgres://db/cellar'))).toBe('UNSUPPORTED');
    expect(errorCode(() => parseStoreUri('ftp://x'))).toBe('INVALID_PARAMETER');
    expect(errorCode(() => parseStoreUri('  '))).toBe('INVALID_PARAMETER');
  });
});

describe('opening the database', () => {
  test('a new store is in WAL mode with foreign keys and the latest schema', () => {
    const root = join(makeTmp(), '.cellar');
    const db = openDatabase(root);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(Number(db.pragma('busy_timeout', { simple: true }))).toBeGreaterThan(0);
    expect(schemaVersion(db)).toBe(LATEST_SCHEMA_VERSION);
    db.close();
    const again = openDatabase(root);
    expect(schemaVersion(again)).toBe(LATEST_SCHEMA_VERSION);
    again.close();
    expect(readdirSync(root).filter((f) => f.includes('.bak-'))).toEqual([]);
  });

  test('migrating an existing store backs it up first and applies each migration once', () => {
    const root = makeTmp();
    const file = join(root, 'cellar.db');
    const db = new Database(file);
    const migrations = [
      { version: 1, description: 'one', sql: 'CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);' },
    ];
    migrate(db, file, migrations);
    expect(readdirSync(root).filter((f) => f.includes('.bak-'))).toEqual([]);
    const more = [...migrations, { version: 2, description: 'two', sql: 'INSERT INTO t VALUES (2);' }];
    migrate(db, file, more);
    migrate(db, file, more);
    expect(db.prepare('SELECT x FROM t ORDER BY x').pluck().all()).toEqual([1, 2]);
    const backups = readdirSync(root).filter((f) => f.startsWith('cellar.db.bak-v1-'));
    expect(backups).toHaveLength(1);
    const backup = new Database(join(root, backups[0]!), { readonly: true });
    expect(backup.prepare('SELECT x FROM t').pluck().all()).toEqual([1]);
    backup.close();
    db.close();
  });

  test('a failing migration leaves the store at its old version with its data', () => {
    const root = makeTmp();
    const file = join(root, 'cellar.db');
    const db = new Database(file);
    const one = [
      { version: 1, description: 'one', sql: 'CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);' },
    ];
    migrate(db, file, one);
    const broken = [
      ...one,
      { version: 2, description: 'bad', sql: 'INSERT INTO t VALUES (2); INSERT INTO nope VALUES (1);' },
    ];
    expect(() => migrate(db, file, broken)).toThrow();
    expect(schemaVersion(db)).toBe(1);
    expect(db.prepare('SELECT x FROM t').pluck().all()).toEqual([1]);
    db.close();
  });

  test('a store written by a newer cellar is refused, not modified', () => {
    const root = makeTmp();
    const db = new Database(join(root, 'cellar.db'));
    db.pragma(`user_version = ${LATEST_SCHEMA_VERSION + 5}`);
    db.close();
    expect(errorCode(() => openDatabase(root))).toBe('UNSUPPORTED');
  });

  test('a file that is not a database is reported as STORE_CORRUPT', () => {
    const root = makeTmp();
    writeFileSync(
      join(root, 'cellar.db'),
      'this is not sqlite at all, just some text that is long enough'.repeat(20),
    );
    expect(errorCode(() => openDatabase(root))).toBe('STORE_CORRUPT');
    expect(existsSync(join(root, 'cellar.db'))).toBe(true);
  });
});
