/**
 * exporter/graph — the step graph of a notebook. For each step: the names it reads that an earlier step
 * defines (data edges from the last earlier step that declares the name), the parameters it reads, and
 * its `prev:` edges; then cycle detection, a topological order (notebook order among ready steps), the
 * outputs each step must hand on (names read later, or listed in the `pipeline-metrics` cell), and the
 * export-time serializability check (a function, class or import cannot cross a step boundary).
 */
import type { ParameterSpec } from './spec.js';
import type { NotebookCell } from './notebook.js';
import type { ProblemList } from './problems.js';
import { analyzeCell, knownGlobals, type CellScope, type DeclarationKind } from './scope.js';
import type { StepBlock } from './tags.js';

/** A step with what the analysis found. */
export interface AnalyzedStep {
  block: StepBlock;
  /** Analysis of each cell, parallel to `block.cells`. */
  scopes: CellScope[];
  /** Top-level names the step declares → kind and the cell declaring it. */
  declared: Map<string, { kind: DeclarationKind; cell: number }>;
  /** Name → producing step, in first-read order. */
  inputs: Map<string, string>;
  /** Parameter names read, in parameter order. */
  parameters: string[];
  /** Names later steps or the metrics read, in declaration order. */
  outputs: string[];
  /** Upstream steps (prev: and data edges), in topological order. */
  upstream: string[];
}

/** The analyzed graph. */
export interface StepGraph {
  /** Steps in topological order. */
  steps: AnalyzedStep[];
  metrics: Array<{ name: string; step: string }>;
}

/** Names available at module level to every step: what the imports and functions cells declare. */
export interface ModuleNames {
  names: Set<string>;
}

function describeKind(kind: DeclarationKind): string {
  return kind === 'variable' ? 'a variable' : kind === 'import' ? 'an import' : `a ${kind}`;
}

/** Analyzes each step's cells and records syntax errors and module-only statements as problems. */
function analyzeStep(block: StepBlock, problems: ProblemList): AnalyzedStep {
  const scopes = block.cells.map((c) => analyzeCell(c.source, `cell-${c.index}.ts`));
  const declared = new Map<string, { kind: DeclarationKind; cell: number }>();
  block.cells.forEach((cell, i) => {
    const scope = scopes[i]!;
    for (const err of scope.syntaxErrors) problems.add(cell.index, `syntax error, ${err}`, block.name);
    for (const imp of scope.imports) {
      const line = scope.sourceFile.getLineAndCharacterOfPosition(imp.getStart(scope.sourceFile)).line + 1;
      problems.add(cell.index, `line ${line}: move this import into the cell tagged "imports".`, block.name);
    }
    for (const st of scope.moduleStatements) {
      if (st.text === 'export')
        problems.add(cell.index, `line ${st.line}: steps cannot export; remove "export".`, block.name);
    }
    for (const [name, kind] of scope.declared) {
      if (kind === 'import') continue;
      if (name === 'ctx' || name.startsWith('__cellar')) {
        problems.add(
          cell.index,
          `"${name}" is reserved in steps (the generated function uses it); rename the variable.`,
          block.name,
        );
        continue;
      }
      const before = declared.get(name);
      if (before !== undefined) {
        problems.add(
          cell.index,
          `"${name}" is declared again (first in cell ${before.cell}); a step is one function, so each name ` +
            'is declared once per step: assign to it, or use a new name.',
          block.name,
        );
        continue;
      }
      declared.set(name, { kind, cell: cell.index });
    }
  });
  return { block, scopes, declared, inputs: new Map(), parameters: [], outputs: [], upstream: [] };
}

/** Where a name read by a step (or the metrics cell) comes from. */
type Source =
  | { kind: 'step'; step: AnalyzedStep }
  | { kind: 'parameter' }
  | { kind: 'module' }
  | { kind: 'global' }
  | { kind: 'none'; hint: string };

/** For each name, the positions (ascending) of the steps that declare it. */
type DeclarationIndex = Map<string, number[]>;

