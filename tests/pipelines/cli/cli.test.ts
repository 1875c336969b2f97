/** The `cellar` command: init, runs, models, demo, --json everywhere, --help, and exit codes. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../../pipelines/cli/main.js';
import { EXIT } from '../../../pipelines/cli/output.js';
import { cleanupTmp, makeTmp, REPO_ROOT } from '../../helpers/tmp.js';

afterEach(cleanupTmp);

async function cellar(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

test('init creates the store; demo trains, logs, registers and prints metrics and the run id', async () => {
  const dir = makeTmp();
  const init = await cellar('init', dir);
  expect(init.code).toBe(0);
  expect(existsSync(join(dir, '.cellar', 'cellar.db'))).toBe(true);
  const demo = await cellar('--store', dir, 'demo', '--train-only', '--rows', '2000', '--json');
  expect(demo.code).toBe(0);
  const result = JSON.parse(demo.out);
  expect(result.runId).toMatch(/^[0-9a-f]{32}$/);
  expect(result.model).toMatchObject({ name: 'driver', version: 1, alias: 'champion' });
  for (const k of ['rmse', 'mae', 'r2']) expect(Number.isFinite(result.metrics[k])).toBe(true);
  expect(result.metrics.rmse).toBeGreaterThan(0);
  expect(result.metrics.rmse).toBeLessThan(1);

  const list = await cellar('--store', dir, 'runs', 'list', '--json');
  expect(list.code).toBe(0);
  const runs = JSON.parse(list.out).runs;
  expect(runs).toHaveLength(1);
  expect(runs[0]).toMatchObject({
    id: result.runId,
    status: 'FINISHED',
    params: { alpha: '0.5', l1_ratio: '0.1' },
  });
  const text = await cellar('--store', dir, 'runs', 'list', '--experiment', 'driver-demo');
  expect(text.out).toContain(result.runId);
  expect(text.out).toContain('FINISHED');

  const show = await cellar('--store', dir, 'runs', 'show', result.runId, '--json');
  const shown = JSON.parse(show.out);
  expect(shown.artifacts.map((a: { path: string }) => a.path)).toContain('model/model.json');
  expect(shown.metrics.test_rmse).toBeCloseTo(result.metrics.rmse, 12);
  expect((await cellar('--store', dir, 'runs', 'show', result.runId)).out).toContain('l1_ratio');

  const models = JSON.parse((await cellar('--store', dir, 'models', 'list', '--json')).out);
  expect(models).toEqual([
    expect.objectContaining({ name: 'driver', latestVersion: 1, aliases: { champion: 1 } }),
  ]);
  const model = JSON.parse((await cellar('--store', dir, 'models', 'show', 'driver', '--json')).out);
  expect(model.versions).toHaveLength(1);

  // a second demo run makes version 2; the alias moves only when asked
  await cellar('--store', dir, 'demo', '--train-only', '--rows', '500', '--seed', '7', '--json');
  expect((await cellar('--store', dir, 'models', 'alias', 'driver', 'staging', '1')).code).toBe(0);
  const after = JSON.parse((await cellar('--store', dir, 'models', 'list', '--json')).out);
  expect(after[0].aliases).toEqual({ champion: 2, staging: 1 });
  expect((await cellar('--store', dir, 'models', 'alias', 'driver', 'staging', '--delete')).code).toBe(0);

  const filtered = JSON.parse(
    (
      await cellar(
        '--store',
        dir,
        'runs',
        'list',
        '--filter',
        "params.seed = '7' or metrics.test_rmse < 0",
        '--json',
      )
    ).out,
  );
  expect(filtered.runs).toHaveLength(1);
  const exps = JSON.parse((await cellar('--store', dir, 'experiments', '--json')).out);
  expect(exps.map((e: { name: string }) => e.name)).toEqual(['Default', 'driver-demo']);
});

test('exit codes scripts can use, and clear messages', async () => {
  const dir = makeTmp();
  await cellar('init', dir);
  const missing = await cellar('--store', dir, 'runs', 'show', 'ffffffffffffffffffffffffffffffff');
  expect(missing.code).toBe(EXIT.NOT_FOUND);
  expect(missing.err).toContain('No run with id');
  const badFilter = await cellar('--store', dir, 'runs', 'list', '--filter', 'metrics.rmse <<');
  expect(badFilter.code).toBe(EXIT.USAGE);
  expect(badFilter.err).toContain('INVALID_FILTER');
  const badJson = await cellar('--store', dir, 'models', 'show', 'nope', '--json');
  expect(badJson.code).toBe(EXIT.NOT_FOUND);
  expect(JSON.parse(badJson.err).error.code).toBe('NOT_FOUND');
  expect((await cellar('--store', dir, 'models', 'alias', 'nope', 'champion', '1')).code).toBe(
    EXIT.NOT_FOUND,
  );
  expect((await cellar('--store', dir, 'models', 'alias', 'nope', 'champion', 'x')).code).toBe(EXIT.USAGE);
  expect((await cellar('--store', dir, 'runs', 'list', '--max', '-3')).code).toBe(EXIT.USAGE);
  expect((await cellar('no-such-command')).code).toBe(EXIT.USAGE);
  expect((await cellar('runs', 'list', '--bogus')).code).toBe(EXIT.USAGE);
});

test('--help works on every command', async () => {
  for (const args of [
    [],
    ['runs'],
    ['runs', 'list'],
    ['runs', 'show'],
    ['models'],
    ['models', 'list'],
    ['models', 'show'],
    ['models', 'alias'],
    ['init'],
    ['demo'],
    ['experiments'],
  ]) {
    const res = await cellar(...args, '--help');
    expect([args.join(' '), res.code]).toEqual([args.join(' '), 0]);
    expect(res.out).toMatch(/Usage: cellar/);
  }
  expect((await cellar('--help')).out).toContain('Exit codes');
});

test('the installed bin runs the built CLI as a separate process', () => {
  const dir = makeTmp();
  const bin = join(REPO_ROOT, 'bin', 'cellar.cjs');
  const ok = spawnSync(process.execPath, [bin, '--store', dir, 'runs', 'list', '--json'], {
    encoding: 'utf8',
  });
  expect(ok.status).toBe(0);
  expect(JSON.parse(ok.stdout)).toEqual({ runs: [], nextPageToken: null });
  const nf = spawnSync(process.execPath, [bin, '--store', dir, 'models', 'show', 'x'], { encoding: 'utf8' });
  expect(nf.status).toBe(EXIT.NOT_FOUND);
  expect(nf.stderr).toContain('No registered model named "x"');
});
