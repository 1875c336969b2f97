/**
 * cellar's pipeline and feature routes on the real `cellar up` (scheduler in-process): list with paused state
 * and next run, versions with their steps, trigger with validated parameters (a bad value stores nothing),
 * the run finishing with per-step state and logs, backfill of a scheduled pipeline, pause/unpause.
 */
import { openStore } from '../../../kernel-lib/sdk.js';
import { closeAllEmbedded } from '../../../kernel-lib/store/open.js';
import { writePipeline } from '../../fixtures/pipelines/fixture.js';
import { cleanupTmp, makeTmp } from '../../helpers/tmp.js';
import { startUp, type UpProcess } from './up-process.js';

let up: UpProcess;

beforeAll(async () => {
  const dir = makeTmp();
  const store = openStore(dir);
  writePipeline(store.root, {
    name: 'daily',
    schedule: '0 0 * * *',
    parameters: [{ name: 'n', type: 'number', default: 2 }],
    steps: [
      {
        name: 'make',
        outputs: ['xs'],
        code: 'console.log("making", ctx.params.n); return { xs: Array.from({ length: ctx.params.n }, (_, i) => i) };',
      },
      {
        name: 'sum',
        inputs: { xs: 'make' },
        outputs: ['total'],
        code: 'return { total: ctx.inputs.xs.reduce((a, b) => a + b, 0) };',
      },
    ],
  });
  closeAllEmbedded();
  up = await startUp(dir);
});
afterAll(async () => {
  await up?.stop();
  cleanupTmp();
});

async function call(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(up.url + path, {
    method,
    headers: {
      authorization: `Bearer ${up.token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

test('pipelines: list, versions, pause/unpause', async () => {
  const list = await call('GET', '/api/pipelines');
  const [p] = list.json.pipelines as Array<Record<string, unknown>>;
  expect(p).toMatchObject({ name: 'daily', latestVersion: 1, schedule: '0 0 * * *', paused: false });
  expect(typeof p!.nextRunAt).toBe('number');
  const versions = await call('GET', '/api/pipelines/daily/versions');
  const spec = (versions.json.versions as Array<{ spec: { steps: Array<{ name: string }> } }>)[0]!.spec;
  expect(spec.steps.map((s) => s.name)).toEqual(['make', 'sum']);
  expect((await call('POST', '/api/pipelines/daily/paused', { paused: true })).status).toBe(200);
  const paused = (await call('GET', '/api/pipelines')).json.pipelines as Array<Record<string, unknown>>;
  expect(paused[0]).toMatchObject({ paused: true, nextRunAt: null });
  expect((await call('POST', '/api/pipelines/nope/paused', { paused: true })).status).toBe(404);
  expect((await call('POST', '/api/pipelines/daily/paused', { paused: false })).status).toBe(200);
});

test('trigger validates parameters, runs in the in-process scheduler, and reports steps and logs', async () => {
  const bad = await call('POST', '/api/pipelines/daily/trigger', { params: { n: 'many' } });
  expect(bad.status).toBe(400);
  expect(bad.json.error_code).toBe('INVALID_PARAMETER');
  const runs = (await call('GET', '/api/pipeline-runs?pipeline=daily')).json.runs as Array<{
    runType: string;
  }>;
  expect(runs.filter((r) => r.runType === 'manual')).toEqual([]); // the bad trigger stored nothing
  const ok = await call('POST', '/api/pipelines/daily/trigger', { params: { n: 4 } });
  expect(ok.status).toBe(200);
  const runId = (ok.json.run as { runId: string }).runId;
  let state = '';
  let described: Record<string, unknown> = {};
  for (let i = 0; i < 200 && state !== 'success' && state !== 'failed'; i++) {
    await new Promise((r) => setTimeout(r, 200));
    described = (await call('GET', `/api/pipeline-runs/${encodeURIComponent(runId)}`)).json;
    state = (described.run as { state: string }).state;
  }
  expect(state).toBe('success');
  const tasks = described.tasks as Array<{ step: string; state: string }>;
  expect(tasks.map((t) => [t.step, t.state])).toEqual([
    ['make', 'success'],
    ['sum', 'success'],
  ]);
  const logs = (await call('GET', `/api/pipeline-runs/${encodeURIComponent(runId)}/logs?step=make`)).json
    .logs as Array<{ text: string }>;
  expect(logs[0]!.text).toContain('making 4');
});

test('backfill queues one run per scheduled interval; bad ranges change nothing', async () => {
  const bad = await call('POST', '/api/pipelines/daily/backfill', { from: '2024-01-03', to: 'yesterday' });
  expect(bad.status).toBe(400);
  const res = await call('POST', '/api/pipelines/daily/backfill', { from: '2024-01-01', to: '2024-01-03' });
  expect(res.status).toBe(200);
  expect((res.json.runs as unknown[]).length).toBe(3);
  const again = await call('POST', '/api/pipelines/daily/backfill', { from: '2024-01-01', to: '2024-01-03' });
  expect((again.json.existing as unknown[]).length).toBe(3);
});

test('features: definitions list (empty store) and online values need known views', async () => {
  expect((await call('GET', '/api/features')).json).toEqual({ definitions: [] });
  const res = await call('POST', '/api/features/online', { features: ['nope:x'], entityRows: [{ id: 1 }] });
  expect(res.status).toBeGreaterThanOrEqual(400);
  expect(typeof res.json.error_code).toBe('string');
});
