/**
 * tracking/run — the run handle a notebook user holds (`const run = await startRun(…)`), the per-process
 * stack of active runs (MLflow's "active run"), and the exit/signal hooks that end active runs so that a
 * run is never left RUNNING by a process that exits: normal exit → FINISHED, exit with an error code →
 * FAILED, SIGINT/SIGTERM/SIGHUP → KILLED. (A `kill -9` cannot be caught: the next process that opens the
 * store, or reads the run, marks such runs KILLED.)
 */
import { readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { CellarError } from '../errors.js';
import { parseModelJSON, validateModelJSON, type ModelJSON } from '../ml/model-json.js';
import { listLocalDirectory } from '../store/artifacts.js';
import type { ArtifactInfo, MetricPoint, RunData, RunInput, RunStatus, TrackingStore } from './types.js';
import { setOwn, stringifyParam, validateStatus } from './validate.js';

/** Metrics given as `{ key: value }` or as explicit points. */
export type MetricsInput =
  Record<string, number> | Array<{ key: string; value: number; step?: number; timestamp?: number }>;

/** What `logArtifact` accepts: a local file or folder path, or named in-memory data. */
export type ArtifactInput = string | { name: string; data: string | Uint8Array | object; kind?: string };

/** How often (ms) logging calls let the event loop run, so signal handlers get a turn in tight loops. */
const YIELD_EVERY_MS = 20;
let lastYield = Date.now();

/**
 * Lets the event loop turn (a macrotask) when the last turn is more than {@link YIELD_EVERY_MS} ago. A
 * script looping on `await run.logMetrics(…)` otherwise runs on microtasks only, and SIGINT/SIGTERM
 * handlers (which end the run KILLED and exit) would never run.
 */
async function letEventLoopTurn(): Promise<void> {
  if (Date.now() - lastYield < YIELD_EVERY_MS) return;
  await new Promise<void>((resolve) => setImmediate(resolve));
  lastYield = Date.now();
}

/** A handle to one run: logging methods and `end`. Methods return promises; await them. */
export class ActiveRun {
  /** The run id (32 hex characters). */
  readonly id: string;
  /** The experiment id the run belongs to. */
  readonly experimentId: string;
  /** The run's name, if any. */
  readonly runName: string | null;
  private ended = false;
  private readonly pending = new Set<Promise<unknown>>();
  /** Starts a nested run under this one (set by the store that created the run). */
  spawnChild?: (runName: string) => Promise<ActiveRun>;

  /**
   * Wraps a created run. `endSync` (embedded stores only) lets process-exit hooks end the run synchronously.
   */
  constructor(
    private readonly tracking: TrackingStore,
    data: RunData,
    private readonly endSync?: (status: RunStatus) => void,
  ) {
    this.id = data.id;
    this.experimentId = data.experimentId;
    this.runName = data.runName;
  }

  /** True once `end` was called. */
  get isEnded(): boolean {
    return this.ended;
  }

  /** Registers background work (autolog) that `end` and `flush` wait for. */
  track<T>(p: Promise<T>): Promise<T> {
    this.pending.add(p);
    const remove = (): void => {
      this.pending.delete(p);
    };
    p.then(remove, remove);
    return p;
  }

  private queue: Promise<unknown> = Promise.resolve();

  /** Runs background work (autolog) after the work queued before it, in order, and tracks it. */
  enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return this.track(next);
  }

  /** Waits for background logging (autolog) of this run to finish. */
  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /**
   * Logs one param (write-once: the same value again is fine, a different value is a PARAM_CONFLICT error).
   *
   * @example
   * await run.logParam('alpha', 0.5)
   * @throws CellarError PARAM_CONFLICT, INVALID_PARAMETER
   */
  async logParam(key: string, value: unknown): Promise<void> {
    const params: Record<string, unknown> = {};
    setOwn(params, key, value);
    await this.logParams(params);
  }

  /**
   * Logs several params in one transaction (all or nothing).
   *
   * @example
   * await run.logParams({ alpha: 0.5, l1_ratio: 0.1 })
   * @throws CellarError PARAM_CONFLICT, INVALID_PARAMETER
   */
  async logParams(params: Record<string, unknown>): Promise<void> {
    if (params === null || typeof params !== 'object') {
      throw new CellarError('INVALID_PARAMETER', 'logParams takes an object such as { alpha: 0.5 }.');
    }
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(params)) setOwn(out, k, stringifyParam(k, v));
    await this.tracking.logBatch(this.id, { params: out });
    await letEventLoopTurn();
  }

  /**
   * Appends one metric value (finite numbers only) at `step` (default 0).
   *
   * @example
   * await run.logMetric('rmse', 0.42)
   * @throws CellarError INVALID_PARAMETER for NaN/Infinity or a bad key
   */
  async logMetric(key: string, value: number, step?: number): Promise<void> {
    await this.logMetrics([{ key, value, ...(step === undefined ? {} : { step }) }]);
  }

  /**
   * Appends many metric values in one transaction: `{ rmse: 0.4, mae: 0.3 }` (all at `step`) or an array of
   * `{ key, value, step?, timestamp? }` points. Nothing is stored when any value is invalid.
   *
   * @example
   * await run.logMetrics({ rmse: 0.41, mae: 0.32, r2: 0.77 })
   * @throws CellarError INVALID_PARAMETER
   */
  async logMetrics(metrics: MetricsInput, step?: number): Promise<void> {
    const now = Date.now();
    let points: MetricPoint[];
    if (Array.isArray(metrics)) {
      points = metrics.map((p) => ({
        key: p.key,
        value: p.value,
        step: p.step ?? step ?? 0,
        timestamp: p.timestamp ?? now,
      }));
    } else if (metrics !== null && typeof metrics === 'object') {
      points = Object.entries(metrics).map(([key, value]) => ({
        key,
        value,
        step: step ?? 0,
        timestamp: now,
      }));
    } else {
      throw new CellarError(
        'INVALID_PARAMETER',
        'logMetrics takes { key: value } or an array of { key, value, step? }.',
      );
    }
    await this.tracking.logBatch(this.id, { metrics: points });
    await letEventLoopTurn();
  }

  /**
   * Sets (or overwrites) a tag.
   *
   * @example
   * await run.setTag('stage', 'baseline')
   */
  async setTag(key: string, value: string | number | boolean): Promise<void> {
    const tags: Record<string, string> = {};
    setOwn(tags, key, value as string);
    await this.tracking.logBatch(this.id, { tags });
    await letEventLoopTurn();
  }

  /** Sets several tags in one transaction. */
  async setTags(tags: Record<string, string | number | boolean>): Promise<void> {
    await this.tracking.logBatch(this.id, { tags: tags as Record<string, string> });
    await letEventLoopTurn();
  }

  /**
   * Stores an artifact: a local file (kept under its base name, or `artifactPath/<name>`), a local folder
   * (every file below it), or `{ name, data }` where data is text, bytes or a JSON-able object.
   *
   * @example
   * await run.logArtifact({ name: 'notes.txt', data: 'first try' })
   * await run.logArtifact('plots/residuals.png')
   * @throws CellarError INVALID_PATH, NOT_FOUND, RESOURCE_TOO_LARGE
   */
  async logArtifact(input: ArtifactInput, artifactPath?: string): Promise<ArtifactInfo[]> {
    const prefix = artifactPath ? `${artifactPath.replace(/\/+$/, '')}/` : '';
    if (typeof input === 'string') {
      let st;
      try {
        st = statSync(input);
      } catch {
        throw new CellarError(
          'NOT_FOUND',
          `No file or folder at ${input}: check the path passed to logArtifact.`,
        );
      }
      if (st.isDirectory()) {
        // The whole folder is listed and checked first, then logged in one transaction: all or nothing.
        const files = listLocalDirectory(input).map((f) => ({ path: `${prefix}${f.rel}`, localFile: f.abs }));
        return this.tracking.logArtifactFiles(this.id, files);
      }
      return [await this.tracking.logArtifactFile(this.id, `${prefix}${basename(input)}`, input)];
    }
    if (input === null || typeof input !== 'object' || typeof input.name !== 'string') {
      throw new CellarError('INVALID_PARAMETER', 'logArtifact takes a path or { name, data }.');
    }
    const { data } = input;
    let bytes: string | Uint8Array;
    let kind = input.kind ?? 'file';
    if (typeof data === 'string' || data instanceof Uint8Array) bytes = data;
    else {
      bytes = JSON.stringify(data, null, 2);
      if (bytes === undefined)
        throw new CellarError('INVALID_PARAMETER', `Artifact "${input.name}" data is not JSON-able.`);
      kind = input.kind ?? 'json';
    }
    return [await this.tracking.logArtifactBytes(this.id, `${prefix}${input.name}`, bytes, kind)];
  }

  /** Stores text as an artifact. */
  async logText(text: string, name: string): Promise<ArtifactInfo> {
    return (await this.logArtifact({ name, data: String(text), kind: 'text' }))[0]!;
  }

  /** Stores a JSON-able value as an artifact. */
  async logJson(value: unknown, name: string): Promise<ArtifactInfo> {
    return (await this.logArtifact({ name, data: value as object, kind: 'json' }))[0]!;
  }

  /**
   * Stores a notebook snapshot (a path to an .ipynb or the parsed notebook) as `notebook/<name>.ipynb`,
   * checking that it is an nbformat 4 document.
   *
   * @throws CellarError INVALID_INPUT when it is not a notebook
   */
  async logNotebook(notebook: string | object, name = 'notebook.ipynb'): Promise<ArtifactInfo> {
    let doc: unknown = notebook;
    if (typeof notebook === 'string') {
      try {
        doc = JSON.parse(readFileSync(notebook, 'utf8'));
      } catch (e) {
        throw new CellarError(
          'INVALID_INPUT',
          `Cannot read the notebook ${notebook}: ${(e as Error).message}`,
        );
      }
    }
    const nb = doc as { nbformat?: unknown; cells?: unknown; metadata?: unknown };
    if (
      !nb ||
      typeof nb !== 'object' ||
      nb.nbformat !== 4 ||
      !Array.isArray(nb.cells) ||
      typeof nb.metadata !== 'object'
    ) {
      throw new CellarError(
        'INVALID_INPUT',
        'The notebook snapshot is not an nbformat 4 document (needs nbformat: 4, cells, metadata).',
      );
    }
    const path = `notebook/${name.endsWith('.ipynb') ? name : `${name}.ipynb`}`;
    return (await this.logArtifact({ name: path, data: JSON.stringify(doc, null, 1), kind: 'notebook' }))[0]!;
  }

  /**
   * Stores a model (a fitted cellar estimator or its model JSON) at `<artifactPath>/model.json`, so that
   * `registerModel({ name, runId })` can register it. Autolog does this for you on `fit`.
   *
   * @throws CellarError INVALID_INPUT when it is not a valid cellar model
   */
  async logModel(model: { toJSON(): ModelJSON } | ModelJSON, artifactPath = 'model'): Promise<ArtifactInfo> {
    const json = validateModelJSON(
      typeof (model as { toJSON?: unknown }).toJSON === 'function'
        ? (model as { toJSON(): ModelJSON }).toJSON()
        : model,
    );
    const text = JSON.stringify(json, null, 2);
    parseModelJSON(text, 'The model'); // the size limit applies before anything is stored
    return (await this.logArtifact({ name: `${artifactPath}/model.json`, data: text, kind: 'model' }))[0]!;
  }

  /** Records a dataset the run consumed (its fingerprint, shape and schema) for lineage. */
  async logInput(input: RunInput): Promise<void> {
    await this.tracking.logInput(this.id, input);
  }

  /** Fetches the run's current state (status, params, latest metrics, tags). */
  async info(): Promise<RunData> {
    return this.tracking.getRun(this.id);
  }

  /**
   * Ends the run (default FINISHED) after waiting for background logging, and removes it from the active stack.
   *
   * @example
   * await run.end()
   */
  async end(status: RunStatus = 'FINISHED'): Promise<RunData> {
    const s = validateStatus(status);
    await this.flush();
    popActive(this);
    this.ended = true;
    return this.tracking.endRun(this.id, s);
  }

  /** Ends the run synchronously (exit hooks). */
  endNow(status: RunStatus): void {
    if (this.ended) return;
    this.ended = true;
    this.endSync?.(status);
  }
}

