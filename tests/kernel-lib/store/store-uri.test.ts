/**
 * One parser for store URIs: `openStore`, `useStore` and `featureStore` take what CELLAR_URI takes (a
 * directory, `sqlite:<dir>`, `sqlite:///path/cellar.db`) and refuse what they cannot open with a CellarError —
 * never a folder named `postgres:` in the working directory.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { featureStore, openStore, useStore } from '../../../kernel-lib/index.js';
import { closeAllEmbedded } from '../../../kernel-lib/store/open.js';
import { errorCodeOfSync as errorCode } from '../../helpers/errors.js';
import { cleanupTmp, makeTmp } from '../../helpers/tmp.js';

let cwd: string;
const savedCwd = process.cwd();
beforeEach(() => {
  cwd = makeTmp();
  process.chdir(cwd);
});
afterEach(() => {
  process.chdir(savedCwd);
  closeAllEmbedded();
  cleanupTmp();
});

test('a directory, sqlite:<dir> and sqlite:///…/cellar.db name the same store, through every entry point', async () => {
  const project = join(cwd, 'proj');
  const first = openStore(project);
  const run = await first.startRun({ experiment: 'uri' });
  await run.end('FINISHED');
  const db = join(project, '.cellar', 'cellar.db');
  for (const uri of [project, `sqlite:${project}`, `sqlite://${db}`, `file:${project}`]) {
    expect(openStore(uri).root).toBe(join(project, '.cellar'));
    expect(useStore(uri).root).toBe(join(project, '.cellar'));
    expect((await openStore(uri).getRun(run.id)).status).toBe('FINISHED');
  }
  expect(featureStore(`sqlite:${project}`)).toBeDefined();
  expect(readdirSync(cwd)).toEqual(['proj']);
});

// http(s): URIs name a remote `cellar up` (the REST store, tests/pipelines/server); PostgreSQL is not a backend yet.
test('postgres: and unknown schemes are refused and create nothing in the working directory', () => {
  for (const uri of ['postgres://user@host/db', 'postgresql://u:pw@h:5432/db']) {
    expect(errorCode(() => openStore(uri))).toBe('UNSUPPORTED');
    expect(errorCode(() => useStore(uri))).toBe('UNSUPPORTED');
    expect(errorCode(() => featureStore(uri))).toBe('UNSUPPORTED');
  }
  expect(errorCode(() => openStore('mongodb://h/db'))).toBe('INVALID_PARAMETER');
  try {
    openStore('postgres://user:hunter2@host/db');
  } catch (e) {
    expect((e as Error).message).toContain('does not provide yet');
    expect((e as Error).message).not.toContain('hunter2');
  }
  expect(readdirSync(cwd)).toEqual([]);
});
