/**
 * The toolbar's "Register model" and the sidebar's model list through the kernel bridge on a real SQLite
 * store: the last fitted model is found and registered (with an alias), a run's models (and its nested
 * runs') can be picked, and the errors say what to do.
 */
import type {
  LastModelResult,
  LogRunResult,
  ModelSummary,
  RegisterModelResult,
  RunModelsResult,
} from '../../../kernel-lib/bridge/index.js';
import {
  activeRun,
  ElasticNet,
  endRun,
  getStore,
  loadModel,
  Ridge,
  startRun,
  useStore,
  withRun,
} from '../../../kernel-lib/index.js';
import { cleanupTmp, makeTmp } from '../../helpers/tmp.js';
import { fails, ok, regressionData, trainedNotebook } from './helpers.js';

beforeEach(() => {
  useStore(makeTmp());
});
afterEach(async () => {
  while (activeRun()) await endRun('KILLED');
  getStore().close();
  cleanupTmp();
});

async function trainInRun(runName = 'baseline'): Promise<string> {
  const { X, y } = regressionData();
  return withRun({ experiment: 'driver-training', runName }, async (run) => {
    new ElasticNet({ alpha: 0.5, l1Ratio: 0.1 }).fit(X, y);
    return run.id;
  });
}

test('Register model registers the last fitted model and moves the alias', async () => {
  const runId = await trainInRun();
  const first = await ok<RegisterModelResult>('registerModel', { name: 'driver', alias: 'champion' });
  expect(first).toEqual({
    name: 'driver',
    version: 1,
    aliases: ['champion'],
    runId,
    source: `runs:/${runId}/model`,
    uri: 'models:/driver/1',
  });
  const secondRun = await trainInRun('retrain');
  const second = await ok<RegisterModelResult>('registerModel', { name: 'driver', alias: 'champion' });
  expect(second).toMatchObject({ version: 2, aliases: ['champion'], runId: secondRun });
  const champion = await loadModel('models:/driver@champion');
  expect(champion.version).toBe(2);
  expect(champion.estimator).toBe('ElasticNet');
  const models = await ok<ModelSummary[]>('listModels');
  expect(models).toEqual([
    expect.objectContaining({ name: 'driver', latestVersion: 2, aliases: { champion: 2 } }),
  ]);
});

test('a model of an active run is registered after autolog has stored it', async () => {
  const { X, y } = regressionData();
  const run = await startRun({ experiment: 'driver-training' });
  new ElasticNet({ alpha: 0.5, l1Ratio: 0.1 }).fit(X, y);
  const registered = await ok<RegisterModelResult>('registerModel', { name: 'live-model' });
  expect(registered).toMatchObject({ version: 1, runId: run.id, aliases: [] });
});

test('listRunModels offers the run models, nested refits included, the last fit first', async () => {
  const { X, y } = regressionData();
  const run = await startRun({ experiment: 'driver-training' });
  new ElasticNet({ alpha: 0.5, l1Ratio: 0.1 }).fit(X, y);
  // Different params than already logged: autolog puts this fit in a nested run.
  new ElasticNet({ alpha: 0.2, l1Ratio: 0.1 }).fit(X, y);
  const listed = await ok<RunModelsResult>('listRunModels');
  expect(listed.runId).toBe(run.id);
  expect(listed.models).toHaveLength(2);
  expect(listed.models[0]).toMatchObject({ isLastFit: true, estimator: 'ElasticNet', artifactPath: 'model' });
  expect(listed.models[0]!.runId).not.toBe(run.id);
  expect(listed.models[1]).toMatchObject({ runId: run.id, isLastFit: false, artifactPath: 'model' });
  expect(listed.models[1]!.featureNames).toHaveLength(3);
  expect(listed.lastFit).toMatchObject({ className: 'ElasticNet', runId: listed.models[0]!.runId });

  // Registering a picked model from the parent run.
  const picked = await ok<RegisterModelResult>('registerModel', {
    name: 'picked',
    runId: run.id,
    artifactPath: 'model',
  });
  expect(picked.runId).toBe(run.id);
});

test('lastModel describes the last fit and where it is stored', async () => {
  const runId = await trainInRun();
  const last = await ok<LastModelResult>('lastModel');
  expect(last.lastFit).toMatchObject({ className: 'ElasticNet', runId });
  expect(last.lastFit?.params).toMatchObject({ alpha: 0.5, l1_ratio: 0.1 });
  expect(last.model).toMatchObject({
    runId,
    artifactPath: 'model',
    estimator: 'ElasticNet',
    isLastFit: true,
  });
});

test('a model fitted outside any run must be logged first; Log run makes it registrable', async () => {
  const { X, y } = regressionData();
  new Ridge({ alpha: 1 }).fit(X, y);
  const last = await ok<LastModelResult>('lastModel');
  expect(last).toMatchObject({ lastFit: { className: 'Ridge', runId: null }, model: null });
  const error = await fails('registerModel', { name: 'ridge' });
  expect(error.code).toBe('INVALID_STATE');
  expect(error.message).toContain('Log run');
  await ok<LogRunResult>('logRun', { notebook: trainedNotebook() });
  const registered = await ok<RegisterModelResult>('registerModel', { name: 'ridge', alias: 'candidate' });
  expect(registered).toMatchObject({ version: 1, aliases: ['candidate'] });
});

test('registry errors keep their codes: unknown run, missing name, reserved alias', async () => {
  await trainInRun();
  expect((await fails('registerModel', {})).code).toBe('INVALID_PARAMETER');
  expect((await fails('registerModel', { name: '   ' })).code).toBe('INVALID_PARAMETER');
  expect((await fails('registerModel', { name: 'm', runId: 'f'.repeat(32) })).code).toBe('NOT_FOUND');
  expect((await fails('listRunModels', { runId: 'f'.repeat(32) })).code).toBe('NOT_FOUND');
  const reserved = await fails('registerModel', { name: 'm', alias: 'latest' });
  expect(reserved.code).toBe('INVALID_PARAMETER');
});

test('with nothing trained, listRunModels is empty', async () => {
  const storeUri = makeTmp();
  // A fresh module registry has no last fit (and no default store: pass one).
  await jest.isolateModulesAsync(async () => {
    const fresh =
      (await import('../../../kernel-lib/bridge/index.js')) as typeof import('../../../kernel-lib/bridge/index.js');
    const reply = await fresh.handleBridgeRequest({
      id: '1',
      op: 'listRunModels',
      args: { storeUri, createStore: true },
    });
    expect(reply).toEqual({ id: '1', ok: true, result: { runId: null, lastFit: null, models: [] } });
    const reg = await fresh.handleBridgeRequest({
      id: '2',
      op: 'registerModel',
      args: { name: 'x', storeUri },
    });
    expect(reg).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
  });
});
