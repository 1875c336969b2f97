/**
 * runner/worker-hygiene — what lets a step worker process run another step after one has succeeded, without
 * the second seeing anything of the first (the way a Celery prefork worker runs task after task, but
 * stricter). Before each step the worker takes a `WorkerBaseline`; after it, `leftovers()` lists what the
 * step left running or changed at process level — timers, sockets, child processes, process listeners,
 * globals, patched built-ins (`Array.prototype.x = …`, `Math.random = …`), an exit code — and `restore()` puts back the environment, the working directory and the module
 * cache (every JavaScript module the step loaded is dropped, so the next step gets fresh instances with
 * fresh module state; native addons stay loaded, as Node cannot unload them). A step that leaves anything
 * behind retires its worker: the worker exits after reporting, and the next step gets a new process.
 * cellar's own expected state is the exception, listed in runner/cellar-state: its modules (and what they
 * loaded) stay loaded, its registries on `globalThis` and its exit/signal hooks are taken into the baseline,
 * and only a tracked run left active counts as the step's leftover.
 */
import Module from 'node:module';
import timers from 'node:timers';
import {
  activeCellarRuns,
  callerFile,
  CELLAR_HOOK_EVENTS,
  cellarRoots,
  isCellarGlobal,
  isCellarModuleFile,
} from './cellar-state.js';

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

type TimerFn = (...args: never[]) => NodeJS.Timeout;

/**
 * Timers created while a step runs. Unref'd timers are invisible to `process.getActiveResourcesInfo()` but
 * would still fire during a later step, so `setTimeout` / `setInterval` (global and `node:timers`) are
 * wrapped for the duration of the step and the timers they return are checked afterwards.
 */
class TimerWatch {
  private readonly created = new Set<NodeJS.Timeout>();
  private saved: Array<[object, 'setTimeout' | 'setInterval', TimerFn]> = [];

  start(): void {
    this.created.clear();
    for (const host of [globalThis, timers] as Array<Record<'setTimeout' | 'setInterval', TimerFn>>) {
      for (const name of ['setTimeout', 'setInterval'] as const) {
        const original = host[name];
        this.saved.push([host, name, original]);
        const created = this.created;
        const wrapped = function (this: unknown, ...args: never[]): NodeJS.Timeout {
          const t = original.apply(this, args);
          created.add(t);
          return t;
        };
        host[name] = Object.assign(wrapped, original) as TimerFn;
      }
    }
  }

  stop(): void {
    for (const [host, name, original] of this.saved.reverse())
      (host as Record<string, TimerFn>)[name] = original;
    this.saved = [];
  }

  /** Timers of the step that are still armed but do not keep the process alive. */
  unrefedLive(): number {
    let n = 0;
    for (const t of this.created) {
      const destroyed = (t as unknown as { _destroyed?: boolean })._destroyed;
      if (destroyed === false && !t.hasRef()) n += 1;
    }
    return n;
  }
}

type AddListener = (this: NodeJS.Process, event: string | symbol, fn: (...a: unknown[]) => void) => unknown;
const ADD_METHODS = ['on', 'addListener', 'prependListener'] as const; // `once` goes through `on`

/**
 * Process listeners that cellar's own modules add while a step runs (its exit and signal hooks): the
 * add methods of `process` are wrapped for the duration of the step and the caller's file is looked up.
 */
class CellarListenerWatch {
  readonly added = new Map<string | symbol, number>();
  private active = false;

  constructor(private readonly roots: readonly string[]) {}

  start(): void {
    this.added.clear();
    if (this.active) return;
    this.active = true;
    const added = this.added;
    const roots = this.roots;
    for (const name of ADD_METHODS) {
      const original = process[name] as unknown as AddListener;
      const wrapped = function (this: NodeJS.Process, event: string | symbol, fn: (...a: unknown[]) => void) {
        if (typeof event === 'string' && CELLAR_HOOK_EVENTS.includes(event)) {
          const file = callerFile(new Error().stack);
          if (file !== null && isCellarModuleFile(file, roots)) added.set(event, (added.get(event) ?? 0) + 1);
        }
        return original.call(this, event, fn);
      };
      Object.defineProperty(process, name, { value: wrapped, configurable: true, writable: true });
    }
  }

