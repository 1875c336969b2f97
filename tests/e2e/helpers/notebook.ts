// Notebook-level helpers for browser tests against the test JupyterLab: write a notebook file, open it at a
// unique workspace URL, wait for its kernel through the application object (`window.jupyterapp`, exposed by
// the test server's page config), run all cells, read cells and outputs, click toolbar buttons. Functions
// passed to page.evaluate run in the browser, so they only use their arguments and the page's globals.
import { writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import type { CellOutput, NotebookCell } from '../../helpers/jupyter.js';
import type { Lab } from './server.js';

// The few members of JupyterLab's objects the helpers touch inside the page (the test tsconfig has no DOM lib
// and the JupyterLab packages are not dependencies of the root project).
interface PageKernel {
  status: string;
  connectionStatus: string;
}
interface PageCellModel {
  toJSON(): NotebookCell;
}
interface PagePanel {
  id: string;
  context?: { path: string; isReady: boolean; save(): Promise<void> };
  sessionContext?: { session?: { kernel?: PageKernel | null } | null };
  content?: { model?: { cells: { length: number; get(index: number): PageCellModel } } | null };
}
interface PageApp {
  started: Promise<void>;
  restored: Promise<void>;
  shell: { widgets(area: string): Iterable<PagePanel>; activateById(id: string): void };
  commands: { hasCommand(id: string): boolean; execute(id: string, args?: unknown): Promise<unknown> };
  hasPlugin(id: string): boolean;
  isPluginActivated(id: string): boolean;
  info: { availablePlugins: Array<{ id: string; extension: string; enabled: boolean }> };
}
interface PageGlobals {
  jupyterapp?: PageApp;
}

/** A notebook cell for {@link writeNotebook}: source text, or a full cell (e.g. with tags). */
export type CellSpec = string | { cellType?: 'code' | 'markdown'; source: string; tags?: string[] };

/**
 * Writes an nbformat 4 notebook for the tslab TypeScript kernel into `dir` and returns its file name.
 * @example
 * const path = writeNotebook(tmp, 'smoke.ipynb', ['1 + 1']);
 */
export function writeNotebook(dir: string, name: string, cells: CellSpec[]): string {
  const notebook = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: { name: 'tslab', display_name: 'TypeScript', language: 'typescript' },
      language_info: { name: 'typescript', file_extension: '.ts', mimetype: 'text/typescript' },
    },
    cells: cells.map((spec, index) => {
      const cell = typeof spec === 'string' ? { source: spec } : spec;
      const cellType = cell.cellType ?? 'code';
      const metadata = cell.tags ? { tags: cell.tags } : {};
      const base = { id: `cell-${index}`, cell_type: cellType, metadata, source: cell.source };
      return cellType === 'code' ? { ...base, execution_count: null, outputs: [] } : base;
    }),
  };
  writeFileSync(join(dir, name), JSON.stringify(notebook, null, 1));
  return name;
}

/** Options of {@link openNotebook}. */
export interface OpenNotebookOptions {
  /** Workspace name (default: a new random one, so no earlier layout is restored). */
  workspace?: string;
  /** Deadline in ms for the application, the notebook and its kernel (default 120 000). */
  timeoutMs?: number;
  /** Also wait for the kernel to be idle and connected (default true). */
  waitForKernel?: boolean;
}

/**
 * Opens `path` (relative to the server's root) in JupyterLab at a unique workspace URL and waits until the
 * application is restored, the notebook's document is ready and (by default) its kernel is idle and connected.
 * @throws Error (from Playwright) when the deadline passes.
 * @example
 * await openNotebook(page, lab, 'smoke.ipynb');
 */
export async function openNotebook(
  page: Page,
  lab: Lab,
  path: string,
  options: OpenNotebookOptions = {},
): Promise<void> {
  const timeout = options.timeoutMs ?? 120_000;
  const workspace = options.workspace ?? `e2e-${randomBytes(6).toString('hex')}`;
  const encoded = path.split('/').map(encodeURIComponent).join('/');
  await page.goto(lab.urlFor(`/lab/workspaces/${workspace}/tree/${encoded}`), { timeout });
  await waitForApp(page, timeout);
  await page.waitForFunction(
    (notebookPath) => {
      const app = (globalThis as unknown as PageGlobals).jupyterapp;
      if (!app) return false;
      for (const widget of app.shell.widgets('main')) {
        if (widget.context?.path === notebookPath && widget.context.isReady) return true;
      }
      return false;
    },
    path,
    { timeout, polling: 200 },
  );
  if (options.waitForKernel ?? true) await waitForKernelIdle(page, path, { timeoutMs: timeout });
}

