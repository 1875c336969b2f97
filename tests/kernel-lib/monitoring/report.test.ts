/**
 * Monitoring end to end on a real store: autolog records reference statistics at fit time, registerModel
 * copies them to the version, logged predictions drift (or not), labels give live metrics, and the report
 * renders as text, HTML and a notebook bundle.
 */
import {
  ElasticNet,
  activeRun,
  endRun,
  getReferenceStats,
  getStore,
  logLabels,
  logPredictions,
  monitorReport,
  registerModel,
  useStore,
  withRun,
  evaluate,
  type PredictionRow,
} from '../../../kernel-lib/index.js';
import { mulberry32 } from '../../../kernel-lib/ml/random.js';
import { errorCodeOf as code } from '../../helpers/errors.js';
import { cleanupTmp, makeTmp } from '../../helpers/tmp.js';

const FEATURES = ['conv_rate', 'acc_rate', 'avg_daily_trips'] as const;

function rows(n: number, seed: number, shift = 0): Array<Record<string, number>> {
  const rand = mulberry32(seed);
  return Array.from({ length: n }, () => ({
    conv_rate: rand() + shift,
    acc_rate: 0.5 + 0.5 * rand(),
    avg_daily_trips: Math.floor(rand() * 1000),
  }));
}

const target = (r: Record<string, number>): number =>
  0.2 * r.conv_rate! + 0.3 * r.acc_rate! + 0.0004 * r.avg_daily_trips!;

async function trainAndRegister(): Promise<{ model: ElasticNet; runId: string }> {
  const train = rows(2000, 1);
  let runId = '';
  const model = await withRun({ experiment: 'driver-training' }, async (run) => {
    runId = run.id;
    const m = new ElasticNet({ alpha: 0.001, l1Ratio: 0.1 }).fit(train, train.map(target));
    const test = rows(300, 9);
    await evaluate(m, test, test.map(target));
    return m;
  });
  await registerModel({ name: 'driver', runId, alias: 'champion' });
  return { model, runId };
}

function served(model: ElasticNet, n: number, seed: number, shift: number, t0: number): PredictionRow[] {
  const feats = rows(n, seed, shift);
  const preds = model.predict(feats);
  return feats.map((f, i) => ({
    ts: t0 + i,
    model: 'driver',
    version: 1,
    requestId: `r${seed}-${i}`,
    features: f,
    entityKeys: { driver_id: 1000 + (i % 50) },
    prediction: preds[i]!,
  }));
}

beforeEach(() => useStore(makeTmp()));
afterEach(async () => {
  while (activeRun()) await endRun('KILLED');
  getStore().close();
  cleanupTmp();
});

test('registering an autologged model records reference statistics of its training data', async () => {
  await trainAndRegister();
  const ref = await getReferenceStats('driver@champion');
  expect(ref).not.toBeNull();
  expect(ref!.nRows).toBe(2000);
  expect(Object.keys(ref!.features).sort()).toEqual([...FEATURES].sort());
  const conv = ref!.features.conv_rate!;
  if (conv.kind !== 'numeric') throw new Error('conv_rate should be numeric');
  const values = rows(2000, 1).map((r) => r.conv_rate!);
  expect(conv.count).toBe(2000);
  expect(conv.nulls).toBe(0);
  expect(conv.mean).toBeCloseTo(values.reduce((s, v) => s + v, 0) / 2000, 12);
  expect(conv.min).toBe(Math.min(...values));
  expect(conv.histogram.counts.reduce((s, v) => s + v, 0)).toBe(2000);
  expect(conv.psi.counts.reduce((s, v) => s + v, 0)).toBe(2000);
  expect(ref!.prediction?.count).toBe(2000);
  // recorded in the version's table, not only the run artifact
  const row = getStore()
    .embedded.db.prepare('SELECT run_id FROM model_reference_stats WHERE name = ? AND version = ?')
    .get('driver', 1) as { run_id: string } | undefined;
  expect(row?.run_id).toBeTruthy();
});

