/** `cellar features materialize|materialize-incremental|online`: the online store from the terminal. */
import { readFileSync } from 'node:fs';
import { main } from '../../../pipelines/cli/main.js';
import { EXIT } from '../../../pipelines/cli/output.js';
import { cleanupTmp, makeTmp } from '../../helpers/tmp.js';

afterEach(cleanupTmp);

async function cellar(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

test('demo data → apply → materialize → online values with statuses', async () => {
  const dir = makeTmp();
  const day = 86_400_000;
  const start = new Date(Math.floor((Date.now() - 10 * day) / day) * day).toISOString();
  const data = await cellar(
    '--store',
    dir,
    'demo-data',
    '--out',
    `${dir}/data`,
    '--start',
    start,
    '--days',
    '10',
    '--drivers',
    '3',
    '--json',
  );
  expect(data.code).toBe(0);
  expect((await cellar('--store', dir, 'features', 'apply', `${dir}/data/features.json`)).code).toBe(0);
  const end = new Date().toISOString();
  const tooLate = new Date(Date.now() + day).toISOString();
  const future = await cellar('--store', dir, 'features', 'materialize', '--start', start, '--end', tooLate);
  expect(future.code).toBe(EXIT.USAGE);
  const mat = await cellar(
    '--store',
    dir,
    'features',
    'materialize',
    '--start',
    start,
    '--end',
    end,
    '--json',
  );
  expect(mat.code).toBe(0);
  expect(JSON.parse(mat.out)).toEqual([expect.objectContaining({ view: 'driver_stats', rows: 3 })]);
  const again = await cellar('--store', dir, 'features', 'materialize-incremental', '--end', end, '--json');
  expect(again.code).toBe(0);
  const online = await cellar(
    '--store',
    dir,
    'features',
    'online',
    '--features',
    'driver_stats:conv_rate',
    '--entity',
    'driver_id=1001',
    '--json',
  );
  expect(online.code).toBe(0);
  const res = JSON.parse(online.out);
  expect(res.fieldNames).toEqual(['driver_id', 'conv_rate']);
  expect(res.results[1].statuses).toEqual(['PRESENT']);
  expect(typeof res.results[1].values[0]).toBe('number');
  const missing = await cellar(
    '--store',
    dir,
    'features',
    'online',
    '--features',
    'driver_activity',
    '--entity',
    'driver_id=4242',
    '--json',
  );
  expect(JSON.parse(missing.out).results[1].statuses).toEqual(['NOT_FOUND']);
  const bad = await cellar(
    '--store',
    dir,
    'features',
    'online',
    '--features',
    'nope:x',
    '--entity',
    'driver_id=1',
  );
  expect(bad.code).toBe(EXIT.USAGE);
  expect(
    (
      await cellar(
        '--store',
        dir,
        'features',
        'online',
        '--features',
        'driver_stats:conv_rate',
        '--entity',
        'oops',
      )
    ).code,
  ).toBe(EXIT.USAGE);
});

test("the README's online example with default demo data gives fresh PRESENT values (no --end anywhere)", async () => {
  const dir = makeTmp();
  const data = `${dir}/data`;
  const made = await cellar(
    '--store',
    dir,
    'demo-data',
    '--out',
    data,
    '--drivers',
    '3',
    '--days',
    '3',
    '--json',
  );
  expect(made.code).toBe(0);
  const manifest = JSON.parse(readFileSync(JSON.parse(made.out).manifest, 'utf8'));
  const hour = 3_600_000;
  const nowHour = Math.floor(Date.now() / hour) * hour; // the data ends at the current hour (or the one before, at a turn)
  expect([nowHour, nowHour - hour]).toContain(Date.parse(manifest.lastStatsHour));
  expect((await cellar('--store', dir, 'features', 'apply', `${data}/features.json`)).code).toBe(0);
  const mat = await cellar('--store', dir, 'features', 'materialize-incremental', '--json');
  expect(mat.code).toBe(0);
  expect(JSON.parse(mat.out)).toEqual([expect.objectContaining({ view: 'driver_stats', rows: 3 })]);
  const online = await cellar(
    '--store',
    dir,
    'features',
    'online',
    '--features',
    'driver_activity',
    '--entity',
    'driver_id=1001',
    '--json',
  );
  expect(online.code).toBe(0);
  const res = JSON.parse(online.out) as { results: Array<{ statuses: string[]; values: unknown[] }> };
  for (const r of res.results.slice(1)) {
    expect(r.statuses).toEqual(['PRESENT']);
    expect(typeof r.values[0]).toBe('number');
  }
  // the same anchor gives the same rows
  const again = await cellar(
    'demo-data',
    '--out',
    `${dir}/again`,
    '--drivers',
    '3',
    '--days',
    '3',
    '--end',
    manifest.lastStatsHour,
    '--json',
  );
  expect(again.code).toBe(0);
  expect(readFileSync(`${dir}/again/driver_stats.parquet`)).toEqual(
    readFileSync(`${data}/driver_stats.parquet`),
  );
}, 120_000);
