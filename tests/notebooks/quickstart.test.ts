// Executes notebooks/quickstart.ipynb headlessly on a real tslab kernel (as a user would run it in
// JupyterLab) against a temp store, then checks what it printed and displayed, and what it left in the
// store: a FINISHED run with the ElasticNet params and test metrics, and model `driver` v1 @champion.
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type CellarStore } from '../../kernel-lib/index.js';
import {
  JUPYTER_MISSING_MESSAGE,
  REPO_ROOT,
  executeNotebook,
  hasJupyter,
  joinText,
  linkNodeModules,
  type ExecutedNotebook,
} from '../helpers/jupyter.js';

const NOTEBOOK = join(REPO_ROOT, 'notebooks', 'quickstart.ipynb');
const BUILT_ENTRY = join(REPO_ROOT, 'dist', 'cjs', 'kernel-lib', 'index.js');
const BUILT_TYPES = join(REPO_ROOT, 'dist', 'esm', 'kernel-lib', 'index.d.ts');

function parseMetrics(stdout: string): { rmse: number; mae: number; r2: number } {
  const match = /test metrics: rmse=(\S+) mae=(\S+) r2=(\S+)/.exec(stdout);
  if (!match) throw new Error(`the notebook did not print its test metrics; stdout was:\n${stdout}`);
  return { rmse: Number(match[1]), mae: Number(match[2]), r2: Number(match[3]) };
}

function describeErrors(run: ExecutedNotebook): string {
  return run
    .errors()
    .map((e) => `cell ${e.cellIndex} (${e.ename}):\n${e.source}\n---\n${e.evalue}\n${e.traceback}`)
    .join('\n\n');
}

describe('notebooks/quickstart.ipynb on the tslab kernel', () => {
  let workDir: string;
  let storeDir: string;
  let run: ExecutedNotebook;
  let store: CellarStore | undefined;

  beforeAll(async () => {
    if (!hasJupyter()) throw new Error(JUPYTER_MISSING_MESSAGE);
    if (!existsSync(BUILT_ENTRY) || !existsSync(BUILT_TYPES)) {
      throw new Error(
        `${BUILT_ENTRY} or ${BUILT_TYPES} is missing: notebooks import the built package, run \`npm run build\` first.`,
      );
    }
    workDir = mkdtempSync(join(tmpdir(), 'cellar-quickstart-'));
    storeDir = join(workDir, 'store');
    cpSync(NOTEBOOK, join(workDir, 'quickstart.ipynb'));
    // The kernel resolves `cellar` (and @types/node, for `console`) from its working directory.
    linkNodeModules(workDir);
    run = await executeNotebook(join(workDir, 'quickstart.ipynb'), {
      env: { CELLAR_URI: storeDir },
      timeoutMs: 180_000,
    });
  }, 200_000);

  afterAll(() => {
    store?.close();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it('runs every cell without an error', () => {
    const errors = describeErrors(run);
    expect(errors).toBe('');
    expect(run.failure).toBeNull();
    for (const cell of run.codeCells()) {
      expect({
        cell: cell.index,
        status: (cell.metadata['cellar_test'] as { status?: string })?.status,
      }).toEqual({
        cell: cell.index,
        status: 'ok',
      });
    }
  });

  it('prints finite, sensible test metrics', () => {
    const metrics = parseMetrics(run.stdout());
    for (const value of Object.values(metrics)) expect(Number.isFinite(value)).toBe(true);
    // trip_completed is 0/1, so errors are below 1; busier drivers complete more, so the model beats the mean.
    expect(metrics.rmse).toBeGreaterThan(0);
    expect(metrics.rmse).toBeLessThan(1);
    expect(metrics.mae).toBeGreaterThan(0);
    expect(metrics.mae).toBeLessThanOrEqual(metrics.rmse);
    expect(metrics.r2).toBeGreaterThan(0);
    expect(metrics.r2).toBeLessThan(1);
  });

  it('displays a Plotly figure and the runs table', () => {
    const bundles = run.displays();
    const plot = bundles.find((b) => 'application/vnd.plotly.v1+json' in b);
    expect(plot).toBeDefined();
    const figure = plot!['application/vnd.plotly.v1+json'] as { data: Array<{ x: unknown[]; y: unknown[] }> };
    expect(figure.data.length).toBeGreaterThan(0);
    expect(figure.data[0]!.x).toHaveLength(400);
    expect(figure.data[0]!.y).toHaveLength(400);
    // nbformat may store text MIME data as a list of lines.
    const tables = bundles
      .map((b) => joinText(b['text/html'] as string | string[] | undefined))
      .filter((html) => html.includes('<table'));
    expect(tables).toHaveLength(1);
    expect(tables[0]).toContain('elasticnet-quickstart');
  });

  it('leaves a FINISHED run with params and metrics, and driver v1 @champion, in the store', async () => {
    store = openStore(storeDir);
    const runs = await store.searchRuns({ experiment: 'driver-training' });
    expect(runs).toHaveLength(1);
    const found = runs[0]!;
    expect(found.status).toBe('FINISHED');
    expect(found.runName).toBe('elasticnet-quickstart');
    expect(found.params['alpha']).toBe('0.5');
    expect(found.params['l1_ratio']).toBe('0.1');
    const printed = parseMetrics(run.stdout());
    for (const key of ['rmse', 'mae', 'r2'] as const) {
      expect(Number.isFinite(found.metrics[key])).toBe(true);
      expect(found.metrics[key]).toBeCloseTo(printed[key], 3);
    }
    expect(run.stdout()).toContain(`run ${found.id}`);

    const version = await store.registry.getModelVersion('driver', 1);
    expect(version.runId).toBe(found.id);
    expect(version.aliases).toContain('champion');
    const registered = await store.registry.getRegisteredModel('driver');
    expect(registered.aliases).toEqual({ champion: 1 });
    const model = await store.loadModel('models:/driver@champion');
    expect(model.version).toBe(1);
    expect(model.runId).toBe(found.id);
  });
});
