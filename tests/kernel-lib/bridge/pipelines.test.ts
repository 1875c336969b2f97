/**
 * The toolbar's "Export pipeline" and the sidebar's pipeline list through the kernel bridge: export
 * requests reach the exporter with the notebook (outputs stripped), per-cell problems come back as
 * `details.errors`, a missing exporter or scheduler is an UNSUPPORTED reply, and stored pipeline versions
 * are listed from their `pipeline.json` files.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  setBridgeExporter,
  setBridgeScheduler,
  type ExportPlan,
  type ExportResult,
  type ExporterApi,
  type PipelinesResult,
  type StatusResult,
} from '../../../kernel-lib/bridge/index.js';
import { CellarError } from '../../../kernel-lib/errors.js';
import type { PipelineSpec, StepSpec } from '../../../kernel-lib/exporter/spec.js';
import { getStore, useStore } from '../../../kernel-lib/index.js';
import { cleanupTmp, makeTmp, REPO_ROOT } from '../../helpers/tmp.js';
import { fails, ok, trainedNotebook } from './helpers.js';

beforeEach(() => {
  useStore(makeTmp());
});
afterEach(() => {
  setBridgeExporter(undefined);
  setBridgeScheduler(null);
  getStore().close();
  cleanupTmp();
});

function spec(name: string, version: number, schedule: string | null): PipelineSpec {
  const step = (n: string, upstream: string[], cells: number[]): StepSpec => ({
    name: n,
    upstream,
    inputs: upstream.length > 0 ? { frame: upstream[0]! } : ({} as Record<string, string>),
    outputs: [],
    parameters: [],
    file: `steps/${n}.js`,
    sourceFile: `steps/${n}.ts`,
    cells,
    retries: 0,
    timeoutMs: 0,
    triggerRule: 'all_success' as const,
  });
  return {
    format: 'cellar-pipeline',
    formatVersion: 1,
    name,
    version,
    hash: `hash-${version}`,
    createdAt: '2026-11-25T10:00:00.000Z',
    schedule,
    catchup: false,
    maxActiveRuns: 1,
    parameters: [{ name: 'alpha', type: 'number', default: 0.5 }],
    metrics: [{ name: 'rmse', step: 'train' }],
    steps: [step('load', [], [2]), step('train', ['load'], [3, 4])],
    lockfileDigest: null,
    source: { notebookPath: 'driver-training.ipynb', notebookDigest: 'd' },
  };
}

/** A stand-in exporter that records its calls. */
function fakeExporter(): ExporterApi & { calls: Array<Record<string, unknown>> } {
  const calls: Array<Record<string, unknown>> = [];
  return {
    calls,
    planExport(opts) {
      calls.push({ kind: 'plan', ...opts });
      const s = spec(opts.name, 0, null);
      return { steps: s.steps, parameters: s.parameters, metrics: s.metrics };
    },
    exportNotebook(opts) {
      calls.push({ kind: 'export', ...opts });
      return Promise.resolve({
        name: opts.name,
        version: 3,
        hash: 'abc',
        created: true,
        spec: spec(opts.name, 3, opts.schedule ?? null),
      });
    },
  };
}

test('planExport returns the step graph and sends the notebook without outputs', async () => {
  const exporter = fakeExporter();
  setBridgeExporter(exporter);
  const plan = await ok<ExportPlan>('planExport', {
    notebook: trainedNotebook(),
    name: 'driver',
    notebookPath: 'a.ipynb',
  });
  expect(plan).toEqual({
    name: 'driver',
    steps: [
      { name: 'load', upstream: [], cells: [2], inputs: {} },
      { name: 'train', upstream: ['load'], cells: [3, 4], inputs: { frame: 'load' } },
    ],
    parameters: [{ name: 'alpha', type: 'number', default: 0.5 }],
    metrics: ['rmse'],
  });
  const sent = exporter.calls[0]!['notebook'] as { cells: Array<Record<string, unknown>> };
  expect(
    sent.cells
      .filter((c) => c['cell_type'] === 'code')
      .every((c) => (c['outputs'] as unknown[]).length === 0),
  ).toBe(true);
  // The kernel runs in the notebook's folder: the exporter gets the notebook's file there.
  expect(exporter.calls[0]!['notebookPath']).toBe(join(process.cwd(), 'a.ipynb'));
});

