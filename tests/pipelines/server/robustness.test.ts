/**
 * `cellar up` robustness with real processes: a write the server acknowledged survives kill -9 of the server,
 * and a run created over REST by a process that then dies is shown KILLED (not RUNNING) once the server
 * reaps dead owners.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { openStore } from '../../../kernel-lib/sdk.js';
import { closeAllEmbedded } from '../../../kernel-lib/store/open.js';
import { cleanupTmp, makeTmp, REPO_ROOT } from '../../helpers/tmp.js';
import { startUp } from './up-process.js';

afterAll(() => {
  closeAllEmbedded();
  cleanupTmp();
});

test('acknowledged writes survive kill -9; a REST run whose process died becomes KILLED', async () => {
  const dir = makeTmp();
  const up = await startUp(dir, ['--no-scheduler']);
  const headers = { authorization: `Bearer ${up.token}`, 'content-type': 'application/json' };
  const exp = await fetch(`${up.url}/api/2.0/mlflow/experiments/create`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ name: 'crash' }),
  });
  const { experiment_id } = (await exp.json()) as { experiment_id: string };
  const created = await fetch(`${up.url}/api/2.0/mlflow/runs/create`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ experiment_id }),
  });
  const runId = ((await created.json()) as { run: { info: { run_id: string } } }).run.info.run_id;
  const batch = await fetch(`${up.url}/api/2.0/mlflow/runs/log-batch`, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      run_id: runId,
      metrics: Array.from({ length: 100 }, (_, i) => ({ key: 'loss', value: i, step: i, timestamp: 1 })),
      params: [{ key: 'alpha', value: '0.5' }],
    }),
  });
  expect(batch.status).toBe(200);

  // A child process starts a run through the REST SDK and dies without ending it.
  const script = `
    process.env.CELLAR_URI = ${JSON.stringify(up.url)};
    process.env.CELLAR_TOKEN = ${JSON.stringify(up.token)};
    const { openStore } = require(${JSON.stringify(join(REPO_ROOT, 'dist', 'cjs', 'kernel-lib', 'index.js'))});
    openStore().startRun({ experiment: 'crash', runName: 'doomed' }).then((run) => {
      process.stdout.write(run.id);
      process.kill(process.pid, 'SIGKILL');
    });`;
  const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  const doomed = child.stdout.trim();
  expect(doomed).toMatch(/^[0-9a-f]{32}$/);
  const reaped = await fetch(`${up.url}/api/runs/reap`, {
    method: 'POST',
    headers: { authorization: headers.authorization },
  });
  expect(((await reaped.json()) as { runIds: string[] }).runIds).toContain(doomed);

  up.child.kill('SIGKILL');
  await up.stop();
  const store = openStore(dir);
  const run = await store.getRun(runId);
  expect(run.params).toEqual({ alpha: '0.5' });
  expect((await store.tracking.getMetricHistory(runId, 'loss')).length).toBe(100);
  expect((await store.getRun(doomed)).status).toBe('KILLED');
});
