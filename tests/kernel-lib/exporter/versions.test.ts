/** Versions: content-addressed and numbered per name, idempotent, atomic, safe under concurrent exports. */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CellarError } from '../../../kernel-lib/errors.js';
import {
  diffPipelineVersions,
  exportNotebook,
  getPipelineVersion,
  listPipelines,
  listPipelineVersions,
} from '../../../kernel-lib/exporter/index.js';
import { closeAllEmbedded, openEmbedded } from '../../../kernel-lib/store/open.js';
import { cleanupTmp, makeTmp, REPO_ROOT } from '../../helpers/tmp.js';
import { notebook, writeNotebook, type CellDef } from './nb.js';

afterEach(() => {
  closeAllEmbedded();
  cleanupTmp();
});

const CELLS: CellDef[] = [
  ['pipeline-parameters', 'const n = 3;'],
  ['step:make', 'const xs = Array.from({ length: n }, (_, i) => i);'],
  ['step:sum', 'const total = xs.reduce((a, b) => a + b, 0);'],
  ['pipeline-metrics', 'total'],
];

function setup(): { dir: string; store: string } {
  const dir = makeTmp('cellar-versions-');
  return { dir, store: join(dir, '.cellar') };
}

test('exporting twice returns the same version; a change makes the next number; old content maps back', async () => {
  const { dir, store } = setup();
  const path = writeNotebook(dir, CELLS);
  const first = await exportNotebook({ notebook: path, name: 'demo', store });
  expect(first).toMatchObject({ name: 'demo', version: 1, created: true });
  expect(first.hash).toMatch(/^[0-9a-f]{64}$/);
  const again = await exportNotebook({ notebook: path, name: 'demo', store });
  expect(again).toMatchObject({ version: 1, created: false, hash: first.hash });

  // Outputs and markdown cells are not content: same version (an object notebook says where it lives,
  // which is where the lockfile search starts).
  const withExtras = notebook([{ md: '# notes' }, ...CELLS]);
  (withExtras.cells as Array<Record<string, unknown>>)[2]!.outputs = [
    { output_type: 'stream', name: 'stdout', text: 'x' },
  ];
  expect(
    await exportNotebook({ notebook: withExtras, notebookPath: path, name: 'demo', store }),
  ).toMatchObject({ version: 1, created: false });

  const changed = [...CELLS];
  changed[2] = ['step:sum', 'const total = xs.reduce((a, b) => a + b, 1);'];
  const second = await exportNotebook({
    notebook: writeNotebook(dir, changed, 'v2.ipynb'),
    name: 'demo',
    store,
  });
  expect(second).toMatchObject({ version: 2, created: true });
  expect(second.hash).not.toBe(first.hash);
  expect(await exportNotebook({ notebook: path, name: 'demo', store })).toMatchObject({
    version: 1,
    created: false,
  });
  // The schedule is part of the content; another name starts again at 1.
  expect(await exportNotebook({ notebook: path, name: 'demo', store, schedule: '0 * * * *' })).toMatchObject({
    version: 3,
    created: true,
  });
  expect(await exportNotebook({ notebook: path, name: 'other', store })).toMatchObject({
    version: 1,
    created: true,
  });

  const v1 = getPipelineVersion(store, 'demo', 1);
  const files = readdirSync(v1.dir).sort();
  expect(files).toEqual(['notebook.ipynb', 'pipeline.json', 'steps']);
  expect(readdirSync(join(v1.dir, 'steps')).sort()).toEqual(['make.js', 'make.ts', 'sum.js', 'sum.ts']);
  expect(JSON.parse(readFileSync(join(v1.dir, 'pipeline.json'), 'utf8'))).toEqual(v1.spec);
  expect(readFileSync(join(v1.dir, 'notebook.ipynb'))).toEqual(readFileSync(path));
  expect(JSON.parse(readFileSync(join(v1.dir, 'notebook.ipynb'), 'utf8')).nbformat).toBe(4);
  expect(v1.spec).toMatchObject({
    format: 'cellar-pipeline',
    formatVersion: 1,
    name: 'demo',
    version: 1,
    schedule: null,
  });
  expect(v1.spec.source).toEqual({
    notebookPath: path,
    notebookDigest: expect.stringMatching(/^[0-9a-f]{64}$/),
  });
  expect(getPipelineVersion(store, 'demo', 'latest').version).toBe(3);
  expect(listPipelineVersions(store, 'demo').map((v) => v.version)).toEqual([1, 2, 3]);
  expect(listPipelines(store)).toEqual([
    expect.objectContaining({ name: 'demo', latestVersion: 3, versions: 3, schedule: '0 * * * *', steps: 2 }),
    expect.objectContaining({ name: 'other', latestVersion: 1, versions: 1, schedule: null }),
  ]);
  // Nothing is left behind in temp folders.
  expect(readdirSync(join(store, 'pipelines', 'demo')).sort()).toEqual(['1', '2', '3']);
});

