/**
 * exporter/spec — the stored form of a pipeline version: what the notebook exporter (kernel-lib/exporter)
 * writes and what the runner and scheduler (pipelines/) execute. A version is immutable and
 * content-addressed; this file is the contract between the two sides.
 *
 * On disk, a version lives in `<store>/pipelines/<name>/<version>/`:
 *   pipeline.json        the PipelineSpec below (also stored in SQLite, table pipeline_versions)
 *   steps/<step>.js      each step compiled to a CommonJS module (see StepSpec.file)
 *   steps/<step>.ts      its TypeScript source as generated from the notebook cells
 *   notebook.ipynb       the source notebook (nbformat 4)
 */
import { CellarError } from '../errors.js';

/** A value type a pipeline parameter can have. */
export type ParameterType = 'number' | 'string' | 'boolean' | 'json';

/** A parameter declared in the `pipeline-parameters` cell (`const alpha = 0.5`). */
export interface ParameterSpec {
  name: string;
  type: ParameterType;
  /** The default from the cell (JSON-able). */
  default: unknown;
}

/** Airflow-style trigger rule of a step. */
export type TriggerRule = 'all_success' | 'all_done' | 'one_failed';

/** One step of a pipeline. */
export interface StepSpec {
  name: string;
  /** Steps that must finish first: `prev:` tags plus data edges. */
  upstream: string[];
  /** Names this step reads that earlier steps define: name → the step that produces it. */
  inputs: Record<string, string>;
  /** Top-level names this step defines that later steps (or pipeline metrics) read; the runner serializes them. */
  outputs: string[];
  /** Parameter names the step reads. */
  parameters: string[];
  /**
   * Path of the compiled module relative to the version directory, e.g. `steps/train.js`. The module exports
   * `async function run(ctx: StepContext): Promise<Record<string, unknown>>` returning the values of `outputs`.
   */
  file: string;
  /** Path of the generated TypeScript source, e.g. `steps/train.ts`. */
  sourceFile: string;
  /** Indices of the notebook cells that make up this step (for error messages and the extension). */
  cells: number[];
  retries: number;
  /** 0 = no timeout. */
  timeoutMs: number;
  triggerRule: TriggerRule;
}

/** What a step module's `run` receives. */
export interface StepContext {
  /** Parameter values (validated, with defaults applied). */
  params: Record<string, unknown>;
  /** Values produced by upstream steps (deserialized). */
  inputs: Record<string, unknown>;
  /** The pipeline run's id, its logical date and data interval (ISO-8601 UTC), and the attempt number (1-based). */
  runId: string;
  logicalDate: string;
  dataIntervalStart: string;
  dataIntervalEnd: string;
  tryNumber: number;
}

/** A pipeline version as stored. */
export interface PipelineSpec {
  format: 'cellar-pipeline';
  formatVersion: 1;
  name: string;
  /** Per-name number, from 1. */
  version: number;
  /** sha256 over step sources, parameters, imports/functions code and the dependency lockfile digest. */
  hash: string;
  createdAt: string;
  /** Cron expression (5 fields) or null for manual-only pipelines. */
  schedule: string | null;
  catchup: boolean;
  maxActiveRuns: number;
  parameters: ParameterSpec[];
  /** Names listed in the `pipeline-metrics` cell; each is an output of some step, logged as a metric of the run. */
  metrics: Array<{ name: string; step: string }>;
  /** Steps in a topological order. */
  steps: StepSpec[];
  /** sha256 of package-lock.json at export time (or null when none was found). */
  lockfileDigest: string | null;
  /** Where it came from. */
  source: { notebookPath: string | null; notebookDigest: string };
}

/** A pipeline parameter name: a JavaScript identifier (it becomes a `const` in the step code). */
export const PARAMETER_NAME_PATTERN = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/**
 * Checks a pipeline parameter name: the one rule of `--param name=value` on the command line and of the
 * kernel bridge.
 *
 * @throws CellarError INVALID_PARAMETER naming the name.
 */
export function validateParameterName(name: unknown): string {
  if (typeof name !== 'string' || !PARAMETER_NAME_PATTERN.test(name)) {
    throw new CellarError(
      'INVALID_PARAMETER',
      `${JSON.stringify(name)} is not a parameter name: use letters, digits, "_" or "$", not starting with a digit.`,
      { name: typeof name === 'string' ? name : null },
    );
  }
  return name;
}
