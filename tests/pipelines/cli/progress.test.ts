/**
 * RunProgress on a terminal: one status line redrawn in place (running steps with their elapsed time, runs
 * done of all), finished steps and runs printed above it as lines, and the status line cleared at the end.
 */
import type { PipelineRunRow, TaskInstanceRow } from '../../../pipelines/scheduler/state.js';
import { RunProgress, type RunSnapshot } from '../../../pipelines/cli/progress.js';

function run(runId: string, state: PipelineRunRow['state'], endedAt: number | null = null): PipelineRunRow {
  return {
    runId,
    pipeline: 'p',
    version: 2,
    runType: 'backfill',
    state,
    logicalDate: 0,
    intervalStart: 0,
    intervalEnd: 1,
    params: {},
    trackingRunId: null,
    owner: null,
    createdAt: 0,
    startedAt: 1000,
    endedAt,
    error: null,
  };
}

function task(
  step: string,
  state: TaskInstanceRow['state'],
  startedAt: number | null,
  endedAt: number | null = null,
) {
  return {
    runId: 'r',
    step,
    position: 0,
    state,
    tryNumber: 1,
    maxTries: 1,
    nextTryAt: null,
    outputTry: null,
    trackingRunId: null,
    startedAt,
    endedAt,
    error: null,
  } satisfies TaskInstanceRow;
}

test('a terminal gets a redrawn status line, lines for finished steps and runs, and a cleared line at the end', () => {
  let now = 1000;
  const written: string[] = [];
  const rows = new Map<string, RunSnapshot>([
    [
      'r1',
      { run: run('r1', 'running'), tasks: [task('load', 'running', 1000), task('train', 'queued', null)] },
    ],
    [
      'r2',
      { run: run('r2', 'queued'), tasks: [task('load', 'queued', null), task('train', 'queued', null)] },
    ],
  ]);
  const progress = new RunProgress({
    stream: { write: (t) => written.push(t), isTTY: true, columns: 200 },
    read: (id) => rows.get(id)!,
    intervalMs: 60_000,
    now: () => now,
  });
  progress.watch([rows.get('r1')!.run, rows.get('r2')!.run]);
  now = 3500;
  progress.poll();
  expect(written.join('')).toContain('p@2: 2 runs\n');
  expect(written.at(-1)).toBe('\r\x1b[Kruns 0/2 done · steps 0/4 · running: load 2.5s · elapsed 2.5s');

  rows.set('r1', {
    run: run('r1', 'success', 5000),
    tasks: [task('load', 'success', 1000, 3000), task('train', 'success', 3000, 5000)],
  });
  now = 5000;
  progress.poll();
  const text = written.join('');
  expect(text).toContain('\r\x1b[Kr1: step load succeeded in 2.0s\n');
  expect(text).toContain('r1: step train succeeded in 2.0s\n');
  expect(text).toContain('r1: run success in 4.0s (2/2 steps succeeded)\n');
  expect(text).not.toContain('running\n'); // starts are shown in the status line, not as lines
  expect(written.at(-1)).toBe('\r\x1b[Kruns 1/2 done · steps 2/4 · elapsed 4.0s');
  progress.stop();
  expect(written.at(-1)).toBe('\r\x1b[K');
});