test('exportPipeline passes the schedule and the store, and reports the version', async () => {
  const exporter = fakeExporter();
  setBridgeExporter(exporter);
  const result = await ok<ExportResult>('exportPipeline', {
    notebook: trainedNotebook(),
    name: 'driver',
    schedule: '0 3 * * *',
  });
  expect(result).toMatchObject({
    name: 'driver',
    version: 3,
    hash: 'abc',
    created: true,
    schedule: '0 3 * * *',
  });
  expect(result.steps.map((s) => s.name)).toEqual(['load', 'train']);
  expect(exporter.calls[0]!['store']).toBe(getStore());
  expect(exporter.calls[0]!['schedule']).toBe('0 3 * * *');
});

test('export problems come back per cell in details.errors', async () => {
  setBridgeExporter({
    planExport() {
      throw new CellarError('INVALID_INPUT', 'The notebook cannot be exported (2 problems): …', {
        errors: [
          { cell: 2, step: 'train', message: 'reads `model` which no earlier step defines' },
          { cell: null, message: 'no step: tag' },
        ],
      });
    },
    exportNotebook() {
      throw new Error('not reached');
    },
  });
  const error = await fails('planExport', { notebook: trainedNotebook(), name: 'driver' });
  expect(error.code).toBe('INVALID_INPUT');
  expect(error.details).toEqual({
    errors: [
      { cell: 2, step: 'train', message: 'reads `model` which no earlier step defines' },
      { cell: null, message: 'no step: tag' },
    ],
  });
});

test('without an exporter, export requests are UNSUPPORTED and status says so', async () => {
  setBridgeExporter(null);
  expect((await fails('planExport', { notebook: trainedNotebook(), name: 'driver' })).code).toBe(
    'UNSUPPORTED',
  );
  expect((await fails('exportPipeline', { notebook: trainedNotebook(), name: 'driver' })).code).toBe(
    'UNSUPPORTED',
  );
  expect((await ok<StatusResult>('status')).capabilities.export).toBe(false);
});

test('export requests check their arguments first', async () => {
  setBridgeExporter(fakeExporter());
  expect((await fails('planExport', { notebook: trainedNotebook() })).code).toBe('INVALID_PARAMETER');
  expect((await fails('exportPipeline', { name: 'x', notebook: 'nb.ipynb' })).code).toBe('INVALID_INPUT');
  expect((await fails('exportPipeline', { name: 'x', notebook: trainedNotebook(), schedule: 5 })).code).toBe(
    'INVALID_PARAMETER',
  );
});

test('without the exporter store API, listPipelines reads the stored pipeline.json files', async () => {
  setBridgeExporter(fakeExporter());
  const root = getStore().root;
  const write = (s: PipelineSpec): void => {
    const dir = join(root, 'pipelines', s.name, String(s.version));
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'pipeline.json'), JSON.stringify(s));
  };
  write(spec('driver', 1, null));
  write(spec('driver', 2, '0 3 * * *'));
  write(spec('features', 1, null));
  mkdirSync(join(root, 'pipelines', 'half-written', '1'), { recursive: true });
  const listed = await ok<PipelinesResult>('listPipelines', {}, makeTmp()); // a folder where no `cellar` bin resolves
  expect(listed.scheduler).toBe(false);
  expect(listed.pipelines.map((p) => [p.name, p.latestVersion, p.versions, p.schedule])).toEqual([
    ['driver', 2, 2, '0 3 * * *'],
    ['features', 1, 1, null],
  ]);
  expect(listed.pipelines[0]!.steps.map((s) => `${s.upstream.join(',')}>${s.name}`)).toEqual([
    '>load',
    'load>train',
  ]);
  expect(listed.pipelines[0]).toMatchObject({ paused: null, lastRuns: [] });
});