function indexDeclarations(steps: AnalyzedStep[]): DeclarationIndex {
  const index: DeclarationIndex = new Map();
  steps.forEach((s, i) => {
    for (const name of s.declared.keys()) {
      const list = index.get(name);
      if (list === undefined) index.set(name, [i]);
      else list.push(i);
    }
  });
  return index;
}

/** Resolves a name read by the step at position `before` (or by a metrics cell after `before` steps). */
function resolveName(
  name: string,
  before: number,
  steps: AnalyzedStep[],
  declarations: DeclarationIndex,
  params: Set<string>,
  module: ModuleNames,
  skipped: Map<string, number>,
): Source {
  const positions = declarations.get(name) ?? [];
  let last = -1; // the last declaring step before `before`
  for (const p of positions) {
    if (p >= before) break;
    last = p;
  }
  if (last >= 0) return { kind: 'step', step: steps[last]! };
  if (params.has(name)) return { kind: 'parameter' };
  if (module.names.has(name)) return { kind: 'module' };
  if (knownGlobals().has(name)) return { kind: 'global' };
  const later = positions.find((p) => p >= before);
  if (later !== undefined) {
    return {
      kind: 'none',
      hint: ` Step "${steps[later]!.block.name}" defines it, but only below this point.`,
    };
  }
  if (skipped.has(name)) {
    return { kind: 'none', hint: ` Only cell ${skipped.get(name)}, which is skipped, declares it.` };
  }
  return { kind: 'none', hint: '' };
}

/**
 * Builds the step graph: data edges, parameter use, prev: edges, cycles, topological order, outputs and
 * metrics. Every problem is recorded (nothing is thrown).
 */
export function buildGraph(
  blocks: StepBlock[],
  parameters: ParameterSpec[],
  module: ModuleNames,
  metricsCells: NotebookCell[],
  skippedCells: NotebookCell[],
  problems: ProblemList,
): StepGraph {
  const steps = blocks.map((b) => analyzeStep(b, problems));
  const byName = new Map(steps.map((s) => [s.block.name, s]));
  const paramNames = new Set(parameters.map((p) => p.name));
  const skipped = new Map<string, number>();
  for (const cell of skippedCells) {
    for (const name of analyzeCell(cell.source).declared.keys())
      if (!skipped.has(name)) skipped.set(name, cell.index);
  }
  const edges = new Map<AnalyzedStep, Set<AnalyzedStep>>(steps.map((s) => [s, new Set()]));
  const outputs = new Map<AnalyzedStep, Set<string>>(steps.map((s) => [s, new Set()]));

  const declarations = indexDeclarations(steps);
  steps.forEach((step, position) => {
    const usedParams = new Set<string>();
    step.block.cells.forEach((cell, i) => {
      // A cell that does not parse has meaningless reads: its syntax error is the problem to report.
      if (step.scopes[i]!.syntaxErrors.length > 0) return;
      for (const [name, line] of step.scopes[i]!.reads) {
        const local = step.declared.get(name);
        if (local !== undefined) {
          if (local.cell <= cell.index || local.kind === 'function') continue;
          problems.add(
            cell.index,
            `line ${line}: reads "${name}" before cell ${local.cell} of the same step declares it.`,
            step.block.name,
          );
          continue;
        }
        const source = resolveName(name, position, steps, declarations, paramNames, module, skipped);
        if (source.kind === 'step') {
          if (!step.inputs.has(name)) step.inputs.set(name, source.step.block.name);
          edges.get(step)!.add(source.step);
          outputs.get(source.step)!.add(name);
        } else if (source.kind === 'parameter') usedParams.add(name);
        else if (source.kind === 'none') {
          problems.add(
            cell.index,
            `line ${line}: reads "${name}", which no earlier step, parameter, import or function defines.${source.hint}`,
            step.block.name,
          );
        }
      }
    });
    step.parameters = parameters.map((p) => p.name).filter((n) => usedParams.has(n));
    for (const prev of step.block.prev) {
      const target = byName.get(prev.name);
      if (target === undefined) {
        problems.add(prev.cell, `tag "prev:${prev.name}" names no step of this notebook.`, step.block.name);
      } else if (target === step) {
        problems.add(prev.cell, `tag "prev:${prev.name}" makes the step depend on itself.`, step.block.name);
      } else edges.get(step)!.add(target);
    }
  });

  const metrics: Array<{ name: string; step: string }> = [];
  for (const cell of metricsCells) {
    const scope = analyzeCell(cell.source, `cell-${cell.index}.ts`);
    for (const err of scope.syntaxErrors) problems.add(cell.index, `syntax error, ${err}`);
    if (scope.syntaxErrors.length > 0) continue;
    // Steps are in notebook order: those above the metrics cell are a prefix.
    const before = steps.filter((s) => s.block.cells[0]!.index < cell.index).length;
    for (const [name, line] of scope.reads) {
      if (metrics.some((m) => m.name === name)) continue;
      const source = resolveName(name, before, steps, declarations, paramNames, module, skipped);
      if (source.kind === 'step') {
        metrics.push({ name, step: source.step.block.name });
        outputs.get(source.step)!.add(name);
      } else if (source.kind === 'parameter') {
        problems.add(
          cell.index,
          `line ${line}: metric "${name}" is a pipeline parameter, not a value a step computes.`,
        );
      } else if (source.kind === 'none') {
        problems.add(
          cell.index,
          `line ${line}: metric "${name}" is not defined by any step above this cell.${source.hint}`,
        );
      }
    }
  }

  const ordered = topologicalOrder(steps, edges, problems);
  const position = new Map(ordered.map((s, i) => [s, i]));
  for (const step of steps) {
    step.upstream = [...edges.get(step)!]
      .sort((a, b) => (position.get(a) ?? 0) - (position.get(b) ?? 0))
      .map((s) => s.block.name);
    const out = outputs.get(step)!;
    step.outputs = [...step.declared.keys()].filter((n) => out.has(n));
    for (const name of step.outputs) {
      const decl = step.declared.get(name)!;
      if (decl.kind === 'variable') continue;
      const readers = steps
        .filter((s) => s.inputs.get(name) === step.block.name)
        .map((s) => `"${s.block.name}"`);
      problems.add(
        decl.cell,
        `"${name}" is ${describeKind(decl.kind)}, which cannot be passed to ` +
          `${readers.length > 0 ? `step ${readers.join(', ')}` : 'the pipeline metrics'}: values that cross steps ` +
          'must be data. Move it to the cell tagged "functions" (or "imports") so every step has it.',
        step.block.name,
      );
    }
  }
  return { steps: ordered, metrics };
}

