/**
 * Logging a folder is all or nothing: the whole folder is checked before anything is recorded, names that
 * merely start with ".." are ordinary files, and only symlinks leading out of the folder are refused.
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openStore } from '../../../kernel-lib/sdk.js';
import { cleanupTmp, makeTmp } from '../../helpers/tmp.js';

afterEach(cleanupTmp);

test('a bad name midway leaves nothing logged from the folder', async () => {
  const dir = makeTmp();
  const folder = join(dir, 'plots');
  mkdirSync(folder);
  writeFileSync(join(folder, 'a.txt'), 'a');
  writeFileSync(join(folder, 'b\\c.txt'), 'backslash'); // a legal file name, not a legal artifact path
  writeFileSync(join(folder, 'z.txt'), 'z');
  const store = openStore(join(dir, 'store'));
  const run = await store.startRun({ experiment: 'folders' });
  await expect(run.logArtifact(folder)).rejects.toMatchObject({ code: 'INVALID_PATH' });
  expect(await store.tracking.listArtifacts(run.id)).toEqual([]);
  await run.end();
  store.close();
});

test('a symlink leaving the folder is refused before anything is logged', async () => {
  const dir = makeTmp();
  const folder = join(dir, 'out');
  mkdirSync(folder);
  writeFileSync(join(folder, 'a.txt'), 'a');
  writeFileSync(join(dir, 'secret.txt'), 'secret');
  symlinkSync(join(dir, 'secret.txt'), join(folder, 'b-link.txt'));
  const store = openStore(join(dir, 'store'));
  const run = await store.startRun({ experiment: 'folders' });
  await expect(run.logArtifact(folder)).rejects.toMatchObject({ code: 'INVALID_PATH' });
  expect(await store.tracking.listArtifacts(run.id)).toEqual([]);
  await run.end();
  store.close();
});

test('files named "..hidden" and symlinks that stay inside the folder are logged', async () => {
  const dir = makeTmp();
  const folder = join(dir, 'out');
  mkdirSync(join(folder, 'sub'), { recursive: true });
  writeFileSync(join(folder, '..hidden'), 'h');
  writeFileSync(join(folder, 'sub', '..x..'), 'x');
  writeFileSync(join(folder, 'sub', 'real.txt'), 'r');
  symlinkSync(join(folder, 'sub', 'real.txt'), join(folder, 'inner-link.txt'));
  const store = openStore(join(dir, 'store'));
  const run = await store.startRun({ experiment: 'folders' });
  const logged = await run.logArtifact(folder, 'data');
  expect(logged.map((a) => a.path).sort()).toEqual([
    'data/..hidden',
    'data/inner-link.txt',
    'data/sub/..x..',
    'data/sub/real.txt',
  ]);
  expect((await store.tracking.readArtifact(run.id, 'data/..hidden')).toString()).toBe('h');
  expect((await store.tracking.listArtifacts(run.id)).map((a) => a.path)).toHaveLength(4);
  await run.end();
  store.close();
});
