/**
 * bridge/context — what every bridge operation shares: which store to use (the extension's store setting,
 * else the kernel's default store), which experiment is "this notebook's", and the compact forms of runs
 * and fits sent back to the extension.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type { CellarStore } from '../client.js';
import { CellarError } from '../errors.js';
import { getStore, openStore } from '../sdk.js';
import { DB_FILE_NAME, parseStoreUri } from '../store/locate.js';
import { getLastFit } from '../tracking/autolog.js';
import { activeRuns } from '../tracking/run.js';
import type { Experiment, RunData } from '../tracking/types.js';
import { optString, type Args } from './args.js';
import type { LastFitSummary, RunSummary } from './protocol.js';

/** Tag holding the notebook's server-relative path on runs logged from it. */
export const TAG_NOTEBOOK_PATH = 'cellar.notebook.path';
/** Tag holding the git commit of the notebook's folder when the run was logged. */
export const TAG_GIT_COMMIT = 'cellar.source.git.commit';
/** Tag holding the artifact path of the run's notebook snapshot. */
export const TAG_SNAPSHOT = 'cellar.notebook.snapshot';

/** Where the kernel runs: Jupyter starts a notebook's kernel in the notebook's folder. */
export interface BridgeContext {
  /** The notebook's folder (default: the kernel's working directory). */
  cwd?: string;
}

/** One request being handled: its operation, arguments and context. */
export interface OpCall {
  op: string;
  args: Args;
  cwd: string;
}

/**
 * The store an operation works on: the `storeUri` argument (a directory or `sqlite:` URI; relative paths
 * are relative to the notebook's folder) or, when it is empty, the kernel's default store — the one the
 * notebook's own `startRun`/`withRun` calls use. A named store must exist unless `createStore: true`.
 *
 * @throws CellarError UNSUPPORTED / INVALID_PARAMETER for a URI this build cannot open, NOT_FOUND for a
 * store that does not exist (without `createStore: true`)
 */
export function storeFor(call: OpCall): CellarStore {
  const uri = optString(call.args, call.op, 'storeUri');
  if (uri === undefined) return getStore();
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(uri.trim())?.[1];
  const text = scheme === undefined && !isAbsolute(uri.trim()) ? resolve(call.cwd, uri.trim()) : uri;
  const root = parseStoreUri(text);
  // A mistyped setting must not quietly create an empty store: creating one is asked for explicitly.
  if (!existsSync(join(root, DB_FILE_NAME)) && call.args['createStore'] !== true) {
    throw new CellarError(
      'NOT_FOUND',
      `No cellar store at ${root} (from the store setting ${JSON.stringify(uri)}). Fix the setting, run ` +
        '`cellar init` there, or pass createStore: true to create it.',
      { storeRoot: root },
    );
  }
  return openStore(root);
}

/** Caches experiment names while summarizing many runs. */
export class ExperimentNames {
  private readonly names = new Map<string, string | null>();

  constructor(private readonly store: CellarStore) {}

  /** The experiment's name, or null when it cannot be read. */
  async of(experimentId: string): Promise<string | null> {
    if (!this.names.has(experimentId)) {
      let name: string | null = null;
      try {
        name = (await this.store.tracking.getExperiment(experimentId)).name;
      } catch {
        name = null;
      }
      this.names.set(experimentId, name);
    }
    return this.names.get(experimentId) ?? null;
  }
}

/** The compact, JSON-safe form of a run. */
export async function summarizeRun(run: RunData, names: ExperimentNames): Promise<RunSummary> {
  return {
    id: run.id,
    name: run.runName,
    status: run.status,
    experimentId: run.experimentId,
    experimentName: await names.of(run.experimentId),
    parentRunId: run.parentRunId,
    startTime: run.startTime,
    endTime: run.endTime,
    params: { ...run.params },
    metrics: Object.fromEntries(Object.entries(run.metrics).filter(([, v]) => Number.isFinite(v))),
    tags: { ...run.tags },
  };
}

/** The last fit of this kernel in JSON-safe form, or null when nothing was fitted. */
export function lastFitSummary(): LastFitSummary | null {
  const fit = getLastFit();
  if (!fit) return null;
  return {
    className: fit.className,
    runId: fit.runId,
    at: fit.at,
    featureNames: [...(fit.model.featureNames ?? [])],
    params: { ...(fit.model.params ?? {}) },
  };
}

/** The outermost active run of this kernel (the notebook's run; nested runs hang below it), or null. */
export function notebookActiveRun(): ReturnType<typeof activeRuns>[number] | null {
  const runs = activeRuns().filter((r) => !r.isEnded);
  return runs[0] ?? null;
}

/** Fetches a run, or null when this store does not have it. */
export async function tryGetRun(store: CellarStore, runId: string): Promise<RunData | null> {
  try {
    return await store.tracking.getRun(runId);
  } catch (e) {
    if (e instanceof CellarError && e.code === 'NOT_FOUND') return null;
    throw e;
  }
}

/**
 * This notebook's experiment: the active run's, else the experiment of the run the last model was logged
 * to, else that of the newest run logged from this notebook (`notebookPath`), else `defaultExperiment`
 * (which may not exist yet: `id` is then null), else null.
 */
export async function notebookExperiment(
  store: CellarStore,
  call: OpCall,
): Promise<{ id: string | null; name: string } | null> {
  const fromRun = async (runId: string): Promise<Experiment | null> => {
    const run = await tryGetRun(store, runId);
    return run ? store.tracking.getExperiment(run.experimentId) : null;
  };
  const active = notebookActiveRun();
  if (active) {
    const exp = await fromRun(active.id);
    if (exp) return { id: exp.id, name: exp.name };
  }
  const fit = getLastFit();
  if (fit?.runId) {
    const exp = await fromRun(fit.runId);
    if (exp) return { id: exp.id, name: exp.name };
  }
  const notebookPath = optString(call.args, call.op, 'notebookPath');
  if (notebookPath !== undefined) {
    // Newest runs first; the path is compared here rather than in a filter string so no quoting is needed.
    const page = await store.tracking.searchRuns({ maxResults: 200 });
    const mine = page.runs.find((r) => r.tags[TAG_NOTEBOOK_PATH] === notebookPath);
    if (mine) {
      const exp = await store.tracking.getExperiment(mine.experimentId);
      return { id: exp.id, name: exp.name };
    }
  }
  const fallback = optString(call.args, call.op, 'defaultExperiment');
  if (fallback !== undefined) {
    const exp = await store.tracking.getExperimentByName(fallback);
    return { id: exp?.id ?? null, name: fallback };
  }
  return null;
}
