/**
 * Failures of the store's files arrive as typed CellarErrors that say what to do (and CLI exit 5), never as
 * raw SQLite or Node errors: a read-only disk and a deleted WAL → STORE_UNAVAILABLE, a full disk →
 * RESOURCE_EXHAUSTED, damaged pages → STORE_CORRUPT, a dangling `.cellar` symlink or a link loop →
 * STORE_UNAVAILABLE. Real files, real tmpfs mounts (the tests run as root, which ignores file modes, so
 * read-only and full disks are real mounts) and the real `cellar` command in child processes.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isCellarError } from '../../../kernel-lib/errors.js';
import { openStore } from '../../../kernel-lib/sdk.js';
import { builtEntry, cleanupTmp, makeTmp, REPO_ROOT } from '../../helpers/tmp.js';

const BIN = join(REPO_ROOT, 'bin', 'cellar.cjs');
const mounts: string[] = [];

afterEach(() => {
  while (mounts.length > 0) spawnSync('umount', ['-l', mounts.pop()!]);
  cleanupTmp();
});

/** Mounts a tmpfs of `size` on a fresh temp dir; fails the test (never skips) when mounting is impossible. */
function tmpfs(size: string): string {
  const dir = makeTmp('cellar-mnt-');
  const res = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { encoding: 'utf8' });
  if (res.status !== 0) {
    throw new Error(
      `These tests need root and mount(8) for a real tmpfs: mount failed: ${res.stderr || res.error}`,
    );
  }
  mounts.push(dir);
  return dir;
}

function cellar(
  args: string[],
  cwd?: string,
): { code: number | null; error: { code: string; message: string } } {
  const res = spawnSync(process.execPath, [BIN, ...args, '--json'], {
    encoding: 'utf8',
    timeout: 60_000,
    cwd,
  });
  let error = { code: '', message: res.stderr };
  try {
    // The JSON error is the last line (a warning, e.g. autolog's, may come before it).
    error = JSON.parse(res.stderr.trim().split('\n').pop() ?? '').error;
  } catch {
    // not JSON: left as raw text so the assertion shows it
  }
  return { code: res.status, error };
}

test('a store on a read-only disk: STORE_UNAVAILABLE saying it is read-only, exit 5', () => {
  const mnt = tmpfs('16m');
  expect(cellar(['--store', mnt, 'demo', '--train-only', '--rows', '200']).code).toBe(0);
  expect(spawnSync('mount', ['-o', 'remount,ro', mnt]).status).toBe(0);
  for (const args of [
    ['demo', '--train-only', '--rows', '200'],
    ['runs', 'list'],
  ]) {
    const r = cellar(['--store', mnt, ...args]);
    expect(r.code).toBe(5);
    expect(r.error.code).toBe('STORE_UNAVAILABLE');
    expect(r.error.message).toMatch(/read-only.*writable/);
  }
}, 120_000);

test('a full disk: RESOURCE_EXHAUSTED from the SDK (artifact and metrics) and the CLI, and nothing partial', async () => {
  const mnt = tmpfs('4m');
  const store = openStore(mnt);
  const run = await store.startRun({ experiment: 'full' });
  writeFileSync(join(mnt, 'filler'), Buffer.alloc(3 * 1024 * 1024 + 512 * 1024));
  const big = Buffer.alloc(1024 * 1024, 7);
  const e1 = await run.logArtifact({ name: 'big.bin', data: big }).catch((e: unknown) => e);
  expect(isCellarError(e1, 'RESOURCE_EXHAUSTED')).toBe(true);
  expect((e1 as Error).message).toMatch(/full.*Free some space/);
  expect(await store.tracking.listArtifacts(run.id)).toEqual([]);
  let e2: unknown = null;
  for (let i = 0; i < 200 && e2 === null; i++) {
    const points = Array.from({ length: 2000 }, (_, j) => ({ key: `m${i}`, value: j, step: j }));
    e2 = await run.logMetrics(points).then(
      () => null,
      (e: unknown) => e,
    );
  }
  expect(isCellarError(e2, 'RESOURCE_EXHAUSTED')).toBe(true);
  store.close();
  const r = cellar(['--store', mnt, 'demo', '--train-only', '--rows', '200']);
  expect(r.code).toBe(5);
  expect(r.error.code).toBe('RESOURCE_EXHAUSTED');
}, 120_000);

test('damaged pages: STORE_CORRUPT from the CLI, naming what to do', async () => {
  const dir = makeTmp();
  expect(cellar(['--store', dir, 'demo', '--train-only', '--rows', '2000']).code).toBe(0);
  const db = join(dir, '.cellar', 'cellar.db');
  for (const side of ['-wal', '-shm']) rmSync(`${db}${side}`, { force: true });
  const bytes = readFileSync(db);
  bytes.fill(0x5a, 4096, bytes.length); // every page after the first (the header stays valid)
  writeFileSync(db, bytes);
  const r = cellar(['--store', dir, 'runs', 'list']);
  expect(r.code).toBe(5);
  expect(r.error.code).toBe('STORE_CORRUPT');
  expect(r.error.message).toMatch(/cellar store check/);
}, 120_000);

test('a WAL deleted under a running process: STORE_UNAVAILABLE for the next command, exit 5', async () => {
  const dir = makeTmp();
  const script = join(REPO_ROOT, 'tests', 'fixtures', 'procs', 'run-lifecycle.mjs');
  const child = spawn(process.execPath, [script, builtEntry(), dir, 'wait'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', () => resolve());
      child.on('exit', () => reject(new Error('child exited early')));
    });
    const db = join(dir, '.cellar', 'cellar.db');
    expect(existsSync(`${db}-wal`)).toBe(true);
    rmSync(`${db}-wal`);
    rmSync(`${db}-shm`);
    const r = cellar(['--store', dir, 'runs', 'list']);
    expect(r.code).toBe(5);
    expect(r.error.code).toBe('STORE_UNAVAILABLE');
    expect(r.error.message).toMatch(/cellar\.db-wal.*deleted/);
    expect(r.error.message).toContain(String(child.pid));
  } finally {
    child.kill('SIGKILL');
  }
}, 120_000);

test.each([
  [
    'a dangling symlink',
    (project: string) => symlinkSync(join(project, 'gone'), join(project, '.cellar')),
    /missing folder/,
  ],
  ['a symlink loop', (project: string) => symlinkSync('.cellar', join(project, '.cellar')), /loop/],
])(
  '.cellar as %s: STORE_UNAVAILABLE naming the link, found by search and by --store',
  (_, make, why) => {
    const project = join(makeTmp(), 'project');
    mkdirSync(project);
    make(project);
    for (const r of [
      cellar(['runs', 'list'], project),
      cellar(['--store', join(project, '.cellar'), 'runs', 'list']),
    ]) {
      expect(r.code).toBe(5);
      expect(r.error.code).toBe('STORE_UNAVAILABLE');
      expect(r.error.message).toMatch(why);
      expect(r.error.message).toContain(join(project, '.cellar'));
    }
  },
  120_000,
);
