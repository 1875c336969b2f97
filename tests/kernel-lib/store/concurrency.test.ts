/**
 * Several processes writing one store at once: every point lands, no "database is locked" reaches a
 * caller, and a brand-new store opened by many processes at the same moment is migrated exactly once.
 */
import { spawn } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openStore } from '../../../kernel-lib/sdk.js';
import { builtEntry, cleanupTmp, makeTmp, REPO_ROOT } from '../../helpers/tmp.js';

afterEach(cleanupTmp);

function run(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => resolve({ code, out, err }));
  });
}

test('4 processes logging 10,000 metric points each end with exactly 40,000 points', async () => {
  const dir = makeTmp();
  const store = openStore(dir);
  const exp = await store.tracking.getOrCreateExperiment('concurrency');
  const r = await store.tracking.createRun({ experimentId: exp.id });
  store.close();
  const script = join(REPO_ROOT, 'tests', 'fixtures', 'procs', 'log-metrics.mjs');
  const results = await Promise.all(
    [0, 1, 2, 3].map((w) => run([script, builtEntry(), dir, r.id, String(w), '10000', '50'])),
  );
  for (const res of results) {
    expect(res.err).toBe('');
    expect(res.code).toBe(0);
  }
  const again = openStore(dir);
  const count = again.embedded.db.prepare('SELECT COUNT(*) FROM metrics WHERE run_id = ?').pluck().get(r.id);
  expect(count).toBe(40_000);
  const latest = (await again.getRun(r.id)).metrics;
  expect(latest).toEqual({ w0: 4999.5, w1: 4999.5, w2: 4999.5, w3: 4999.5 });
  again.close();
}, 120_000);

test('many processes opening a new store at the same moment migrate it once', async () => {
  const dir = makeTmp();
  const go = join(dir, 'go');
  const script = join(REPO_ROOT, 'tests', 'fixtures', 'procs', 'open-store.mjs');
  const pending = [0, 1, 2, 3, 4, 5].map(() => run([script, builtEntry(), dir, go]));
  // Release them only once every process is loaded and polling, so they really open the store together.
  while (readdirSync(dir).filter((f) => f.startsWith('go.ready-')).length < pending.length) {
    await new Promise((r) => setTimeout(r, 5));
  }
  writeFileSync(go, '');
  const results = await Promise.all(pending);
  for (const res of results) {
    expect(res.err).toBe('');
    expect(JSON.parse(res.out)).toEqual({ experiments: 1 });
  }
  const store = openStore(dir);
  expect(store.embedded.db.pragma('user_version', { simple: true })).toBeGreaterThan(0);
  expect(
    store.embedded.db.prepare("SELECT COUNT(*) FROM experiments WHERE name = 'Default'").pluck().get(),
  ).toBe(1);
  store.close();
}, 60_000);
