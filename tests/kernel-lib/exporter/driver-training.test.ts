/**
 * The driver-training fixture notebook: its step graph; its exported steps, run one after another (as the
 * runner would, in this process), reproduce the course's metrics computed directly with the library; and
 * the notebook itself, executed headlessly on the tslab kernel (needs `npm run build` and Debian's
 * Jupyter), prints exactly the metrics its exported steps compute. `cellar` inside the step modules is
 * this repository's sources (a virtual jest module).
 */
import { cpSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import * as cellar from '../../../kernel-lib/index.js';
import { exportNotebook, planExport, type StepContext } from '../../../kernel-lib/exporter/index.js';
import { driverTrainingData } from '../../../kernel-lib/data/synthetic.js';
import { closeAllEmbedded } from '../../../kernel-lib/store/open.js';
import {
  executeNotebook,
  hasJupyter,
  JUPYTER_MISSING_MESSAGE,
  linkNodeModules,
} from '../../helpers/jupyter.js';
import { cleanupTmp, makeTmp, REPO_ROOT } from '../../helpers/tmp.js';

// The notebook imports `driverTrainingData` and the rest from the package's main export.
jest.mock('cellar', () => jest.requireActual('../../../kernel-lib/index.js'), { virtual: true });

const NOTEBOOK = join(REPO_ROOT, 'notebooks', 'driver-training.ipynb');

afterEach(() => {
  jest.restoreAllMocks();
  closeAllEmbedded();
  cleanupTmp();
});

test('tags and inferred dependencies of the driver-training notebook', () => {
  const { spec, files } = planExport({ notebook: NOTEBOOK, name: 'driver-training', schedule: '0 * * * *' });
  expect(spec.parameters).toEqual([
    { name: 'alpha', type: 'number', default: 0.5 },
    { name: 'l1_ratio', type: 'number', default: 0.1 },
    { name: 'seed', type: 'number', default: 42 },
  ]);
  expect(
    spec.steps.map((s) => ({
      name: s.name,
      upstream: s.upstream,
      inputs: s.inputs,
      outputs: s.outputs,
      params: s.parameters,
    })),
  ).toEqual([
    { name: 'load-data', upstream: [], inputs: {}, outputs: ['trainRows', 'testRows'], params: ['seed'] },
    {
      name: 'train',
      upstream: ['load-data'],
      inputs: { trainRows: 'load-data' },
      outputs: ['runId', 'model'],
      params: ['alpha', 'l1_ratio'],
    },
    {
      name: 'evaluate',
      upstream: ['load-data', 'train'],
      inputs: { testRows: 'load-data', model: 'train', runId: 'train' },
      outputs: ['rmse', 'mae', 'r2'],
      params: [],
    },
  ]);
  expect(spec.steps.map((s) => s.cells)).toEqual([[4], [6, 7], [9]]);
  expect(spec.metrics).toEqual([
    { name: 'rmse', step: 'evaluate' },
    { name: 'mae', step: 'evaluate' },
    { name: 'r2', step: 'evaluate' },
  ]);
  expect(spec.schedule).toBe('0 * * * *');
  expect(files['steps/train.ts']).toContain("from 'cellar'");
});

/** Exports the fixture into a fresh store and runs its steps one after another, as the runner would. */
async function exportAndRun(): Promise<{ metrics: Record<string, unknown>; store: cellar.CellarStore }> {
  expect(typeof (cellar as Record<string, unknown>).driverTrainingData).toBe('function'); // main export
  jest.spyOn(console, 'log').mockImplementation(() => undefined); // the cells print progress
  const dir = makeTmp('cellar-driver-');
  const store = cellar.useStore(join(dir, '.cellar'));
  const exported = await exportNotebook({ notebook: NOTEBOOK, name: 'driver-training', store });
  expect(exported).toMatchObject({ version: 1, created: true });
  const values: Record<string, Record<string, unknown>> = {};
  for (const step of exported.spec.steps) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(join(exported.dir, step.file)) as {
      run(ctx: StepContext): Promise<Record<string, unknown>>;
    };
    const params = Object.fromEntries(
      step.parameters.map((p) => [p, exported.spec.parameters.find((q) => q.name === p)!.default]),
    );
    const inputs = Object.fromEntries(Object.entries(step.inputs).map(([n, from]) => [n, values[from]![n]]));
    values[step.name] = await mod.run({
      params,
      inputs,
      runId: 'test',
      logicalDate: '2026-01-01T00:00:00.000Z',
      dataIntervalStart: '2026-01-01T00:00:00.000Z',
      dataIntervalEnd: '2026-01-01T01:00:00.000Z',
      tryNumber: 1,
    });
  }
  const metrics = Object.fromEntries(exported.spec.metrics.map((m) => [m.name, values[m.step]![m.name]]));
  return { metrics, store };
}

test('the exported steps reproduce the course metrics and register the model', async () => {
  const { metrics, store } = await exportAndRun();
  // The same computation written directly against the library.
  const rows = driverTrainingData({ rows: 2000, seed: 42 });
  const [train, test] = cellar.trainTestSplit(rows, { testSize: 0.2, seed: 42 });
  const cols = (r: (typeof rows)[number]) => ({
    conv_rate: r.conv_rate,
    acc_rate: r.acc_rate,
    avg_daily_trips: r.avg_daily_trips,
  });
  const model = new cellar.ElasticNet({ alpha: 0.5, l1Ratio: 0.1 }).fit(
    train.map(cols),
    train.map((r) => r.trip_completed),
  );
  const predicted = model.predict(test.map(cols));
  const y = test.map((r) => r.trip_completed);
  expect(metrics).toEqual({
    rmse: cellar.rmse(y, predicted),
    mae: cellar.mae(y, predicted),
    r2: cellar.r2(y, predicted),
  });
  const models = await store.listModels();
  expect(models).toEqual([expect.objectContaining({ name: 'driver-training', latestVersion: 1 })]);
});

test('run headlessly on the tslab kernel, the notebook prints the same metrics as its exported steps', async () => {
  if (!hasJupyter()) throw new Error(JUPYTER_MISSING_MESSAGE);
  const built = join(REPO_ROOT, 'dist', 'cjs', 'kernel-lib', 'index.js');
  if (!existsSync(built))
    throw new Error(`${built} is missing: notebooks import the built package, run \`npm run build\`.`);
  const work = makeTmp('cellar-driver-nb-');
  cpSync(NOTEBOOK, join(work, 'driver-training.ipynb'));
  linkNodeModules(work); // the kernel resolves `cellar` and @types/node from its working directory
  const run = await executeNotebook(join(work, 'driver-training.ipynb'), {
    env: { CELLAR_URI: join(work, 'store') },
    timeoutMs: 180_000,
  });
  expect(run.errors().map((e) => `cell ${e.cellIndex}: ${e.ename} ${e.evalue}`)).toEqual([]);
  const printed = /metrics: (\{.*\})/.exec(run.stdout());
  expect(printed).not.toBeNull();
  const { metrics } = await exportAndRun();
  expect(JSON.parse(printed![1]!)).toEqual(metrics);
}, 200_000);
