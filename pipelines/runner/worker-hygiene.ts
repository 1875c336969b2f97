/**
 * runner/worker-hygiene — what lets a step worker process run another step after one has succeeded, without
 * the second seeing anything of the first (the way a Celery prefork worker runs task after task, but
 * stricter). Before each step the worker takes a `WorkerBaseline`; after it, `leftovers()` lists what the
 * step left running or changed at process level — timers, sockets, child processes, process listeners,
 * globals, an exit code — and `restore()` puts back the environment, the working directory and the module
 * cache (every JavaScript module the step loaded is dropped, so the next step gets fresh instances with
 * fresh module state; native addons stay loaded, as Node cannot unload them). A step that leaves anything
 * behind retires its worker: the worker exits after reporting, and the next step gets a new process.
 */
import Module from 'node:module';

type ModuleCache = Record<string, unknown>;

function moduleCache(): ModuleCache {
  return (Module as unknown as { _cache: ModuleCache })._cache;
}

function resourceCounts(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of process.getActiveResourcesInfo()) counts.set(r, (counts.get(r) ?? 0) + 1);
  return counts;
}

function listenerCounts(): Map<string | symbol, number> {
  const counts = new Map<string | symbol, number>();
  for (const name of process.eventNames()) counts.set(name, process.listenerCount(name));
  return counts;
}

/** What the worker process looked like before a step (see the module header). */
export class WorkerBaseline {
  private readonly env: Record<string, string | undefined>;
  private readonly cwd: string;
  private readonly modules: Set<string>;
  private readonly globals: Set<string | symbol>;
  private readonly listeners: Map<string | symbol, number>;
  private readonly resources: Map<string, number>;

  /** Takes the baseline now (call it while no step is running). */
  constructor() {
    this.env = { ...process.env };
    this.cwd = process.cwd();
    this.modules = new Set(Object.keys(moduleCache()));
    this.globals = new Set(Reflect.ownKeys(globalThis));
    this.listeners = listenerCounts();
    this.resources = resourceCounts();
  }

  /**
   * What the step left behind that a later step could see or be disturbed by; empty when the process is as
   * clean as before the step (apart from what `restore()` puts back). Call it before `restore()`.
   */
  leftovers(): string[] {
    const found: string[] = [];
    for (const [name, n] of resourceCounts()) {
      const extra = n - (this.resources.get(name) ?? 0);
      if (extra > 0) found.push(`${extra} active ${name}`);
    }
    for (const [name, n] of listenerCounts()) {
      const extra = n - (this.listeners.get(name) ?? 0);
      if (extra > 0) found.push(`${extra} process '${String(name)}' listener(s)`);
    }
    const globals = Reflect.ownKeys(globalThis).filter((k) => !this.globals.has(k));
    if (globals.length > 0) found.push(`globals ${globals.map(String).join(', ')}`);
    if (process.exitCode !== undefined && process.exitCode !== 0) found.push('an exit code');
    return found;
  }

  /** Puts back the environment variables, the working directory and the module cache of the baseline. */
  restore(): void {
    for (const key of Object.keys(process.env)) if (!(key in this.env)) delete process.env[key];
    for (const [key, value] of Object.entries(this.env)) {
      if (value !== undefined && process.env[key] !== value) process.env[key] = value;
    }
    if (process.cwd() !== this.cwd) process.chdir(this.cwd);
    const cache = moduleCache();
    for (const file of Object.keys(cache)) {
      if (!this.modules.has(file) && !file.endsWith('.node')) delete cache[file];
    }
  }
}