test('a new dependency lockfile makes a new version', async () => {
  const { dir, store } = setup();
  const project = join(dir, 'project');
  mkdirSync(join(project, 'notebooks'), { recursive: true });
  const path = writeNotebook(join(project, 'notebooks'), CELLS);
  writeFileSync(join(project, 'package-lock.json'), '{"lockfileVersion":3,"packages":{}}');
  const first = await exportNotebook({ notebook: path, name: 'lock', store });
  expect(first.spec.lockfileDigest).toMatch(/^[0-9a-f]{64}$/);
  expect((await exportNotebook({ notebook: path, name: 'lock', store })).created).toBe(false);
  writeFileSync(join(project, 'package-lock.json'), '{"lockfileVersion":3,"packages":{"x":{}}}');
  const second = await exportNotebook({ notebook: path, name: 'lock', store });
  expect(second).toMatchObject({ version: 2, created: true });
  expect(second.spec.lockfileDigest).not.toBe(first.spec.lockfileDigest);
});

test('diff between versions lists parameter, setting and step changes with a source diff', async () => {
  const { dir, store } = setup();
  await exportNotebook({ notebook: writeNotebook(dir, CELLS), name: 'd', store });
  const cells: CellDef[] = [
    ['pipeline-parameters', 'const n = 4;\nconst label = "x";'],
    ['step:make', 'const xs = Array.from({ length: n }, (_, i) => i);'],
    ['step:sum retries:2', 'const total = xs.reduce((a, b) => a + b, 0) * 2;'],
    ['step:report', 'const line = label + total;'],
    ['pipeline-metrics', 'total'],
  ];
  await exportNotebook({
    notebook: writeNotebook(dir, cells, 'b.ipynb'),
    name: 'd',
    store,
    schedule: '@daily',
  });
  const diff = diffPipelineVersions(store, 'd', 1, 2);
  expect(diff.identical).toBe(false);
  expect(diff.settings).toEqual([{ field: 'schedule', from: null, to: '0 0 * * *' }]);
  expect(diff.parameters).toEqual({
    added: [{ name: 'label', type: 'string', default: 'x' }],
    removed: [],
    changed: [
      { from: { name: 'n', type: 'number', default: 3 }, to: { name: 'n', type: 'number', default: 4 } },
    ],
  });
  expect(diff.steps.added).toEqual(['report']);
  expect(diff.steps.removed).toEqual([]);
  const sum = diff.steps.changed.find((s) => s.name === 'sum')!;
  expect(sum.fields).toEqual(['retries', 'source']);
  expect(sum.sourceDiff).toContain('-const total = xs.reduce((a, b) => a + b, 0);');
  expect(sum.sourceDiff).toContain('+const total = xs.reduce((a, b) => a + b, 0) * 2;');
  expect(diffPipelineVersions(store, 'd', 2, 'latest').identical).toBe(true);
});

