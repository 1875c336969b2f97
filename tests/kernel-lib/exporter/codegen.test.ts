/** Code generation round trip: the compiled step modules run with ctx.params/ctx.inputs and return their outputs. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  exportNotebook,
  getPipelineVersion,
  planExport,
  type ExportPlan,
  type PipelineSpec,
} from '../../../kernel-lib/exporter/index.js';
import { closeAllEmbedded } from '../../../kernel-lib/store/open.js';
import { cleanupTmp, makeTmp } from '../../helpers/tmp.js';
import { notebook } from './nb.js';

afterEach(cleanupTmp);

type StepModule = { run(ctx: Record<string, unknown>): Promise<Record<string, unknown>> };

/** Writes the plan's files to a temp folder and loads each compiled step with require. */
function load(plan: ExportPlan): Record<string, StepModule> {
  const dir = makeTmp('cellar-codegen-');
  for (const [rel, text] of Object.entries(plan.files)) {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  return Object.fromEntries(
    plan.spec.steps.map((s) => [s.name, require(join(dir, s.file)) as StepModule]), // eslint-disable-line @typescript-eslint/no-require-imports
  );
}

/** Runs every step in order, feeding each one the outputs it reads, as the runner would. */
async function runAll(
  plan: ExportPlan,
  params: Record<string, unknown> = {},
): Promise<Record<string, Record<string, unknown>>> {
  const modules = load(plan);
  const values = Object.fromEntries(plan.spec.parameters.map((p) => [p.name, params[p.name] ?? p.default]));
  const outputs: Record<string, Record<string, unknown>> = {};
  for (const step of plan.spec.steps) {
    const inputs = Object.fromEntries(Object.entries(step.inputs).map(([n, from]) => [n, outputs[from]![n]]));
    const ctxParams = Object.fromEntries(step.parameters.map((p) => [p, values[p]]));
    outputs[step.name] = await modules[step.name]!.run({
      params: ctxParams,
      inputs,
      runId: 'r1',
      logicalDate: '2026-01-01T00:00:00.000Z',
      dataIntervalStart: '2026-01-01T00:00:00.000Z',
      dataIntervalEnd: '2026-01-01T01:00:00.000Z',
      tryNumber: 1,
    });
    expect(Object.keys(outputs[step.name]!).sort()).toEqual([...step.outputs].sort());
  }
  return outputs;
}

test('steps run in order with parameters, inputs, destructuring, top-level await and module-level helpers', async () => {
  const plan = planExport({
    name: 'roundtrip',
    notebook: notebook([
      [
        'imports',
        "import { join } from 'node:path';\nimport { setTimeout as sleep } from 'node:timers/promises';",
      ],
      [
        'pipeline-parameters',
        'const factor: number = 3;\nconst prefix = "p";\nconst weights = [1, 2, { w: 3 }];',
      ],
      ['functions', 'function scale(xs: number[], k: number): number[] {\n  return xs.map((x) => x * k);\n}'],
      [
        'step:load',
        'const raw = [1, 2, 3];\nawait sleep(1);\nconst { first, rest } = { first: raw[0], rest: raw.slice(1) };',
      ],
      ['step:transform', 'const scaled = scale(rest, factor);\nlet count = 0;'],
      [
        '',
        'for (const _ of scaled) count++;\nconst label = join(prefix, String(first)) // a trailing comment',
      ],
      ['step:report', 'const total = scaled.reduce((a, b) => a + b, 0) + count;\nconst w = weights;'],
      ['pipeline-metrics', 'total'],
    ]),
  });
  const out = await runAll(plan);
  expect(out.load).toEqual({ first: 1, rest: [2, 3] });
  expect(out.transform).toEqual({ scaled: [6, 9], count: 2 });
  expect(out.report).toEqual({ total: 17 });
  expect(plan.spec.steps.find((s) => s.name === 'transform')!.outputs).toEqual(['scaled', 'count']);
  const changed = await runAll(plan, { factor: 10 });
  expect(changed.report).toEqual({ total: 52 });
});

test('the generated source has the documented shape and keeps multi-line strings intact', () => {
  const plan = planExport({
    name: 'shape',
    notebook: notebook([
      ['pipeline-parameters', 'const n = 1;'],
      ['step:a', 'const text = `line 1\n  line 2\nline 3`;'],
      ['step:b', 'const upper = text.toUpperCase() + n;'],
      ['pipeline-metrics', 'upper'],
    ]),
  });
  const src = plan.files['steps/b.ts']!;
  expect(src).toContain('export async function run(ctx');
  expect(src).toContain('const { n } = ctx.params;');
  expect(src).toContain('let { text } = ctx.inputs;');
  expect(src).toContain('return { upper };');
  expect(plan.files['steps/a.ts']).toContain('const text = `line 1\n  line 2\nline 3`;');
  expect(plan.files['steps/a.js']).toContain('exports.run = run');
  expect(plan.files['steps/a.ts']).toContain('return { text };');
});

test('tslab display calls do not break outside the kernel (the import is replaced by a stub)', async () => {
  const plan = planExport({
    name: 'display',
    notebook: notebook([
      ['imports', "import * as tslab from 'tslab';\nimport { display } from 'tslab';"],
      ['step:show', 'tslab.display.html("<b>hi</b>");\ndisplay.png(new Uint8Array(1));\nconst shown = true;'],
      ['pipeline-metrics', 'shown'],
    ]),
  });
  expect(plan.files['steps/show.js']).not.toMatch(/require\("tslab"\)/);
  await expect(runAll(plan)).resolves.toEqual({ show: { shown: true } });
});

test('parameter values are data: hostile defaults are stored byte for byte, never spliced into code', async () => {
  const hostile = '$(id) `uname` "double" \'single\' \\ back\nnew line ${x} ; rm -rf /';
  const source = `const cmd = ${JSON.stringify(hostile)};\nconst tpl = \`$(id) and \\\`tick\\\`\`;`;
  const hostileNotebook = notebook([
    ['pipeline-parameters', source],
    ['step:echo', 'const got = cmd;\nconst got2 = tpl;'],
    ['pipeline-metrics', 'got; got2'],
  ]);
  const plan = planExport({ name: 'hostile', notebook: hostileNotebook });
  expect(plan.spec.parameters).toEqual([
    { name: 'cmd', type: 'string', default: hostile },
    { name: 'tpl', type: 'string', default: '$(id) and `tick`' },
  ]);
  for (const text of Object.values(plan.files)) expect(text).not.toContain('$(id)');
  const out = await runAll(plan);
  expect(out.echo).toEqual({ got: hostile, got2: '$(id) and `tick`' });
  // Stored in the version (pipeline.json and the database) exactly as written.
  const dir = makeTmp('cellar-hostile-');
  const stored = await exportNotebook({ notebook: hostileNotebook, name: 'hostile', store: dir });
  const onDisk = JSON.parse(readFileSync(join(stored.dir, 'pipeline.json'), 'utf8')) as PipelineSpec;
  expect(onDisk.parameters[0]!.default).toBe(hostile);
  expect(getPipelineVersion(dir, 'hostile', 1).spec.parameters[0]!.default).toBe(hostile);
  closeAllEmbedded();
  const other = 'other "value"\n$(whoami)';
  expect((await runAll(plan, { cmd: other })).echo!.got).toBe(other);
});

test('parameter types: number, string, boolean, json (negative numbers and nested literals)', () => {
  const plan = planExport({
    name: 'types',
    notebook: notebook([
      [
        'pipeline-parameters',
        'const a = -0.5;\nconst b = "s";\nconst c = false;\nconst d = { k: [1, "x", null], "q-k": true };\nconst e = null;',
      ],
      ['step:s', 'const all = [a, b, c, d, e];'],
    ]),
  });
  expect(plan.spec.parameters.map((p) => [p.name, p.type, p.default])).toEqual([
    ['a', 'number', -0.5],
    ['b', 'string', 's'],
    ['c', 'boolean', false],
    ['d', 'json', { k: [1, 'x', null], 'q-k': true }],
    ['e', 'json', null],
  ]);
});
