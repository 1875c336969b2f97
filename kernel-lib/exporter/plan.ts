/**
 * exporter/plan — the pure half of an export: notebook → validated tags → parameters → dependency graph →
 * generated and compiled step modules → content hash. Nothing is written; the result is what a version
 * would contain (the JupyterLab extension shows it as the step graph before exporting).
 */
import { dirname } from 'node:path';
import { CellarError } from '../errors.js';
import { buildPrelude, CODEGEN_VERSION, compileSteps, generateStep } from './codegen.js';
import { buildGraph } from './graph.js';
import { contentHash, lockfileDigest } from './hash.js';
import { readNotebook, type NotebookCell, type ParsedNotebook } from './notebook.js';
import { validatePipelineName, validateRunSettings } from './options.js';
import { readParameters } from './parameters.js';
import { ProblemList } from './problems.js';
import type { PipelineSpec, StepSpec } from './spec.js';
import { classifyCells } from './tags.js';

/** What to export. */
export interface PlanOptions {
  /** Path of an .ipynb file, or the notebook object (nbformat 4). */
  notebook: string | object;
  /** Pipeline name: 1-64 lower-case letters, digits, `_` or `-`. */
  name: string;
  /** Cron expression (5 fields, UTC), or null/omitted for manual runs only. */
  schedule?: string | null;
  /** Run missed intervals when the scheduler starts late (default false). */
  catchup?: boolean;
  /** Runs of this pipeline allowed at once (default 1). */
  maxActiveRuns?: number;
  /** Retries of each step (default 0; a `retries:<n>` tag on a step wins). */
  retries?: number;
  /** Timeout of each step attempt in ms (default 0 = none; a `timeout:<duration>` tag wins). */
  timeoutMs?: number;
  /**
   * Where the notebook lives when `notebook` is an object (recorded as provenance, and where the lockfile
   * search starts; default: the working directory).
   */
  notebookPath?: string;
}

/** A pipeline version before it is numbered and stored. */
export type PlannedSpec = Omit<PipelineSpec, 'version' | 'createdAt'>;

/** The result of {@link planExport}. */
export interface ExportPlan {
  name: string;
  /** The content hash the version would have. */
  hash: string;
  spec: PlannedSpec;
  /** Generated files (path relative to the version folder → text): `steps/<step>.ts` and `steps/<step>.js`. */
  files: Record<string, string>;
}

/** Internal form: the plan plus the parsed notebook (its bytes are stored with the version). */
export interface PlanWithNotebook {
  plan: ExportPlan;
  notebook: ParsedNotebook;
}

/**
 * Plans an export and keeps the parsed notebook (used by `exportNotebook`).
 *
 * @throws CellarError INVALID_PARAMETER for bad options, INVALID_INPUT with `details.errors` for notebook
 * problems.
 */
