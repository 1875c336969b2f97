/**
 * exporter/codegen — turns a step into a module: the imports and functions cells at module top, then
 * `export async function run(ctx)` whose body destructures the parameters (`ctx.params`) and inputs
 * (`ctx.inputs`) it reads, runs the step's cells in order (top-level `await` works: the body is async),
 * and returns the step's outputs. Cells are copied verbatim (never re-indented: that would change
 * multi-line strings); values are never spliced into code. The TypeScript sources of all steps are compiled
 * to CommonJS (ES2022) modules by one TypeScript program, each exactly as `ts.transpileModule` would.
 *
 * tslab-only APIs: `import … from 'tslab'` in the imports cell is replaced by a stub whose
 * `display.text(x)` prints to stdout and whose other display calls do nothing, so a step that displays
 * plots still runs outside the kernel. (cellar's own `display` helpers are already no-ops outside tslab.)
 */
import vm from 'node:vm';
import ts from 'typescript';
import type { NotebookCell } from './notebook.js';
import type { ProblemList } from './problems.js';
import { analyzeCell, knownGlobals } from './scope.js';

/** Version of the generated code's shape; part of every pipeline hash, so a change makes new versions. */
export const CODEGEN_VERSION = 1;

/** Identifier of the tslab stub inside generated modules. */
const TSLAB_STUB = '__cellarTslab';

const TSLAB_STUB_SOURCE = `// tslab is not available outside the notebook kernel: display.text prints, other displays are skipped.
const ${TSLAB_STUB}: any = (() => {
  const display: any = new Proxy(
    {},
    { get: (_t, kind) => (kind === 'text' ? (s: unknown) => console.log(String(s)) : () => undefined) },
  );
  return { display, newDisplay: () => display, versions: {} };
})();
`;

/** The module-level code shared by all steps (imports and functions cells), ready to prepend. */
export interface ModulePrelude {
  /** TypeScript source of the imports and functions cells (tslab imports replaced by the stub). */
  source: string;
  /** Names the imports and functions cells declare. */
  names: Set<string>;
}

function isRelativeSpecifier(spec: string): boolean {
  return (
    spec.startsWith('.') || spec.startsWith('/') || /^[a-zA-Z]:[\\/]/.test(spec) || spec.startsWith('file:')
  );
}

