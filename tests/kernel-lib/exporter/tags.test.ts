/** Tag validation: every problem names its cell (and step), and all problems are reported together. */
import { CellarError } from '../../../kernel-lib/errors.js';
import { planExport, type ExportProblem } from '../../../kernel-lib/exporter/index.js';
import { notebook, type CellDef } from './nb.js';

function problems(cells: CellDef[]): ExportProblem[] {
  try {
    planExport({ name: 'p', notebook: notebook(cells) });
  } catch (e) {
    expect(e).toBeInstanceOf(CellarError);
    expect((e as CellarError).code).toBe('INVALID_INPUT');
    const errors = (e as CellarError).details!.errors as ExportProblem[];
    // the message lists every problem too
    for (const p of errors) expect((e as CellarError).message).toContain(p.message);
    return errors;
  }
  throw new Error('expected the export to fail');
}

test('prev: naming an unknown step', () => {
  expect(
    problems([
      ['step:a', 'const a = 1;'],
      ['step:b prev:nope', 'const b = 2;'],
    ]),
  ).toEqual([{ cell: 1, step: 'b', message: expect.stringContaining('"prev:nope" names no step') }]);
});

test('a cycle through prev: tags names the steps and the cells', () => {
  const errors = problems([
    ['step:a prev:b', 'const a = 1;'],
    ['step:b', 'const b = a;'],
  ]);
  expect(errors).toEqual([
    { cell: 0, step: 'a', message: expect.stringMatching(/cycle: (a → b → a|b → a → b)/) },
    { cell: 1, step: 'b', message: expect.stringContaining('cycle') },
  ]);
});

test('a step that depends on itself', () => {
  expect(problems([['step:a prev:a', 'const a = 1;']])).toEqual([
    { cell: 0, step: 'a', message: expect.stringContaining('depend on itself') },
  ]);
});

test('a duplicate step name on cells that are not adjacent (adjacent step:x cells continue the step)', () => {
  expect(
    problems([
      ['step:a', 'const a = 1;'],
      ['step:a', 'const a2 = 2;'],
      ['step:b', 'const b = 1;'],
      ['step:a', 'const a3 = 1;'],
    ]),
  ).toEqual([{ cell: 3, step: 'a', message: expect.stringContaining('already defined by cell 0') }]);
});

test.each(['Train', 'load data', '../x', '-lead', 'a'.repeat(65), ''])('an invalid step name %p', (name) => {
  expect(problems([[[`step:${name}`], 'const a = 1;']])).toEqual([
    { cell: 0, message: expect.stringContaining('invalid step name') },
  ]);
});

test('conflicting block tags on one cell', () => {
  expect(problems([[['imports', 'step:a'], 'const a = 1;']])).toEqual([
    { cell: 0, message: expect.stringContaining('conflicting tags "imports", "step:a"') },
  ]);
});

test('an untagged code cell with nothing tagged above it', () => {
  expect(
    problems([
      ['', 'const x = 1;'],
      ['step:a', 'const a = 1;'],
    ]),
  ).toEqual([{ cell: 0, message: expect.stringContaining('no tag and no tagged cell above it') }]);
});

test('a notebook without steps', () => {
  expect(problems([{ md: '# hi' }, ['imports', "import 'node:fs';"]])).toEqual([
    { cell: null, message: expect.stringContaining('no step') },
  ]);
});

test('a step reading a name no earlier step defines, with a hint when a later or skipped cell defines it', () => {
  expect(
    problems([
      ['skip', 'const scratch = 1;'],
      ['step:a', 'const a = missing + later + scratch;'],
      ['step:b', 'const later = 2;'],
    ]),
  ).toEqual([
    {
      cell: 1,
      step: 'a',
      message: expect.stringMatching(/reads "missing", which no earlier step.*defines\.$/),
    },
    { cell: 1, step: 'a', message: expect.stringContaining('Step "b" defines it, but only below') },
    { cell: 1, step: 'a', message: expect.stringContaining('Only cell 0, which is skipped') },
  ]);
});

test('reading a name before a later cell of the same step declares it', () => {
  expect(
    problems([
      ['step:a', 'const first = 1;'],
      ['step:b', 'const y = x;'],
      ['', 'const x = first;'],
    ]),
  ).toEqual([
    {
      cell: 1,
      step: 'b',
      message: expect.stringContaining('reads "x" before cell 2 of the same step declares it'),
    },
  ]);
});

test('a name declared twice in one step', () => {
  expect(
    problems([
      ['step:a', 'const v = 1;'],
      ['', 'const v = 2;'],
    ]),
  ).toEqual([
    { cell: 1, step: 'a', message: expect.stringContaining('"v" is declared again (first in cell 0)') },
  ]);
});

test('names the generated step function uses are reserved', () => {
  expect(problems([['step:a', 'const ctx = 1;\nconst __cellarTslab = 2;']])).toEqual([
    { cell: 0, step: 'a', message: expect.stringContaining('"ctx" is reserved') },
    { cell: 0, step: 'a', message: expect.stringContaining('"__cellarTslab" is reserved') },
  ]);
});

