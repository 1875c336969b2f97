/**
 * The CLI of runs and scheduling: `cellar pipelines run|trigger|backfill|pause|unpause|runs|logs`,
 * `cellar scheduler --once` and `cellar step run` (what Airflow tasks call): exit codes, JSON output, and bad
 * input (unknown parameters, hostile run ids, invalid schedules) refused with nothing stored.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { closeAllEmbedded, openEmbedded } from '../../../kernel-lib/store/open.js';
import { main } from '../../../pipelines/cli/main.js';
import { EXIT } from '../../../pipelines/cli/output.js';
import { SchedulerState } from '../../../pipelines/scheduler/state.js';
import { cleanupTmp } from '../../helpers/tmp.js';
import { makeStore, workerScript, writePipeline } from '../../fixtures/pipelines/fixture.js';
import { readOutput } from '../../fixtures/pipelines/outputs.js';

let savedWorker: string | undefined;
beforeAll(() => {
  savedWorker = process.env.CELLAR_WORKER_SCRIPT;
  process.env.CELLAR_WORKER_SCRIPT = workerScript();
});
afterAll(() => {
  if (savedWorker === undefined) delete process.env.CELLAR_WORKER_SCRIPT;
  else process.env.CELLAR_WORKER_SCRIPT = savedWorker;
});
afterEach(() => {
  closeAllEmbedded();
  cleanupTmp();
});

async function cellar(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

function state(root: string): SchedulerState {
  return new SchedulerState(openEmbedded(root).db);
}

function twoSteps(root: string, name = 'p', schedule: string | null = null): void {
  writePipeline(root, {
    name,
    schedule,
    parameters: [{ name: 'label', type: 'string', default: 'x' }],
    metrics: [{ name: 'size', step: 'b' }],
    steps: [
      { name: 'a', outputs: ['text'], code: 'console.log("step a ran"); return { text: ctx.params.label };' },
      {
        name: 'b',
        inputs: { text: 'a' },
        outputs: ['size', 'echo'],
        code: 'return { size: ctx.inputs.text.length, echo: ctx.inputs.text };',
      },
    ],
  });
}

test('pipelines run waits, prints the result, and exits non-zero when the run fails', async () => {
  const root = makeStore();
  twoSteps(root);
  writePipeline(root, { name: 'bad', steps: [{ name: 'boom', code: 'throw new Error("kaput");' }] });
  const hostile = '$(id) `id` "q" \'s\'\nnext';
  const ok = await cellar(
    '--store',
    root,
    'pipelines',
    'run',
    'p@1',
    '--param',
    `label=${hostile}`,
    '--json',
  );
  expect(ok.code).toBe(EXIT.OK);
  const summary = JSON.parse(ok.out);
  expect(summary.run.state).toBe('success');
  expect(summary.metrics.size).toBe(hostile.length);
  expect(await readOutput(state(root).attempts(summary.run.runId), 'b', 'echo')).toBe(hostile);

  const text = await cellar('--store', root, 'pipelines', 'run', 'p');
  expect(text.code).toBe(EXIT.OK);
  expect(text.out).toMatch(/state\s+success/);
  expect(text.out).toContain('size');

  const failed = await cellar('--store', root, 'pipelines', 'run', 'bad');
  expect(failed.code).toBe(EXIT.ERROR);
  expect(failed.out).toContain('kaput');

  const before = state(root).listRuns().length;
  const unknown = await cellar('--store', root, 'pipelines', 'run', 'p', '--param', 'lable=1');
  expect(unknown.code).toBe(EXIT.USAGE);
  expect(unknown.err).toContain('Unknown parameter "lable"');
  expect((await cellar('--store', root, 'pipelines', 'run', 'p@7')).code).toBe(EXIT.NOT_FOUND);
  expect(state(root).listRuns()).toHaveLength(before);
});

test('trigger, scheduler --once, runs, logs, pause and unpause', async () => {
  const root = makeStore();
  twoSteps(root);
  const trig = await cellar('--store', root, 'pipelines', 'trigger', 'p', '-p', 'label=hello', '--json');
  expect(trig.code).toBe(EXIT.OK);
  const runId = JSON.parse(trig.out).runId as string;
  expect(state(root).getRun(runId).state).toBe('queued');

  const once = await cellar('--store', root, 'scheduler', '--once', '--quiet');
  expect(once.code).toBe(EXIT.OK);
  expect(state(root).getRun(runId).state).toBe('success');

  const list = await cellar('--store', root, 'pipelines', 'runs', 'p', '--json');
  expect(JSON.parse(list.out).map((r: { runId: string }) => r.runId)).toEqual([runId]);
  const show = await cellar('--store', root, 'pipelines', 'runs', '--id', runId);
  expect(show.out).toContain('p@1');
  expect(show.out).toMatch(/a\s+1\s+success/);
  const logs = await cellar('--store', root, 'pipelines', 'logs', runId, 'a');
  expect(logs.out).toContain('step a ran');
  expect((await cellar('--store', root, 'pipelines', 'logs', '../../etc', 'a')).code).toBe(EXIT.USAGE);

  expect((await cellar('--store', root, 'pipelines', 'pause', 'p')).code).toBe(EXIT.OK);
  expect(state(root).pipelineState('p').paused).toBe(true);
  expect((await cellar('--store', root, 'pipelines', 'unpause', 'p')).code).toBe(EXIT.OK);
  expect(state(root).pipelineState('p').paused).toBe(false);
  expect((await cellar('--store', root, 'pipelines', 'pause', 'nope')).code).toBe(EXIT.NOT_FOUND);
});

test('backfill queues one run per logical date in [--from, --to]; an invalid schedule is refused', async () => {
  const root = makeStore();
  twoSteps(root, 'hourly', '0 */12 * * *');
  twoSteps(root, 'broken', '61 * * * *');
  const bad = await cellar(
    '--store',
    root,
    'pipelines',
    'backfill',
    'broken',
    '--from',
    '2024-01-01',
    '--to',
    '2024-01-02',
  );
  expect(bad.code).toBe(EXIT.USAGE);
  expect(bad.err).toContain('61 * * * *');
  const zoneless = await cellar(
    '--store',
    root,
    'pipelines',
    'backfill',
    'hourly',
    '--from',
    '2024-01-01T00:00',
    '--to',
    '2024-01-02',
  );
  expect(zoneless.code).toBe(EXIT.USAGE);
  expect(state(root).listRuns()).toHaveLength(0);

  const queued = await cellar(
    '--store',
    root,
    'pipelines',
    'backfill',
    'hourly',
    '--from',
    '2024-01-01',
    '--to',
    '2024-01-02',
    '--no-wait',
    '--json',
  );
  expect(queued.code).toBe(EXIT.OK);
  const runs = JSON.parse(queued.out).runs as Array<{ logicalDate: number; state: string }>;
  expect(runs.map((r) => [new Date(r.logicalDate).toISOString(), r.state])).toEqual([
    ['2024-01-01T00:00:00.000Z', 'queued'],
    ['2024-01-01T12:00:00.000Z', 'queued'],
    ['2024-01-02T00:00:00.000Z', 'queued'],
  ]);
});