test('unknown pipelines and versions are NOT_FOUND; bad names and versions INVALID_PARAMETER', async () => {
  const { dir, store } = setup();
  await exportNotebook({ notebook: writeNotebook(dir, CELLS), name: 'known', store });
  const code = (fn: () => unknown): string => {
    try {
      fn();
    } catch (e) {
      return (e as CellarError).code;
    }
    return 'none';
  };
  expect(code(() => getPipelineVersion(store, 'unknown', 'latest'))).toBe('NOT_FOUND');
  expect(code(() => getPipelineVersion(store, 'known', 2))).toBe('NOT_FOUND');
  expect(code(() => getPipelineVersion(store, '../known', 1))).toBe('INVALID_PARAMETER');
  expect(code(() => getPipelineVersion(store, 'known', 0))).toBe('INVALID_PARAMETER');
  expect(code(() => getPipelineVersion(store, 'known', '1; DROP TABLE x'))).toBe('INVALID_PARAMETER');
});

test('hostile input is refused with a clear error and changes nothing in the store', async () => {
  const { dir, store } = setup();
  const good = writeNotebook(dir, CELLS);
  await exportNotebook({ notebook: good, name: 'safe', store });
  const snapshot = (): unknown => {
    const db = openEmbedded(store).db;
    return {
      rows: db.prepare('SELECT name, version, hash FROM pipeline_versions ORDER BY name, version').all(),
      dirs: readdirSync(join(store, 'pipelines')).sort(),
      safe: readdirSync(join(store, 'pipelines', 'safe')).sort(),
    };
  };
  const before = snapshot();
  const malformed = join(dir, 'broken.ipynb');
  writeFileSync(malformed, '{"nbformat": 4, "cells": [');
  const nb3 = join(dir, 'old.ipynb');
  writeFileSync(nb3, JSON.stringify({ nbformat: 3, metadata: {}, worksheets: [] }));
  const python = notebook(CELLS, { name: 'python3', display_name: 'Python 3', language: 'python' });
  const cases: Array<[Parameters<typeof exportNotebook>[0], string, RegExp]> = [
    [{ notebook: malformed, name: 'x' }, 'INVALID_INPUT', /JSON does not parse/],
    [{ notebook: nb3, name: 'x' }, 'INVALID_INPUT', /nbformat 4/],
    [{ notebook: python, name: 'x' }, 'INVALID_INPUT', /not TypeScript/],
    [{ notebook: { nbformat: 4, metadata: {}, cells: 'no' }, name: 'x' }, 'INVALID_INPUT', /cells/],
    [{ notebook: join(dir, 'missing.ipynb'), name: 'x' }, 'NOT_FOUND', /does not exist/],
    [{ notebook: good, name: 'x', schedule: '61 * * * *' }, 'INVALID_PARAMETER', /61/],
    [{ notebook: good, name: 'x', schedule: '* * * *' }, 'INVALID_PARAMETER', /4 fields, not 5/],
    [{ notebook: good, name: '../x' }, 'INVALID_PARAMETER', /Pipeline name "..\/x" is not valid/],
    [{ notebook: good, name: 'safe/../../etc' }, 'INVALID_PARAMETER', /not valid/],
    [{ notebook: good, name: 'Upper' }, 'INVALID_PARAMETER', /e\.g\. "upper"/],
    [{ notebook: good, name: 'x', retries: -1 }, 'INVALID_PARAMETER', /retries/],
    [{ notebook: good, name: 'x', maxActiveRuns: 0 }, 'INVALID_PARAMETER', /maxActiveRuns/],
  ];
  for (const [opts, code, message] of cases) {
    const err = await exportNotebook({ ...opts, store }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CellarError);
    expect({ code: (err as CellarError).code, message: (err as CellarError).message }).toEqual({
      code,
      message: expect.stringMatching(message),
    });
  }
  expect(snapshot()).toEqual(before);
});

