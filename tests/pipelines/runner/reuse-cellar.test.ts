/**
 * Worker reuse with steps that import cellar, as the example notebooks do: exported with `exportNotebook`,
 * each step fits a model (autolog) and logs into a tracked run. cellar's own state (its modules, the store
 * connection, its globals and exit hooks) does not retire the worker; a run a step leaves active does, and
 * the exit hooks then end that run.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportNotebook } from '../../../kernel-lib/exporter/index.js';
import { closeAllEmbedded, openEmbedded } from '../../../kernel-lib/store/open.js';
import { CELLAR_GLOBALS, isCellarGlobal } from '../../../pipelines/runner/cellar-state.js';
import { runPipeline } from '../../../pipelines/scheduler/api.js';
import { writeNotebook, type CellDef } from '../../kernel-lib/exporter/nb.js';
import { cleanupTmp, makeTmp } from '../../helpers/tmp.js';
import { workerScript } from '../../fixtures/pipelines/fixture.js';
import { readOutput } from '../../fixtures/pipelines/outputs.js';

afterEach(() => {
  closeAllEmbedded();
  cleanupTmp();
});

const IMPORTS = "import { ElasticNet, rmse, withRun, startRun } from 'cellar';";

function fitStep(i: number, extra = ''): string {
  return [
    `const X${i} = [[0, 1], [1, 0], [2, 1], [3, 3], [4, 2], [5, 5]];`,
    `const y${i} = X${i}.map((r) => 0.5 * r[0] - 0.25 * r[1] + ${i});`,
    `const info${i} = await withRun({ experiment: 'reuse', runName: 's${i}' }, async (run) => {`,
    `  const m = new ElasticNet({ alpha: 0.01, l1Ratio: 0.5 }).fit(X${i}, y${i});`,
    `  await run.logMetrics({ step_rmse: rmse(y${i}, Array.from(m.predict(X${i}))) });`,
    `  return { pid: process.pid, runId: run.id };`,
    `});`,
    extra,
  ].join('\n');
}

async function exported(cells: CellDef[], name: string): Promise<string> {
  const dir = makeTmp('cellar-reuse-cellar-');
  const store = join(dir, '.cellar');
  await exportNotebook({ notebook: writeNotebook(dir, cells), name, store });
  return store;
}

test('steps that import cellar, fit a model and log a run reuse one worker process', async () => {
  const cells: CellDef[] = [['imports', IMPORTS]];
  for (let i = 0; i < 4; i++)
    cells.push([`step:s${i}`, fitStep(i, i > 0 ? `const after${i} = info${i - 1}.pid;` : '')]);
  const store = await exported(cells, 'cellar-steps');
  const summary = await runPipeline({ store, name: 'cellar-steps', workerScript: workerScript() });
  expect(summary.run.state).toBe('success');
  const infos: Array<{ pid: number; runId: string }> = [];
  for (let i = 0; i < 3; i++) infos.push((await readOutput(summary.attempts, `s${i}`, `info${i}`)) as never);
  expect(infos[0]!.pid).not.toBe(process.pid);
  expect(new Set(summary.attempts.map((a) => a.pid)).size).toBe(1); // one process ran every step
  for (const a of summary.attempts) {
    let log = '';
    try {
      log = readFileSync(a.logPath, 'utf8');
    } catch {
      // a step that printed nothing has no log
    }
    expect(log).not.toContain('not reused');
  }
  // Every step's run was tracked in the store (autolog logged the fit) and ended.
  const { db } = openEmbedded(store);
  for (const { runId } of infos) {
    const row = db.prepare('SELECT status FROM runs WHERE run_id = ?').get(runId) as
      { status: string } | undefined;
    expect(row?.status).toBe('FINISHED');
  }
});

test('a step that leaves a cellar run active retires its worker, and the exit hook ends the run', async () => {
  const store = await exported(
    [
      ['imports', IMPORTS],
      [
        'step:open',
        "const left = await startRun({ experiment: 'reuse', runName: 'left-open' });\nconst leftId = left.id;",
      ],
      ['step:next', 'const nextPid = process.pid + 0 * leftId.length;'],
    ],
    'left-open',
  );
  const summary = await runPipeline({ store, name: 'left-open', workerScript: workerScript() });
  expect(summary.run.state).toBe('success');
  const [first, second] = summary.attempts;
  expect(second!.pid).not.toBe(first!.pid);
  expect(readFileSync(first!.logPath, 'utf8')).toMatch(/not reused: the step left an active cellar run/);
  const leftId = (await readOutput(summary.attempts, 'open', 'leftId')) as string;
  const { db } = openEmbedded(store);
  const row = db.prepare('SELECT status FROM runs WHERE run_id = ?').get(leftId) as
    { status: string } | undefined;
  expect(row?.status).toBe('FINISHED');
});

test('the allowlist names cellar globals by their Symbol.for keys only', () => {
  expect(CELLAR_GLOBALS).toContain('cellar.ml.fitListeners');
  expect(isCellarGlobal(Symbol.for('cellar.ml.fitListeners'))).toBe(true);
  expect(isCellarGlobal(Symbol('cellar.ml.fitListeners'))).toBe(false); // not a registered symbol
  expect(isCellarGlobal(Symbol.for('cellar.something.else'))).toBe(false);
  expect(isCellarGlobal('leftBehind')).toBe(false);
});
