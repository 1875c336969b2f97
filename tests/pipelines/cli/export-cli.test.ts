/** `cellar export` and `cellar pipelines list|show|diff|export-airflow`: output, --json, --help and exit codes. */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../../pipelines/cli/main.js';
import { EXIT } from '../../../pipelines/cli/output.js';
import { writeNotebook, type CellDef } from '../../kernel-lib/exporter/nb.js';
import { cleanupTmp, makeTmp } from '../../helpers/tmp.js';

afterEach(cleanupTmp);

async function cellar(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

const CELLS: CellDef[] = [
  ['pipeline-parameters', 'const n = 3;'],
  ['step:make', 'const xs = Array.from({ length: n }, (_, i) => i);'],
  ['step:sum', 'const total = xs.reduce((a, b) => a + b, 0);'],
  ['pipeline-metrics', 'total'],
];

test('export, re-export, list, show, diff and export-airflow', async () => {
  const dir = makeTmp('cellar-export-cli-');
  const nb = writeNotebook(dir, CELLS);
  const first = await cellar('--store', dir, 'export', nb, '--name', 'demo', '--schedule', '0 * * * *');
  expect(first).toMatchObject({ code: EXIT.OK, err: '' });
  expect(first.out).toContain('Exported demo version 1.');
  expect(first.out).toMatch(/make\s+n\s+xs/);

  const again = await cellar(
    '--store',
    dir,
    'export',
    nb,
    '--name',
    'demo',
    '--schedule',
    '0 * * * *',
    '--json',
  );
  expect(again.code).toBe(EXIT.OK);
  expect(JSON.parse(again.out)).toMatchObject({ name: 'demo', version: 1, created: false });

  const nb2 = writeNotebook(
    dir,
    [...CELLS.slice(0, 2), ['step:sum', 'const total = xs.length;'], CELLS[3]!],
    'b.ipynb',
  );
  const second = await cellar(
    '--store',
    dir,
    'export',
    nb2,
    '--name',
    'demo',
    '--retries',
    '2',
    '--timeout',
    '90s',
    '--json',
  );
  expect(JSON.parse(second.out)).toMatchObject({ version: 2, created: true });
  expect(
    JSON.parse(second.out).spec.steps.map((s: { retries: number; timeoutMs: number }) => [
      s.retries,
      s.timeoutMs,
    ]),
  ).toEqual([
    [2, 90_000],
    [2, 90_000],
  ]);

  const list = await cellar('--store', dir, 'pipelines', 'list', '--json');
  expect(JSON.parse(list.out)).toEqual([
    expect.objectContaining({ name: 'demo', latestVersion: 2, versions: 2, steps: 2, schedule: null }),
  ]);
  expect((await cellar('--store', dir, 'pipelines', 'list')).out).toMatch(/demo\s+2\s+2\s+2/);

  const show = await cellar('--store', dir, 'pipelines', 'show', 'demo@1', '--json');
  expect(JSON.parse(show.out)).toMatchObject({ name: 'demo', version: 1, schedule: '0 * * * *' });
  const showText = await cellar('--store', dir, 'pipelines', 'show', 'demo');
  expect(showText.out).toContain('demo@2');
  expect(showText.out).toMatch(/sum\s+make\s+xs<-make/);
  expect(showText.out).toContain('metrics: total (sum)');

  const diff = await cellar('--store', dir, 'pipelines', 'diff', 'demo', '1', '2');
  expect(diff.code).toBe(EXIT.OK);
  expect(diff.out).toContain('schedule: "0 * * * *" → null');
  expect(diff.out).toContain('~ step sum: retries, timeoutMs, source');
  expect(diff.out).toContain('+const total = xs.length;');
  expect(
    JSON.parse((await cellar('--store', dir, 'pipelines', 'diff', 'demo', '1', '2', '--json')).out),
  ).toMatchObject({
    from: { version: 1 },
    to: { version: 2 },
  });

  const printed = await cellar('--store', dir, 'pipelines', 'export-airflow', 'demo@1');
  expect(printed.out).toContain("bash_command='cellar step run demo@1 make --run-id");
  const out = join(dir, 'demo_dag.py');
  const written = await cellar('--store', dir, 'pipelines', 'export-airflow', 'demo@2', '--out', out);
  expect(written).toMatchObject({ code: EXIT.OK, err: '' });
  expect(readFileSync(out, 'utf8')).toContain("task_id='sum'");
  expect(spawnSync('/usr/bin/python3', ['-m', 'py_compile', out]).status).toBe(0);
});

test('problems in the notebook are listed per cell; --json gives details.errors', async () => {
  const dir = makeTmp('cellar-export-cli-');
  const nb = writeNotebook(dir, [
    ['step:a prev:missing', 'const a = 1;'],
    ['step:b', 'const b = nowhere;'],
  ]);
  const text = await cellar('--store', dir, 'export', nb, '--name', 'bad');
  expect(text.code).toBe(EXIT.USAGE);
  expect(text.err).toContain('cell 0 (step a): tag "prev:missing" names no step');
  expect(text.err).toContain('cell 1 (step b): line 1: reads "nowhere"');
  const json = await cellar('--store', dir, 'export', nb, '--name', 'bad', '--json');
  expect(json.code).toBe(EXIT.USAGE);
  expect(JSON.parse(json.err).error).toMatchObject({
    code: 'INVALID_INPUT',
    details: {
      errors: [
        expect.objectContaining({ cell: 0, step: 'a' }),
        expect.objectContaining({ cell: 1, step: 'b' }),
      ],
    },
  });
  expect(existsSync(join(dir, '.cellar', 'pipelines', 'bad'))).toBe(false);
});

test('exit codes for bad input, unknown pipelines and help', async () => {
  const dir = makeTmp('cellar-export-cli-');
  const nb = writeNotebook(dir, CELLS);
  expect((await cellar('--store', dir, 'export', nb, '--name', '../x')).code).toBe(EXIT.USAGE);
  expect((await cellar('--store', dir, 'export', nb, '--name', 'x', '--schedule', '61 * * * *')).code).toBe(
    EXIT.USAGE,
  );
  expect((await cellar('--store', dir, 'export', nb, '--name', 'x', '--retries', 'many')).code).toBe(
    EXIT.USAGE,
  );
  expect((await cellar('--store', dir, 'export', nb, '--name', 'x', '--timeout', 'soon')).code).toBe(
    EXIT.USAGE,
  );
  expect((await cellar('--store', dir, 'export', join(dir, 'missing.ipynb'), '--name', 'x')).code).toBe(
    EXIT.NOT_FOUND,
  );
  expect((await cellar('--store', dir, 'export', nb)).code).toBe(EXIT.USAGE); // --name is required
  expect((await cellar('--store', dir, 'pipelines', 'show', 'nope')).code).toBe(EXIT.NOT_FOUND);
  expect((await cellar('--store', dir, 'pipelines', 'show', 'nope@x')).code).toBe(EXIT.USAGE);
  expect((await cellar('--store', dir, 'pipelines', 'export-airflow', 'nope@1')).code).toBe(EXIT.NOT_FOUND);
  const help = await cellar('export', '--help');
  expect(help.code).toBe(EXIT.OK);
  expect(help.out).toContain('pipeline-parameters');
  const groupHelp = await cellar('pipelines', '--help');
  expect(groupHelp.code).toBe(EXIT.OK);
  for (const sub of ['list', 'show', 'diff', 'export-airflow']) expect(groupHelp.out).toContain(sub);
});