  stop(): void {
    if (!this.active) return;
    this.active = false;
    for (const name of ADD_METHODS) delete (process as unknown as Record<string, unknown>)[name];
  }
}

/** Built-in objects whose properties a step could patch for every later step (`Array.prototype.sum = …`). */
function builtins(): Array<[string, object]> {
  const ctors: Array<[string, object]> = Object.entries({
    Object,
    Function,
    Array,
    String,
    Number,
    Boolean,
    Symbol,
    BigInt,
    Date,
    RegExp,
    Error,
    TypeError,
    RangeError,
    Map,
    Set,
    WeakMap,
    WeakSet,
    Promise,
    ArrayBuffer,
    DataView,
    Uint8Array,
    Float64Array,
    Float32Array,
    Int32Array,
    TypedArray: Object.getPrototypeOf(Uint8Array) as object,
    Buffer,
  });
  const all: Array<[string, object]> = [['globalThis', globalThis]];
  for (const [name, ctor] of ctors) {
    all.push([name, ctor]);
    const proto = (ctor as { prototype?: unknown }).prototype;
    if (proto && typeof proto === 'object') all.push([`${name}.prototype`, proto]);
  }
  all.push(['Math', Math], ['JSON', JSON], ['Reflect', Reflect], ['console', console]);
  return all;
}

/** An object's own keys, and the values of its data properties (accessors are not called). */
interface PropertySnapshot {
  keys: Set<string | symbol>;
  data: Array<[string | symbol, unknown]>;
}

function snapshot(o: object): PropertySnapshot {
  const keys = new Set(Reflect.ownKeys(o));
  const data: Array<[string | symbol, unknown]> = [];
  for (const key of keys) {
    const d = Object.getOwnPropertyDescriptor(o, key);
    if (d && 'value' in d) data.push([key, d.value]);
  }
  return { keys, data };
}

/** Globals Node itself installs on first use of a built-in (the first `fetch` sets undici's dispatcher). */
function nodeInternalGlobal(key: string | symbol): boolean {
  return typeof key === 'symbol' && (key.description ?? '').startsWith('undici.');
}

/** What the worker process looked like before a step (see the module header). */
export class WorkerBaseline {
  private readonly env: Record<string, string | undefined>;
  private readonly cwd: string;
  private readonly modules: Set<string>;
  private readonly globals: Set<string | symbol>;
  private listeners: Map<string | symbol, number>;
  private readonly roots = cellarRoots();
  private readonly cellarListeners = new CellarListenerWatch(this.roots);
  private readonly resources: Map<string, number>;
  private readonly builtins: Array<[string, object, PropertySnapshot]>;
  private readonly timers = new TimerWatch();

  /** Takes the baseline now (call it while no step is running). */
  constructor() {
    this.env = { ...process.env };
    this.cwd = process.cwd();
    this.modules = new Set(Object.keys(moduleCache()));
    this.globals = new Set(Reflect.ownKeys(globalThis));
    this.listeners = listenerCounts();
    this.resources = resourceCounts();
    this.builtins = builtins().map(([name, o]) => [name, o, snapshot(o)]);
  }

  /** Built-in properties the step added, removed or replaced (new globals are listed separately). */
  private patchedBuiltins(): string[] {
    const changed: string[] = [];
    for (const [name, o, before] of this.builtins) {
      const o2 = o as Record<string | symbol, unknown>;
      for (const [key, value] of before.data) {
        if (!Object.is(o2[key], value)) changed.push(`${name}.${String(key)}`);
      }
      const now = Reflect.ownKeys(o);
      if (now.length === before.keys.size && now.every((k) => before.keys.has(k))) continue;
      for (const key of now) {
        if (!before.keys.has(key) && name !== 'globalThis') changed.push(`${name}.${String(key)}`);
      }
      for (const key of before.keys) if (!now.includes(key)) changed.push(`${name}.${String(key)} (deleted)`);
    }
    return changed;
  }

