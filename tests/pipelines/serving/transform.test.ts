/**
 * Request-time transforms: a `serving:transform` cell of the driver-training notebook is exported with the pipeline
 * version, attached to the model version that the pipeline's run registers (scheduler → step env → registerModel),
 * and run by `cellar serve` before the model.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openStore, planExport } from '../../../kernel-lib/index.js';
import { closeAllEmbedded } from '../../../kernel-lib/store/open.js';
import { linkNodeModules } from '../../helpers/jupyter.js';
import { cleanupTmp, makeTmp, REPO_ROOT } from '../../helpers/tmp.js';
import { startServer } from './fixture.js';

const BIN = join(REPO_ROOT, 'bin', 'cellar.cjs');
afterAll(() => {
  closeAllEmbedded();
  cleanupTmp();
});

const TRANSFORM = `function transform(rows: Array<Record<string, unknown>>) {
  return rows.map((r) => ('trips_per_week' in r ? { ...r, avg_daily_trips: Number(r.trips_per_week) / 7 } : r));
}`;

function notebookWithTransform(dir: string): string {
  const nb = JSON.parse(readFileSync(join(REPO_ROOT, 'notebooks', 'driver-training.ipynb'), 'utf8'));
  nb.cells.push({
    cell_type: 'code',
    metadata: { tags: ['serving:transform'] },
    source: TRANSFORM,
    outputs: [],
    execution_count: null,
  });
  const path = join(dir, 'driver-training.ipynb');
  writeFileSync(path, JSON.stringify(nb));
  return path;
}

test('the exporter emits serving-transform.cjs and keeps it out of the steps; a bad cell is reported', () => {
  const dir = makeTmp();
  const plan = planExport({ notebook: notebookWithTransform(dir), name: 'driver-training' });
  expect(Object.keys(plan.files)).toEqual(
    expect.arrayContaining(['serving-transform.ts', 'serving-transform.cjs']),
  );
  expect(plan.spec.steps.map((s) => s.name)).toEqual(['load-data', 'train', 'evaluate']);
  const plain = planExport({
    notebook: join(REPO_ROOT, 'notebooks', 'driver-training.ipynb'),
    name: 'driver-training',
  });
  expect(plan.hash).not.toBe(plain.hash);
  const nb = JSON.parse(readFileSync(join(dir, 'driver-training.ipynb'), 'utf8'));
  nb.cells[nb.cells.length - 1].source = 'const x = 1;';
  expect(() => planExport({ notebook: nb, name: 'driver-training' })).toThrow(
    /must define a function named transform/,
  );
});

test('pipeline run registers the model with its transform; cellar serve runs it before the model', async () => {
  const work = makeTmp('cellar-transform-');
  linkNodeModules(work);
  const store = join(work, 'store');
  const run = (...args: string[]) =>
    spawnSync(process.execPath, [BIN, '--store', store, ...args, '--json'], {
      encoding: 'utf8',
      timeout: 120_000,
    });
  const exported = run('export', notebookWithTransform(work), '--name', 'driver-training');
  expect(exported.stderr).toBe('');
  expect(
    existsSync(join(store, '.cellar', 'pipelines', 'driver-training', '1', 'serving-transform.cjs')),
  ).toBe(true);
  const ran = run('pipelines', 'run', 'driver-training', '--quiet');
  expect(ran.stderr).toBe('');
  expect(ran.status).toBe(0);
  const s = openStore(store);
  const mv = await s.registry.getModelVersion('driver-training', 1);
  expect(mv.tags['cellar.serving.transform']).toBe('driver-training/1');
  const model = await s.loadModel('models:/driver-training/1');
  const srv = await startServer(store, ['driver-training/1', '--log-sample', '0']);
  try {
    const r = await fetch(srv.url + '/invocations', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ dataframe_records: [{ conv_rate: 0.5, acc_rate: 0.9, trips_per_week: 70 }] }),
    });
    expect(r.status).toBe(200);
    const { predictions } = (await r.json()) as { predictions: number[] };
    expect(predictions[0]).toBeCloseTo(
      model.predict([{ conv_rate: 0.5, acc_rate: 0.9, avg_daily_trips: 10 }])[0]!,
      10,
    );
  } finally {
    srv.child.kill('SIGTERM');
    await srv.exited;
  }
}, 180_000);