function hasTopLevelAwait(sf: ts.SourceFile): boolean {
  let found = false;
  const visit = (node: ts.Node): void => {
    if (found) return;
    if (
      ts.isFunctionLike(node) ||
      ts.isClassDeclaration(node) ||
      ts.isClassExpression(node) ||
      ts.isClassStaticBlockDeclaration(node)
    )
      return;
    if (ts.isAwaitExpression(node) || (ts.isForOfStatement(node) && node.awaitModifier !== undefined)) {
      found = true;
      return;
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

/** Rewrites one `import … from 'tslab'` declaration into bindings of the stub (type-only imports vanish). */
function tslabBindings(imp: ts.ImportDeclaration): string {
  const clause = imp.importClause;
  if (clause === undefined || clause.isTypeOnly) return '';
  const lines: string[] = [];
  if (clause.name) lines.push(`const ${clause.name.text} = ${TSLAB_STUB};`);
  const nb = clause.namedBindings;
  if (nb && ts.isNamespaceImport(nb)) lines.push(`const ${nb.name.text} = ${TSLAB_STUB};`);
  else if (nb) {
    const parts = nb.elements
      .filter((s) => !s.isTypeOnly)
      .map((s) => (s.propertyName ? `${s.propertyName.text}: ${s.name.text}` : s.name.text));
    if (parts.length > 0) lines.push(`const { ${parts.join(', ')} } = ${TSLAB_STUB};`);
  }
  return lines.join(' ');
}

/**
 * Checks the imports and functions cells and builds the module prelude. Problems: syntax errors,
 * relative imports (the stored pipeline cannot see files next to the notebook), top-level `await`, and
 * names they read that only steps or parameters define.
 */
export function buildPrelude(
  imports: NotebookCell[],
  functions: NotebookCell[],
  params: Set<string>,
  problems: ProblemList,
): ModulePrelude {
  const names = new Set<string>();
  const parts: string[] = [];
  let usesTslab = false;
  const cells = [
    ...imports.map((c) => ({ c, tag: 'imports' })),
    ...functions.map((c) => ({ c, tag: 'functions' })),
  ];
  const scopes = cells.map(({ c }) => analyzeCell(c.source, `cell-${c.index}.ts`));
  scopes.forEach((s) => s.declared.forEach((_k, n) => names.add(n)));
  cells.forEach(({ c, tag }, i) => {
    const scope = scopes[i]!;
    const sf = scope.sourceFile;
    for (const err of scope.syntaxErrors) problems.add(c.index, `syntax error, ${err}`);
    if (hasTopLevelAwait(sf)) {
      problems.add(
        c.index,
        `top-level await is not supported in the ${tag} cell; move that code into a step.`,
      );
    }
    for (const [name, line] of scope.syntaxErrors.length > 0 ? [] : scope.reads) {
      if (names.has(name) || knownGlobals().has(name)) continue;
      const what = params.has(name)
        ? 'a pipeline parameter'
        : 'not defined by the imports or functions cells';
      problems.add(
        c.index,
        `line ${line}: the ${tag} cell reads "${name}", which is ${what}; code at module level runs before any ` +
          'step, so pass it in as a function argument instead.',
      );
    }
    let text = c.source;
    const edits: Array<{ start: number; end: number; text: string }> = [];
    for (const imp of scope.imports) {
      const spec = ts.isStringLiteral(imp.moduleSpecifier) ? imp.moduleSpecifier.text : '';
      const line = sf.getLineAndCharacterOfPosition(imp.getStart(sf)).line + 1;
      if (isRelativeSpecifier(spec)) {
        problems.add(
          c.index,
          `line ${line}: the relative import "${spec}" cannot be resolved from the stored pipeline; ` +
            'publish it as a package, or copy the code into the cell tagged "functions".',
        );
      } else if (spec === 'tslab') {
        usesTslab = true;
        edits.push({ start: imp.getStart(sf), end: imp.getEnd(), text: tslabBindings(imp) });
      }
    }
    for (const e of edits.sort((a, b) => b.start - a.start))
      text = text.slice(0, e.start) + e.text + text.slice(e.end);
    parts.push(`// --- cell ${c.index} (${tag})\n${text}${text.endsWith('\n') ? '' : '\n'}`);
  });
  return { source: (usesTslab ? TSLAB_STUB_SOURCE : '') + parts.join(''), names };
}

/** What {@link generateStep} needs to know about a step. */
export interface StepCode {
  pipeline: string;
  name: string;
  cells: NotebookCell[];
  parameters: string[];
  inputs: string[];
  outputs: string[];
}

/**
 * Generates a step's TypeScript module source.
 *
 * @example
 * generateStep(prelude, { pipeline: 'p', name: 'train', cells, parameters: ['alpha'], inputs: ['rows'], outputs: ['model'] })
 */
export function generateStep(prelude: ModulePrelude, step: StepCode): string {
  const lines: string[] = [
    `// Step "${step.name}" of pipeline "${step.pipeline}", generated by cellar from notebook cells ` +
      `${step.cells.map((c) => c.index).join(', ')}. Do not edit: re-export the notebook instead.`,
    '/* eslint-disable */',
    prelude.source,
    'export async function run(ctx: { params: Record<string, any>; inputs: Record<string, any> }): Promise<Record<string, unknown>> {',
  ];
  if (step.parameters.length > 0) lines.push(`const { ${step.parameters.join(', ')} } = ctx.params;`);
  if (step.inputs.length > 0) lines.push(`let { ${step.inputs.join(', ')} } = ctx.inputs;`);
  for (const cell of step.cells) {
    lines.push(`// --- cell ${cell.index}`);
    lines.push(cell.source.endsWith('\n') ? cell.source.slice(0, -1) : cell.source);
    // A cell may end inside a line comment or without a semicolon: the newline and `;` keep cells apart.
    lines.push(';');
  }
  lines.push(step.outputs.length > 0 ? `return { ${step.outputs.join(', ')} };` : 'return {};', '}', '');
  return lines.join('\n');
}

/** Compiler options of the generated step modules (CommonJS, ES2022; what `ts.transpileModule` is given). */
const STEP_COMPILER_OPTIONS: ts.CompilerOptions = {
  module: ts.ModuleKind.CommonJS,
  target: ts.ScriptTarget.ES2022,
  esModuleInterop: true,
  removeComments: false,
  newLine: ts.NewLineKind.LineFeed,
};

/** One module to compile: its TypeScript source and its file name relative to the version folder. */
export interface CompileUnit {
  source: string;
  fileName: string;
}

/**
 * The options `ts.transpileModule` really compiles with: the given ones, the defaults, and the values every
 * isolated transpile forces (isolatedModules, noResolve, noLib, noCheck, …).
 */
function transpileOptions(): ts.CompilerOptions {
  return {
    ...ts.getDefaultCompilerOptions(),
    ...STEP_COMPILER_OPTIONS,
    // What every isolated transpile forces (TypeScript's `transpileOptionValue`s; a test compares the output
    // with `ts.transpileModule`'s byte for byte).
    isolatedModules: true,
    noLib: true,
    noResolve: true,
    noCheck: true,
    suppressOutputPathCheck: true,
    allowNonTsExtensions: true,
    declaration: false,
    declarationMap: false,
  };
}

/**
 * Compiles generated step modules to CommonJS (ES2022) JavaScript with ONE TypeScript program for all of
 * them (a program per module, as `ts.transpileModule` makes, costs a type checker each), then checks that
 * each result parses (e.g. no name declared twice in the step's function). Each module is compiled in
 * isolation exactly as `ts.transpileModule` would: the same options (isolatedModules, noResolve, noLib),
 * so the output is byte for byte the same.
 *
 * @returns per unit, in order: the JavaScript, or an error message.
 */
export function compileSteps(units: CompileUnit[]): Array<{ js: string } | { error: string }> {
  const options = transpileOptions();
  const byName = new Map<string, ts.SourceFile>();
  const host: ts.CompilerHost = {
    getSourceFile: (fileName) => byName.get(fileName),
    writeFile: (name, text) => outputs.set(name, text),
    getDefaultLibFileName: () => 'lib.d.ts',
    useCaseSensitiveFileNames: () => false,
    getCanonicalFileName: (fileName) => fileName,
    getCurrentDirectory: () => '',
    getNewLine: () => '\n',
    fileExists: (fileName) => byName.has(fileName),
    readFile: () => '',
    directoryExists: () => true,
    getDirectories: () => [],
  };
  const outputs = new Map<string, string>();
  const files = units.map((u) => {
    // CommonJS output of a .ts file: no implied module format; module detection by import/export.
    const sf = ts.createSourceFile(u.fileName, u.source, options.target!);
    byName.set(u.fileName, sf);
    return sf;
  });
  const program = ts.createProgram(
    units.map((u) => u.fileName),
    options,
    host,
  );
  const errorOf = (diags: readonly ts.Diagnostic[]): string | null => {
    const d = diags.find((x) => x.category === ts.DiagnosticCategory.Error);
    return d === undefined ? null : ts.flattenDiagnosticMessageText(d.messageText, '\n');
  };
  const optionsError = errorOf(program.getOptionsDiagnostics());
  const syntaxErrors = files.map((sf) => optionsError ?? errorOf(program.getSyntacticDiagnostics(sf)));
  // One emit for every file that parsed (a file with syntax errors is left out, as transpileModule would
  // report it and its output would not be used).
  const emitError = syntaxErrors.every((e) => e === null) ? errorOf(program.emit().diagnostics) : null;
  if (!syntaxErrors.every((e) => e === null)) {
    files.forEach((sf, i) => {
      if (syntaxErrors[i] === null) program.emit(sf);
    });
  }
  return units.map((u, i) => {
    const error = syntaxErrors[i] ?? emitError;
    if (error !== null) return { error };
    const jsName = u.fileName.replace(/\.ts$/, '.js');
    const js = outputs.get(jsName);
    if (js === undefined) return { error: `TypeScript produced no output for ${u.fileName}` };
    try {
      vm.compileFunction(js, ['exports', 'require', 'module', '__filename', '__dirname'], {
        filename: jsName,
      });
    } catch (e) {
      return { error: (e as Error).message };
    }
    return { js };
  });
}

/**
 * Compiles one generated step module (see {@link compileSteps}, which compiles many with one program).
 *
 * @returns the JavaScript, or an error message.
 */
export function compileStep(source: string, fileName: string): { js: string } | { error: string } {
  return compileSteps([{ source, fileName }])[0]!;
}
