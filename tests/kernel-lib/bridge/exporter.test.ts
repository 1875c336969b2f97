/**
 * Export through the kernel bridge with the real exporter (kernel-lib/exporter), on the browser test's
 * driver-training notebook: the plan shows the course's three steps, exporting twice yields one version,
 * the sidebar lists it from the store, the stored source notebook is valid nbformat 4, and a bad tag is
 * reported on its cell.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExportPlan, ExportResult, PipelinesResult } from '../../../kernel-lib/bridge/index.js';
import { getStore, useStore } from '../../../kernel-lib/index.js';
import { cleanupTmp, makeTmp, REPO_ROOT } from '../../helpers/tmp.js';
import { fails, hasNbformat, nbformatProblems, ok } from './helpers.js';

const FIXTURE = join(REPO_ROOT, 'tests', 'e2e', 'fixtures', 'driver-training.ipynb');

function fixture(): { cells: Array<Record<string, unknown>> } & Record<string, unknown> {
  return JSON.parse(readFileSync(FIXTURE, 'utf8')) as { cells: Array<Record<string, unknown>> };
}

beforeEach(() => {
  useStore(makeTmp());
});
afterEach(() => {
  getStore().close();
  cleanupTmp();
});

test('the plan of the driver-training notebook has the course steps', async () => {
  const plan = await ok<ExportPlan>('planExport', { notebook: fixture(), name: 'driver-training' });
  expect(plan.steps.map((s) => [s.name, s.upstream])).toEqual([
    ['load-data', []],
    ['train', ['load-data']],
    ['evaluate', ['load-data', 'train']],
  ]);
  expect(plan.steps[1]!.cells).toEqual([4, 5]);
  expect(plan.parameters.map((p) => p.name)).toEqual(['alpha', 'l1_ratio', 'seed']);
  expect(plan.metrics).toEqual(['rmse', 'mae', 'r2']);
});

test('exporting twice yields one version, listed for the sidebar', async () => {
  const project = makeTmp();
  const first = await ok<ExportResult>(
    'exportPipeline',
    {
      notebook: fixture(),
      name: 'driver-training',
      schedule: '0 3 * * *',
      notebookPath: 'nb/driver-training.ipynb',
    },
    project,
  );
  expect(first).toMatchObject({ name: 'driver-training', version: 1, created: true, schedule: '0 3 * * *' });
  expect(first.steps.map((s) => s.name)).toEqual(['load-data', 'train', 'evaluate']);
  // Same notebook, same folder (the lockfile found from there is part of the version's hash).
  const again = await ok<ExportResult>(
    'exportPipeline',
    {
      notebook: fixture(),
      name: 'driver-training',
      schedule: '0 3 * * *',
      notebookPath: 'other/driver-training.ipynb',
    },
    project,
  );
  expect(again).toMatchObject({ version: 1, created: false });
  const listed = await ok<PipelinesResult>('listPipelines');
  expect(listed.pipelines).toEqual([
    expect.objectContaining({
      name: 'driver-training',
      latestVersion: 1,
      versions: 1,
      schedule: '0 3 * * *',
    }),
  ]);
  expect(listed.pipelines[0]!.steps.map((s) => s.name)).toEqual(['load-data', 'train', 'evaluate']);
  if (!hasNbformat()) throw new Error('Debian python3-nbformat is missing: run scripts/install-system.sh');
  const stored = readFileSync(
    join(getStore().root, 'pipelines', 'driver-training', '1', 'notebook.ipynb'),
    'utf8',
  );
  expect(nbformatProblems(stored)).toBe('');
});

test('a prev: tag naming no step is reported on its cell', async () => {
  const nb = fixture();
  nb.cells[4]!['metadata'] = { tags: ['step:train', 'prev:nosuch'] };
  const error = await fails('planExport', { notebook: nb, name: 'driver-training' });
  expect(error.code).toBe('INVALID_INPUT');
  const problems = (
    error.details as { errors: Array<{ cell: number | null; step?: string; message: string }> }
  ).errors;
  expect(problems).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ cell: 4, step: 'train', message: expect.stringContaining('prev:nosuch') }),
    ]),
  );
  expect((await fails('exportPipeline', { notebook: nb, name: 'driver-training' })).code).toBe(
    'INVALID_INPUT',
  );
  expect((await ok<PipelinesResult>('listPipelines')).pipelines).toEqual([]);
});

test('bad pipeline names and schedules are INVALID_PARAMETER', async () => {
  expect((await fails('exportPipeline', { notebook: fixture(), name: '../evil' })).code).toBe(
    'INVALID_PARAMETER',
  );
  expect(
    (await fails('exportPipeline', { notebook: fixture(), name: 'ok', schedule: '61 * * * *' })).code,
  ).toBe('INVALID_PARAMETER');
});
