/**
 * Issue 4's acceptance: the driver-training notebook, executed headlessly on the tslab kernel and exported,
 * reproduces exactly the same metrics when its pipeline is run by the scheduler (`cellar pipelines run`, real
 * worker processes), and the run is tracked with one nested run per step.
 */
import { spawnSync } from 'node:child_process';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { openStore } from '../../../kernel-lib/sdk.js';
import {
  executeNotebook,
  hasJupyter,
  JUPYTER_MISSING_MESSAGE,
  linkNodeModules,
} from '../../helpers/jupyter.js';
import { cleanupTmp, makeTmp, REPO_ROOT } from '../../helpers/tmp.js';

const NOTEBOOK = join(REPO_ROOT, 'notebooks', 'driver-training.ipynb');
const BIN = join(REPO_ROOT, 'bin', 'cellar.cjs');
afterAll(cleanupTmp);

function cellar(
  store: string,
  ...args: string[]
): { status: number | null; json: Record<string, unknown>; stderr: string } {
  const res = spawnSync(process.execPath, [BIN, '--store', store, ...args, '--json'], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(res.stdout) as Record<string, unknown>;
  } catch {
    json = { raw: res.stdout };
  }
  return { status: res.status, json, stderr: res.stderr };
}

test('notebook on tslab == exported pipeline run by the scheduler', async () => {
  if (!hasJupyter()) throw new Error(JUPYTER_MISSING_MESSAGE);
  const work = makeTmp('cellar-pipeline-e2e-');
  cpSync(NOTEBOOK, join(work, 'driver-training.ipynb'));
  linkNodeModules(work);
  const executed = await executeNotebook(join(work, 'driver-training.ipynb'), {
    env: { CELLAR_URI: join(work, 'nb-store') },
    timeoutMs: 180_000,
  });
  expect(executed.errors()).toEqual([]);
  const printed = /metrics: (\{.*\})/.exec(executed.stdout());
  expect(printed).not.toBeNull();
  const notebookMetrics = JSON.parse(printed![1]!) as Record<string, number>;

  const store = join(work, 'pipeline-store');
  const exported = cellar(store, 'export', join(work, 'driver-training.ipynb'), '--name', 'driver-training');
  expect(exported.stderr).toBe('');
  expect(exported.json).toMatchObject({ name: 'driver-training', version: 1 });
  const run = cellar(store, 'pipelines', 'run', 'driver-training', '--quiet'); // no progress lines: stderr must stay empty
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  expect((run.json.run as { state: string }).state).toBe('success');
  expect(run.json.metrics).toEqual(notebookMetrics); // exactly, to the last bit

  // lineage: the pipeline run is a tracking run with the metrics, and one nested run per step
  const s = openStore(store);
  const trackingRunId = (run.json.run as { trackingRunId: string }).trackingRunId;
  const tracked = await s.getRun(trackingRunId);
  expect(tracked.status).toBe('FINISHED');
  expect(tracked.metrics).toEqual(notebookMetrics);
  const children = await s.searchRuns({ filter: `attributes.parent_run_id = '${trackingRunId}'` });
  expect(children.map((c) => c.runName).sort()).toEqual(['evaluate', 'load-data', 'train']);
  s.close();
}, 240_000);
