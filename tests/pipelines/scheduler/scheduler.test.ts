/**
 * The Scheduler with a controlled clock and real worker processes: cron runs with data intervals, catchup
 * on/off, one run per logical date, pause/unpause, manual triggers, maxActiveRuns, the global concurrency
 * limit, retry times from the backoff policy, backfills, and bad input that changes nothing.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CellarError } from '../../../kernel-lib/errors.js';
import { closeAllEmbedded, openEmbedded } from '../../../kernel-lib/store/open.js';
import { loadPipelineVersion } from '../../../pipelines/runner/version.js';
import { backfillPipeline, setPipelinePaused, triggerPipeline } from '../../../pipelines/scheduler/api.js';
import { retryDelayMs } from '../../../pipelines/scheduler/backoff.js';
import { Scheduler } from '../../../pipelines/scheduler/scheduler.js';
import { SchedulerState } from '../../../pipelines/scheduler/state.js';
import { cleanupTmp, makeTmp } from '../../helpers/tmp.js';
import { makeStore, waitFor, workerScript, writePipeline } from '../../fixtures/pipelines/fixture.js';
import { readOutput } from '../../fixtures/pipelines/outputs.js';

const schedulers: Scheduler[] = [];
afterEach(async () => {
  for (const s of schedulers.splice(0)) await s.stop();
  closeAllEmbedded();
  cleanupTmp();
});

const T = (iso: string): number => Date.parse(iso);

function scheduler(
  root: string,
  clock: { now: number },
  extra: Partial<ConstructorParameters<typeof Scheduler>[0]> = {},
): Scheduler {
  const s = new Scheduler({ store: root, workerScript: workerScript(), now: () => clock.now, ...extra });
  schedulers.push(s);
  return s;
}

/** Ticks until no run is queued or running and a tick creates nothing new. */
async function settle(s: Scheduler): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    const report = await s.tick();
    if (s.state.activeRuns().length === 0 && report.created.length === 0) return;
    await s.waitForChange(50);
  }
  throw new Error('runs did not settle');
}

const intervalStep = {
  name: 'report',
  outputs: ['interval'],
  code: 'return { interval: [ctx.logicalDate, ctx.dataIntervalStart, ctx.dataIntervalEnd] };',
};

function errorOf(fn: () => unknown): CellarError {
  try {
    fn();
  } catch (e) {
    if (e instanceof CellarError) return e;
    throw e;
  }
  throw new Error('expected an error');
}

test('catchup creates a run per elapsed interval, lazily within maxActiveRuns; one run per logical date', async () => {
  const root = makeStore();
  writePipeline(root, {
    name: 'hourly',
    schedule: '0 * * * *',
    catchup: true,
    maxActiveRuns: 2,
    createdAt: '2024-01-01T00:10:00.000Z',
    steps: [intervalStep],
  });
  const clock = { now: T('2024-01-01T05:30:00Z') };
  const s = scheduler(root, clock);
  const first = await s.tick();
  expect(first.created).toHaveLength(2); // lazily: maxActiveRuns = 2
  expect(first.started).toHaveLength(2);
  expect(s.state.countRunningRuns('hourly')).toBeLessThanOrEqual(2);
  await settle(s);
  let runs = s.state.listRuns({ pipeline: 'hourly' }).reverse();
  expect(runs.map((r) => new Date(r.logicalDate).toISOString())).toEqual([
    '2024-01-01T01:00:00.000Z',
    '2024-01-01T02:00:00.000Z',
    '2024-01-01T03:00:00.000Z',
    '2024-01-01T04:00:00.000Z',
  ]);
  expect(runs.every((r) => r.state === 'success' && r.runType === 'scheduled')).toBe(true);
  // the run for [04:00, 05:00) saw its interval; its logical date is the start
  const last = runs[3]!;
  expect(await readOutput(s.state.attempts(last.runId), 'report', 'interval')).toEqual([
    '2024-01-01T04:00:00.000Z',
    '2024-01-01T04:00:00.000Z',
    '2024-01-01T05:00:00.000Z',
  ]);
  // [05:00, 06:00) starts only once 06:00 has passed
  clock.now = T('2024-01-01T05:59:59Z');
  expect((await s.tick()).created).toEqual([]);
  clock.now = T('2024-01-01T06:00:00Z');
  expect((await s.tick()).created).toHaveLength(1);
  await settle(s);
  runs = s.state.listRuns({ pipeline: 'hourly' });
  expect(runs).toHaveLength(5);
  // the store refuses a second run at a logical date
  const { spec } = loadPipelineVersion(root, 'hourly', 1);
  const dup = errorOf(() =>
    s.state.createRun({
      spec,
      runId: 'dup-1',
      runType: 'manual',
      logicalDate: T('2024-01-01T01:00:00Z'),
      intervalStart: 0,
      intervalEnd: 0,
      params: {},
    }),
  );
  expect(dup.code).toBe('ALREADY_EXISTS');
  expect(() =>
    s.backend.db
      .prepare(
        `INSERT INTO pipeline_runs (run_id, pipeline, version, run_type, state, logical_date, interval_start, interval_end, params_json, created_at)
         VALUES ('dup-2', 'hourly', 1, 'manual', 'queued', ?, 0, 0, '{}', 0)`,
      )
      .run(T('2024-01-01T01:00:00Z')),
  ).toThrow(/UNIQUE/);
});