/** Waits until `window.jupyterapp` exists, has started and has restored its layout. */
export async function waitForApp(page: Page, timeoutMs = 120_000): Promise<void> {
  await page.waitForFunction(() => (globalThis as unknown as PageGlobals).jupyterapp !== undefined, null, {
    timeout: timeoutMs,
    polling: 200,
  });
  await page.evaluate(async () => {
    const app = (globalThis as unknown as PageGlobals).jupyterapp!;
    await app.started;
    await app.restored;
  });
}

/**
 * Waits until the kernel of the open notebook `path` is idle and its websocket connected (the session's
 * kernel object, not the toolbar's indicator).
 */
export async function waitForKernelIdle(
  page: Page,
  path: string,
  options: { timeoutMs?: number } = {},
): Promise<void> {
  await page.waitForFunction(
    (notebookPath) => {
      const app = (globalThis as unknown as PageGlobals).jupyterapp;
      if (!app) return false;
      for (const widget of app.shell.widgets('main')) {
        if (widget.context?.path !== notebookPath) continue;
        const kernel = widget.sessionContext?.session?.kernel;
        return kernel?.status === 'idle' && kernel.connectionStatus === 'connected';
      }
      return false;
    },
    path,
    { timeout: options.timeoutMs ?? 120_000, polling: 200 },
  );
}

/**
 * Runs every cell of the open notebook `path` (JupyterLab's `notebook:run-all-cells`), resolves when the
 * kernel has answered every cell and is idle again, and returns the cells as nbformat JSON.
 */
export async function runAllCells(
  page: Page,
  path: string,
  options: { timeoutMs?: number } = {},
): Promise<NotebookCell[]> {
  const timeoutMs = options.timeoutMs ?? 180_000;
  await activateNotebook(page, path);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      page.evaluate(async () => {
        await (globalThis as unknown as PageGlobals).jupyterapp!.commands.execute('notebook:run-all-cells');
      }),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`cells of ${path} still running after ${timeoutMs} ms`)),
          timeoutMs,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
  await waitForKernelIdle(page, path, { timeoutMs });
  return notebookCells(page, path);
}

/** Brings the notebook `path` to the front (commands act on the current notebook). */
export async function activateNotebook(page: Page, path: string): Promise<void> {
  await page.evaluate((notebookPath) => {
    const app = (globalThis as unknown as PageGlobals).jupyterapp!;
    for (const widget of app.shell.widgets('main')) {
      if (widget.context?.path === notebookPath) {
        app.shell.activateById(widget.id);
        return;
      }
    }
    throw new Error(`notebook ${notebookPath} is not open`);
  }, path);
}

/** The cells of the open notebook `path` as nbformat JSON (from the live model, outputs included). */
export async function notebookCells(page: Page, path: string): Promise<NotebookCell[]> {
  return page.evaluate((notebookPath) => {
    const app = (globalThis as unknown as PageGlobals).jupyterapp!;
    for (const widget of app.shell.widgets('main')) {
      if (widget.context?.path !== notebookPath) continue;
      const cells = widget.content?.model?.cells;
      if (!cells) return [];
      const result: NotebookCell[] = [];
      for (let index = 0; index < cells.length; index++) result.push(cells.get(index).toJSON());
      return result;
    }
    throw new Error(`notebook ${notebookPath} is not open`);
  }, path);
}

/** Concatenated text of a cell's outputs (stream text and `text/plain` data), as nbformat stores them. */
export function outputText(cell: NotebookCell): string {
  const join = (text: unknown): string => (Array.isArray(text) ? text.join('') : String(text ?? ''));
  return (cell.outputs ?? [])
    .map((output: CellOutput) =>
      output.output_type === 'stream' ? join(output.text) : join(output.data?.['text/plain']),
    )
    .join('');
}

