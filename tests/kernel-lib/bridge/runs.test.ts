/**
 * The toolbar's "Log run" and the sidebar's run list, through the kernel bridge on a real SQLite store:
 * which run gets the notebook snapshot, that the snapshot is a valid nbformat 4 document (with or without
 * outputs), the git commit of the notebook's folder, and which experiment the sidebar lists.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LogRunResult, RunsResult, StatusResult } from '../../../kernel-lib/bridge/index.js';
import { TAG_GIT_COMMIT, TAG_NOTEBOOK_PATH, TAG_SNAPSHOT } from '../../../kernel-lib/bridge/index.js';
import {
  activeRun,
  ElasticNet,
  endRun,
  getRun,
  getStore,
  startRun,
  useStore,
  withRun,
} from '../../../kernel-lib/index.js';
import { cleanupTmp, makeTmp } from '../../helpers/tmp.js';
import { fails, hasNbformat, nbformatProblems, ok, regressionData, trainedNotebook } from './helpers.js';

let project: string;
beforeEach(() => {
  project = makeTmp();
  useStore(project);
});
afterEach(async () => {
  while (activeRun()) await endRun('KILLED');
  getStore().close();
  cleanupTmp();
});

async function snapshotOf(result: LogRunResult): Promise<Record<string, unknown>> {
  const bytes = await getStore().tracking.readArtifact(result.run.id, result.snapshot.path);
  return JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
}

test('Log run snapshots the notebook into the active run and ends it, nested runs first', async () => {
  const { X, y } = regressionData();
  const run = await startRun({ experiment: 'driver-training', runName: 'baseline' });
  new ElasticNet({ alpha: 0.5, l1Ratio: 0.1 }).fit(X, y);
  const child = await startRun({ nested: true, runName: 'child' });
  const nb = trainedNotebook();
  const result = await ok<LogRunResult>('logRun', {
    notebook: nb,
    notebookPath: 'work/driver training.ipynb',
  });
  expect(result.created).toBe(false);
  expect(result.ended).toBe(true);
  expect(result.run).toMatchObject({ id: run.id, name: 'baseline', status: 'FINISHED' });
  expect(result.run.experimentName).toBe('driver-training');
  expect(result.run.params['alpha']).toBe('0.5');
  expect(Object.keys(result.run.metrics)).toEqual(expect.arrayContaining(['training_rmse']));
  expect(result.snapshot).toMatchObject({ path: 'notebook/driver_training.ipynb', cells: 3, outputs: true });
  expect(result.run.tags[TAG_NOTEBOOK_PATH]).toBe('work/driver training.ipynb');
  expect(result.run.tags[TAG_SNAPSHOT]).toBe('notebook/driver_training.ipynb');
  expect(activeRun()).toBeNull();
  expect((await getRun(child.id)).status).toBe('FINISHED');
  expect(await snapshotOf(result)).toEqual(nb);
});

test('Log run with end: false keeps the active run going', async () => {
  const run = await startRun({ experiment: 'driver-training' });
  const result = await ok<LogRunResult>('logRun', { notebook: trainedNotebook(), end: false });
  expect(result).toMatchObject({ created: false, ended: false, run: { id: run.id, status: 'RUNNING' } });
  expect(activeRun()?.id).toBe(run.id);
});

test('after a withRun block has ended, Log run attaches the snapshot to the run of the last model', async () => {
  const { X, y } = regressionData();
  const runId = await withRun({ experiment: 'driver-training', runName: 'quick' }, async (run) => {
    new ElasticNet({ alpha: 0.5, l1Ratio: 0.1 }).fit(X, y);
    return run.id;
  });
  const result = await ok<LogRunResult>('logRun', { notebook: trainedNotebook(), includeOutputs: false });
  expect(result).toMatchObject({ created: false, run: { id: runId, status: 'FINISHED' } });
  expect(result.snapshot.outputs).toBe(false);
  const snap = (await snapshotOf(result)) as { cells: Array<Record<string, unknown>> };
  const code = snap.cells.filter((c) => c['cell_type'] === 'code');
  expect(code.every((c) => Array.isArray(c['outputs']) && (c['outputs'] as unknown[]).length === 0)).toBe(
    true,
  );
  expect(code.every((c) => c['execution_count'] === null)).toBe(true);
  expect(code.map((c) => c['source'])).toEqual(
    trainedNotebook()
      .cells.slice(1)
      .map((c) => c['source']),
  );
});

test('with no run at all, Log run creates one that also keeps a model fitted outside any run', async () => {
  const { X, y } = regressionData(80, 3);
  new ElasticNet({ alpha: 0.1, l1Ratio: 0.5 }).fit(X, y);
  const result = await ok<LogRunResult>('logRun', {
    notebook: trainedNotebook(),
    notebookPath: 'driver-training.ipynb',
    defaultExperiment: 'from-settings',
  });
  expect(result.created).toBe(true);
  expect(result.ended).toBe(true);
  expect(result.run).toMatchObject({
    name: 'driver-training',
    status: 'FINISHED',
    experimentName: 'from-settings',
  });
  expect(result.run.params).toMatchObject({ alpha: '0.1', l1_ratio: '0.5' });
  const artifacts = (await getStore().tracking.listArtifacts(result.run.id)).map((a) => a.path);
  expect(artifacts).toEqual(expect.arrayContaining(['model/model.json', 'notebook/driver-training.ipynb']));
  const status = await ok<StatusResult>('status');
  expect(status.lastFit?.runId).toBe(result.run.id);
  expect(activeRun()).toBeNull();
});

test('an explicit experiment and run name are used for a created run', async () => {
  const result = await ok<LogRunResult>('logRun', {
    notebook: trainedNotebook(),
    experiment: 'explicit',
    runName: '<img src=x onerror=alert(1)>',
  });
  expect(result.run).toMatchObject({ experimentName: 'explicit', name: '<img src=x onerror=alert(1)>' });
});

test('the stored snapshot is valid nbformat 4, with and without outputs', async () => {
  if (!hasNbformat()) throw new Error('Debian python3-nbformat is missing: run scripts/install-system.sh');
  for (const includeOutputs of [true, false]) {
    await startRun({ experiment: 'nbformat' });
    const result = await ok<LogRunResult>('logRun', { notebook: trainedNotebook(), includeOutputs });
    const bytes = await getStore().tracking.readArtifact(result.run.id, result.snapshot.path);
    expect(nbformatProblems(bytes.toString('utf8'))).toBe('');
  }
});

test('Log run records the git commit of the notebook folder, and none outside a repository', async () => {
  const repo = join(project, 'repo');
  mkdirSync(join(repo, 'notebooks'), { recursive: true });
  writeFileSync(join(repo, 'notebooks', 'a.txt'), 'x');
  const git = (...args: string[]): string =>
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], {
      cwd: repo,
      encoding: 'utf8',
    }).trim();
  git('init', '-q');
  git('add', '.');
  git('commit', '-q', '-m', 'first');
  const head = git('rev-parse', 'HEAD');

  await startRun({ experiment: 'git' });
  const inRepo = await ok<LogRunResult>('logRun', { notebook: trainedNotebook() }, join(repo, 'notebooks'));
  expect(inRepo.gitCommit).toBe(head);
  expect(inRepo.run.tags[TAG_GIT_COMMIT]).toBe(head);

  const outside = makeTmp();
  await startRun({ experiment: 'git' });
  const noRepo = await ok<LogRunResult>('logRun', { notebook: trainedNotebook() }, outside);
  expect(noRepo.gitCommit).toBeNull();
  expect(noRepo.run.tags[TAG_GIT_COMMIT]).toBeUndefined();
});

test('Log run refuses something that is not a notebook and leaves the active run alone', async () => {
  const run = await startRun({ experiment: 'x' });
  const error = await fails('logRun', { notebook: { nbformat: 3, cells: [], metadata: {} } });
  expect(error.code).toBe('INVALID_INPUT');
  expect(error.message).toContain('nbformat 4');
  expect(activeRun()?.id).toBe(run.id);
});

test("listRuns lists the notebook's experiment with latest metrics, newest first", async () => {
  await withRun({ experiment: 'driver-training', runName: 'first' }, async (r) => {
    await r.logMetrics({ rmse: 0.5 });
    await r.logMetrics({ rmse: 0.4 }, 1);
  });
  await withRun({ experiment: 'other', runName: 'unrelated' }, async () => undefined);
  // Runs started in the same millisecond tie on start_time and go by run id (MLflow's order): step past it.
  const lastStart = Date.now();
  while (Date.now() <= lastStart) await new Promise((r) => setImmediate(r));
  const live = await startRun({ experiment: 'driver-training', runName: 'second' });
  await live.logMetric('rmse', 0.3);
  const listed = await ok<RunsResult>('listRuns');
  expect(listed.experiment?.name).toBe('driver-training');
  expect(listed.activeRunId).toBe(live.id);
  expect(listed.runs.map((r) => [r.name, r.status, r.metrics['rmse']])).toEqual([
    ['second', 'RUNNING', 0.3],
    ['first', 'FINISHED', 0.4],
  ]);
});

test('listRuns finds the experiment of the last run logged from this notebook, else the default', async () => {
  const none = await ok<RunsResult>('listRuns', { notebookPath: 'nb.ipynb' });
  expect(none).toEqual({ experiment: null, activeRunId: null, runs: [] });
  const fallback = await ok<RunsResult>('listRuns', {
    notebookPath: 'nb.ipynb',
    defaultExperiment: 'not-yet',
  });
  expect(fallback.experiment).toEqual({ id: null, name: 'not-yet' });

  await startRun({ experiment: 'tagged' });
  await ok<LogRunResult>('logRun', { notebook: trainedNotebook(), notebookPath: 'nb.ipynb' });
  await withRun({ experiment: 'newer-but-other-notebook' }, async () => undefined);
  const found = await ok<RunsResult>('listRuns', { notebookPath: 'nb.ipynb', defaultExperiment: 'not-yet' });
  expect(found.experiment?.name).toBe('tagged');
  expect(found.runs).toHaveLength(1);
  const explicit = await ok<RunsResult>('listRuns', { experiment: 'newer-but-other-notebook' });
  expect(explicit.runs).toHaveLength(1);
});