test('without catchup only the latest complete interval runs; pause stops scheduling, unpause resumes', async () => {
  const root = makeStore();
  writePipeline(root, {
    name: 'nocatch',
    schedule: '0 * * * *',
    createdAt: '2024-01-01T00:10:00.000Z',
    steps: [intervalStep],
  });
  const clock = { now: T('2024-01-01T05:30:00Z') };
  const s = scheduler(root, clock);
  await s.tick();
  await settle(s);
  expect(s.state.listRuns().map((r) => new Date(r.logicalDate).toISOString())).toEqual([
    '2024-01-01T04:00:00.000Z',
  ]);

  setPipelinePaused(root, 'nocatch', true);
  clock.now = T('2024-01-01T07:30:00Z');
  expect((await s.tick()).created).toEqual([]);
  const manual = triggerPipeline({ store: root, name: 'nocatch', logicalDate: T('2024-01-01T07:31:00Z') });
  await s.tick();
  expect(s.state.getRun(manual.runId).state).toBe('queued'); // waits while paused

  setPipelinePaused(root, 'nocatch', false);
  const resumed = await s.tick();
  expect(resumed.started).toEqual([manual.runId]); // the queued manual run holds the only slot (maxActiveRuns 1)
  await settle(s); // then [06:00, 07:00) only: [05:00, 06:00) is skipped without catchup
  const dates = s.state.listRuns().map((r) => [r.runType, new Date(r.logicalDate).toISOString(), r.state]);
  expect(dates).toEqual([
    ['manual', '2024-01-01T07:31:00.000Z', 'success'],
    ['scheduled', '2024-01-01T06:00:00.000Z', 'success'],
    ['scheduled', '2024-01-01T04:00:00.000Z', 'success'],
  ]);
  // a manual run of a scheduled pipeline covers the latest complete interval at its logical date
  expect(await readOutput(s.state.attempts(manual.runId), 'report', 'interval')).toEqual([
    '2024-01-01T07:31:00.000Z',
    '2024-01-01T06:00:00.000Z',
    '2024-01-01T07:00:00.000Z',
  ]);
});

test('maxActiveRuns and the global concurrency limit hold', async () => {
  const root = makeStore();
  const board = join(makeTmp(), 'board');
  mkdirSync(board);
  const busy = (name: string): { name: string; outputs: string[]; code: string } => ({
    name,
    outputs: ['peak'],
    code: `
      const fs = require('fs'); const path = require('path');
      const mine = path.join(${JSON.stringify(board)}, process.pid + '');
      fs.writeFileSync(mine, '');
      const peak = fs.readdirSync(${JSON.stringify(board)}).length;
      await new Promise((r) => setTimeout(r, 150));
      const again = fs.readdirSync(${JSON.stringify(board)}).length;
      fs.unlinkSync(mine);
      return { peak: Math.max(peak, again) };`,
  });
  writePipeline(root, { name: 'wide', maxActiveRuns: 1, steps: ['a', 'b', 'c', 'd', 'e'].map(busy) });
  const clock = { now: Date.now() };
  const s = scheduler(root, clock, { concurrency: 2, poolSize: 3 });
  const runs = [1, 2].map((i) =>
    triggerPipeline({ store: root, name: 'wide', logicalDate: T(`2024-02-0${i}T00:00:00Z`) }),
  );
  await s.tick();
  expect(runs.map((r) => s.state.getRun(r.runId).state).sort()).toEqual(['queued', 'running']);
  await settle(s);
  const [a, b] = runs.map((r) => s.state.getRun(r.runId));
  expect([a!.state, b!.state]).toEqual(['success', 'success']);
  // one run at a time
  const [firstRun, secondRun] = [a!, b!].sort((x, y) => x.startedAt! - y.startedAt!);
  expect(secondRun!.startedAt!).toBeGreaterThanOrEqual(firstRun!.endedAt!);
  // never more than two steps alive at once
  for (const r of runs) {
    for (const step of ['a', 'b', 'c', 'd', 'e']) {
      expect(await readOutput(s.state.attempts(r.runId), step, 'peak')).toBeLessThanOrEqual(2);
    }
  }
});

