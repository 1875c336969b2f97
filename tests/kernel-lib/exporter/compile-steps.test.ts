/**
 * One TypeScript program compiles every step of a notebook: its output is byte for byte what
 * `ts.transpileModule` gives each step alone (so version folders do not change), and a step that does not
 * compile is reported on its own.
 */
import { join } from 'node:path';
import ts from 'typescript';
import { compileSteps } from '../../../kernel-lib/exporter/codegen.js';
import { planExport } from '../../../kernel-lib/exporter/index.js';
import { REPO_ROOT } from '../../helpers/tmp.js';

const OPTIONS: ts.CompilerOptions = {
  module: ts.ModuleKind.CommonJS,
  target: ts.ScriptTarget.ES2022,
  esModuleInterop: true,
  removeComments: false,
  newLine: ts.NewLineKind.LineFeed,
};

test('every generated step compiles exactly as transpileModule compiles it alone', () => {
  const plan = planExport({
    notebook: join(REPO_ROOT, 'notebooks', 'driver-training.ipynb'),
    name: 'driver-training',
  });
  const sources = Object.entries(plan.files).filter(([f]) => f.endsWith('.ts'));
  expect(sources.length).toBeGreaterThan(1);
  for (const [file, source] of sources) {
    const alone = ts.transpileModule(source, { fileName: file, compilerOptions: OPTIONS }).outputText;
    expect(plan.files[file.replace(/\.ts$/, '.js')]).toBe(alone);
  }
});

test('many modules in one program: each output is its own; a broken one is reported alone', () => {
  const units = [
    {
      fileName: 'steps/a.ts',
      source: "import { x } from 'lib';\nexport async function run() { return { y: x as number }; }\n",
    },
    { fileName: 'steps/b.ts', source: 'export async function run() { let v = 1; let v = 2; return {}; }\n' },
    {
      fileName: 'steps/c.ts',
      source: 'enum E { A = 1 }\nexport async function run() { return { e: E.A }; }\n',
    },
  ];
  const out = compileSteps(units);
  expect(out[0]).toEqual({
    js: ts.transpileModule(units[0]!.source, { fileName: 'steps/a.ts', compilerOptions: OPTIONS }).outputText,
  });
  expect(out[1]).toMatchObject({ error: expect.stringMatching(/already been declared/) });
  expect(out[2]).toEqual({
    js: ts.transpileModule(units[2]!.source, { fileName: 'steps/c.ts', compilerOptions: OPTIONS }).outputText,
  });
});