test('an incomplete version folder without a row is removed and its number reused', async () => {
  const { dir, store } = setup();
  openEmbedded(store);
  const deadTemp = join(store, 'pipelines', 'crashy', '.tmp-999999999-abcdef');
  mkdirSync(deadTemp, { recursive: true });
  const orphan = join(store, 'pipelines', 'crashy', '1');
  mkdirSync(join(orphan, 'steps'), { recursive: true });
  writeFileSync(join(orphan, 'pipeline.json'), 'half-written');
  const result = await exportNotebook({ notebook: writeNotebook(dir, CELLS), name: 'crashy', store });
  expect(result).toMatchObject({ version: 1, created: true });
  expect(JSON.parse(readFileSync(join(orphan, 'pipeline.json'), 'utf8')).hash).toBe(result.hash);
  expect(existsSync(deadTemp)).toBe(false); // the temp folder of a dead exporter is cleaned up
});

test('a complete version folder without a row (a crash before commit) is adopted, not overwritten', async () => {
  const a = setup();
  const b = setup();
  const path = writeNotebook(a.dir, CELLS);
  const original = await exportNotebook({ notebook: path, name: 'crashy', store: a.store });
  openEmbedded(b.store);
  cpSync(original.dir, join(b.store, 'pipelines', 'crashy', '1'), { recursive: true });
  const changed = [...CELLS];
  changed[2] = ['step:sum', 'const total = xs.length;'];
  const next = await exportNotebook({
    notebook: writeNotebook(b.dir, changed),
    name: 'crashy',
    store: b.store,
  });
  expect(next).toMatchObject({ version: 2, created: true });
  expect(getPipelineVersion(b.store, 'crashy', 1).hash).toBe(original.hash);
  expect(await exportNotebook({ notebook: path, name: 'crashy', store: b.store })).toMatchObject({
    version: 1,
    created: false,
  });
});

interface Child {
  ready: Promise<void>;
  done: Promise<{ code: number | null; out: string; err: string }>;
}

/** Starts an exporting child; `ready` resolves once it has loaded the exporter and waits for the go file. */
function startChild(args: string[]): Child {
  const child = spawn(process.execPath, [join(__dirname, 'procs', 'export-child.cjs'), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  child.stdout.on('data', (d) => {
    out += d;
    if (out.startsWith('ready\n')) markReady();
  });
  child.stderr.on('data', (d) => (err += d));
  const done = new Promise<{ code: number | null; out: string; err: string }>((resolve) =>
    child.on('close', (code) => {
      markReady();
      resolve({ code, out: out.replace(/^ready\n/, ''), err });
    }),
  );
  return { ready, done };
}

test('two processes exporting the same notebook at once end with one version', async () => {
  const { dir, store } = setup();
  openEmbedded(store); // migrate first, so the race is about the export
  closeAllEmbedded();
  for (let round = 1; round <= 3; round++) {
    const cells = [...CELLS];
    cells[1] = ['step:make', `const xs = Array.from({ length: n + ${round} }, (_, i) => i);`];
    const path = writeNotebook(dir, cells, `r${round}.ipynb`);
    const go = join(dir, `go-${round}`);
    const children = [0, 1].map(() => startChild([REPO_ROOT, store, path, 'race', go]));
    await Promise.all(children.map((c) => c.ready));
    writeFileSync(go, '');
    const results = await Promise.all(children.map((c) => c.done));
    for (const r of results) expect({ code: r.code, err: r.err }).toEqual({ code: 0, err: '' });
    const parsed = results.map(
      (r) => JSON.parse(r.out) as { version: number; created: boolean; hash: string },
    );
    expect(parsed.map((p) => p.version)).toEqual([round, round]);
    expect(parsed.filter((p) => p.created)).toHaveLength(1);
    expect(parsed[0]!.hash).toBe(parsed[1]!.hash);
  }
  expect(listPipelineVersions(store, 'race').map((v) => v.version)).toEqual([1, 2, 3]);
  expect(readdirSync(join(store, 'pipelines', 'race')).sort()).toEqual(['1', '2', '3']);
  expect(existsSync(join(store, 'pipelines', 'race', '3', 'pipeline.json'))).toBe(true);
}, 120_000);
