/**
 * A damaged store is refused, never silently replaced: an empty, truncated, missing or non-SQLite
 * `cellar.db` in a store that holds data fails with STORE_CORRUPT naming the newest backup (CLI exit 5);
 * `cellar store check` reports it, and `cellar store backup` / `restore` bring the data back. Real files
 * and the real `cellar` command in child processes.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openStore } from '../../../kernel-lib/sdk.js';
import { startBackupSchedule, pruneBackups, backupStore } from '../../../kernel-lib/store/backup.js';
import { cleanupTmp, makeTmp, REPO_ROOT } from '../../helpers/tmp.js';

afterEach(cleanupTmp);

const BIN = join(REPO_ROOT, 'bin', 'cellar.cjs');

function cellar(dir: string, ...args: string[]): { code: number | null; out: string; err: string } {
  const res = spawnSync(process.execPath, [BIN, '--store', dir, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: res.status, out: res.stdout, err: res.stderr };
}

/** A store with one finished run holding an artifact, and one backup; returns the run id and backup path. */
async function seeded(dir: string): Promise<{ runId: string; backup: string }> {
  const store = openStore(dir);
  const run = await store.startRun({ experiment: 'damage' });
  await run.logParam('alpha', 0.5);
  await run.logArtifact({ name: 'notes.txt', data: 'keep me' });
  await run.end();
  store.close();
  const b = cellar(dir, 'store', 'backup', '--json');
  expect(b.code).toBe(0);
  return { runId: run.id, backup: JSON.parse(b.out).backup as string };
}

function dropWal(db: string): void {
  for (const side of ['-wal', '-shm']) rmSync(`${db}${side}`, { force: true });
}

const damages: Array<[string, (db: string) => void]> = [
  ['empty (0 bytes)', (db) => (dropWal(db), truncateSync(db, 0))],
  ['truncated', (db) => (dropWal(db), truncateSync(db, 4096 + 100))],
  ['not SQLite at all', (db) => (dropWal(db), writeFileSync(db, Buffer.alloc(64 * 1024, 0x41)))],
  ['deleted', (db) => (dropWal(db), rmSync(db))],
];

test.each(damages)(
  'a store whose cellar.db is %s is refused with STORE_CORRUPT naming the backup',
  async (_, damage) => {
    const dir = makeTmp();
    const { runId, backup } = await seeded(dir);
    const db = join(dir, '.cellar', 'cellar.db');
    damage(db);
    const sizeBefore = existsSync(db) ? readFileSync(db).length : -1;

    const list = cellar(dir, 'runs', 'list', '--json');
    expect(list.code).toBe(5);
    const error = JSON.parse(list.err).error;
    expect(error.code).toBe('STORE_CORRUPT');
    expect(error.message).toContain(backup);
    expect(() => openStore(dir)).toThrow(expect.objectContaining({ code: 'STORE_CORRUPT' }));
    // nothing was created over the damaged file
    expect(existsSync(db) ? readFileSync(db).length : -1).toBe(sizeBefore);

    const check = cellar(dir, 'store', 'check', '--json');
    expect(check.code).toBe(5);
    const report = JSON.parse(check.out);
    expect(report.ok).toBe(false);
    expect(report.newestBackup).toBe(backup);

    const restore = cellar(dir, 'store', 'restore', backup);
    expect(restore.code).toBe(0);
    const store = openStore(dir);
    const run = await store.getRun(runId);
    expect(run.params.alpha).toBe('0.5');
    expect((await store.tracking.readArtifact(runId, 'notes.txt')).toString()).toBe('keep me');
    store.close();
    expect(JSON.parse(cellar(dir, 'store', 'check', '--json', '--blobs', 'all').out)).toMatchObject({
      ok: true,
      integrity: ['ok'],
      blobs: { checked: 1, missing: [], altered: [] },
    });
  },
  120_000,
);

test('store check finds an altered artifact blob and a damaged page', async () => {
  const dir = makeTmp();
  const { runId } = await seeded(dir);
  const store = openStore(dir);
  const [art] = await store.tracking.listArtifacts(runId);
  store.close();
  const blob = join(dir, '.cellar', 'artifacts', 'sha256', art!.digest.slice(0, 2), art!.digest);
  writeFileSync(blob, 'tampered');
  const report = JSON.parse(cellar(dir, 'store', 'check', '--json', '--blobs', 'all').out);
  expect(report.ok).toBe(false);
  expect(report.blobs.altered).toEqual([art!.digest]);

  // overwrite an inner page of the database with garbage (header intact)
  const db = join(dir, '.cellar', 'cellar.db');
  dropWal(db);
  const bytes = readFileSync(db);
  bytes.fill(0xff, 4096 * 2, 4096 * 3);
  writeFileSync(db, bytes);
  const damaged = cellar(dir, 'store', 'check', '--json', '--blobs', '0');
  expect(damaged.code).toBe(5);
  expect(JSON.parse(damaged.out).integrity).not.toEqual(['ok']);
}, 120_000);

test('a fresh store is still created in an empty folder, and backups are kept N', async () => {
  const dir = makeTmp();
  expect(cellar(dir, 'init', '--json').code).toBe(0);
  const store = openStore(dir);
  for (let i = 0; i < 4; i++) await backupStore(store.embedded.db, store.root);
  expect(pruneBackups(store.root, 2)).toHaveLength(2);
  expect(readdirSync(join(store.root, 'backups'))).toHaveLength(2);
  // the schedule takes one when the newest is older than the interval, then keeps N
  const lines: string[] = [];
  const schedule = startBackupSchedule({
    db: store.embedded.db,
    root: store.root,
    everyMs: 1,
    keep: 1,
    log: (l) => lines.push(l),
  });
  while (lines.length === 0) await new Promise((r) => setImmediate(r));
  schedule.stop();
  expect(lines[0]).toMatch(/^backup .*backups\/cellar-.*\.db \(removed 2 older\)$/);
  expect(readdirSync(join(store.root, 'backups'))).toHaveLength(1);
  store.close();
});
