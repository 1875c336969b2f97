/**
 * runner/cellar-state — the one place that says which process-level state of cellar itself a step worker
 * expects and keeps between steps (see runner/worker-hygiene). A step that imports cellar loads its package,
 * opens the store (one cached connection per store), may install the exit and signal hooks that end active
 * runs, and may set cellar's own global registries. None of that is a step's leftover: cellar's modules stay
 * loaded for the worker's life (reloading them for every step would cost more than the step), the
 * connection stays cached, and the hooks are installed once. Everything else a step leaves still retires
 * the worker, and so does cellar state that belongs to the step: a tracked run left active.
 *
 * When cellar adds a global or a process hook, add it here (and nowhere else).
 */
import { realpathSync } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';

/**
 * Global keys cellar installs on `globalThis` (as `Symbol.for(<name>)` or as a string property), shared by
 * its ESM and CommonJS builds loaded in one process, and those its dependencies install when cellar loads
 * them.
 */
export const CELLAR_GLOBALS: readonly string[] = [
  'cellar.ml.fitListeners', // ml/hooks: the fit-event bus (autolog listens on it)
  'cellar.features.retrievedColumns', // features/lineage: feature references of retrieved training columns
  '__zod_globalConfig', // zod (cellar's schema checks of stored specs) sets these two on first load
  '__zod_globalRegistry',
];

/**
 * Process events on which cellar's tracking installs its hooks (tracking/run: end the active runs FINISHED
 * or FAILED at exit, KILLED on a signal). A listener on these events counts as cellar's only when it was
 * added by a cellar module.
 */
export const CELLAR_HOOK_EVENTS: readonly string[] = ['exit', 'beforeExit', 'SIGINT', 'SIGTERM', 'SIGHUP'];

/** True when `key` (an own key of `globalThis`) is one of {@link CELLAR_GLOBALS}. */
export function isCellarGlobal(key: string | symbol): boolean {
  if (typeof key === 'symbol') {
    const name = Symbol.keyFor(key);
    return name !== undefined && CELLAR_GLOBALS.includes(name);
  }
  return CELLAR_GLOBALS.includes(key);
}

function realRoot(dir: string): string {
  try {
    return realpathSync(dir);
  } catch {
    return dir;
  }
}

/**
 * The package roots of cellar: the installation running this worker (`<root>/dist/cjs/pipelines/runner/
 * worker.js`), whose modules the steps resolve `cellar` to.
 */
export function cellarRoots(workerScript = process.argv[1]): string[] {
  if (!workerScript) return [];
  return [realRoot(resolve(dirname(workerScript), '..', '..', '..', '..'))];
}

/**
 * True when a module file is part of cellar's own code: its built `dist/` of one of `roots`, or a cellar
 * installed as a package (`…/node_modules/cellar/dist/…`).
 */
export function isCellarModuleFile(file: string, roots: readonly string[]): boolean {
  const f = file.startsWith('file://') ? new URL(file).pathname : file;
  if (roots.some((r) => f.startsWith(`${r}${sep}dist${sep}`))) return true;
  return f.includes(`${sep}node_modules${sep}cellar${sep}dist${sep}`);
}

/**
 * The file of the first stack frame after the first `skipFrames` frames that is not one of Node's internals,
 * from an Error's stack text (`new Error().stack` taken inside a wrapper: skip the wrapper's own frame).
 */
export function callerFile(stack: string | undefined, skipFrames = 1): string | null {
  const frames = (stack ?? '').split('\n').filter((l) => /^\s*at /.test(l));
  for (const line of frames.slice(skipFrames)) {
    const m = /\(?((?:file:\/\/)?\/[^():]+):\d+:\d+\)?\s*$/.exec(line.trim());
    const file = m?.[1];
    if (file === undefined) continue; // node:internal frames have no absolute path
    return file.startsWith('file://') ? new URL(file).pathname : file;
  }
  return null;
}

/** What a loaded cellar tells about its runs (tracking/run's `activeRuns()`), when it is loaded. */
interface TrackingRunModule {
  activeRuns?: () => ReadonlyArray<{ id?: string }>;
}

/**
 * Ids of the tracked runs a loaded cellar still holds active (a step that started a run and did not end
 * it): such a run must be ended by the process's exit hooks, so its worker is retired.
 */
export function activeCellarRuns(cache: Record<string, unknown>, roots: readonly string[]): string[] {
  const ids: string[] = [];
  for (const [file, mod] of Object.entries(cache)) {
    if (!file.endsWith(`${sep}tracking${sep}run.js`) || !isCellarModuleFile(file, roots)) continue;
    const exports = (mod as { exports?: TrackingRunModule } | undefined)?.exports;
    if (typeof exports?.activeRuns !== 'function') continue;
    for (const run of exports.activeRuns()) ids.push(String(run.id ?? '?'));
  }
  return ids;
}
