// Executes the tutorial notebooks (01-explore → 02-features → 03-train → 04-deploy) headlessly, in order, on a real
// tslab kernel, in one temp project folder with its own store, as a user would run them in JupyterLab. Fails on
// any cell error; checks that each notebook is valid nbformat, committed without outputs, and that what it
// shows and leaves in the store is what the tutorial says.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type CellarStore } from '../../kernel-lib/index.js';
import {
  JUPYTER_MISSING_MESSAGE,
  REPO_ROOT,
  SYSTEM_PYTHON,
  createJupyterDirs,
  executeNotebook,
  hasJupyter,
  installTslabKernel,
  linkNodeModules,
  removeJupyterDirs,
  type ExecutedNotebook,
  type JupyterDirs,
} from '../helpers/jupyter.js';

const TUTORIALS = ['01-explore', '02-features', '03-train', '04-deploy'] as const;

function errorsOf(run: ExecutedNotebook): string {
  return run
    .errors()
    .map((e) => `cell ${e.cellIndex} (${e.ename}):\n${e.source}\n---\n${e.evalue}\n${e.traceback}`)
    .join('\n\n');
}

describe('the tutorial notebooks, in order, on the tslab kernel', () => {
  let workDir: string;
  let dirs: JupyterDirs;
  const runs = new Map<string, ExecutedNotebook>();
  let store: CellarStore | undefined;

  beforeAll(async () => {
    if (!hasJupyter()) throw new Error(JUPYTER_MISSING_MESSAGE);
    workDir = mkdtempSync(join(tmpdir(), 'cellar-tutorials-'));
    linkNodeModules(workDir);
    dirs = createJupyterDirs();
    installTslabKernel(dirs);
    for (const name of TUTORIALS) {
      cpSync(join(REPO_ROOT, 'notebooks', `${name}.ipynb`), join(workDir, `${name}.ipynb`));
      const run = await executeNotebook(join(workDir, `${name}.ipynb`), {
        env: { CELLAR_URI: join(workDir, '.cellar') },
        jupyterDirs: dirs,
        timeoutMs: 240_000,
      });
      runs.set(name, run);
      if (run.errors().length > 0 || run.failure !== null) break;
    }
  }, 1_200_000);

  afterAll(() => {
    store?.close();
    if (dirs) removeJupyterDirs(dirs);
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it.each(TUTORIALS)(
    '%s is valid nbformat 4, committed without outputs, with a markdown cell before each step',
    (name) => {
      const file = join(REPO_ROOT, 'notebooks', `${name}.ipynb`);
      execFileSync(SYSTEM_PYTHON, [
        '-c',
        'import nbformat,sys; nbformat.validate(nbformat.read(sys.argv[1], as_version=4))',
        file,
      ]);
      const nb = JSON.parse(readFileSync(file, 'utf8')) as {
        cells: Array<{ cell_type: string; outputs?: unknown[] }>;
      };
      expect(nb.cells[0]!.cell_type).toBe('markdown');
      for (const cell of nb.cells) if (cell.cell_type === 'code') expect(cell.outputs).toEqual([]);
      const markdown = nb.cells.filter((c) => c.cell_type === 'markdown').length;
      expect(markdown).toBeGreaterThanOrEqual(Math.floor(nb.cells.length / 3));
    },
  );

  it.each(TUTORIALS)('%s runs every cell without an error', (name) => {
    const run = runs.get(name);
    expect(run).toBeDefined();
    expect(errorsOf(run!)).toBe('');
    expect(run!.failure).toBeNull();
  });

  it('01-explore shows tables, histograms and a time series, and finds the late and duplicate rows', () => {
    const run = runs.get('01-explore')!;
    const bundles = run.displays();
    expect(bundles.filter((b) => 'application/vnd.plotly.v1+json' in b).length).toBeGreaterThanOrEqual(3);
    const m = /quality: late=(\d+) duplicates=(\d+) outOfOrder=(\d+)/.exec(run.stdout());
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThan(0);
    expect(Number(m![2])).toBeGreaterThan(0);
    expect(Number(m![3])).toBeGreaterThan(0);
  });

  it('02-features gets the four-row example right with and without the TTL', () => {
    const out = runs.get('02-features')!.stdout();
    const lines = [...out.matchAll(/driver (\d+): with TTL (\S+), without TTL (\S+)/g)].map((m) => ({
      driver: Number(m[1]),
      ttl: m[2],
      all: m[3],
    }));
    expect(lines.map((l) => l.driver)).toEqual([1001, 1002, 1003, 1004]);
    // Inside the TTL both views agree and find a value.
    for (const l of lines.slice(0, 2)) {
      expect(l.ttl).not.toBe('null');
      expect(l.ttl).toBe(l.all);
    }
    // Three days after the last row: outside the 2-day TTL, but found without one.
    expect(lines[2]!.ttl).toBe('null');
    expect(lines[2]!.all).not.toBe('null');
    // Before the first row: nothing either way.
    expect(lines[3]!.ttl).toBe('null');
    expect(lines[3]!.all).toBe('null');
    expect(out).toMatch(/materialized: driver_stats \d+ rows/);
  });

  it('03-train leaves autologged runs, nested grid runs and driver @champion in the store', async () => {
    store = openStore(join(workDir, '.cellar'));
    const runsFound = await store.searchRuns({ experiment: 'driver-tutorial' });
    expect(runsFound.length).toBeGreaterThanOrEqual(2);
    const parent = runsFound.find((r) => r.runName === 'elasticnet' && r.params['alpha'] === '0.5');
    expect(parent).toBeDefined();
    expect(parent!.status).toBe('FINISHED');
    expect(parent!.params['alpha']).toBe('0.5');
    expect(parent!.params['l1_ratio']).toBe('0.1');
    for (const k of ['test_rmse', 'test_mae', 'test_r2'])
      expect(Number.isFinite(parent!.metrics[k])).toBe(true);
    const model = await store.loadModel('models:/driver@champion');
    expect(model.version).toBeGreaterThanOrEqual(1);
    expect(
      runs
        .get('03-train')!
        .displays()
        .some((b) => 'application/vnd.plotly.v1+json' in b),
    ).toBe(true);
    const version = await store.registry.getModelVersion('driver', model.version!);
    const bindings = JSON.parse(version.tags['cellar.serving.features']!) as Array<{ ref: string }>;
    expect(bindings.map((b) => b.ref)).toEqual([
      'driver_stats:conv_rate',
      'driver_stats:acc_rate',
      'driver_stats:avg_daily_trips',
    ]);
    expect(version.tags['cellar.serving.missing']).toBe('impute');
  });

  it('04-deploy exports and runs the pipeline, serves by driver id, reports drift and runs the gate', async () => {
    const out = runs.get('04-deploy')!.stdout();
    expect(out).toMatch(
      /driver-training@\d+ \((new|unchanged)\): load → features → train → evaluate → register → promote/,
    );
    expect(out).toMatch(/\$ cellar pipelines run driver-training .*\(exit 0\)/);
    // The prediction by entity: HTTP 200 and a number per driver; the server fetched the features itself.
    expect(out).toMatch(/HTTP 200 in \d+ ms \(model version \d+\)/);
    const answer = /HTTP 200[^\n]*\n(\{[\s\S]*?\n\})/.exec(out);
    expect(answer).not.toBeNull();
    const body = JSON.parse(answer![1]!) as { predictions: unknown[] };
    expect(body.predictions).toHaveLength(2);
    for (const p of body.predictions) expect(typeof p).toBe('number');
    expect(out).toMatch(/\$ cellar predict driver@champion .*\(exit 0\)/);
    // The drifted conversion rates are reported as drift.
    const drifted = /drifted: (.*)/.exec(out);
    expect(drifted).not.toBeNull();
    expect(drifted![1]!.split(', ')).toContain('conv_rate');
    expect(out).toMatch(/\$ cellar promote driver .*\(exit [06]\)/);
    expect(out).toContain('server stopped');
    store ??= openStore(join(workDir, '.cellar'));
    const logged = store.embedded.db.prepare('SELECT COUNT(*) AS n FROM prediction_log').get() as {
      n: number;
    };
    expect(logged.n).toBeGreaterThanOrEqual(400);
  });
});
