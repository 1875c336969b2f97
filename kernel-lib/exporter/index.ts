/**
 * exporter — turns a tagged TypeScript notebook into a versioned pipeline (Kale's tag vocabulary,
 * dependency inference with the TypeScript compiler API, content-addressed numbered versions), and reads
 * the stored versions back. The stored form is described in `spec.ts`; the runner and scheduler
 * (pipelines/) execute it.
 */
// Loads the TypeScript compiler with a V8 code cache before any module below imports it.
import './typescript-cache.js';
import { planWithNotebook, type PlanOptions } from './plan.js';
import type { PipelineSpec } from './spec.js';
import { resolveBackend, storePlan, type StoreRef } from './store.js';

/** Options of {@link exportNotebook}. */
export interface ExportOptions extends PlanOptions {
  /** The store: a directory, an opened store, or (default) the SDK's default store. */
  store?: StoreRef;
}

/** What {@link exportNotebook} returns. */
export interface ExportResult {
  name: string;
  version: number;
  hash: string;
  /** False when an identical version already existed (nothing was written). */
  created: boolean;
  spec: PipelineSpec;
  /** Absolute path of the version folder. */
  dir: string;
}

/**
 * Exports a tagged notebook as a pipeline version: validates the tags, infers the step graph, generates
 * and compiles one module per step, and stores them with the notebook under the next version number —
 * or returns the existing version when the same content was exported before under this name.
 *
 * @example
 * const { version, created } = await exportNotebook({ notebook: 'driver-training.ipynb', name: 'driver-training', schedule: '0 * * * *' })
 * @throws CellarError INVALID_PARAMETER (bad name, schedule or setting), INVALID_INPUT with `details.errors`
 * (`{ cell, step?, message }[]`, one per problem in the notebook), NOT_FOUND (missing file), STORE_BUSY.
 */
export async function exportNotebook(opts: ExportOptions): Promise<ExportResult> {
  const { plan, notebook } = planWithNotebook(opts);
  const backend = resolveBackend(opts.store);
  const { stored, created } = storePlan(backend, plan, notebook);
  return {
    name: stored.name,
    version: stored.version,
    hash: stored.hash,
    created,
    spec: stored.spec,
    dir: stored.dir,
  };
}

export { planExport, type PlanOptions, type ExportPlan, type PlannedSpec } from './plan.js';
export {
  listPipelines,
  listPipelineVersions,
  getPipelineVersion,
  resolveBackend,
  versionDir,
  type StoreRef,
  type StoredPipelineVersion,
  type PipelineSummary,
} from './store.js';
export {
  diffPipelineVersions,
  unifiedDiff,
  type PipelineDiff,
  type StepChange,
  type SettingChange,
} from './diff.js';
export {
  parsePipelineRef,
  validatePipelineName,
  validatePipelineVersion,
  validateSchedule,
  type PipelineRef,
} from './options.js';
export { analyzeCell, type CellScope, type DeclarationKind } from './scope.js';
export { formatProblem, type ExportProblem } from './problems.js';
export type {
  PipelineSpec,
  StepSpec,
  StepContext,
  ParameterSpec,
  ParameterType,
  TriggerRule,
} from './spec.js';
