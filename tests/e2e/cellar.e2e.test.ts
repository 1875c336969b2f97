/**
 * cellar's JupyterLab extension tested as a person uses it, in the test JupyterLab 4 on 127.0.0.1 with
 * headless Chromium and the tslab kernel: open the driver-training notebook (the course's training flow),
 * run all cells, click Log run, Register model and Export pipeline, and check what the store now holds — a
 * run with a valid nbformat 4 snapshot, a model version with its alias, a pipeline version with the course's
 * steps. Also: a failing export marks the offending cell, run names and params with HTML stay text, the
 * Plotly figure and the run card render, and the sidebar lists runs, models and pipelines. Screenshots go to
 * tests/artifacts/e2e/. Needs `bash scripts/build-extension.sh && bash scripts/build-e2e-app.sh` and
 * `npm run build` first (npm test runs them).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { getPipelineVersion, openStore, type CellarStore } from '../../kernel-lib/index.js';
import { JUPYTER_MISSING_MESSAGE, REPO_ROOT, hasJupyter, linkNodeModules } from '../helpers/jupyter.js';
import {
  clickToolbarButton,
  executeCommand,
  notebookCells,
  notebookPanel,
  openBrowser,
  openNotebook,
  runAllCells,
  screenshot,
  startLab,
  waitForKernelIdle,
  type Lab,
  type LabBrowser,
} from './helpers/lab.js';

jest.setTimeout(600_000);

const NOTEBOOK = 'driver-training.ipynb';
const FIXTURE = join(REPO_ROOT, 'tests', 'e2e', 'fixtures', NOTEBOOK);
const XSS_RUN_NAME = '<img src=x onerror="window.__cellarXss=1">elasticnet';
const XSS_PARAM = '<script>window.__cellarXss=2</script>';
/** Index of the `step:train` cell in the fixture. */
const TRAIN_CELL = 4;

/** Polls `probe` until it returns a value other than undefined (or throws the last error at the deadline). */
async function until<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 120_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

/** Validates notebook JSON with Debian's python3-nbformat; '' when valid. */
function nbformatProblems(text: string): string {
  const result = spawnSync(
    '/usr/bin/python3',
    [
      '-c',
      'import sys, nbformat\nnb = nbformat.reads(sys.stdin.read(), as_version=nbformat.NO_CONVERT)\nassert nb.nbformat == 4\nnbformat.validate(nb)',
    ],
    { input: text, encoding: 'utf8', timeout: 60_000 },
  );
  return result.status === 0 ? '' : `${result.stderr}${result.stdout}`;
}

/** Fills the open dialog's fields (by input name), presses Enter in the first one and waits for it to close. */
async function submitDialog(page: Page, values: Record<string, string>): Promise<void> {
  const dialog = page.locator('.jp-Dialog').last();
  await dialog.waitFor({ timeout: 60_000 });
  const names = Object.keys(values);
  for (const name of names) await dialog.locator(`[name="${name}"]`).fill(values[name]!);
  await dialog.locator(`[name="${names[0]}"]`).press('Enter');
  await dialog.waitFor({ state: 'detached', timeout: 30_000 });
}

/** Appends a code cell with `source` to the open notebook, runs it and waits for the kernel to be idle. */
async function appendAndRun(page: Page, path: string, source: string): Promise<void> {
  await page.evaluate(
    async ({ notebookPath, code }) => {
      type Panel = {
        id: string;
        context?: { path: string };
        content?: {
          activeCellIndex: number;
          widgets: unknown[];
          activeCell: { model: { sharedModel: { setSource(s: string): void } } } | null;
        };
      };
      type App = {
        shell: { widgets(area: string): Iterable<Panel>; activateById(id: string): void };
        commands: { execute(id: string): Promise<unknown> };
      };
      const app = (globalThis as unknown as { jupyterapp: App }).jupyterapp;
      for (const widget of app.shell.widgets('main')) {
        if (widget.context?.path !== notebookPath || !widget.content) continue;
        app.shell.activateById(widget.id);
        widget.content.activeCellIndex = widget.content.widgets.length - 1;
        await app.commands.execute('notebook:insert-cell-below');
        widget.content.activeCell!.model.sharedModel.setSource(code);
        await app.commands.execute('notebook:run-cell');
      }
    },
    { notebookPath: path, code: source },
  );
  await waitForKernelIdle(page, path);
}