test('step run executes single steps of one run id, reading upstream outputs from the store', async () => {
  const root = makeStore();
  twoSteps(root);
  const runId = 'scheduled__2024-01-01T00:00:00+00:00';
  const args = ['--run-id', runId, '--logical-date', '2024-01-01T00:00:00+00:00'];
  const hostile = '../x; $(id)';

  const early = await cellar('--store', root, 'step', 'run', 'p@1', 'b', ...args);
  expect(early.code).toBe(EXIT.NOT_FOUND);
  expect(early.err).toContain('run "a" first');

  const a = await cellar(
    '--store',
    root,
    'step',
    'run',
    'p@1',
    'a',
    ...args,
    '-p',
    `label=${hostile}`,
    '--json',
  );
  expect(a.code).toBe(EXIT.OK);
  expect(JSON.parse(a.out)).toMatchObject({ state: 'success', tryNumber: 1 });
  const b = await cellar('--store', root, 'step', 'run', 'p@1', 'b', ...args);
  expect(b.code).toBe(EXIT.OK);
  expect(state(root).getRun(runId)).toMatchObject({ runType: 'external', state: 'success' });
  expect(await readOutput(state(root).attempts(runId), 'b', 'echo')).toBe(hostile);
  // Airflow retrying a task: another attempt of the same step
  expect((await cellar('--store', root, 'step', 'run', 'p@1', 'b', ...args)).code).toBe(EXIT.OK);
  expect(
    state(root)
      .attempts(runId, 'b')
      .map((x) => x.tryNumber),
  ).toEqual([1, 2]);

  const runsBefore = state(root).listRuns().length;
  for (const badId of ['../x', '../../etc/passwd', 'a/b', '..', '', ' x']) {
    const r = await cellar(
      '--store',
      root,
      'step',
      'run',
      'p@1',
      'a',
      '--run-id',
      badId,
      '--logical-date',
      '2024-01-02T00:00:00Z',
    );
    expect(r.code).toBe(EXIT.USAGE);
    expect(r.err).toContain('Invalid run id');
  }
  expect(existsSync(join(root, 'pipeline-runs', 'x'))).toBe(false);
  expect(existsSync(join(root, '..', 'x'))).toBe(false);
  expect(state(root).listRuns()).toHaveLength(runsBefore);
  // Airflow's manual run ids and timestamps (microseconds, +00:00) are accepted as they are
  const airflow = await cellar(
    '--store',
    root,
    'step',
    'run',
    'p@1',
    'a',
    '--run-id',
    'manual__2024-01-03T10:00:00.123456+00:00',
    '--logical-date',
    '2024-01-03T10:00:00.123456+00:00',
    '--json',
  );
  expect(airflow.code).toBe(EXIT.OK);
  expect(new Date(JSON.parse(airflow.out).run.logicalDate).toISOString()).toBe('2024-01-03T10:00:00.123Z');
  const wrongDate = await cellar(
    '--store',
    root,
    'step',
    'run',
    'p@1',
    'a',
    '--run-id',
    runId,
    '--logical-date',
    '2024-05-01T00:00:00Z',
  );
  expect(wrongDate.code).toBe(EXIT.CONFLICT);
});
