/**
 * MLflow compatibility with a client no one here wrote: the npm package `mlflow` (a Node MLflow REST client)
 * creates an experiment, logs a run with params, metrics and tags, searches it and reads a metric history
 * against the real `cellar up`; the registry calls (which that client lacks) go over MLflow's REST routes
 * with plain fetch. The result is then read through cellar's SDK on the same store directory.
 */
import { openStore } from '../../../kernel-lib/sdk.js';
import { closeAllEmbedded } from '../../../kernel-lib/store/open.js';
import { sampleModel } from '../../kernel-lib/registry/conformance.js';
import { cleanupTmp, makeTmp } from '../../helpers/tmp.js';
import { startUp, type UpProcess } from './up-process.js';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const MLflow = require('mlflow') as new (opts: { endpoint: string; headers?: Record<string, string> }) => {
  Experiments: Record<string, (args: Record<string, unknown>) => Promise<Record<string, unknown>>>;
  Runs: Record<string, (args: Record<string, unknown>) => Promise<Record<string, unknown>>>;
  Metrics: Record<string, (args: Record<string, unknown>) => Promise<Record<string, unknown>>>;
  Artifacts: Record<string, (args: Record<string, unknown>) => Promise<Record<string, unknown>>>;
};

let up: UpProcess;
let dir: string;
const log = console.log;

beforeAll(async () => {
  dir = makeTmp();
  up = await startUp(dir);
  console.log = () => {}; // the mlflow client prints every request body
});
afterAll(async () => {
  console.log = log;
  closeAllEmbedded();
  await up?.stop();
  cleanupTmp();
});

async function mlflowRest(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${up.url}/api/2.0/mlflow/${path}`, {
    method,
    headers: { authorization: `Bearer ${up.token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

test('the mlflow npm client logs a run into cellar up, and the SDK sees it', async () => {
  const client = new MLflow({ endpoint: up.url, headers: { Authorization: `Bearer ${up.token}` } });
  const { experiment_id } = await client.Experiments.create({ name: 'mlflow-client' });
  expect(typeof experiment_id).toBe('string');
  const got = (await client.Experiments.get({ experiment_id })) as { experiment: { name: string } };
  expect(got.experiment.name).toBe('mlflow-client');

  const created = (await client.Runs.create({
    experiment_id,
    start_time: Date.now(),
    tags: [{ key: 'mlflow.runName', value: 'from-mlflow' }],
  })) as { run: { info: { run_id: string; status: string } } };
  const runId = created.run.info.run_id;
  expect(created.run.info.status).toBe('RUNNING');
  await client.Runs.logParameter({ run_id: runId, key: 'alpha', value: '0.5' });
  for (let step = 0; step < 3; step++)
    await client.Runs.logMetric({
      run_id: runId,
      key: 'rmse',
      value: 1 / (step + 1),
      timestamp: Date.now(),
      step,
    });
  await client.Runs.setTag({ run_id: runId, key: 'team', value: 'fraud' });
  await client.Runs.logBatch({
    run_id: runId,
    metrics: [{ key: 'mae', value: 0.25, timestamp: Date.now(), step: 0 }],
    params: [{ key: 'l1_ratio', value: '0.1' }],
    tags: [{ key: 'stage', value: 'baseline' }],
  });
  // A second value for a write-once param is MLflow's INVALID_PARAMETER_VALUE (HTTP 400).
  await expect(client.Runs.logParameter({ run_id: runId, key: 'alpha', value: '0.9' })).rejects.toThrow(
    /INVALID_PARAMETER_VALUE/,
  );
  await client.Runs.update({ run_id: runId, status: 'FINISHED', end_time: Date.now() });

  const found = (await client.Runs.search({
    experiment_ids: [experiment_id],
    filter: "metrics.rmse < 0.5 and params.alpha = '0.5'",
  })) as { runs: Array<{ info: { run_id: string; status: string }; data: { params: unknown[] } }> };
  expect(found.runs.map((r) => r.info.run_id)).toEqual([runId]);
  expect(found.runs[0]!.info.status).toBe('FINISHED');
  const none = (await client.Runs.search({
    experiment_ids: [experiment_id],
    filter: 'metrics.rmse > 5',
  })) as {
    runs?: unknown[];
  };
  expect(none.runs ?? []).toEqual([]);
  const history = (await client.Metrics.getHistory({ run_id: runId, metric_key: 'rmse' })) as {
    metrics: Array<{ step: number; value: number }>;
  };
  expect(history.metrics.map((m) => m.step)).toEqual([0, 1, 2]);
  await expect(client.Runs.get({ run_id: 'ffffffffffffffffffffffffffffffff' })).rejects.toThrow(
    /RESOURCE_DOES_NOT_EXIST/,
  );

  // The registry over MLflow's REST routes (a cellar model JSON is uploaded as the run's model artifact).
  const put = await fetch(`${up.url}/api/runs/${runId}/artifacts/model/model.json`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${up.token}`, 'content-type': 'application/octet-stream' },
    body: JSON.stringify(sampleModel([1, 2], 0.5)),
  });
  expect(put.status).toBe(200);
  const rm = await mlflowRest('POST', 'registered-models/create', { name: 'driver', description: 'ETA' });
  expect(rm.status).toBe(200);
  expect((await mlflowRest('POST', 'registered-models/create', { name: 'driver' })).json.error_code).toBe(
    'RESOURCE_ALREADY_EXISTS',
  );
  const mv = await mlflowRest('POST', 'model-versions/create', {
    name: 'driver',
    source: `runs:/${runId}/model`,
    run_id: runId,
  });
  expect(mv.status).toBe(200);
  expect((mv.json.model_version as { version: string }).version).toBe('1');
  expect(
    (await mlflowRest('POST', 'registered-models/alias', { name: 'driver', alias: 'champion', version: '1' }))
      .status,
  ).toBe(200);
  const byAlias = await mlflowRest('GET', 'registered-models/alias?name=driver&alias=champion');
  expect((byAlias.json.model_version as { run_id: string }).run_id).toBe(runId);
  const search = await mlflowRest(
    'GET',
    `registered-models/search?filter=${encodeURIComponent("name LIKE 'dri%'")}`,
  );
  expect((search.json.registered_models as Array<{ name: string }>).map((m) => m.name)).toEqual(['driver']);
  const versions = await mlflowRest(
    'GET',
    `model-versions/search?filter=${encodeURIComponent(`run_id = '${runId}'`)}`,
  );
  expect((versions.json.model_versions as unknown[]).length).toBe(1);
  const missing = await mlflowRest('GET', 'model-versions/get?name=driver&version=7');
  expect(missing.status).toBe(404);
  expect(missing.json.error_code).toBe('RESOURCE_DOES_NOT_EXIST');

  // cellar's SDK on the same directory sees all of it.
  const store = openStore(dir);
  const run = await store.getRun(runId);
  expect(run.runName).toBe('from-mlflow');
  expect(run.params).toEqual({ alpha: '0.5', l1_ratio: '0.1' });
  expect(run.metrics).toEqual({ rmse: 1 / 3, mae: 0.25 });
  expect(run.tags).toMatchObject({ team: 'fraud', stage: 'baseline' });
  expect(run.status).toBe('FINISHED');
  const runs = await store.searchRuns({
    experiment: 'mlflow-client',
    filter: "tags.team = 'fraud' or metrics.mae > 9",
  });
  expect(runs.map((r) => r.id)).toEqual([runId]);
  const model = await store.loadModel('models:/driver@champion');
  expect(model.version).toBe(1);
  expect(model.predict([[1, 1]])).toEqual([3.5]);
});
