/**
 * `cellar monitor`, `cellar promote` and `cellar ci init` as a CI system calls them: real child processes of
 * the built CLI on a real store, checking output, files and exit codes.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { driverTrainingData } from '../../../kernel-lib/data/synthetic.js';
import { writeCsv } from '../../../kernel-lib/data/io.js';
import { logLabels, logPredictions } from '../../../kernel-lib/monitoring/sdk.js';
import { closeAllEmbedded } from '../../../kernel-lib/store/open.js';
import { openStore } from '../../../kernel-lib/sdk.js';
import { cleanupTmp, makeTmp, REPO_ROOT } from '../../helpers/tmp.js';

const BIN = join(REPO_ROOT, 'bin', 'cellar.cjs');
const FEATURES = ['conv_rate', 'acc_rate', 'avg_daily_trips'] as const;

function cellar(dir: string, ...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, '--store', dir, ...args], { encoding: 'utf8', cwd: dir });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

afterEach(() => {
  closeAllEmbedded();
  cleanupTmp();
});

async function servedPredictions(dir: string, shift: number, n: number, t0: number): Promise<void> {
  const store = openStore(dir);
  const model = await store.loadModel('models:/driver@champion');
  const rows = driverTrainingData({ rows: n, seed: 42 }); // the demo's population: no drift unless shifted
  const feats = rows.map((r) => ({
    conv_rate: r.conv_rate + shift,
    acc_rate: r.acc_rate,
    avg_daily_trips: r.avg_daily_trips,
  }));
  const preds = model.predict(feats);
  await logPredictions(
    feats.map((f, i) => ({
      ts: t0 + i,
      model: 'driver',
      version: model.version!,
      requestId: `req-${shift}-${i}`,
      features: f,
      entityKeys: { driver_id: rows[i]!.driver_id },
      prediction: preds[i]!,
    })),
    { store },
  );
  await logLabels(
    rows.slice(0, 200).map((r, i) => ({ requestId: `req-${shift}-${i}`, label: r.trip_completed })),
    { store },
  );
  store.close();
}

test('cellar monitor prints the drift table, --json, --html and --fail-on-drift exit code 7', async () => {
  const dir = makeTmp();
  expect(cellar(dir, 'demo', '--train-only', '--rows', '3000').code).toBe(0);
  const t0 = Date.now() - 3_600_000;
  await servedPredictions(dir, 0, 1500, t0);
  await servedPredictions(dir, 0.4, 1500, t0 + 1_800_000);

  const all = cellar(dir, 'monitor', 'driver@champion', '--json', '--html', join(dir, 'out', 'report.html'));
  expect(all.code).toBe(0);
  const report = JSON.parse(all.out);
  expect(report.rows).toBe(3000);
  expect(report.drifted).toContain('conv_rate');
  expect(report.features.map((f: { name: string }) => f.name).sort()).toEqual([...FEATURES].sort());
  expect(report.performance.n).toBe(400);
  const html = readFileSync(join(dir, 'out', 'report.html'), 'utf8');
  expect(html).toContain('Plotly.newPlot');
  expect(html).not.toMatch(/<script[^>]+src=/);

  const recent = cellar(dir, 'monitor', 'driver@champion', '--since', '45m');
  expect(recent.code).toBe(0);
  expect(recent.out).toMatch(/1500 logged predictions/);
  expect(recent.out).toMatch(/^FEATURE\s+KIND\s+PSI/m);
  expect(recent.out).toMatch(/conv_rate\s+numeric.*YES/);

  const early = cellar(
    dir,
    'monitor',
    'driver/1',
    '--until',
    new Date(t0 + 1_000_000).toISOString(),
    '--fail-on-drift',
  );
  expect(early.code).toBe(0);
  expect(early.out).not.toMatch(/conv_rate\s+numeric.*YES/);
  expect(cellar(dir, 'monitor', 'driver@champion', '--fail-on-drift').code).toBe(7);

  expect(cellar(dir, 'monitor', 'nope@champion').code).toBe(3);
  expect(cellar(dir, 'monitor', 'driver@champion', '--since', 'last tuesday').code).toBe(2);
});

test('cellar promote moves @champion only when the candidate wins on the same held-out data (exit 0 / 6)', () => {
  const dir = makeTmp();
  expect(cellar(dir, 'demo', '--train-only', '--rows', '2000', '--seed', '1').code).toBe(0);
  expect(cellar(dir, 'demo', '--train-only', '--rows', '300', '--seed', '2').code).toBe(0); // v2, now @champion
  const holdout = join(dir, 'holdout.csv');
  writeCsv(
    driverTrainingData({ rows: 1500, seed: 77 }) as unknown as Array<Record<string, unknown>>,
    holdout,
  );

  // which version is better on the hold-out? ask without moving anything
  const dry = cellar(dir, 'promote', 'driver', '--candidate', '1', '--on', holdout, '--dry-run', '--json');
  expect(dry.code).toBe(6);
  const cmp = JSON.parse(dry.out);
  expect(cmp.basis).toBe('held-out data');
  expect(cmp.rows).toBe(1500);
  expect(cmp.champion.version).toBe(2);
  const v1Better = cmp.candidate.value < cmp.champion.value;
  const [better, worse] = v1Better ? [1, 2] : [2, 1];
  const champion = (): number =>
    JSON.parse(cellar(dir, 'models', 'list', '--json').out)[0].aliases.champion as number;

  if (worse !== 2) {
    // make the worse version the champion first (a plain alias move), so the better one can challenge it
    expect(cellar(dir, 'models', 'alias', 'driver', 'champion', String(worse)).code).toBe(0);
  }
  expect(cellar(dir, 'models', 'alias', 'driver', 'challenger', String(worse)).code).toBe(0);
  const lose = cellar(
    dir,
    'promote',
    'driver',
    '--candidate',
    '@challenger',
    '--metric',
    'test_rmse',
    '--on',
    holdout,
  );
  expect(lose.code).toBe(6);
  expect(lose.out).toContain('NOT PROMOTED');
  expect(champion()).toBe(worse);

  expect(cellar(dir, 'models', 'alias', 'driver', 'challenger', String(better)).code).toBe(0);
  const tooHigh = cellar(
    dir,
    'promote',
    'driver',
    '--candidate',
    '@challenger',
    '--on',
    holdout,
    '--by',
    '500%',
  );
  expect(tooHigh.code).toBe(6);
  expect(champion()).toBe(worse);

  const win = cellar(
    dir,
    'promote',
    'driver',
    '--candidate',
    '@challenger',
    '--metric',
    'test_rmse',
    '--must-beat',
    'champion',
    '--on',
    holdout,
    '--json',
  );
  expect(win.code).toBe(0);
  const res = JSON.parse(win.out);
  expect(res.promoted).toBe(true);
  expect(champion()).toBe(better);
  // the comparison is a run
  const runs = JSON.parse(
    cellar(dir, 'runs', 'list', '--experiment', 'cellar-promotions', '--json').out,
  ).runs;
  expect(runs.length).toBe(4);
  expect(runs.find((r: { id: string }) => r.id === res.runId).tags['cellar.promotion.decision']).toBe(
    'promoted',
  );

  expect(cellar(dir, 'promote', 'driver', '--candidate', 'x', '--on', holdout).code).toBe(2);
  expect(cellar(dir, 'promote', 'driver', '--candidate', '1', '--metric', 'accuracy').code).toBe(2);
});

test('cellar ci init writes a GitHub, GitLab or Jenkins pipeline that trains and promotes', () => {
  const dir = makeTmp();
  for (const [flag, file] of [
    ['--github', '.github/workflows/cellar.yml'],
    ['--gitlab', '.gitlab-ci.yml'],
    ['--jenkins', 'Jenkinsfile'],
  ] as const) {
    const r = cellar(dir, 'ci', 'init', flag, '--dir', dir, '--on', 'data/holdout.parquet');
    expect(r.code).toBe(0);
    const text = readFileSync(join(dir, file), 'utf8');
    expect(text).toContain('npx cellar pipelines run driver-training');
    expect(text).toContain(
      'npx cellar promote driver --candidate latest --metric test_rmse --must-beat champion --by 1% --on data/holdout.parquet',
    );
    expect(cellar(dir, 'ci', 'init', flag, '--dir', dir).code).toBe(4);
  }
  expect(existsSync(join(dir, '.github', 'workflows', 'cellar.yml'))).toBe(true);
  expect(cellar(dir, 'ci', 'init', '--dir', dir).code).toBe(2);
});