test('a shifted feature is reported as drifted; unchanged ones are not; labels give live metrics', async () => {
  const { model } = await trainAndRegister();
  const t0 = Date.now() - 60_000;
  const logged = served(model, 3000, 2, 0, t0);
  // conv_rate of the newest 1500 requests is shifted by +0.5
  const shifted = served(model, 1500, 3, 0.5, t0 + 10_000);
  await logPredictions([...logged, ...shifted]);
  await logLabels(
    logged
      .slice(0, 400)
      .map((r) => ({ requestId: r.requestId, label: target(r.features as Record<string, number>) + 0.01 })),
  );
  await logLabels([{ entityKeys: { driver_id: 1000 + (2999 % 50) }, ts: t0 + 2999 + 5, label: 0.42 }]);

  const report = await monitorReport({ model: 'driver@champion' });
  const d = report.data;
  expect(d.rows).toBe(4500);
  const conv = d.features.find((f) => f.name === 'conv_rate')!;
  const acc = d.features.find((f) => f.name === 'acc_rate')!;
  expect(conv.drifted).toBe(true);
  expect(conv.psi!).toBeGreaterThan(0.2);
  expect(conv.ks!.pValue).toBeLessThan(1e-6);
  expect(conv.outOfRange!).toBeCloseTo((1500 * 0.5) / 4500, 1);
  expect(acc.drifted).toBe(false);
  expect(acc.psi!).toBeLessThan(0.05);
  expect(d.drifted).toContain('conv_rate');
  expect(d.performance?.n).toBe(401);
  expect(d.performance!.training.test_rmse).toBeGreaterThan(0);
  expect(d.performance!.rmse).toBeGreaterThan(0);

  // the window: only the unshifted requests
  const before = await monitorReport({ model: 'driver/1', until: t0 + 5000 });
  expect(before.data.rows).toBe(3000);
  expect(before.data.features.find((f) => f.name === 'conv_rate')!.drifted).toBe(false);

  const text = report.toText();
  expect(text).toContain('conv_rate');
  expect(text).toMatch(/DRIFT: .*conv_rate/);
  const html = report.toHtml();
  expect(html).toContain('Plotly.newPlot');
  expect(html).not.toMatch(/<script[^>]+src=/);
  expect(html).not.toMatch(/<link\b/);
  expect(html).toContain("default-src 'none'");
  const bundle = report.bundle();
  expect(bundle['text/html']).toContain('<svg');
  expect(JSON.parse(JSON.stringify(report))).toEqual(JSON.parse(JSON.stringify(d)));
});

test('clear errors: unknown model, version without reference statistics, bad window, bad rows', async () => {
  await expect(monitorReport({ model: 'nope@champion' })).rejects.toThrow();
  expect(await code(monitorReport({ model: 'nope@champion' }))).toBe('NOT_FOUND');
  await trainAndRegister();
  expect(await code(monitorReport({ model: 'driver@champion', since: 'yesterday' }))).toBe(
    'INVALID_PARAMETER',
  );
  expect(await code(logPredictions([{ model: 'driver' } as unknown as PredictionRow]))).toBe('INVALID_INPUT');
  expect(await code(logLabels([{ label: 1 }]))).toBe('INVALID_INPUT');
  expect(await code(logLabels([{ entityKeys: { driver_id: 1 }, ts: '2026-01-01 00:00', label: 1 }]))).toBe(
    'INVALID_INPUT',
  );
  // a version registered from a run without autolog has no reference statistics
  const json = (await getStore().loadModel('models:/driver/1')).json;
  let runId = '';
  await withRun({}, async (run) => {
    runId = run.id;
    await run.logArtifact({ name: 'model/model.json', data: JSON.stringify(json), kind: 'model' });
  });
  await registerModel({ name: 'bare', runId });
  expect(await code(monitorReport({ model: 'bare/1' }))).toBe('INVALID_STATE');
});
