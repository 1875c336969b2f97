/**
 * runner/protocol — what the runner and a step worker say to each other (IPC messages) and the files the
 * worker leaves behind (the result file and the outputs manifest). Only plain JSON crosses the IPC channel;
 * step values travel as files (see runner/serialize).
 */
import type { ValueKind } from './serialize.js';

/** The argument that starts the worker script as the launcher process (runner/launcher). */
export const LAUNCHER_FLAG = '--cellar-launcher';

/** Everything a worker needs to run one step attempt. */
export interface WorkerTask {
  storeRoot: string;
  pipeline: string;
  version: number;
  step: string;
  /** Absolute path of the compiled CommonJS step module. */
  stepFile: string;
  logFile: string;
  resultFile: string;
  outputDir: string;
  tmpDir: string;
  /** The StepContext fields other than `inputs` (params are data: they are never turned into code). */
  context: {
    params: Record<string, unknown>;
    runId: string;
    logicalDate: string;
    dataIntervalStart: string;
    dataIntervalEnd: string;
    tryNumber: number;
  };
  /** Values to load: variable name → the committed output directory of the step that produced it. */
  inputs: Array<{ name: string; step: string; dir: string }>;
  /** Names the step must return. */
  outputs: string[];
  /** Outputs that are pipeline metrics: reported back as numbers. */
  metrics: string[];
  /** Extra environment variables for the step (CELLAR_URI, run ids). */
  env: Record<string, string>;
  /** Cap of this attempt's log in bytes (runner/log-cap; default: CELLAR_MAX_STEP_LOG_BYTES, else 50 MiB). */
  maxLogBytes?: number;
  /**
   * May the worker run another step after this one (when it succeeds and leaves nothing behind)? Absent or
   * false: the worker exits after this step.
   */
  reuse?: boolean;
}

/** How an attempt ended, as the worker saw it. */
export interface StepResult {
  ok: boolean;
  error?: { message: string; code?: string; stack?: string };
  /** Values of the step's outputs that are pipeline metrics. */
  metrics: Record<string, number>;
  /** What was written: name, kind and size of each output. */
  outputs: Array<{ name: string; kind: ValueKind; bytes: number }>;
  pid: number;
  /** Epoch ms when the step's `run` was called and when its outputs were committed. */
  startedAt: number;
  endedAt: number;
}

/** Message from the runner to a worker. */
export interface TaskMessage {
  type: 'task';
  task: WorkerTask;
}

/** Messages from a worker to the runner. */
export type WorkerMessage =
  | { type: 'ready' }
  /** `reusable`: the worker stays and waits for another task; otherwise it is exiting. */
  | { type: 'result'; result: StepResult; reusable?: boolean };

/** `manifest.json` inside a committed output directory. */
export interface OutputManifest {
  format: 'cellar-step-outputs';
  step: string;
  tryNumber: number;
  outputs: Record<string, { file: string; kind: ValueKind; bytes: number }>;
}
