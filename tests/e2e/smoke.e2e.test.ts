// Browser smoke test: the test JupyterLab (tests/e2e/app) serves a TypeScript notebook with cellar's
// labextension loaded; headless Chromium runs a cell on the tslab kernel and sees its output. Needs
// `bash scripts/build-extension.sh && bash scripts/build-e2e-app.sh` first (npm test runs both).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JUPYTER_MISSING_MESSAGE, hasJupyter, linkNodeModules } from '../helpers/jupyter.js';
import {
  CELLAR_LABEXTENSION,
  cellOutputArea,
  extensionPlugins,
  openBrowser,
  openNotebook,
  outputText,
  runAllCells,
  screenshot,
  startLab,
  writeNotebook,
  type Lab,
  type LabBrowser,
} from './helpers/lab.js';

jest.setTimeout(300_000);

describe('JupyterLab 4 with the cellar extension, in headless Chromium', () => {
  let notebookDir: string;
  let lab: Lab | undefined;
  let browser: LabBrowser | undefined;

  beforeAll(async () => {
    if (!hasJupyter()) throw new Error(JUPYTER_MISSING_MESSAGE);
    notebookDir = mkdtempSync(join(tmpdir(), 'cellar-e2e-smoke-'));
    linkNodeModules(notebookDir);
    lab = await startLab({ notebookDir, artifactName: 'smoke' });
    browser = await openBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await lab?.stop();
    if (notebookDir) rmSync(notebookDir, { recursive: true, force: true });
  });

  test('runs a TypeScript cell on the tslab kernel with the cellar extension loaded', async () => {
    const path = writeNotebook(notebookDir, 'smoke.ipynb', ['1 + 1']);
    const page = await browser!.newPage();
    await openNotebook(page, lab!, path);

    const cells = await runAllCells(page, path);
    await screenshot(page, 'smoke-after-run');

    expect(outputText(cells[0]).trim()).toBe('2');
    expect((await (await cellOutputArea(page, path, 0)).innerText()).trim()).toBe('2');

    // The federated extension loaded: its plugins are registered, none disabled, and they activated.
    const plugins = await extensionPlugins(page, CELLAR_LABEXTENSION);
    expect(plugins.length).toBeGreaterThan(0);
    expect(plugins.filter((plugin) => !plugin.enabled)).toEqual([]);
    expect(plugins.some((plugin) => plugin.activated)).toBe(true);

    // The page itself loaded cleanly: no uncaught exception, no failing request, no console error.
    expect(browser!.problems).toEqual([]);
  });
});
