/** `cellar scheduler` backs the store up on its schedule and keeps the newest N (real process, real files). */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { openStore } from '../../../kernel-lib/sdk.js';
import { checkDatabaseAt } from '../../../kernel-lib/store/backup.js';
import { cleanupTmp, makeTmp, REPO_ROOT } from '../../helpers/tmp.js';

afterEach(cleanupTmp);

test('the scheduler takes a backup when none is recent, keeps N, and each backup is a sound database', async () => {
  const dir = makeTmp();
  const store = openStore(dir);
  const run = await store.startRun({ experiment: 'backed-up' });
  await run.end();
  store.close();
  const backups = join(dir, '.cellar', 'backups');
  const child = spawn(
    process.execPath,
    [
      join(REPO_ROOT, 'bin', 'cellar.cjs'),
      '--store',
      dir,
      'scheduler',
      '--backup-every',
      '1',
      '--backup-keep',
      '1',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    while (!/backup \S+\.db/.test(out)) {
      if (child.exitCode !== null) throw new Error(`the scheduler exited early: ${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    child.kill('SIGTERM');
  }
  expect(await exited).toBe(0);
  const files = readdirSync(backups).filter((f) => f.endsWith('.db'));
  expect(files).toHaveLength(1);
  expect(existsSync(join(backups, `${files[0]}.partial`))).toBe(false);
  const check = checkDatabaseAt(join(backups, files[0]!), true);
  expect(check.integrity).toEqual(['ok']);
  expect(check.db!.prepare("SELECT COUNT(*) FROM experiments WHERE name = 'backed-up'").pluck().get()).toBe(
    1,
  );
  check.db!.close();
}, 120_000);
