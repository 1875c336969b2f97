/**
 * One rule per contract: the exporter and the runner/scheduler agree on pipeline names, step names,
 * `name@version` references and cron schedules (random and edge cases), and a pipeline the exporter accepts
 * always runs.
 */
import { join } from 'node:path';
import { CellarError } from '../../kernel-lib/errors.js';
import {
  exportNotebook,
  parsePipelineRef as exporterRef,
  planExport,
  validatePipelineName as exporterName,
  validateSchedule,
} from '../../kernel-lib/exporter/index.js';
import { closeAllEmbedded } from '../../kernel-lib/store/open.js';
import { validatePipelineName as runnerName, validateStepName } from '../../pipelines/runner/ids.js';
import { parsePipelineRef as runnerRef, validatePipelineSpec } from '../../pipelines/runner/version.js';
import { runPipeline } from '../../pipelines/scheduler/api.js';
import { validateCron } from '../../pipelines/scheduler/cron.js';
import { notebook, writeNotebook, type CellDef } from '../kernel-lib/exporter/nb.js';
import { cleanupTmp, makeTmp } from '../helpers/tmp.js';
import { workerScript } from '../fixtures/pipelines/fixture.js';

afterEach(() => {
  closeAllEmbedded();
  cleanupTmp();
});

function accepts(f: () => unknown): boolean {
  try {
    f();
    return true;
  } catch (e) {
    expect(e).toBeInstanceOf(CellarError);
    expect((e as CellarError).code).toBe('INVALID_PARAMETER');
    return false;
  }
}

/** A deterministic pseudo-random generator (the cases are the same on every run). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

const EDGE_NAMES = [
  'a',
  '9',
  'a'.repeat(64),
  'a'.repeat(65),
  'driver-training',
  'x_-1',
  '-a',
  '_a',
  'A',
  'Driver',
  'a.b',
  '..',
  'a/b',
  '../daily',
  '',
  ' a',
  'é',
  'a@b',
];

function randomNames(n: number): string[] {
  const r = rng(42);
  const alphabet = 'abcxyz019_-.ABZ/@ é';
  return Array.from({ length: n }, () => {
    const len = Math.floor(r() * 70);
    return Array.from({ length: len }, () => alphabet[Math.floor(r() * alphabet.length)]).join('');
  });
}

test('pipeline and step names: the exporter, the runner and references accept exactly the same names', () => {
  for (const name of [...EDGE_NAMES, ...randomNames(400)]) {
    const byExporter = accepts(() => exporterName(name));
    expect([name, accepts(() => runnerName(name))]).toEqual([name, byExporter]);
    expect([name, accepts(() => validateStepName(name))]).toEqual([name, byExporter]);
    if (!name.includes('@')) {
      expect([name, accepts(() => exporterRef(name))]).toEqual([name, byExporter]);
      expect([name, accepts(() => runnerRef(`${name}@3`))]).toEqual([name, byExporter]);
    }
  }
});

test('a step:<name> tag is accepted exactly when the runner accepts the step name', () => {
  for (const name of [...EDGE_NAMES, ...randomNames(60)].filter((n) => n.trim() === n && n !== '')) {
    let tagOk = true;
    try {
      planExport({ notebook: notebook([[[`step:${name}`], 'const v = 1;']]), name: 'p' });
    } catch (e) {
      expect((e as CellarError).code).toBe('INVALID_INPUT');
      tagOk = false;
    }
    expect([name, tagOk]).toEqual([name, accepts(() => validateStepName(name))]);
  }
});

test('references: the same parse everywhere', () => {
  for (const ref of ['p', 'p@1', 'p@v12', 'p@latest', 'p@0', 'p@-1', 'p@1.5', 'p@', '@3', 'p@3@4', 'P@3']) {
    let a: unknown = null;
    let b: unknown = null;
    const okA = accepts(() => (a = exporterRef(ref)));
    const okB = accepts(() => (b = runnerRef(ref)));
    expect([ref, okB, b]).toEqual([ref, okA, a]);
  }
});

const EDGE_CRONS = [
  '@yearly',
  '@annually',
  '@quarterly',
  '@monthly',
  '@weekly',
  '@daily',
  '@midnight',
  '@MIDNIGHT',
  '@hourly',
  '@minutely',
  '@weekdays',
  '@weekends',
  '@once',
  '@continuous',
  '@reboot',
  '@secondly',
  '@fortnightly',
  '0 0 * * THU',
  '0 0 1 JAN *',
  ' 0  *  * * * ',
  '*/15 9-17 * * 1-5',
  '0 0 L * *',
  'H * * * *',
  '0 0 ? * *',
  '61 * * * *',
  '* * * * * *',
  '0 0 * *',
  '0 25 * * *',
];

