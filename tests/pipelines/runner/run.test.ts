/**
 * Running a pipeline once with real worker processes: values cross step boundaries serialized (DataFrames,
 * models, structured clones), parameters arrive byte for byte, each attempt has its own process and log,
 * the run is a tracking run with nested step runs; failures, retries, timeouts and a death mid-write.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { closeAllEmbedded, openEmbedded } from '../../../kernel-lib/store/open.js';
import { isProcessAlive } from '../../../kernel-lib/store/process.js';
import { runPipeline } from '../../../pipelines/scheduler/api.js';
import { SchedulerState } from '../../../pipelines/scheduler/state.js';
import { LINEAGE_TAGS } from '../../../pipelines/scheduler/lineage.js';
import { cleanupTmp } from '../../helpers/tmp.js';
import {
  makeStore,
  requireFromRepo,
  waitFor,
  workerScript,
  writePipeline,
} from '../../fixtures/pipelines/fixture.js';
import { committed, readOutput } from '../../fixtures/pipelines/outputs.js';

afterEach(() => {
  closeAllEmbedded();
  cleanupTmp();
});

const HOSTILE = 'a $(id) `whoami` "double" \'single\' \\ back\nsecond line\r\n\ttab; rm -rf / # ünïcødé';

test('values cross step boundaries serialized, params arrive byte for byte, logs and lineage are recorded', async () => {
  const root = makeStore();
  writePipeline(root, {
    name: 'flow',
    parameters: [
      { name: 'label', type: 'string', default: 'plain' },
      { name: 'alpha', type: 'number', default: 0.5 },
      { name: 'grid', type: 'json', default: [1] },
    ],
    metrics: [{ name: 'rmse', step: 'evaluate' }],
    steps: [
      {
        name: 'prep',
        outputs: ['df', 'meta', 'labelEcho', 'pidPrep'],
        parameters: ['label'],
        code: `
          const pl = ${requireFromRepo('node_modules', 'nodejs-polars')};
          console.log('prep says hi');
          console.error('prep writes to stderr');
          const df = pl.DataFrame({ x1: [0, 1, 2, 3, 4, 5, 6, 7], x2: [1, 0, 1, 0, 1, 0, 1, 0] })
            .withColumn(pl.lit(1).alias('one'));
          return {
            df,
            meta: { when: new Date(ctx.logicalDate), seen: new Map([['grid', ctx.params.grid]]), interval: [ctx.dataIntervalStart, ctx.dataIntervalEnd] },
            labelEcho: ctx.params.label,
            pidPrep: process.pid,
          };`,
      },
      {
        name: 'train',
        inputs: { df: 'prep' },
        outputs: ['model', 'pidTrain'],
        parameters: ['alpha'],
        code: `
          const { ElasticNet } = ${requireFromRepo('dist', 'cjs', 'kernel-lib', 'ml', 'index.js')};
          const rows = ctx.inputs.df.toRecords();
          const X = rows.map((r) => [r.x1, r.x2]);
          const y = rows.map((r) => 2 * r.x1 - r.x2 + 1);
          return { model: new ElasticNet({ alpha: ctx.params.alpha / 100, l1Ratio: 0.1 }).fit(X, y), pidTrain: process.pid };`,
      },
      {
        name: 'evaluate',
        inputs: { model: 'train', df: 'prep', meta: 'prep' },
        outputs: ['rmse', 'types'],
        code: `
          const rows = ctx.inputs.df.toRecords();
          const pred = ctx.inputs.model.predict(rows.map((r) => [r.x1, r.x2]));
          const err = rows.map((r, i) => pred[i] - (2 * r.x1 - r.x2 + 1));
          const rmse = Math.sqrt(err.reduce((s, e) => s + e * e, 0) / err.length);
          return { rmse, types: [ctx.inputs.meta.when instanceof Date, ctx.inputs.meta.seen instanceof Map, ctx.tryNumber] };`,
      },
    ],
  });
  const summary = await runPipeline({
    store: root,
    name: 'flow',
    params: { label: HOSTILE, grid: '{"alpha":[0.1,0.5]}' },
    workerScript: workerScript(),
    logicalDate: Date.parse('2024-03-01T10:00:00Z'),
    maxStepsPerWorker: 1, // a new process for every step (reuse is tested in reuse.test.ts)
  });
  expect(summary.run.state).toBe('success');
  expect(summary.tasks.map((t) => [t.step, t.state, t.tryNumber])).toEqual([
    ['prep', 'success', 1],
    ['train', 'success', 1],
    ['evaluate', 'success', 1],
  ]);
  expect(summary.run.params).toEqual({ label: HOSTILE, alpha: 0.5, grid: { alpha: [0.1, 0.5] } });
  expect(await readOutput(summary.attempts, 'prep', 'labelEcho')).toBe(HOSTILE);
  const meta = (await readOutput(summary.attempts, 'prep', 'meta')) as {
    when: Date;
    seen: Map<string, unknown>;
    interval: string[];
  };
  expect(meta.when.toISOString()).toBe('2024-03-01T10:00:00.000Z');
  expect(meta.seen.get('grid')).toEqual({ alpha: [0.1, 0.5] });
  expect(meta.interval).toEqual(['2024-03-01T10:00:00.000Z', '2024-03-01T10:00:00.000Z']); // manual run, no schedule
  expect(await readOutput(summary.attempts, 'evaluate', 'types')).toEqual([true, true, 1]);

  // every step ran in a process of its own, none of them this one
  const pids = summary.attempts.map((a) => a.pid);
  expect(new Set(pids).size).toBe(3);
  expect(pids).not.toContain(process.pid);
  expect(await readOutput(summary.attempts, 'prep', 'pidPrep')).toBe(
    summary.attempts.find((a) => a.step === 'prep')!.pid,
  );

  // stdout and stderr of each attempt are in its own log under <store>/logs
  const prepLog = summary.attempts.find((a) => a.step === 'prep')!.logPath;
  expect(prepLog.startsWith(`${root}/logs/`)).toBe(true);
  const text = readFileSync(prepLog, 'utf8');
  expect(text).toContain('prep says hi');
  expect(text).toContain('prep writes to stderr');

  // lineage: a tracking run for the pipeline run, with the metric, and one nested run per step
  const rmse = (await readOutput(summary.attempts, 'evaluate', 'rmse')) as number;
  expect(summary.metrics.rmse).toBe(rmse);
  const { tracking } = openEmbedded(root);
  const parent = await tracking.getRun(summary.run.trackingRunId!);
  expect(parent.status).toBe('FINISHED');
  expect(parent.tags).toMatchObject({
    [LINEAGE_TAGS.pipeline]: 'flow',
    [LINEAGE_TAGS.version]: '1',
    [LINEAGE_TAGS.runId]: summary.run.runId,
  });
  expect(parent.params.label).toBe(HOSTILE);
  const children = await tracking.searchRuns({
    experimentIds: [parent.experimentId],
    filter: `tags.mlflow.parentRunId = '${parent.id}'`,
  });
  expect(children.runs.map((r) => [r.runName, r.status, r.tags[LINEAGE_TAGS.step]]).sort()).toEqual([
    ['evaluate', 'FINISHED', 'evaluate'],
    ['prep', 'FINISHED', 'prep'],
    ['train', 'FINISHED', 'train'],
  ]);
  expect(children.runs.find((r) => r.runName === 'evaluate')!.metrics.rmse).toBe(rmse);
});

test('an unserializable output fails its step naming the variable; downstream steps are upstream_failed', async () => {
  const root = makeStore();
  writePipeline(root, {
    name: 'bad',
    steps: [
      { name: 'make', outputs: ['handler'], code: 'return { handler: () => 42 };' },
      { name: 'use', inputs: { handler: 'make' }, code: 'return {};' },
      { name: 'cleanup', upstream: ['make'], triggerRule: 'one_failed', code: 'return {};' },
      { name: 'always', upstream: ['use'], triggerRule: 'all_done', code: 'return {};' },
      { name: 'alarm', upstream: ['always'], triggerRule: 'one_failed', code: 'return {};' },
      { name: 'after', upstream: ['alarm'], code: 'return {};' },
    ],
  });
  const s = await runPipeline({ store: root, name: 'bad', workerScript: workerScript() });
  expect(s.run.state).toBe('failed');
  const byStep = Object.fromEntries(s.tasks.map((t) => [t.step, t]));
  expect(byStep.make!.state).toBe('failed');
  expect(byStep.make!.error).toContain('"handler"');
  expect(byStep.make!.error).toContain('Step "make"');
  expect(byStep.make!.error).toContain('function');
  expect(byStep.use!.state).toBe('upstream_failed');
  expect(byStep.cleanup!.state).toBe('success'); // one_failed fires
  expect(byStep.always!.state).toBe('success'); // all_done runs whatever happened upstream
  expect(byStep.alarm!.state).toBe('skipped'); // one_failed with nothing failed upstream
  expect(byStep.after!.state).toBe('skipped'); // all_success below a skipped step
  expect(s.run.error).toContain('"make"');
  expect(readFileSync(s.attempts[0]!.logPath, 'utf8')).toContain('handler');
  expect(committed(s.attempts.find((a) => a.step === 'make')!)).toBe(false);
});

test('a failing step is retried with backoff and its second try succeeds', async () => {
  const root = makeStore();
  writePipeline(root, {
    name: 'flaky',
    steps: [
      {
        name: 'sometimes',
        retries: 2,
        outputs: ['tries'],
        code: `if (ctx.tryNumber === 1) throw new Error('transient trouble'); return { tries: ctx.tryNumber };`,
      },
    ],
  });
  const s = await runPipeline({
    store: root,
    name: 'flaky',
    workerScript: workerScript(),
    retry: { baseDelayMs: 20, maxDelayMs: 50 },
  });
  expect(s.run.state).toBe('success');
  expect(s.tasks[0]).toMatchObject({ state: 'success', tryNumber: 2, outputTry: 2 });
  expect(s.attempts.map((a) => [a.tryNumber, a.state])).toEqual([
    [1, 'failed'],
    [2, 'success'],
  ]);
  expect(s.attempts[0]!.error).toContain('transient trouble');
  expect(s.attempts[0]!.pid).not.toBe(s.attempts[1]!.pid);
  expect(s.attempts[1]!.startedAt).toBeGreaterThanOrEqual(s.attempts[0]!.endedAt!);
  expect(readFileSync(s.attempts[0]!.logPath, 'utf8')).toContain('transient trouble');
  expect(await readOutput(s.attempts, 'sometimes', 'tries')).toBe(2);
});

test('a step past its timeout is killed and fails; its process is gone', async () => {
  const root = makeStore();
  writePipeline(root, {
    name: 'slow',
    steps: [
      { name: 'sleepy', timeoutMs: 300, code: 'await new Promise((r) => setTimeout(r, 60_000)); return {};' },
    ],
  });
  const s = await runPipeline({ store: root, name: 'slow', workerScript: workerScript() });
  expect(s.run.state).toBe('failed');
  expect(s.tasks[0]!.state).toBe('failed');
  expect(s.attempts[0]!.error).toContain('timed out after 300 ms');
  const a = s.attempts[0]!;
  expect(isProcessAlive({ host: a.host, pid: a.pid!, started: a.procStarted! })).toBe(false);
});

test('a step that dies while writing its outputs leaves none visible, and its retry commits them', async () => {
  const root = makeStore();
  writePipeline(root, {
    name: 'crashy',
    steps: [
      {
        name: 'writer',
        retries: 1,
        outputs: ['first', 'second'],
        // On try 1, "second" looks like a DataFrame whose serialization kills the process after "first" was written.
        code: `
          const killer = { toRecords() {}, select() {}, writeIPC() { process.kill(process.pid, 'SIGKILL'); } };
          return { first: [1, 2, 3], second: ctx.tryNumber === 1 ? killer : 'ok' };`,
      },
      {
        name: 'reader',
        inputs: { first: 'writer', second: 'writer' },
        outputs: ['both'],
        code: 'return { both: [ctx.inputs.first, ctx.inputs.second] };',
      },
    ],
  });
  const s = await runPipeline({
    store: root,
    name: 'crashy',
    workerScript: workerScript(),
    retry: { baseDelayMs: 10, maxDelayMs: 10 },
  });
  const [t1, t2] = s.attempts.filter((a) => a.step === 'writer');
  expect(t1!.state).toBe('failed');
  expect(t1!.signal).toBe('SIGKILL');
  expect(committed(t1!)).toBe(false);
  expect(existsSync(t1!.outputDir)).toBe(false);
  expect(readdirSync(dirname(t1!.outputDir)).filter((n) => n.includes('.tmp'))).toEqual([]); // debris removed
  expect(committed(t2!)).toBe(true);
  expect(s.run.state).toBe('success');
  expect(await readOutput(s.attempts, 'reader', 'both')).toEqual([[1, 2, 3], 'ok']);
});

test('interrupting a run kills its step processes and ends it failed, not running', async () => {
  const root = makeStore();
  writePipeline(root, {
    name: 'forever',
    steps: [
      { name: 'wait', retries: 3, code: 'await new Promise(() => {}); return {};' },
      { name: 'next', upstream: ['wait'], code: 'return {};' },
    ],
  });
  const interrupt = new AbortController();
  const done = runPipeline({
    store: root,
    name: 'forever',
    workerScript: workerScript(),
    signal: interrupt.signal,
  });
  const state = new SchedulerState(openEmbedded(root).db);
  const attempt = await waitFor(() =>
    state.runningAttempts().find((a) => a.step === 'wait' && a.pid !== null),
  );
  interrupt.abort();
  const s = await done;
  expect(s.run.state).toBe('failed');
  expect(s.run.error).toContain('interrupted');
  expect(s.tasks.map((t) => [t.step, t.state])).toEqual([
    ['wait', 'failed'],
    ['next', 'upstream_failed'],
  ]);
  expect(s.attempts).toHaveLength(1);
  expect(isProcessAlive({ host: attempt.host, pid: attempt.pid!, started: attempt.procStarted! })).toBe(
    false,
  );
  const tracking = openEmbedded(root).tracking;
  expect((await tracking.getRun(s.run.trackingRunId!)).status).toBe('FAILED');
  expect((await tracking.getRun(s.tasks[0]!.trackingRunId!)).status).toBe('FAILED');
});

test('steps load as the CommonJS they are even when the project is a "type": "module" package', async () => {
  const root = makeStore();
  writeFileSync(join(root, '..', 'package.json'), JSON.stringify({ name: 'esm-project', type: 'module' }));
  writePipeline(root, {
    name: 'esm',
    steps: [{ name: 'one', outputs: ['ok'], code: 'return { ok: typeof require };' }],
  });
  const s = await runPipeline({ store: root, name: 'esm', workerScript: workerScript() });
  expect(s.run.state).toBe('success');
  expect(await readOutput(s.attempts, 'one', 'ok')).toBe('function');
});
