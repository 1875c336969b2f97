/** The SDK as a notebook uses it: runs, autolog, evaluate, registry and model loading on the default store. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ElasticNet,
  LinearRegression,
  activeRun,
  autolog,
  endRun,
  evaluate,
  getRun,
  getStore,
  loadModel,
  openStore,
  registerModel,
  searchRuns,
  setAlias,
  startRun,
  trainTestSplit,
  useStore,
  withRun,
} from '../../../kernel-lib/index.js';
import { errorCodeOf as code } from '../../helpers/errors.js';
import { cleanupTmp, makeTmp } from '../../helpers/tmp.js';

function data(n = 200, seed = 1): { X: number[][]; y: number[] } {
  let s = seed;
  const rand = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  const X: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const row = [rand(), rand(), rand() * 10];
    X.push(row);
    y.push(2 * row[0]! - row[1]! + 0.3 * row[2]! + 0.1 * (rand() - 0.5));
  }
  return { X, y };
}

beforeEach(() => {
  useStore(makeTmp());
  autolog({ disable: false, logModels: true, logDatasets: true });
});
afterEach(async () => {
  while (activeRun()) await endRun('KILLED');
  getStore().close();
  cleanupTmp();
});

test('the course flow: fit inside a run is autologged, registered, aliased and loaded back', async () => {
  const { X, y } = data();
  const [Xtr, Xte, ytr, yte] = trainTestSplit(X, y, { testSize: 0.2, seed: 42 });
  let model!: ElasticNet;
  const runId = await withRun({ experiment: 'driver-training', runName: 'baseline' }, async (run) => {
    model = new ElasticNet({ alpha: 0.5, l1Ratio: 0.1 }).fit(Xtr, ytr);
    const m = await evaluate(model, Xte, yte);
    expect(Number.isFinite(m.rmse)).toBe(true);
    return run.id;
  });
  const run = await getRun(runId);
  expect(run.status).toBe('FINISHED');
  expect(run.runName).toBe('baseline');
  expect(run.params).toMatchObject({ alpha: '0.5', l1_ratio: '0.1' });
  expect(Object.keys(run.metrics).sort()).toEqual(
    ['test_mae', 'test_r2', 'test_rmse', 'training_mae', 'training_r2', 'training_rmse'].sort(),
  );
  expect(run.tags.estimator_name).toBe('ElasticNet');
  expect(run.tags['cellar.dataset.fingerprint']).toMatch(/^[0-9a-f]{64}$/);
  const inputs = await getStore().tracking.listInputs(runId);
  expect(inputs).toHaveLength(1);
  expect(inputs[0]).toMatchObject({ context: 'training', nRows: Xtr.length, nCols: 3 });

  const mv = await registerModel({ name: 'driver', runId });
  expect(mv).toMatchObject({ name: 'driver', version: 1 });
  await setAlias('driver', 'champion', mv.version);
  const expected = model.predict(Xte);
  for (const uri of [
    'models:/driver@champion',
    'models:/driver/1',
    'models:/driver/latest',
    `runs:/${runId}/model`,
  ]) {
    const loaded = await loadModel(uri);
    expect(loaded.predict(Xte)).toEqual(expected);
    expect(loaded.coef).toEqual(model.coef);
    expect(loaded.intercept).toBe(model.intercept);
  }
  const champion = await loadModel('models:/driver@champion');
  expect(champion).toMatchObject({ name: 'driver', version: 1, runId });

  const found = await searchRuns({
    experiment: 'driver-training',
    filter: "params.alpha = '0.5' and metrics.training_rmse < 10",
  });
  expect(found.map((r) => r.id)).toEqual([runId]);
  expect(found.nextPageToken).toBeNull();
});

test('named feature columns are recorded in the signature and matched by name at predict time', async () => {
  const { X, y } = data(100);
  const cols = { conv_rate: X.map((r) => r[0]!), acc_rate: X.map((r) => r[1]!), trips: X.map((r) => r[2]!) };
  const run = await startRun({ experiment: 'sig' });
  const model = new LinearRegression().fit(cols, y);
  await run.end();
  await registerModel({ name: 'lin', runId: run.id, alias: 'prod' });
  const loaded = await loadModel('models:/lin@prod');
  expect(loaded.signature.inputs.map((c) => c.name)).toEqual(['conv_rate', 'acc_rate', 'trips']);
  const reordered = { trips: cols.trips, conv_rate: cols.conv_rate, acc_rate: cols.acc_rate };
  expect(loaded.predict(reordered)).toEqual(model.predict(cols));
  expect(await code(async () => loaded.predict({ conv_rate: [1], trips: [2] }))).toBe('INVALID_INPUT');
});

test('withRun ends FAILED and re-throws when the body throws', async () => {
  let id = '';
  await expect(
    withRun({ experiment: 'fails' }, async (run) => {
      id = run.id;
      throw new Error('training blew up');
    }),
  ).rejects.toThrow('training blew up');
  expect((await getRun(id)).status).toBe('FAILED');
  expect(activeRun()).toBeNull();
});

test('one active run per process unless nested; nested runs record their parent', async () => {
  const parent = await startRun({ experiment: 'nest' });
  expect(await code(startRun({ experiment: 'nest' }))).toBe('INVALID_STATE');
  const child = await startRun({ nested: true, runName: 'child' });
  expect(activeRun()?.id).toBe(child.id);
  expect((await child.info()).parentRunId).toBe(parent.id);
  await child.end();
  expect(activeRun()?.id).toBe(parent.id);
  const explicit = await startRun({ experiment: 'nest', parentRunId: parent.id });
  await explicit.end();
  await parent.end('KILLED');
  expect((await getRun(parent.id)).status).toBe('KILLED');
  expect(await code(startRun({ nested: true }))).toBe('INVALID_STATE');
});

test('a second fit with other params in the same run goes to a nested child run', async () => {
  const { X, y } = data();
  const run = await startRun({ experiment: 'two-fits' });
  new ElasticNet({ alpha: 0.5, l1Ratio: 0.1 }).fit(X, y);
  new ElasticNet({ alpha: 0.1, l1Ratio: 0.1 }).fit(X, y);
  await run.end();
  expect((await getRun(run.id)).params.alpha).toBe('0.5');
  const children = await searchRuns({
    experiment: 'two-fits',
    filter: `attributes.parent_run_id = '${run.id}'`,
  });
  expect(children).toHaveLength(1);
  expect(children[0]!.params.alpha).toBe('0.1');
  expect(children[0]!.status).toBe('FINISHED');
});

test('autolog can be switched off; fits outside a run log nothing', async () => {
  const { X, y } = data();
  new ElasticNet().fit(X, y); // no active run: nothing happens
  autolog({ disable: true });
  const run = await startRun({ experiment: 'quiet' });
  new ElasticNet().fit(X, y);
  await run.end();
  expect((await getRun(run.id)).params).toEqual({});
  expect(await code(async () => autolog({ bogus: true } as never))).toBe('INVALID_PARAMETER');
  expect((await searchRuns({})).length).toBe(1);
});

test('run handle: params, metrics, tags, artifacts, notebook snapshots and models', async () => {
  const run = await startRun({ experiment: 'handle', tags: { team: 'ml' } });
  await run.logParam('alpha', 0.5);
  await run.logParams({ l1_ratio: 0.1, note: 'a b', flag: true });
  expect(await code(run.logParam('alpha', 0.7))).toBe('PARAM_CONFLICT');
  await run.logMetric('loss', 1.0, 0);
  await run.logMetrics([{ key: 'loss', value: 0.5, step: 1 }]);
  await run.logMetrics({ acc: 0.9 });
  expect(await code(run.logMetric('loss', NaN))).toBe('INVALID_PARAMETER');
  await run.setTag('stage', 'dev');
  const dir = makeTmp();
  writeFileSync(join(dir, 'a.txt'), 'A');
  mkdirSync(join(dir, 'plots'));
  writeFileSync(join(dir, 'plots', 'p.svg'), '<svg/>');
  await run.logArtifact(join(dir, 'a.txt'));
  await run.logArtifact(join(dir, 'plots'), 'figures');
  await run.logArtifact({ name: 'config.json', data: { a: 1 } });
  await run.logText('hello', 'notes/hello.txt');
  await run.logNotebook({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [] }, 'snap');
  expect(await code(run.logNotebook({ cells: [] }))).toBe('INVALID_INPUT');
  expect(await code(run.logArtifact({ name: '../escape', data: 'x' }))).toBe('INVALID_PATH');
  expect(await code(run.logArtifact(join(dir, 'missing')))).toBe('NOT_FOUND');
  const { X, y } = data(50);
  autolog({ disable: true });
  const model = new ElasticNet({ alpha: 0.01 }).fit(X, y);
  await run.logModel(model, 'custom');
  const arts = (await getStore().tracking.listArtifacts(run.id)).map((a) => a.path);
  expect(arts).toEqual([
    'a.txt',
    'config.json',
    'custom/model.json',
    'figures/p.svg',
    'notebook/snap.ipynb',
    'notes/hello.txt',
  ]);
  const info = await run.info();
  expect(info.params).toEqual({ alpha: '0.5', l1_ratio: '0.1', note: 'a b', flag: 'true' });
  expect(info.metrics).toEqual({ loss: 0.5, acc: 0.9 });
  expect(info.tags).toMatchObject({ team: 'ml', stage: 'dev' });
  await run.end();
  const mv = await registerModel({ name: 'custom', runId: run.id, artifactPath: 'custom' });
  expect((await loadModel(`models:/custom/${mv.version}`)).predict(X)).toEqual(model.predict(X));
});

test('bad input to the SDK gives typed errors', async () => {
  expect(await code(getRun('nope'))).toBe('NOT_FOUND');
  expect(await code(searchRuns({ experiment: 'missing' }))).toBe('NOT_FOUND');
  expect(await code(searchRuns({ filter: 'metrics.rmse <' }))).toBe('INVALID_FILTER');
  expect(await code(loadModel('models:/nothing@champion'))).toBe('NOT_FOUND');
  expect(await code(loadModel('s3://bucket/model'))).toBe('INVALID_PARAMETER');
  expect(await code(loadModel('models:/x'))).toBe('INVALID_PARAMETER');
  const run = await startRun({ experiment: 'no-model' });
  await run.end();
  expect(await code(registerModel({ name: 'm', runId: run.id }))).toBe('NOT_FOUND');
  expect(await code(setAlias('m', 'champion', 1))).toBe('NOT_FOUND');
  expect(await code(withRun({}, 'not a function' as never))).toBe('INVALID_PARAMETER');
});

test('openStore(dir) gives an independent store object with the same API', async () => {
  const other = openStore(makeTmp());
  const run = await other.startRun({ experiment: 'x' });
  await run.end();
  expect((await other.searchRuns({ experiment: 'x' })).length).toBe(1);
  expect(await code(searchRuns({ experiment: 'x' }))).toBe('NOT_FOUND');
  other.close();
});