test('a failed try is retried at the time the backoff policy gives', async () => {
  const root = makeStore();
  writePipeline(root, {
    name: 'later',
    steps: [{ name: 'x', retries: 3, code: 'throw new Error("nope");' }],
  });
  const s = scheduler(root, { now: Date.now() }, { retry: { baseDelayMs: 60_000, maxDelayMs: 600_000 } });
  const run = triggerPipeline({ store: root, name: 'later' });
  await s.tick();
  const task = await waitFor(() => {
    const t = s.state.task(run.runId, 'x');
    return t?.state === 'up_for_retry' ? t : undefined;
  });
  const [attempt] = s.state.attempts(run.runId, 'x');
  const expected =
    attempt!.endedAt! + retryDelayMs({ baseDelayMs: 60_000, maxDelayMs: 600_000 }, run.runId, 'x', 1);
  expect(task.nextTryAt).toBe(expected);
  expect(task.nextTryAt! - attempt!.endedAt!).toBeGreaterThanOrEqual(30_000);
  expect(task.nextTryAt! - attempt!.endedAt!).toBeLessThanOrEqual(60_000);
});

test('backfill runs each logical date in the range once (both ends inclusive); bad input changes nothing', async () => {
  const root = makeStore();
  writePipeline(root, {
    name: 'daily',
    schedule: '@daily',
    parameters: [{ name: 'k', type: 'number', default: 1 }],
    steps: [intervalStep],
  });
  writePipeline(root, { name: 'broken', schedule: '61 * * * *', steps: [intervalStep] });
  const db = openEmbedded(root).db;
  const count = (): number => db.prepare('SELECT COUNT(*) FROM pipeline_runs').pluck().get() as number;

  expect(errorOf(() => triggerPipeline({ store: root, name: 'daily', params: { kk: '1' } })).code).toBe(
    'INVALID_PARAMETER',
  );
  expect(errorOf(() => triggerPipeline({ store: root, name: 'daily', params: { k: 'one' } })).code).toBe(
    'INVALID_PARAMETER',
  );
  expect(errorOf(() => triggerPipeline({ store: root, name: '../daily' })).code).toBe('INVALID_PARAMETER');
  await expect(
    backfillPipeline({
      store: root,
      name: 'broken',
      from: T('2024-01-01T00:00:00Z'),
      to: T('2024-01-02T00:00:00Z'),
    }),
  ).rejects.toMatchObject({ code: 'INVALID_PARAMETER' });
  const s = scheduler(root, { now: T('2024-01-05T00:00:00Z') }, { schedule: true });
  s.state.setPaused('daily', true);
  const report = await s.tick();
  expect(report.invalidSchedules.broken).toContain('61');
  expect(count()).toBe(0);

  const opts = {
    store: root,
    name: 'daily',
    from: T('2024-01-01T00:00:00Z'),
    to: T('2024-01-04T00:00:00Z'),
    workerScript: workerScript(),
  };
  const first = await backfillPipeline({ ...opts, to: T('2024-01-02T00:00:00Z') });
  expect(first.runs.map((r) => [r.runType, new Date(r.logicalDate).toISOString(), r.state])).toEqual([
    ['backfill', '2024-01-01T00:00:00.000Z', 'success'],
    ['backfill', '2024-01-02T00:00:00.000Z', 'success'],
  ]);
  const second = await backfillPipeline(opts);
  expect(second.existing).toHaveLength(2);
  expect(
    second.runs.map((r) => [r.intervalStart, r.intervalEnd].map((x) => new Date(x).toISOString())),
  ).toEqual([
    ['2024-01-03T00:00:00.000Z', '2024-01-04T00:00:00.000Z'],
    ['2024-01-04T00:00:00.000Z', '2024-01-05T00:00:00.000Z'],
  ]);
  expect(count()).toBe(4);
  const state = new SchedulerState(db);
  expect(state.listRuns().every((r) => r.state === 'success')).toBe(true);
});