// ------------------------------------------------------------------ active runs of this process

const activeStack: ActiveRun[] = [];

/** The innermost active run of this process, or null. */
export function activeRun(): ActiveRun | null {
  return activeStack[activeStack.length - 1] ?? null;
}

/** All active runs, outermost first. */
export function activeRuns(): readonly ActiveRun[] {
  return activeStack;
}

/** Makes `run` the active run (nested runs stack on their parent). */
export function pushActive(run: ActiveRun): void {
  activeStack.push(run);
  installExitHooks();
}

/** Removes `run` from the active stack (wherever it is). */
export function popActive(run: ActiveRun): void {
  const i = activeStack.lastIndexOf(run);
  if (i >= 0) activeStack.splice(i, 1);
  // With no run left, the process's exit and signals are no business of cellar's (and a pipeline worker
  // that ran a tracked step stays reusable: no listener of this module outlives the step).
  if (activeStack.length === 0) uninstallExitHooks();
}

function endAll(status: RunStatus): void {
  while (activeStack.length > 0) {
    const run = activeStack.pop()!;
    try {
      run.endNow(status);
    } catch {
      // the store may be gone at exit; the next open marks the run KILLED
    }
  }
}

let hooksInstalled = false;
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
const installedHooks: Array<[string, (code: number) => void]> = [];

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  const onExit = (code: number): void => endAll(code === 0 ? 'FINISHED' : 'FAILED');
  process.on('exit', onExit);
  installedHooks.push(['exit', onExit]);
  for (const sig of SIGNALS) {
    // Only take over a signal nobody else handles (a Jupyter kernel handles SIGINT itself, for interrupts).
    if (process.listenerCount(sig) > 0) continue;
    const handler = (): void => {
      // End the runs synchronously first (the store is synchronous), then die of the same signal, as
      // Node's default handling would (exit status 128 + signal number).
      endAll('KILLED');
      process.removeListener(sig, handler);
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    };
    process.on(sig, handler);
    installedHooks.push([sig, handler]);
  }
}

function uninstallExitHooks(): void {
  if (!hooksInstalled) return;
  hooksInstalled = false;
  for (const [event, fn] of installedHooks.splice(0)) process.removeListener(event, fn);
}