/** Sets the tags of cell `index` of the open notebook through its model (as the tag editor would). */
async function setCellTags(page: Page, path: string, index: number, tags: string[]): Promise<void> {
  await page.evaluate(
    ({ notebookPath, cellIndex, cellTags }) => {
      type Model = { setMetadata(key: string, value: unknown): void };
      type Panel = { context?: { path: string }; content?: { model?: { cells: { get(i: number): Model } } } };
      const app = (
        globalThis as unknown as { jupyterapp: { shell: { widgets(area: string): Iterable<Panel> } } }
      ).jupyterapp;
      for (const widget of app.shell.widgets('main')) {
        if (widget.context?.path === notebookPath)
          widget.content!.model!.cells.get(cellIndex).setMetadata('tags', cellTags);
      }
    },
    { notebookPath: path, cellIndex: index, cellTags: tags },
  );
}

describe('the cellar extension in JupyterLab 4 on the tslab kernel', () => {
  let notebookDir: string;
  let storeDir: string;
  let lab: Lab | undefined;
  let browser: LabBrowser | undefined;
  let page: Page;
  let store: CellarStore | undefined;
  let trainingRunId: string;

  const cell = async (index: number) => (await notebookPanel(page, NOTEBOOK)).locator('.jp-Cell').nth(index);
  const openedStore = (): CellarStore => (store ??= openStore(storeDir));

  beforeAll(async () => {
    if (!hasJupyter()) throw new Error(JUPYTER_MISSING_MESSAGE);
    notebookDir = mkdtempSync(join(tmpdir(), 'cellar-e2e-'));
    storeDir = join(notebookDir, 'store');
    copyFileSync(FIXTURE, join(notebookDir, NOTEBOOK));
    linkNodeModules(notebookDir);
    lab = await startLab({ notebookDir, env: { CELLAR_URI: storeDir } });
    browser = await openBrowser();
    page = await browser.newPage();
    await openNotebook(page, lab, NOTEBOOK);
  });

  afterAll(async () => {
    store?.close();
    await browser?.close();
    await lab?.stop();
    if (notebookDir) rmSync(notebookDir, { recursive: true, force: true });
  });

  test('all cells of the training notebook run; Plotly and the run card render, HTML stays text', async () => {
    const cells = await runAllCells(page, NOTEBOOK, { timeoutMs: 300_000 });
    const runs = await openedStore().searchRuns({ experiment: 'driver-training' });
    expect(runs.map((r) => [r.runName, r.status])).toEqual([[XSS_RUN_NAME, 'FINISHED']]);
    trainingRunId = runs[0]!.id;
    const errors = cells.flatMap((c, i) =>
      (c.outputs ?? [])
        .filter((o) => o.output_type === 'error' || o.name === 'stderr')
        .map((o) => `cell ${i}: ${JSON.stringify(o)}`),
    );
    expect(errors).toEqual([]);
    const plot = (await cell(8)).locator('.cellar-Plotly .main-svg').first();
    await plot.waitFor({ timeout: 120_000 });
    const card = (await cell(9)).locator('.cellar-RunCard');
    await card.waitFor({ timeout: 30_000 });
    expect(await card.locator('.cellar-CardTitle').innerText()).toBe(XSS_RUN_NAME);
    expect(await card.innerText()).toContain(XSS_PARAM);
    expect(await card.locator('img, script').count()).toBe(0);
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as { __cellarXss?: unknown }).__cellarXss)).toBeUndefined();
    // Pipeline-tagged cells carry their step label.
    expect(await (await cell(TRAIN_CELL)).locator('.cellar-StepLabel').innerText()).toBe(
      'step: train ← load-data',
    );
    await screenshot(page, 'cellar-after-run-all');
    await card.scrollIntoViewIfNeeded();
    await screenshot(page, 'cellar-run-card');
  });

  test('the sidebar lists the run of the notebook experiment, with its name as text', async () => {
    await executeCommand(page, 'cellar:show-sidebar');
    const item = page.locator('#cellar-sidebar .cellar-RunItem').first();
    await item.waitFor({ timeout: 60_000 });
    expect(await item.locator('.cellar-RunItem-name').innerText()).toBe(XSS_RUN_NAME);
    expect(await page.locator('#cellar-sidebar').innerText()).toContain('driver-training');
    expect(await page.locator('#cellar-sidebar img').count()).toBe(0);
    expect(await item.getAttribute('data-run-id')).toBe(trainingRunId);
    await screenshot(page, 'cellar-sidebar');
  });

  test('Log run stores a valid nbformat 4 snapshot with the training run', async () => {
    await clickToolbarButton(page, NOTEBOOK, { item: 'cellar-log-run' });
    const snapshotPath = await until('the snapshot tag', async () => {
      const run = await openedStore().getRun(trainingRunId);
      return run.tags['cellar.notebook.snapshot'];
    });
    const run = await openedStore().getRun(trainingRunId);
    expect(run.status).toBe('FINISHED');
    expect(run.runName).toBe(XSS_RUN_NAME);
    expect(run.tags['cellar.notebook.path']).toBe(NOTEBOOK);
    const snapshot = (await openedStore().tracking.readArtifact(trainingRunId, snapshotPath)).toString(
      'utf8',
    );
    expect(nbformatProblems(snapshot)).toBe('');
    const nb = JSON.parse(snapshot) as { cells: Array<{ outputs?: unknown[] }> };
    expect(nb.cells).toHaveLength(10);
    expect((nb.cells[8]!.outputs ?? []).length).toBeGreaterThan(0); // outputs are included by default
    await page
      .locator('.jp-toast-message', { hasText: 'logged' })
      .first()
      .waitFor({ timeout: 30_000 })
      .catch(() => undefined);
    await screenshot(page, 'cellar-log-run');
  });

  test('Register model registers the trained model with an alias', async () => {
    await clickToolbarButton(page, NOTEBOOK, { item: 'cellar-register-model' });
    await submitDialog(page, { name: 'driver', alias: 'champion' });
    const version = await until('model version driver@champion', async () =>
      openedStore().registry.getModelVersionByAlias('driver', 'champion'),
    );
    expect(version).toMatchObject({
      name: 'driver',
      version: 1,
      runId: trainingRunId,
      aliases: ['champion'],
    });
    const loaded = await openedStore().loadModel('models:/driver@champion');
    expect(loaded.estimator).toBe('ElasticNet');
    const sidebarModel = page.locator('#cellar-sidebar .cellar-ModelItem[data-model="driver"]');
    await sidebarModel.waitFor({ timeout: 60_000 });
    expect(await sidebarModel.innerText()).toContain('@champion → v1');
    await screenshot(page, 'cellar-register-model');
  });

  test('Export pipeline shows the steps and writes a version with them', async () => {
    await clickToolbarButton(page, NOTEBOOK, { item: 'cellar-export-pipeline' });
    await submitDialog(page, { name: 'driver-training', schedule: '0 3 * * *' });
    const plan = page.locator('.jp-Dialog .cellar-PlanGraph').first();
    await plan.waitFor({ timeout: 120_000 });
    expect((await plan.innerText()).split('\n')).toEqual([
      'load-data',
      'train ← load-data',
      'evaluate ← load-data, train',
    ]);
    await screenshot(page, 'cellar-export-plan');
    await page.locator('.jp-Dialog .jp-mod-accept').click();
    const version = await until('pipeline version', async () =>
      getPipelineVersion(openedStore(), 'driver-training', 'latest'),
    );
    expect(version.version).toBe(1);
    expect(version.spec.schedule).toBe('0 3 * * *');
    expect(version.spec.steps.map((s) => [s.name, s.upstream])).toEqual([
      ['load-data', []],
      ['train', ['load-data']],
      ['evaluate', ['load-data', 'train']],
    ]);
    expect(
      nbformatProblems(spawnSync('cat', [join(version.dir, 'notebook.ipynb')], { encoding: 'utf8' }).stdout),
    ).toBe('');
    const sidebarPipeline = page.locator(
      '#cellar-sidebar .cellar-PipelineItem[data-pipeline="driver-training"]',
    );
    await sidebarPipeline.waitFor({ timeout: 60_000 });
    expect(await sidebarPipeline.innerText()).toContain('v1 · 0 3 * * *');
    await screenshot(page, 'cellar-export-pipeline');
  });

  test('a failing export shows its error on the offending cell', async () => {
    await setCellTags(page, NOTEBOOK, TRAIN_CELL, ['step:train', 'prev:nosuch']);
    await clickToolbarButton(page, NOTEBOOK, { item: 'cellar-export-pipeline' });
    await submitDialog(page, { name: 'driver-training' });
    const trainCell = await cell(TRAIN_CELL);
    const message = trainCell.locator('.cellar-CellError');
    await message.waitFor({ timeout: 120_000 });
    expect(await message.innerText()).toContain('prev:nosuch');
    expect(await trainCell.getAttribute('class')).toContain('cellar-mod-exportError');
    const marked = await (
      await notebookPanel(page, NOTEBOOK)
    )
      .locator('.jp-Cell.cellar-mod-exportError')
      .count();
    expect(marked).toBe(1);
    await screenshot(page, 'cellar-export-error');
    // Nothing new was written.
    expect((await getPipelineVersion(openedStore(), 'driver-training', 'latest')).version).toBe(1);
  });

  test('cell tag actions mark a step and its prev step, and label the cell', async () => {
    const last = 9;
    await (await cell(last)).click({ button: 'right', position: { x: 5, y: 5 } });
    const submenu = page.locator('.lm-Menu .lm-Menu-itemLabel', { hasText: 'cellar Pipeline' });
    await submenu.first().waitFor({ timeout: 30_000 });
    await page.keyboard.press('Escape');
    await page.evaluate((index) => {
      type Panel = { context?: { path: string }; content?: { activeCellIndex: number } };
      const app = (
        globalThis as unknown as { jupyterapp: { shell: { widgets(area: string): Iterable<Panel> } } }
      ).jupyterapp;
      for (const widget of app.shell.widgets('main'))
        if (widget.content) widget.content.activeCellIndex = index;
    }, last);
    const marking = executeCommand(page, 'cellar:mark-step');
    const input = page.locator('.jp-Dialog input').first();
    await input.waitFor({ timeout: 30_000 });
    await input.fill('Report Card');
    await input.press('Enter');
    await marking;
    const setting = executeCommand(page, 'cellar:set-prev');
    const select = page.locator('.jp-Dialog select').first();
    await select.waitFor({ timeout: 30_000 });
    await select.selectOption('evaluate');
    await select.press('Enter');
    await setting;
    const tags = (await notebookCells(page, NOTEBOOK))[last]!.metadata['tags'];
    expect(tags).toEqual(['step:report-card', 'prev:evaluate']);
    expect(await (await cell(last)).locator('.cellar-StepLabel').innerText()).toBe(
      'step: report-card ← evaluate',
    );
    await screenshot(page, 'cellar-cell-tags');
  });

  test('the sidebar follows a live run cell by cell, and Log run ends it', async () => {
    await appendAndRun(
      page,
      NOTEBOOK,
      "import { startRun } from 'cellar';\nconst live = await startRun({ experiment: 'driver-training', runName: 'live' });\nawait live.logMetric('loss', 1);",
    );
    const liveItem = page.locator('#cellar-sidebar .cellar-RunItem', { hasText: 'live' });
    await liveItem.locator('.cellar-RunItem-metrics', { hasText: 'loss 1' }).waitFor({ timeout: 60_000 });
    expect(await liveItem.locator('.cellar-Status').innerText()).toBe('RUNNING');
    expect(await liveItem.getAttribute('class')).toContain('cellar-mod-active');
    await appendAndRun(page, NOTEBOOK, 'await live.logMetric("loss", 0.5, 1);');
    await liveItem.locator('.cellar-RunItem-metrics', { hasText: 'loss 0.5' }).waitFor({ timeout: 60_000 });
    await screenshot(page, 'cellar-sidebar-live');
    await clickToolbarButton(page, NOTEBOOK, { item: 'cellar-log-run' });
    await liveItem.locator('.cellar-Status', { hasText: 'FINISHED' }).waitFor({ timeout: 60_000 });
    const runs = await openedStore().searchRuns({
      experiment: 'driver-training',
      filter: "attributes.run_name = 'live'",
    });
    expect(runs.map((r) => [r.status, r.metrics['loss'], typeof r.tags['cellar.notebook.snapshot']])).toEqual(
      [['FINISHED', 0.5, 'string']],
    );
  });

  test('the page had no errors', () => {
    // No uncaught exception, console error or failing request in the whole session.
    expect(browser!.problems).toEqual([]);
  });
});