test('trigger and pause are UNSUPPORTED without a scheduler and delegated with one', async () => {
  const nowhere = makeTmp(); // no `cellar` package resolvable from here, so no CLI fallback either
  expect((await fails('triggerPipeline', { name: 'driver' }, nowhere)).code).toBe('UNSUPPORTED');
  expect((await fails('pausePipeline', { name: 'driver' }, nowhere)).code).toBe('UNSUPPORTED');
  const log: string[] = [];
  setBridgeScheduler({
    async trigger(name, params) {
      log.push(`trigger ${name} ${JSON.stringify(params)}`);
      return { runId: 'pr-1' };
    },
    async setPaused(name, paused) {
      log.push(`pause ${name} ${paused}`);
    },
  });
  expect(await ok('triggerPipeline', { name: 'driver', params: { alpha: 0.3 } })).toEqual({
    name: 'driver',
    runId: 'pr-1',
  });
  expect(await ok('pausePipeline', { name: 'driver', paused: false })).toEqual({
    name: 'driver',
    paused: false,
  });
  expect(log).toEqual(['trigger driver {"alpha":0.3}', 'pause driver false']);
  expect((await ok<StatusResult>('status')).capabilities.scheduler).toBe(true);
});

test('without a plugged-in scheduler, the cellar command triggers, pauses and lists runs of a real pipeline', async () => {
  setBridgeExporter(undefined);
  const { exportNotebook } = await import('../../../kernel-lib/exporter/index.js');
  const fixture = join(REPO_ROOT, 'notebooks', 'driver-training.ipynb');
  await exportNotebook({ notebook: fixture, name: 'driver', store: getStore() });
  const triggered = await ok<{ name: string; runId: string }>('triggerPipeline', {
    name: 'driver',
    params: { alpha: 0.3 },
  });
  expect(triggered.runId).toMatch(/^manual__/);
  expect(await ok('pausePipeline', { name: 'driver' })).toEqual({ name: 'driver', paused: true });
  const listed = await ok<PipelinesResult>('listPipelines');
  expect(listed.scheduler).toBe(true);
  expect(listed.pipelines[0]!.lastRuns).toEqual([
    expect.objectContaining({ id: triggered.runId, state: 'queued' }),
  ]);
  expect((await fails('triggerPipeline', { name: 'no-such-pipeline' })).code).toBe('NOT_FOUND');
  expect((await fails('triggerPipeline', { name: 'driver', params: { nope: 1 } })).code).toBe(
    'INVALID_PARAMETER',
  );
}, 60_000);

test('the cellar command is never handed an option in place of a name or a parameter key', async () => {
  setBridgeExporter(undefined);
  const { exportNotebook } = await import('../../../kernel-lib/exporter/index.js');
  const fixture = join(REPO_ROOT, 'notebooks', 'driver-training.ipynb');
  await exportNotebook({ notebook: fixture, name: 'driver', store: getStore() });
  for (const name of ['--help', '-h', '--version', '../driver', 'driver --store /tmp']) {
    expect((await fails('triggerPipeline', { name })).code).toBe('INVALID_PARAMETER');
    expect((await fails('pausePipeline', { name })).code).toBe('INVALID_PARAMETER');
  }
  const other = makeTmp();
  for (const key of ['--store', '-p', 'a=b', '1x', '']) {
    const e = await fails('triggerPipeline', { name: 'driver', params: { [key]: other } });
    expect(e.code).toBe('INVALID_PARAMETER');
  }
  expect(existsSync(join(other, '.cellar'))).toBe(false); // the store was not switched
  // a value starting with "-" is data
  const triggered = await ok<{ runId: string }>('triggerPipeline', {
    name: 'driver',
    params: { alpha: -0.25 },
  });
  expect(triggered.runId).toMatch(/^manual__/);
}, 120_000);
