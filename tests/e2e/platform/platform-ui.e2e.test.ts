/**
 * The `cellar up` web UI as a person uses it, in headless Debian Chromium: open the printed URL (token → cookie),
 * filter the runs table, compare two runs (charts drawn by Plotly), move a model alias, trigger a pipeline and
 * watch its steps finish. Screenshots (light and dark) are kept under tests/e2e/artifacts/platform/.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { openStore } from '../../../kernel-lib/sdk.js';
import { closeAllEmbedded } from '../../../kernel-lib/store/open.js';
import { writePipeline } from '../../fixtures/pipelines/fixture.js';
import { sampleModel } from '../../kernel-lib/registry/conformance.js';
import { startUp, type UpProcess } from '../../pipelines/server/up-process.js';
import { cleanupTmp, makeTmp, REPO_ROOT } from '../../helpers/tmp.js';
import { openBrowser, type LabBrowser } from '../helpers/browser.js';

const SHOTS = join(REPO_ROOT, 'tests', 'e2e', 'artifacts', 'platform');
let up: UpProcess;
let browser: LabBrowser;
let page: Page;
const runIds: string[] = [];

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  const dir = makeTmp();
  const store = openStore(dir);
  for (const [i, alpha] of [0.1, 0.5, 0.9].entries()) {
    const run = await store.startRun({ experiment: 'driver-training', runName: `alpha-${alpha}<b>` });
    await run.logParams({ alpha });
    for (let step = 0; step < 5; step++)
      await run.logMetrics({ rmse: 1 / (step + 1) + alpha, r2: 0.5 + i / 10 }, step);
    await run.logModel(sampleModel([1, i], 0) as never);
    await run.end();
    runIds.push(run.id);
  }
  await store.registerModel({ name: 'driver', runId: runIds[0]!, alias: 'champion' });
  await store.registerModel({ name: 'driver', runId: runIds[1]! });
  writePipeline(store.root, {
    name: 'nightly',
    parameters: [{ name: 'label', type: 'string', default: 'x' }],
    steps: [
      {
        name: 'extract',
        outputs: ['text'],
        code: 'console.log("extracting"); return { text: ctx.params.label };',
      },
      {
        name: 'train',
        inputs: { text: 'extract' },
        outputs: ['size'],
        code: 'return { size: ctx.inputs.text.length };',
      },
    ],
  });
  closeAllEmbedded();
  up = await startUp(dir);
  browser = await openBrowser();
  page = await browser.newPage();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await up?.stop();
  cleanupTmp();
});

/** Polls the DOM through Playwright (the page's CSP forbids evaluating strings, as it should). */
async function waitForCount(selector: string, n: number): Promise<void> {
  for (let i = 0; i < 150; i++) {
    if ((await page.locator(selector).count()) === n) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`expected ${n} × ${selector}, found ${await page.locator(selector).count()}`);
}

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

test('open the printed URL, filter runs, compare two, move an alias, trigger a pipeline', async () => {
  await page.goto(up.loginUrl);
  expect(page.url()).not.toContain('token=');
  await page.waitForSelector('.cellar-RunsTable tbody tr');
  expect(await page.locator('.cellar-RunsTable tbody tr').count()).toBe(3);
  // Run names are text, never HTML.
  expect(await page.locator('.cellar-RunsTable b').count()).toBe(0);
  await shot('runs-light');

  await page.fill('input[aria-label=filter]', "params.alpha = '0.1' or params.alpha = '0.9'");
  await page.click('button[type=submit]');
  await waitForCount('.cellar-RunsTable tbody tr', 2);
  await page.fill('input[aria-label=filter]', 'metrics.rmse <');
  await page.click('button[type=submit]');
  await page.waitForSelector('.cellar-Error');
  expect(await page.textContent('.cellar-Error')).toContain('INVALID_FILTER');
  await page.fill('input[aria-label=filter]', "params.alpha = '0.1' or params.alpha = '0.9'");
  await page.click('button[type=submit]');
  await waitForCount('.cellar-RunsTable tbody tr', 2);

  const boxes = page.locator('.cellar-RunsTable tbody input[type=checkbox]');
  await boxes.nth(0).check();
  await boxes.nth(1).check();
  await page.click('text=Compare selected');
  await page.waitForSelector('.cellar-CompareTable');
  await page.waitForSelector('.cellar-Chart .main-svg');
  expect(await page.locator('.cellar-CompareTable thead th').count()).toBe(3);
  await shot('compare');

  await page.goto(`${up.url}/#/models`);
  await page.waitForSelector('[data-model=driver] tr[data-version="2"]');
  await page.fill('[data-model=driver] input[aria-label=alias]', 'champion');
  await page.selectOption('[data-model=driver] select[aria-label=version]', '2');
  await page.click('[data-model=driver] >> text=Move alias');
  await page.waitForSelector('[data-model=driver] tr[data-version="2"]:has-text("@champion")');
  await shot('models');

  await page.goto(`${up.url}/#/pipelines`);
  await page.waitForSelector('[data-pipeline=nightly] input[name=label]');
  await page.fill('[data-pipeline=nightly] input[name=label]', 'hello');
  await page.click('[data-pipeline=nightly] >> text=Trigger run');
  await page.waitForSelector('[data-pipeline=nightly] h3[data-state=success]', { timeout: 60_000 });
  expect(await page.locator('[data-pipeline=nightly] tr[data-step] .cellar-Status-success').count()).toBe(2);
  await shot('pipelines');

  await page.click('text=Theme');
  await page.goto(`${up.url}/#/runs/${runIds[1]}`);
  await page.waitForSelector('.cellar-Chart .main-svg');
  await shot('run-dark');
  const problems = browser.problems.filter((p) => !/INVALID_FILTER|HTTP 400|status of 400/.test(p)); // the bad filter typed on purpose
  expect(problems).toEqual([]);
}, 180_000);
