/** Dependency inference: what a cell declares and reads, and the step graph planExport builds from it. */
import { analyzeCell, planExport } from '../../../kernel-lib/exporter/index.js';
import { notebook } from './nb.js';

const reads = (src: string): string[] => [...analyzeCell(src).reads.keys()].sort();
const declared = (src: string): Record<string, string> => Object.fromEntries(analyzeCell(src).declared);

describe('analyzeCell', () => {
  test('declarations: const/let/var with destructuring, functions, classes, imports', () => {
    expect(
      declared(`
        import def, { a as b, type T } from 'm';
        import * as ns from 'n';
        const { x, y: [z, ...rest], w = 1, ...others } = obj;
        let p = 1, q;
        var r;
        function f() {}
        class C {}
        const g = () => 1;
        if (p) { var hoisted = 1; let inner = 2; }
        for (const loopVar of []) {}
        interface I { a: number }
        type U = string;
      `),
    ).toEqual({
      def: 'import',
      b: 'import',
      ns: 'import',
      x: 'variable',
      z: 'variable',
      rest: 'variable',
      w: 'variable',
      others: 'variable',
      p: 'variable',
      q: 'variable',
      r: 'variable',
      f: 'function',
      C: 'class',
      g: 'function',
      hoisted: 'variable',
    });
  });

  test('reads: free identifiers only; destructuring defaults and computed keys count', () => {
    expect(reads('const { a: b = dflt, [key]: c } = source; const d = b + c;')).toEqual([
      'dflt',
      'key',
      'source',
    ]);
  });

  test('property names, object keys, method names and labels are not reads', () => {
    expect(
      reads(`
        const o = { alpha: 1, beta() { return 2 }, get gamma() { return 3 } };
        const v = data.alpha.beta?.gamma;
        outer: for (const i of list) { continue outer; }
        class K { field = 1; method() { return this.field } }
      `),
    ).toEqual(['data', 'list']);
  });

  test('shorthand properties read the variable', () => {
    expect(reads('const o = { rows, cols: 2 };')).toEqual(['rows']);
  });

  test('shadowing: parameters, block scopes, catch variables and inner functions hide outer names', () => {
    expect(
      reads(`
        function f(model) { return model.predict(x) }
        const g = (rows) => rows.length;
        { const data = 1; use(data) }
        try { risky() } catch (err) { report(err) }
        for (let i = 0; i < n; i++) total(i);
        const h = function self() { return self };
        const K = class Named { m() { return Named } };
      `),
    ).toEqual(['n', 'report', 'risky', 'total', 'use', 'x']);
  });

  test('a name declared anywhere at top level of the cell is local, also when used before (hoisting)', () => {
    expect(reads('const a = helper(1); function helper(x: number) { return x * k }')).toEqual(['k']);
  });

  test('functions reading outer names: free names inside nested functions are reads of the cell', () => {
    expect(
      reads('function score(r) { return model.predict([r]) + bias }\nconst s = rows.map(score);'),
    ).toEqual(['bias', 'model', 'rows']);
  });

  test('type-only uses are not reads', () => {
    expect(
      reads(`
        const a: Model = x as unknown as Frame;
        let b: typeof template;
        function f<T extends Base>(p: Options): Result { return p as any }
        class C implements Iface { m(): Other { return null as any } }
        const d = fn<Generic>(arg) satisfies Shape;
      `),
    ).toEqual(['arg', 'fn', 'x']);
  });

  test('class extends reads its base; typeof in an expression is a read', () => {
    expect(reads('class A extends Base {}\nconst t = typeof maybe;')).toEqual(['Base', 'maybe']);
  });

  test('assignment to an outer name counts (the step needs it)', () => {
    expect(reads('counter = counter + 1; ({ a } = obj);')).toEqual(['a', 'counter', 'obj']);
  });

  test('syntax errors are reported with their line', () => {
    expect(analyzeCell('const a = 1;\nconst = ;').syntaxErrors[0]).toMatch(/^line 2: /);
  });
});