/**
 * Orders steps so that every step comes after its upstream steps (Kahn's algorithm, taking ready steps in
 * notebook order), reporting each cycle found.
 */
function topologicalOrder(
  steps: AnalyzedStep[],
  edges: Map<AnalyzedStep, Set<AnalyzedStep>>,
  problems: ProblemList,
): AnalyzedStep[] {
  const remaining = new Map(steps.map((s) => [s, new Set(edges.get(s)!)]));
  const order: AnalyzedStep[] = [];
  while (remaining.size > 0) {
    const ready = steps.find((s) => remaining.has(s) && remaining.get(s)!.size === 0);
    if (ready === undefined) break;
    order.push(ready);
    remaining.delete(ready);
    for (const deps of remaining.values()) deps.delete(ready);
  }
  if (remaining.size > 0) {
    // Walk upstream edges among the remaining steps until a step repeats: that loop is a cycle.
    const start = steps.find((s) => remaining.has(s))!;
    const path: AnalyzedStep[] = [];
    let cur: AnalyzedStep = start;
    while (!path.includes(cur)) {
      path.push(cur);
      cur = [...remaining.get(cur)!][0]!;
    }
    const cycle = path.slice(path.indexOf(cur)).reverse();
    const names = [...cycle, cycle[0]!].map((s) => s.block.name).join(' → ');
    for (const s of cycle) {
      const prevCell = s.block.prev.find((p) => cycle.some((c) => c.block.name === p.name))?.cell;
      problems.add(prevCell ?? s.block.cells[0]!.index, `the steps form a cycle: ${names}.`, s.block.name);
    }
    for (const s of steps) if (remaining.has(s)) order.push(s);
  }
  return order;
}