function randomCrons(n: number): string[] {
  const r = rng(7);
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)]!;
  const field = (max: number): string =>
    pick([
      '*',
      String(Math.floor(r() * (max + 3))),
      `*/${1 + Math.floor(r() * 20)}`,
      `1-${Math.floor(r() * (max + 2))}`,
      '?',
      'H',
    ]);
  return Array.from({ length: n }, () => [field(59), field(23), field(31), field(12), field(7)].join(' '));
}

test('cron schedules: the exporter stores exactly what the scheduler runs, presets included', () => {
  for (const cron of [...EDGE_CRONS, ...randomCrons(300)]) {
    let stored: string | null = null;
    const byExporter = accepts(() => (stored = validateSchedule(cron)));
    let ran: string | null = null;
    const byScheduler = accepts(() => (ran = validateCron(cron)));
    expect([cron, byScheduler]).toEqual([cron, byExporter]);
    if (byExporter) {
      expect(ran).toBe(stored);
      expect(validateCron(stored!)).toBe(stored); // the stored form is read back unchanged
    }
  }
  expect(validateSchedule('@midnight')).toBe('0 0 * * *');
  expect(validateSchedule('@quarterly')).toBe('0 0 1 */3 *');
});

test('a pipeline the exporter accepts runs: edge names, a preset schedule', async () => {
  const dir = makeTmp('cellar-rules-');
  const store = join(dir, '.cellar');
  const longStep = 's'.repeat(64);
  const cells: CellDef[] = [
    ['step:9', 'const first = 40;'],
    [`step:${longStep}`, 'const answer = first + 2;'],
    ['pipeline-metrics', 'answer;'],
  ];
  const name = `p-${'x'.repeat(62)}`;
  const exported = await exportNotebook({
    notebook: writeNotebook(dir, cells),
    name,
    store,
    schedule: '@midnight',
  });
  expect(exported.spec.schedule).toBe('0 0 * * *');
  expect(validatePipelineSpec(exported.spec).steps.map((s) => s.name)).toEqual(['9', longStep]);
  const summary = await runPipeline({ store, name: `${name}`, workerScript: workerScript() });
  expect(summary.run.state).toBe('success');
  expect(summary.metrics).toMatchObject({ answer: 42 });
});

test('a notebook without pipeline tags gets one problem saying how to add them, not one per cell', () => {
  // a papermill "parameters" tag is not a pipeline tag
  const cells: CellDef[] = Array.from({ length: 6 }, (_, i) => [
    i === 2 ? 'parameters' : '',
    `const x${i} = ${i};`,
  ]);
  let err: CellarError | null = null;
  try {
    planExport({ notebook: notebook(cells), name: 'p' });
  } catch (e) {
    err = e as CellarError;
  }
  const errors = (err?.details as { errors: Array<{ cell: number | null; message: string }> }).errors;
  expect(errors).toHaveLength(1);
  expect(errors[0]!.cell).toBeNull();
  expect(errors[0]!.message).toMatch(/has no pipeline tags.*"step:<name>"/);
});