describe('the step graph', () => {
  test('data edges come from the last earlier step that defines a name; prev: adds edges; outputs are what later steps read', () => {
    const plan = planExport({
      name: 'g',
      notebook: notebook([
        ['imports', "import { join } from 'node:path';"],
        ['pipeline-parameters', 'const scale = 2;\nconst label = "x";'],
        ['step:a', 'const rows = [1, 2, 3];\nconst unused = 1;'],
        ['', 'const total = rows.length;'],
        ['step:b', 'const rows = [10, 20];\nconst doubled = rows.map((r) => r * scale);'],
        ['step:c', 'const out = join(label, String(rows.length + total));'],
        ['step:d prev:a', 'const done = true;'],
        ['pipeline-metrics', 'console.log(total, done)'],
      ]),
    });
    const byName = Object.fromEntries(plan.spec.steps.map((s) => [s.name, s]));
    expect(byName.a).toMatchObject({
      upstream: [],
      outputs: ['total'],
      inputs: {},
      parameters: [],
      cells: [2, 3],
    });
    expect(byName.b).toMatchObject({ upstream: [], outputs: ['rows'], parameters: ['scale'] });
    expect(byName.c).toMatchObject({
      upstream: ['a', 'b'],
      inputs: { rows: 'b', total: 'a' },
      parameters: ['label'],
      outputs: [],
    });
    expect(byName.d).toMatchObject({ upstream: ['a'], inputs: {}, outputs: ['done'] });
    expect(plan.spec.metrics).toEqual([
      { name: 'total', step: 'a' },
      { name: 'done', step: 'd' },
    ]);
    expect(plan.spec.parameters).toEqual([
      { name: 'scale', type: 'number', default: 2 },
      { name: 'label', type: 'string', default: 'x' },
    ]);
  });

  test('steps come in a topological order even when prev: points to a step further down', () => {
    const plan = planExport({
      name: 'order',
      notebook: notebook([
        ['step:first prev:last', 'const a = 1;'],
        ['step:middle', 'const b = 2;'],
        ['step:last', 'const c = 3;'],
      ]),
    });
    expect(plan.spec.steps.map((s) => s.name)).toEqual(['middle', 'last', 'first']);
    expect(plan.spec.steps.find((s) => s.name === 'first')!.upstream).toEqual(['last']);
  });

  test('names from imports, functions and globals create no edges', () => {
    const plan = planExport({
      name: 'mods',
      notebook: notebook([
        ['imports', "import * as path from 'node:path';"],
        ['functions', 'function twice(x: number) { return 2 * x }\nconst K = 3;'],
        ['step:a', 'const v = twice(K) + Math.max(1, 2);\nconsole.log(path.sep, JSON.stringify(v));'],
        ['step:b', 'const w = twice(v);'],
      ]),
    });
    expect(plan.spec.steps.map((s) => [s.name, s.upstream, s.inputs])).toEqual([
      ['a', [], {}],
      ['b', ['a'], { v: 'a' }],
    ]);
  });

  test('options and step tags set the run settings', () => {
    const plan = planExport({
      name: 'settings',
      schedule: '@hourly',
      catchup: true,
      maxActiveRuns: 3,
      retries: 2,
      timeoutMs: 60_000,
      notebook: notebook([
        ['step:a', 'const a = 1;'],
        ['step:b retries:5 timeout:90s trigger:all_done', 'const b = a;'],
      ]),
    });
    expect(plan.spec).toMatchObject({ schedule: '0 * * * *', catchup: true, maxActiveRuns: 3 });
    expect(plan.spec.steps.map((s) => [s.name, s.retries, s.timeoutMs, s.triggerRule])).toEqual([
      ['a', 2, 60_000, 'all_success'],
      ['b', 5, 90_000, 'all_done'],
    ]);
  });
});
