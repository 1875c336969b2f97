/**
 * The Airflow DAG export: the file compiles with Python (`py_compile`) and, parsed with Python's `ast`,
 * has one BashOperator per step running `cellar step run <name>@<version> <step>`, the same dependencies,
 * retries, timeouts, trigger rules and schedule. Hostile strings come back byte for byte.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CellarError } from '../../../kernel-lib/errors.js';
import { exportNotebook } from '../../../kernel-lib/exporter/index.js';
import { closeAllEmbedded } from '../../../kernel-lib/store/open.js';
import { airflowDag, pythonString, shellQuote } from '../../../pipelines/airflow/export.js';
import { writeNotebook } from '../../kernel-lib/exporter/nb.js';
import { cleanupTmp, makeTmp } from '../../helpers/tmp.js';

const PYTHON = '/usr/bin/python3';

afterEach(() => {
  closeAllEmbedded();
  cleanupTmp();
});

// Reads a DAG file without Airflow: every BashOperator call's keywords (literals evaluated, timedeltas as
// milliseconds), the DAG(...) keywords, and the `a >> b` edges as task ids.
const INSPECT = `
import ast, json, sys
tree = ast.parse(open(sys.argv[1], encoding='utf-8').read())
def value(node):
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        name = node.func.attr
        kw = {k.arg: ast.unparse(k.value) if k.arg == 'tzinfo' else ast.literal_eval(k.value) for k in node.keywords}
        if name == 'timedelta':
            return {'timedelta_ms': kw.get('milliseconds')}
        if name == 'datetime':
            return {'datetime': [ast.literal_eval(a) for a in node.args], 'tz': kw.get('tzinfo')}
    return ast.literal_eval(node)
tasks, names, edges, dag = [], {}, [], {}
for node in ast.walk(tree):
    if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and getattr(node.value.func, 'id', '') == 'BashOperator':
        task = {k.arg: value(k.value) for k in node.value.keywords}
        names[node.targets[0].id] = task['task_id']
        tasks.append(task)
    if isinstance(node, ast.withitem) and getattr(node.context_expr.func, 'id', '') == 'DAG':
        dag = {k.arg: value(k.value) for k in node.context_expr.keywords}
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.RShift):
        edges.append([node.left.id, node.right.id])
print(json.dumps({'tasks': tasks, 'dag': dag, 'edges': [[names[a], names[b]] for a, b in edges]}))
`;

interface Inspected {
  tasks: Array<Record<string, unknown>>;
  dag: Record<string, unknown>;
  edges: string[][];
}

function inspect(file: string): Inspected {
  const compiled = spawnSync(PYTHON, ['-m', 'py_compile', file], { encoding: 'utf8' });
  expect({ status: compiled.status, stderr: compiled.stderr }).toEqual({ status: 0, stderr: '' });
  const run = spawnSync(PYTHON, ['-c', INSPECT, file], { encoding: 'utf8' });
  expect(run.stderr).toBe('');
  return JSON.parse(run.stdout) as Inspected;
}

test('a DAG with the pipeline graph, settings and `cellar step run` commands', async () => {
  const dir = makeTmp('cellar-airflow-');
  // A notebook path with quotes, a newline and shell syntax ends up in the DAG's description.
  const nbName = `we'ird "nb" $(id) \`x\`\n{{ run_id }}.ipynb`;
  const path = writeNotebook(
    dir,
    [
      ['step:load-data', 'const rows = [1, 2, 3];'],
      ['step:train retries:3 timeout:5m', 'const model = rows.length;'],
      ['step:evaluate trigger:all_done', 'const score = model + rows.length;'],
      ['step:notify prev:train trigger:one_failed', 'const sent = true;'],
      ['pipeline-metrics', 'score'],
    ],
    nbName,
  );
  const exported = await exportNotebook({
    notebook: path,
    name: 'driver-training',
    store: join(dir, '.cellar'),
    schedule: '0 * * * *',
    catchup: true,
    maxActiveRuns: 2,
  });
  const file = join(dir, 'dag.py');
  writeFileSync(
    file,
    airflowDag(exported.spec, {
      cellarCommand: ['npx', 'cellar'],
      storeUri: "/srv/shared store/it's/.cellar",
      retryDelayMs: 30_000,
      maxRetryDelayMs: 600_000,
    }),
  );
  const dag = inspect(file);
  expect(dag.dag).toEqual({
    dag_id: 'driver-training',
    description: `cellar pipeline driver-training@1 from ${path}`,
    schedule: '0 * * * *',
    start_date: { datetime: expect.any(Array), tz: 'datetime.timezone.utc' },
    catchup: true,
    max_active_runs: 2,
    tags: ['cellar', 'cellar-version-1'],
  });
  const ids = ['load-data', 'train', 'evaluate', 'notify'];
  expect(dag.tasks.map((t) => t.task_id)).toEqual(ids);
  const env = {
    CELLAR_RUN_ID: '{{ run_id }}',
    CELLAR_LOGICAL_DATE: '{{ ts }}',
    CELLAR_URI: "/srv/shared store/it's/.cellar",
  };
  expect(dag.tasks[1]).toEqual({
    task_id: 'train',
    bash_command:
      'npx cellar step run driver-training@1 train --run-id "$CELLAR_RUN_ID" --logical-date "$CELLAR_LOGICAL_DATE"',
    env,
    append_env: true,
    retries: 3,
    retry_delay: { timedelta_ms: 30_000 },
    retry_exponential_backoff: true,
    max_retry_delay: { timedelta_ms: 600_000 },
    execution_timeout: { timedelta_ms: 300_000 },
    trigger_rule: 'all_success',
  });
  expect(dag.tasks.map((t) => [t.task_id, t.trigger_rule, t.retries, t.execution_timeout])).toEqual([
    ['load-data', 'all_success', 0, null],
    ['train', 'all_success', 3, { timedelta_ms: 300_000 }],
    ['evaluate', 'all_done', 0, null],
    ['notify', 'one_failed', 0, null],
  ]);
  expect(dag.edges.sort()).toEqual(
    [
      ['load-data', 'train'],
      ['load-data', 'evaluate'],
      ['train', 'evaluate'],
      ['train', 'notify'],
    ].sort(),
  );
});

test('a manual-only pipeline has schedule None and no timeout', async () => {
  const dir = makeTmp('cellar-airflow-');
  const exported = await exportNotebook({
    notebook: writeNotebook(dir, [['step:only', 'const x = 1;']]),
    name: 'manual',
    store: join(dir, '.cellar'),
  });
  const file = join(dir, 'dag.py');
  writeFileSync(file, airflowDag(exported.spec, { startDate: '2026-03-04T05:06:00Z' }));
  const dag = inspect(file);
  expect(dag.dag).toMatchObject({
    schedule: null,
    catchup: false,
    max_active_runs: 1,
    start_date: { datetime: [2026, 3, 4, 5, 6], tz: 'datetime.timezone.utc' },
  });
  expect(dag.tasks[0]).toMatchObject({
    bash_command:
      'cellar step run manual@1 only --run-id "$CELLAR_RUN_ID" --logical-date "$CELLAR_LOGICAL_DATE"',
    env: { CELLAR_RUN_ID: '{{ run_id }}', CELLAR_LOGICAL_DATE: '{{ ts }}' },
    execution_timeout: null,
  });
  expect(dag.edges).toEqual([]);
});

test('pythonString and shellQuote round-trip hostile strings exactly', () => {
  const samples = [
    '',
    "it's",
    'back\\slash "dq" \'sq\'',
    'new\nline\r\ttab\u0000nul\u007f',
    '$(id) `uname` ${HOME}; rm -rf / #',
    'ünïcödé ✓ 😀 \u2028\u2029',
    "'''",
    '"""\\',
  ];
  const dir = makeTmp('cellar-pystr-');
  const file = join(dir, 'strings.py');
  writeFileSync(file, `VALUES = [${samples.map(pythonString).join(', ')}]\n`);
  const py = spawnSync(
    PYTHON,
    [
      '-c',
      'import ast,json,sys; t=ast.parse(open(sys.argv[1]).read()); print(json.dumps(ast.literal_eval(t.body[0].value)))',
      file,
    ],
    { encoding: 'utf8' },
  );
  expect(py.stderr).toBe('');
  expect(JSON.parse(py.stdout)).toEqual(samples);
  // The shell gives each quoted word back unchanged.
  const words = samples.filter((s) => !s.includes('\u0000'));
  const sh = spawnSync('/bin/sh', ['-c', `printf '%s\\0' ${words.map(shellQuote).join(' ')}`], {
    encoding: 'utf8',
  });
  expect(sh.stdout.split('\0').slice(0, -1)).toEqual(words);
});

test('options that Airflow would template or that break the file are refused', async () => {
  const dir = makeTmp('cellar-airflow-');
  const { spec } = await exportNotebook({
    notebook: writeNotebook(dir, [['step:only', 'const x = 1;']]),
    name: 'p',
    store: join(dir, '.cellar'),
  });
  const code = (fn: () => unknown): string => {
    try {
      fn();
      return 'none';
    } catch (e) {
      return (e as CellarError).code;
    }
  };
  expect(code(() => airflowDag(spec, { storeUri: '/x/{{ var.value.secret }}' }))).toBe('INVALID_PARAMETER');
  expect(code(() => airflowDag(spec, { cellarCommand: ['cellar{%'] }))).toBe('INVALID_PARAMETER');
  expect(code(() => airflowDag(spec, { dagId: "x'); import os #" }))).toBe('INVALID_PARAMETER');
  expect(code(() => airflowDag(spec, { startDate: 'yesterday' }))).toBe('INVALID_PARAMETER');
  expect(existsSync(PYTHON)).toBe(true);
});