/** The DOM element of the open notebook `path` (its panel). */
export async function notebookPanel(page: Page, path: string): Promise<Locator> {
  const id = await page.evaluate((notebookPath) => {
    const app = (globalThis as unknown as PageGlobals).jupyterapp!;
    for (const widget of app.shell.widgets('main'))
      if (widget.context?.path === notebookPath) return widget.id;
    throw new Error(`notebook ${notebookPath} is not open`);
  }, path);
  return page.locator(`[id="${id}"]`);
}

/** The rendered output area of code cell `index` (0-based over all cells) of the open notebook `path`. */
export async function cellOutputArea(page: Page, path: string, index: number): Promise<Locator> {
  return (await notebookPanel(page, path)).locator('.jp-Cell').nth(index).locator('.jp-OutputArea');
}

/**
 * Clicks a button of the notebook toolbar of `path`, found by its command id (`data-command`, as JupyterLab
 * renders command toolbar buttons), by its toolbar item name (`data-jp-item-name`, the name given to
 * `toolbar.addItem`), or by its accessible label, tried in that order of the given keys.
 * @throws Error (from Playwright) when no such button becomes visible and enabled.
 * @example
 * await clickToolbarButton(page, 'train.ipynb', { label: 'Log run' });
 */
export async function clickToolbarButton(
  page: Page,
  path: string,
  button: { command?: string; item?: string; label?: string },
  options: { timeoutMs?: number } = {},
): Promise<void> {
  const toolbar = (await notebookPanel(page, path)).locator('.jp-NotebookPanel-toolbar');
  let target: Locator;
  if (button.command !== undefined) {
    target = toolbar.locator(`[data-command="${button.command}"]`);
  } else if (button.item !== undefined) {
    target = toolbar.locator(`[data-jp-item-name="${button.item}"]`).locator('jp-button, button');
  } else if (button.label !== undefined) {
    target = toolbar.getByRole('button', { name: button.label });
  } else {
    throw new Error('clickToolbarButton needs a command id, an item name or a label');
  }
  await target.first().click({ timeout: options.timeoutMs ?? 30_000 });
}

/** Executes a JupyterLab command in the page and returns its (JSON-serializable) result. */
export async function executeCommand(
  page: Page,
  id: string,
  args?: Record<string, unknown>,
): Promise<unknown> {
  return page.evaluate(
    async ({ command, commandArgs }) =>
      (globalThis as unknown as PageGlobals).jupyterapp!.commands.execute(command, commandArgs),
    { command: id, commandArgs: args ?? {} },
  );
}

/** Whether the application registered a plugin, whether it is activated, and whether a command exists. */
export async function pluginState(
  page: Page,
  pluginId: string,
  commandId?: string,
): Promise<{ registered: boolean; activated: boolean; command: boolean }> {
  return page.evaluate(
    ({ plugin, command }) => {
      const app = (globalThis as unknown as PageGlobals).jupyterapp!;
      return {
        registered: app.hasPlugin(plugin),
        activated: app.isPluginActivated(plugin),
        command: command === null ? false : app.commands.hasCommand(command),
      };
    },
    { plugin: pluginId, command: commandId ?? null },
  );
}

/** One plugin of a (federated) extension as the running application sees it. */
export interface ExtensionPlugin {
  id: string;
  enabled: boolean;
  activated: boolean;
}

/**
 * The plugins that the extension package `extensionName` (e.g. `cellar-jupyterlab`) contributed to the running
 * application, with whether each is enabled and activated. Empty when the extension did not load.
 */
export async function extensionPlugins(page: Page, extensionName: string): Promise<ExtensionPlugin[]> {
  return page.evaluate((name) => {
    const app = (globalThis as unknown as PageGlobals).jupyterapp!;
    return app.info.availablePlugins
      .filter((plugin) => plugin.extension === name)
      .map((plugin) => ({
        id: plugin.id,
        enabled: plugin.enabled,
        activated: app.isPluginActivated(plugin.id),
      }));
  }, extensionName);
}

/** Saves the open notebook `path` (File > Save) and waits for the write to finish. */
export async function saveNotebook(page: Page, path: string): Promise<void> {
  await page.evaluate(async (notebookPath) => {
    const app = (globalThis as unknown as PageGlobals).jupyterapp!;
    for (const widget of app.shell.widgets('main')) {
      if (widget.context?.path === notebookPath) {
        await widget.context.save();
        return;
      }
    }
    throw new Error(`notebook ${notebookPath} is not open`);
  }, path);
}