export function planWithNotebook(opts: PlanOptions): PlanWithNotebook {
  if (opts === null || typeof opts !== 'object') {
    throw new CellarError(
      'INVALID_PARAMETER',
      'Pass { notebook, name } (and optionally schedule, catchup, …).',
    );
  }
  const name = validatePipelineName(opts.name);
  const settings = validateRunSettings(opts);
  const notebook = readNotebook(opts.notebook, opts.notebookPath);
  const problems = new ProblemList();
  const tagged = classifyCells(notebook.cells, problems);
  const parameters = readParameters(tagged.parameters, problems);
  const prelude = buildPrelude(
    tagged.imports,
    tagged.functions,
    new Set(parameters.map((p) => p.name)),
    problems,
  );
  const graph = buildGraph(tagged.steps, parameters, prelude, tagged.metrics, tagged.skipped, problems);
  problems.throwIfAny();

  const files: Record<string, string> = {};
  const steps: StepSpec[] = [];
  const sources = graph.steps.map((step) =>
    generateStep(prelude, {
      pipeline: name,
      name: step.block.name,
      cells: step.block.cells,
      parameters: step.parameters,
      inputs: [...step.inputs.keys()],
      outputs: step.outputs,
    }),
  );
  // One TypeScript program for the whole notebook: a program per step costs a type checker each.
  const compiled = compileSteps(
    graph.steps.map((step, i) => ({ source: sources[i]!, fileName: `steps/${step.block.name}.ts` })),
  );
  graph.steps.forEach((step, i) => {
    const s = step.block;
    const out = compiled[i]!;
    if ('error' in out) {
      problems.add(s.cells[0]!.index, `the generated step does not compile: ${out.error}`, s.name);
      return;
    }
    files[`steps/${s.name}.ts`] = sources[i]!;
    files[`steps/${s.name}.js`] = out.js;
    steps.push({
      name: s.name,
      upstream: step.upstream,
      inputs: Object.fromEntries(step.inputs),
      outputs: step.outputs,
      parameters: step.parameters,
      file: `steps/${s.name}.js`,
      sourceFile: `steps/${s.name}.ts`,
      cells: s.cells.map((c) => c.index),
      retries: s.retries ?? settings.retries,
      timeoutMs: s.timeoutMs ?? settings.timeoutMs,
      triggerRule: s.triggerRule ?? 'all_success',
    });
  });
  const transform = servingTransform(tagged.transforms, problems);
  if (transform) Object.assign(files, transform);
  problems.throwIfAny();

  const lockDigest = lockfileDigest(notebook.path === null ? process.cwd() : dirname(notebook.path));
  const spec: PlannedSpec = {
    format: 'cellar-pipeline',
    formatVersion: 1,
    name,
    hash: '',
    schedule: settings.schedule,
    catchup: settings.catchup,
    maxActiveRuns: settings.maxActiveRuns,
    parameters,
    metrics: graph.metrics,
    steps,
    lockfileDigest: lockDigest,
    source: { notebookPath: notebook.path, notebookDigest: notebook.digest },
  };
  // The hash covers the code and everything that changes how it runs, not cell positions or outputs:
  // re-running the notebook or adding a markdown cell keeps the version.
  const cellsOf = new Map(graph.steps.map((s) => [s.block.name, s.block.cells.map((c) => c.source)]));
  spec.hash = contentHash({
    format: 'cellar-pipeline/1',
    codegen: CODEGEN_VERSION,
    imports: tagged.imports.map((c) => c.source),
    functions: tagged.functions.map((c) => c.source),
    parameters: parameters.map((p) => ({ name: p.name, type: p.type, default: p.default })),
    steps: steps.map((s) => ({
      name: s.name,
      cells: cellsOf.get(s.name),
      upstream: s.upstream,
      inputs: s.inputs,
      outputs: s.outputs,
      parameters: s.parameters,
      retries: s.retries,
      timeoutMs: s.timeoutMs,
      triggerRule: s.triggerRule,
    })),
    metrics: spec.metrics,
    schedule: spec.schedule,
    catchup: spec.catchup,
    maxActiveRuns: spec.maxActiveRuns,
    lockfileDigest: lockDigest,
    // Only present with a transform, so versions exported before transforms existed keep their hash.
    ...(tagged.transforms.length > 0 ? { servingTransform: tagged.transforms.map((c) => c.source) } : {}),
  });
  return { plan: { name, hash: spec.hash, spec, files }, notebook };
}

/**
 * The `serving:transform` cells as a CommonJS module exporting `transform(rows)` (`serving-transform.cjs`, with
 * its TypeScript source): `cellar serve` runs it before the model. The cells must define `transform` and be
 * self-contained (no imports: the module is loaded from the store, outside the notebook's folder).
 */
function servingTransform(cells: NotebookCell[], problems: ProblemList): Record<string, string> | null {
  if (cells.length === 0) return null;
  const source = `${cells.map((c) => c.source).join('\n\n')}\n\nmodule.exports = { transform };\n`;
  const compiled = compileSteps([
    { source: `declare const module: { exports: unknown };\n${source}`, fileName: 'serving-transform.ts' },
  ])[0]!;
  if ('error' in compiled || !/\b(function|const|let)\s+transform\b/.test(source)) {
    problems.add(
      cells[0]!.index,
      'error' in compiled
        ? `the serving:transform cell does not compile: ${compiled.error}`
        : 'the serving:transform cell must define a function named transform(rows).',
    );
    return null;
  }
  return { 'serving-transform.ts': source, 'serving-transform.cjs': compiled.js };
}

/**
 * Validates a notebook's tags and builds its step graph and generated code without writing anything.
 *
 * @example
 * const { spec } = planExport({ notebook: 'driver-training.ipynb', name: 'driver-training' })
 * spec.steps.map((s) => `${s.name} <- ${s.upstream.join(', ')}`)
 * @throws CellarError INVALID_PARAMETER for a bad name/schedule/setting, INVALID_INPUT with
 * `details.errors` (`{ cell, step?, message }[]`) for problems in the notebook, NOT_FOUND for a missing file.
 */
export function planExport(opts: PlanOptions): ExportPlan {
  return planWithNotebook(opts).plan;
}