  /** Starts watching what the next step creates (call it just before the step runs). */
  beginStep(): void {
    this.timers.start();
    this.cellarListeners.start();
  }

  /**
   * What the step left behind that a later step could see or be disturbed by; empty when the process is as
   * clean as before the step (apart from what `restore()` puts back). Call it before `restore()`.
   */
  leftovers(): string[] {
    const found: string[] = [];
    const unrefed = this.timers.unrefedLive();
    this.timers.stop(); // puts back the real setTimeout / setInterval before built-ins are compared
    this.cellarListeners.stop();
    if (unrefed > 0) found.push(`${unrefed} unref'd timer(s)`);
    for (const [name, n] of resourceCounts()) {
      const extra = n - (this.resources.get(name) ?? 0);
      if (extra > 0) found.push(`${extra} active ${name}`);
    }
    for (const [name, n] of listenerCounts()) {
      const extra = n - (this.listeners.get(name) ?? 0) - (this.cellarListeners.added.get(name) ?? 0);
      if (extra > 0) found.push(`${extra} process '${String(name)}' listener(s)`);
    }
    const runs = activeCellarRuns(moduleCache(), this.roots);
    if (runs.length > 0) found.push(`an active cellar run ${runs.join(', ')} (end it, or use withRun)`);
    const globals = Reflect.ownKeys(globalThis).filter(
      (k) => !this.globals.has(k) && !nodeInternalGlobal(k) && !isCellarGlobal(k),
    );
    if (globals.length > 0) found.push(`globals ${globals.map(String).join(', ')}`);
    const patched = this.patchedBuiltins();
    if (patched.length > 0) found.push(`patched built-ins ${patched.slice(0, 5).join(', ')}`);
    if (process.exitCode !== undefined && process.exitCode !== 0) found.push('an exit code');
    return found;
  }

  /**
   * Puts back the environment variables, the working directory and the module cache of the baseline, and
   * takes cellar's expected state (its modules and what they loaded, its globals and hooks) into the
   * baseline: it stays for the next step.
   */
  restore(): void {
    this.timers.stop();
    this.cellarListeners.stop();
    for (const key of Object.keys(process.env)) if (!(key in this.env)) delete process.env[key];
    for (const [key, value] of Object.entries(this.env)) {
      if (value !== undefined && process.env[key] !== value) process.env[key] = value;
    }
    if (process.cwd() !== this.cwd) process.chdir(this.cwd);
    const cache = moduleCache();
    const kept = this.cellarModules(cache);
    for (const file of Object.keys(cache)) {
      if (this.modules.has(file) || file.endsWith('.node')) continue;
      if (kept.has(file)) this.modules.add(file);
      else delete cache[file];
    }
    for (const key of Reflect.ownKeys(globalThis)) if (isCellarGlobal(key)) this.globals.add(key);
    this.listeners = listenerCounts();
  }

  /** The step's new modules that are cellar's own, and every module they required (their dependencies). */
  private cellarModules(cache: ModuleCache): Set<string> {
    type Loaded = { filename?: string; children?: Loaded[] };
    const kept = new Set<string>();
    const stack: Loaded[] = [];
    for (const [file, mod] of Object.entries(cache)) {
      if (!this.modules.has(file) && isCellarModuleFile(file, this.roots)) stack.push(mod as Loaded);
    }
    while (stack.length > 0) {
      const m = stack.pop()!;
      if (m.filename === undefined || kept.has(m.filename)) continue;
      kept.add(m.filename);
      for (const child of m.children ?? []) stack.push(child);
    }
    return kept;
  }
}