test('imports and exports inside steps', () => {
  expect(problems([['step:a', "import { join } from 'node:path';\nexport const a = join('x');"]])).toEqual([
    {
      cell: 0,
      step: 'a',
      message: expect.stringContaining('move this import into the cell tagged "imports"'),
    },
    { cell: 0, step: 'a', message: expect.stringContaining('steps cannot export') },
  ]);
});

test('functions and classes cannot cross step boundaries: the error names the variable and the step', () => {
  expect(
    problems([
      ['step:a', 'function helper() { return 1 }\nconst arrow = () => 2;\nclass Thing {}'],
      ['step:b', 'const v = helper() + arrow() + String(new Thing());'],
    ]),
  ).toEqual([
    {
      cell: 0,
      step: 'a',
      message: expect.stringMatching(/^"helper" is a function, which cannot be passed to step "b"/),
    },
    { cell: 0, step: 'a', message: expect.stringMatching(/^"arrow" is a function/) },
    { cell: 0, step: 'a', message: expect.stringMatching(/^"Thing" is a class/) },
  ]);
});

test('the functions cell may not read parameters or step values; relative imports are refused', () => {
  expect(
    problems([
      ['imports', "import { helper } from './local-file';"],
      ['pipeline-parameters', 'const alpha = 1;'],
      ['functions', 'function scaled(x: number) { return x * alpha }'],
      ['step:a', 'const a = scaled(helper());'],
    ]),
  ).toEqual([
    { cell: 0, message: expect.stringContaining('relative import "./local-file"') },
    { cell: 2, message: expect.stringContaining('reads "alpha", which is a pipeline parameter') },
  ]);
});

test('the parameters cell accepts only named literal declarations', () => {
  expect(
    problems([
      [
        'pipeline-parameters',
        'const ok = 1;\nconst computed = Math.random();\nconst { d } = { d: 1 };\nconsole.log(ok);\nlet noValue;\nconst ok = 2;',
      ],
      ['step:a', 'const a = ok;'],
    ]),
  ).toEqual([
    { cell: 0, message: expect.stringContaining('"computed" must have a literal default') },
    { cell: 0, message: expect.stringContaining('not by destructuring') },
    { cell: 0, message: expect.stringContaining('may only declare parameters') },
    { cell: 0, message: expect.stringContaining('"noValue" needs a default') },
    { cell: 0, message: expect.stringContaining('"ok" is declared twice') },
  ]);
});

test('metrics must be values computed by steps', () => {
  expect(
    problems([
      ['pipeline-parameters', 'const alpha = 1;'],
      ['step:a', 'const rmse = 0.5;'],
      ['pipeline-metrics', 'console.log(rmse, alpha, nowhere)'],
    ]),
  ).toEqual([
    { cell: 2, message: expect.stringContaining('metric "alpha" is a pipeline parameter') },
    { cell: 2, message: expect.stringContaining('metric "nowhere" is not defined') },
  ]);
});

test('syntax errors name the cell and line', () => {
  expect(problems([['step:a', 'const a = 1;\nconst b = (;']])).toEqual([
    { cell: 0, step: 'a', message: expect.stringMatching(/^syntax error, line 2: /) },
  ]);
});

test('bad step settings and step-only tags on other cells', () => {
  expect(
    problems([
      ['imports prev:a', "import 'node:fs';"],
      ['step:a retries:x timeout:soon trigger:sometimes', 'const a = 1;'],
    ]),
  ).toEqual([
    { cell: 0, message: expect.stringContaining('belong on step cells') },
    { cell: 1, step: 'a', message: expect.stringContaining('"retries:x"') },
    { cell: 1, step: 'a', message: expect.stringContaining('"timeout:soon"') },
    { cell: 1, step: 'a', message: expect.stringContaining('"trigger:sometimes"') },
  ]);
});

test('all problems of a notebook are reported at once', () => {
  const errors = problems([
    ['step:a prev:zzz', 'const a = b;'],
    ['step:Bad', 'const c = 1;'],
    ['step:c', 'const d = (;'],
  ]);
  expect(errors.map((e) => e.cell)).toEqual([0, 0, 1, 2]);
});

test('markdown and skipped cells are ignored; untagged cells join the block above', () => {
  const plan = planExport({
    name: 'p',
    notebook: notebook([
      { md: 'intro' },
      ['imports', "import { join } from 'node:path';"],
      ['', "import { sep } from 'node:path';"],
      ['step:a', 'const a = join("x", sep);'],
      { md: 'between' },
      ['', 'const a2 = a + "!";'],
      ['skip', 'const junk = notDefinedAnywhere;'],
      ['', 'const moreJunk = alsoUndefined;'],
      ['step:b', 'const b = a2;'],
      ['some-other-tool-tag', 'const b2 = b;'],
    ]),
  });
  expect(plan.spec.steps.map((s) => [s.name, s.cells])).toEqual([
    ['a', [3, 5]],
    ['b', [8, 9]],
  ]);
  expect(plan.files['steps/b.ts']).not.toContain('junk');
});
