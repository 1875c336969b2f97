/**
 * protocol — the contract between this extension and the cellar kernel bridge (request/response envelopes,
 * the reply MIME type, operation names and result shapes). It is a copy of kernel-lib/bridge/protocol.ts,
 * because the extension is built as its own package; tests/extension/protocol.test.ts fails to typecheck
 * when the two copies drift apart. Pure TypeScript: no DOM, no JupyterLab imports.
 */
/** MIME type of a bridge response inside a `display_data` message. */
export const BRIDGE_MIME = 'application/vnd.cellar.bridge+json';

/** Version of this protocol; bumped on incompatible changes. */
export const BRIDGE_PROTOCOL_VERSION = 1;

/** Every operation the kernel side answers. */
export const BRIDGE_OPS = [
  'status',
  'logRun',
  'listRunModels',
  'lastModel',
  'registerModel',
  'planExport',
  'exportPipeline',
  'listRuns',
  'listModels',
  'listPipelines',
  'triggerPipeline',
  'pausePipeline',
] as const;

/** The name of a bridge operation. */
export type BridgeOp = (typeof BRIDGE_OPS)[number];

/** A request: a caller-chosen id (echoed back), an operation and its arguments. */
export interface BridgeRequest {
  id: string;
  op: string;
  args?: Record<string, unknown>;
}

/** The error half of a response (a `CellarError` in JSON form). */
export interface BridgeErrorBody {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

/** A response: `ok` with the operation's result, or an error. Always JSON. */
export type BridgeResponse =
  { id: string; ok: true; result: unknown } | { id: string; ok: false; error: BridgeErrorBody };

/** Arguments every operation accepts. */
export interface CommonArgs {
  /** Store URI or directory from the extension's settings; empty = the kernel's default store. */
  storeUri?: string;
  /** Create the store named by `storeUri` when it does not exist (otherwise that is a NOT_FOUND error). */
  createStore?: boolean;
  /** The notebook's path relative to the Jupyter server root (for tags and to find its experiment). */
  notebookPath?: string;
  /** The experiment to use when the notebook has none yet (extension setting "default experiment"). */
  defaultExperiment?: string;
}

/** A run as the extension shows it. */
export interface RunSummary {
  id: string;
  name: string | null;
  status: string;
  experimentId: string;
  experimentName: string | null;
  parentRunId: string | null;
  /** Epoch milliseconds. */
  startTime: number;
  endTime: number | null;
  params: Record<string, string>;
  /** Latest value of each metric. */
  metrics: Record<string, number>;
  tags: Record<string, string>;
}

/** The last model fitted in the kernel (autolog's record). */
export interface LastFitSummary {
  className: string;
  /** The run it was logged to, or null when it was fitted outside a run. */
  runId: string | null;
  /** Epoch milliseconds of the fit. */
  at: number;
  featureNames: string[];
  params: Record<string, unknown>;
}

/** Result of `status`. */
export interface StatusResult {
  protocol: number;
  storeRoot: string;
  activeRun: RunSummary | null;
  lastFit: LastFitSummary | null;
  /** The notebook's experiment (see `listRuns`), or null when it has none yet. */
  experiment: string | null;
  capabilities: { export: boolean; scheduler: boolean };
}

/** Result of `logRun`. */
export interface LogRunResult {
  run: RunSummary;
  /** True when no run existed and one was created for the snapshot. */
  created: boolean;
  /** True when this call ended the run (an active run, or the run it created). */
  ended: boolean;
  snapshot: { path: string; digest: string; size: number; cells: number; outputs: boolean };
  gitCommit: string | null;
  storeRoot: string;
}

/** A model artifact a run holds (what "Register model" can pick). */
export interface RunModel {
  runId: string;
  runName: string | null;
  /** Artifact folder of the model, e.g. `model`. */
  artifactPath: string;
  estimator: string | null;
  featureNames: string[];
  /** True for the model fitted last in this kernel. */
  isLastFit: boolean;
}

/** Result of `listRunModels`. */
export interface RunModelsResult {
  runId: string | null;
  lastFit: LastFitSummary | null;
  models: RunModel[];
}

/** Result of `lastModel`. */
export interface LastModelResult {
  lastFit: LastFitSummary | null;
  /** The stored model of the last fit, or null when it was fitted outside a run (or not stored). */
  model: RunModel | null;
}

/** Result of `registerModel`. */
export interface RegisterModelResult {
  name: string;
  version: number;
  aliases: string[];
  runId: string | null;
  source: string;
  /** `models:/<name>/<version>`. */
  uri: string;
}

/** Result of `listRuns`. */
export interface RunsResult {
  /** The experiment listed (`id` null when it does not exist yet), or null when the notebook has none. */
  experiment: { id: string | null; name: string } | null;
  activeRunId: string | null;
  runs: RunSummary[];
}

/** A registered model with its aliases, for the sidebar. */
export interface ModelSummary {
  name: string;
  description: string;
  latestVersion: number | null;
  aliases: Record<string, number>;
  updatedAt: number;
}

/** One step of an export plan or a stored pipeline version. */
export interface PlanStep {
  name: string;
  upstream: string[];
  /** Notebook cell indices of the step. */
  cells: number[];
  inputs: Record<string, string>;
}

/** Result of `planExport`. */
export interface ExportPlan {
  name: string;
  steps: PlanStep[];
  parameters: Array<{ name: string; type: string; default: unknown }>;
  metrics: string[];
}

/** Result of `exportPipeline`. */
export interface ExportResult {
  name: string;
  version: number;
  hash: string;
  /** False when an identical version already existed (exporting twice yields the same version). */
  created: boolean;
  schedule: string | null;
  steps: PlanStep[];
}

/** A pipeline run as the scheduler reports it. */
export interface PipelineRunSummary {
  id: string;
  state: string;
  logicalDate: string | null;
  startTime: number | null;
  endTime: number | null;
}

/** A pipeline with its latest version, for the sidebar. */
export interface PipelineSummary {
  name: string;
  latestVersion: number;
  versions: number;
  hash: string;
  createdAt: string;
  schedule: string | null;
  steps: PlanStep[];
  /** null when no scheduler is available to say. */
  paused: boolean | null;
  lastRuns: PipelineRunSummary[];
}

/** Result of `listPipelines`. */
export interface PipelinesResult {
  scheduler: boolean;
  pipelines: PipelineSummary[];
}

/** Result of `triggerPipeline` / `pausePipeline`. */
export interface SchedulerActionResult {
  name: string;
  runId?: string;
  paused?: boolean;
}
