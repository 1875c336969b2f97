/**
 * sdk — `openStore()` and the module-level functions a notebook calls (`startRun`, `withRun`, `getRun`,
 * `searchRuns`, `registerModel`, `setAlias`, `loadModel`, …). They use the default store: the one set with
 * `useStore`, else `CELLAR_URI`, else the nearest `.cellar/` above the working directory (created in the
 * working directory when there is none). Loading this module switches autolog on.
 */
import {
  CellarStore,
  type RegisterModelOptions,
  type RunList,
  type SearchRunsOptions,
  type StartRunOptions,
  type StoredModel,
} from './client.js';
import type { ModelVersion, RegisteredModel } from './registry/types.js';
import { locateStore } from './store/locate.js';
import { openBackend } from './backends.js';
import { installAutolog } from './tracking/autolog.js';
import type { ActiveRun } from './tracking/run.js';
import type { Experiment, RunData, RunStatus } from './tracking/types.js';

installAutolog();

/**
 * Opens a store: `dir` (a project folder, or the `.cellar` folder itself), else `CELLAR_URI`, else the nearest
 * `.cellar/` walking up from the working directory, else a new `.cellar/` in the working directory. An
 * `http(s)://` URL (argument or `CELLAR_URI`, token in `CELLAR_TOKEN`) uses a remote `cellar up` instead.
 *
 * @example
 * const store = openStore()            // nearest .cellar/
 * const other = openStore('/data/proj') // /data/proj/.cellar
 * @throws CellarError UNSUPPORTED for a URI scheme this build lacks, STORE_CORRUPT for an unusable database
 */
export function openStore(dir?: string): CellarStore {
  const location = locateStore(dir);
  return new CellarStore(openBackend(location), location);
}

let defaultStore: CellarStore | null = null;

/** The store the module-level functions use (opened on first use). */
export function getStore(): CellarStore {
  if (defaultStore === null || !defaultStore.isOpen) defaultStore = openStore();
  return defaultStore;
}

/**
 * Makes the module-level functions use another store (a directory or an opened store), like MLflow's
 * `set_tracking_uri`. Returns that store.
 *
 * @example
 * useStore('/tmp/scratch')
 */
export function useStore(store: string | CellarStore): CellarStore {
  defaultStore = typeof store === 'string' ? openStore(store) : store;
  return defaultStore;
}

/** {@inheritDoc CellarStore.startRun} */
export function startRun(opts: StartRunOptions = {}): Promise<ActiveRun> {
  return getStore().startRun(opts);
}

/** {@inheritDoc CellarStore.withRun} */
export function withRun<T>(opts: StartRunOptions, fn: (run: ActiveRun) => T | Promise<T>): Promise<T> {
  return getStore().withRun(opts, fn);
}

/** {@inheritDoc CellarStore.endRun} */
export function endRun(status?: RunStatus): Promise<RunData | null> {
  return getStore().endRun(status);
}

/** {@inheritDoc CellarStore.getRun} */
export function getRun(runId: string): Promise<RunData> {
  return getStore().getRun(runId);
}

/** {@inheritDoc CellarStore.searchRuns} */
export function searchRuns(opts: SearchRunsOptions = {}): Promise<RunList> {
  return getStore().searchRuns(opts);
}

/** {@inheritDoc CellarStore.getExperiment} */
export function getExperiment(name: string): Promise<Experiment | null> {
  return getStore().getExperiment(name);
}

/** {@inheritDoc CellarStore.createExperiment} */
export function createExperiment(name: string, tags?: Record<string, string>): Promise<Experiment> {
  return getStore().createExperiment(name, tags);
}

/** {@inheritDoc CellarStore.registerModel} */
export function registerModel(opts: RegisterModelOptions): Promise<ModelVersion> {
  return getStore().registerModel(opts);
}

/** {@inheritDoc CellarStore.setAlias} */
export function setAlias(name: string, alias: string, version: number): Promise<void> {
  return getStore().setAlias(name, alias, version);
}

/** {@inheritDoc CellarStore.listModels} */
export function listModels(): Promise<RegisteredModel[]> {
  return getStore().listModels();
}

/** {@inheritDoc CellarStore.loadModel} */
export function loadModel(uri: string): Promise<StoredModel> {
  return getStore().loadModel(uri);
}
