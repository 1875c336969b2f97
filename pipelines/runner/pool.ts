/**
 * runner/pool — a warm pool of step worker processes. Starting Node costs tens of milliseconds of CPU, so the
 * pool starts workers ahead of time and a replacement is started as soon as one is taken; handing a step to a
 * ready worker is one IPC message. Workers are forked by a small launcher process (runner/launcher), so the
 * runner's own event loop never blocks in fork().
 *
 * A worker whose step succeeded and left nothing behind (runner/worker-hygiene) can be given back with
 * `release()`: it then runs later steps of the same pipeline version (its affinity), one at a time, each
 * with fresh module state, up to `maxStepsPerWorker` steps; idle ones exit after `idleTimeoutMs`. A failure,
 * a timeout or any leftover ends the process. `maxStepsPerWorker: 1` gives every step a new process.
 */
import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { CellarError } from '../../kernel-lib/errors.js';
import { Launcher } from './launcher.js';
import { forkWorker, type StepWorker } from './worker-handle.js';
import { DEFAULT_MAX_STEPS_PER_WORKER } from './defaults.js';

/** Options of {@link WorkerPool}. */
export interface WorkerPoolOptions {
  /** The compiled worker script (see runner/worker-path). */
  script: string;
  /** Workers kept forked and ready ahead of time (default 2). */
  size?: number;
  /** Receives what workers print outside a step (e.g. a crash while starting). Default: discarded. */
  logFile?: string;
  /** Environment of the workers (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /**
   * Fork workers from this process instead of through the launcher process (default false). Forking from a
   * large process blocks its event loop for milliseconds per worker.
   */
  direct?: boolean;
  /** Steps one worker process may run, one after another (default 100; 1 = a new process for every step). */
  maxStepsPerWorker?: number;
  /** Released workers kept waiting for another step (default 8); more are stopped. */
  maxIdle?: number;
  /** A released worker not given a step within this time exits (default 30,000 ms). */
  idleTimeoutMs?: number;
}

/** Default of WorkerPoolOptions.maxStepsPerWorker (defined in runner/defaults, light for `--help`). */
export { DEFAULT_MAX_STEPS_PER_WORKER };

interface IdleWorker {
  worker: StepWorker;
  timer: NodeJS.Timeout;
}

/** A pool of pre-forked step workers. */
export class WorkerPool {
  private readonly size: number;
  private readonly ready: StepWorker[] = [];
  private readonly waiters: Array<{ resolve: (w: StepWorker) => void; reject: (e: Error) => void }> = [];
  /** Released workers by affinity (pipeline version), most recently released last. */
  private readonly idle = new Map<string, IdleWorker[]>();
  private idleCount = 0;
  private logFd: number | null = null;
  private closed = false;
  private failuresInARow = 0;

  /**
   * Creates the pool and forks its first workers.
   *
   * @throws CellarError NOT_FOUND when the worker script does not exist.
   */
  constructor(private readonly opts: WorkerPoolOptions) {
    if (!existsSync(opts.script)) {
      throw new CellarError(
        'NOT_FOUND',
        `The step worker script ${opts.script} does not exist. Run \`npm run build\`.`,
      );
    }
    this.size = Math.max(1, Math.floor(opts.size ?? 2));
    if (opts.logFile) {
      mkdirSync(dirname(opts.logFile), { recursive: true });
      this.logFd = openSync(opts.logFile, 'a');
    }
    this.topUp();
  }

  private launcher: Launcher | null = null;
  /** Workers asked for but not yet ready. */
  private starting = 0;
  private readonly unready = new Set<StepWorker>();

  private newWorker(): Promise<StepWorker> {
    const env = this.opts.env ?? process.env;
    if (this.opts.direct) return Promise.resolve(forkWorker(this.opts.script, this.logFd, env));
    if (!this.launcher || this.launcher.dead)
      this.launcher = new Launcher(this.opts.script, this.logFd ?? 'ignore', env);
    return this.launcher.spawn();
  }

  private spawn(): void {
    this.starting += 1;
    this.newWorker().then(
      (worker) => this.track(worker),
      () => this.failed(),
    );
  }

  private failed(): void {
    this.starting -= 1;
    if (this.closed) return;
    this.failuresInARow += 1;
    if (this.failuresInARow >= 3) {
      const err = new CellarError(
        'INTERNAL',
        `Step workers exit before they are ready (${this.opts.script}). ` +
          (this.opts.logFile ? `See ${this.opts.logFile}.` : 'Rebuild cellar (`npm run build`).'),
      );
      for (const w of this.waiters.splice(0)) w.reject(err);
      return;
    }
    this.topUp();
  }

  private track(worker: StepWorker): void {
    this.unready.add(worker);
    worker.ready.then(
      () => {
        this.starting -= 1;
        this.unready.delete(worker);
        this.failuresInARow = 0;
        if (this.closed) return worker.kill();
        const waiter = this.waiters.shift();
        if (waiter) {
          waiter.resolve(worker);
          setImmediate(() => this.topUp());
        } else this.ready.push(worker);
      },
      () => {
        this.unready.delete(worker);
        this.failed();
      },
    );
    void worker.whenExited().then(() => {
      const i = this.ready.indexOf(worker);
      if (i >= 0) {
        this.ready.splice(i, 1); // died while idle
        this.topUp();
      }
    });
  }

  private topUp(): void {
    if (this.closed) return;
    while (this.ready.length + this.starting < this.size + this.waiters.length) this.spawn();
  }

  /** The pid of the launcher process currently forking workers (null before the first or in direct mode). */
  get launcherPid(): number | null {
    return this.launcher && !this.launcher.dead ? (this.launcher.pid ?? null) : null;
  }

  /** The most steps one worker process runs. */
  get maxStepsPerWorker(): number {
    return Math.max(1, Math.floor(this.opts.maxStepsPerWorker ?? DEFAULT_MAX_STEPS_PER_WORKER));
  }

  /** Whether the step about to be handed to `worker` may leave it running for another one. */
  mayReuse(worker: StepWorker): boolean {
    return !this.closed && worker.stepsRun + 1 < this.maxStepsPerWorker;
  }

  private takeIdle(affinity: string): StepWorker | null {
    const list = this.idle.get(affinity);
    while (list && list.length > 0) {
      const { worker, timer } = list.pop()!;
      this.idleCount -= 1;
      clearTimeout(timer);
      if (list.length === 0) this.idle.delete(affinity);
      if (worker.usable) return worker;
      worker.kill();
    }
    return null;
  }

  private dropIdle(affinity: string, worker: StepWorker): void {
    const list = this.idle.get(affinity);
    const i = list ? list.findIndex((x) => x.worker === worker) : -1;
    if (!list || i < 0) return;
    clearTimeout(list[i]!.timer);
    list.splice(i, 1);
    this.idleCount -= 1;
    if (list.length === 0) this.idle.delete(affinity);
  }

  /**
   * Gives back a worker whose step succeeded and that waits for another one (AttemptOutcome.reusable): it
   * will run a later step with the same `affinity` (steps of one pipeline version). Stopped instead when the
   * pool is closed, holds `maxIdle` idle workers already, or the worker has run its last step.
   */
  release(worker: StepWorker, affinity: string): void {
    const maxIdle = Math.max(0, Math.floor(this.opts.maxIdle ?? 8));
    if (
      this.closed ||
      !worker.usable ||
      this.idleCount >= maxIdle ||
      !(worker.stepsRun < this.maxStepsPerWorker)
    ) {
      worker.kill();
      return;
    }
    const timer = setTimeout(() => {
      this.dropIdle(affinity, worker);
      worker.kill();
    }, this.opts.idleTimeoutMs ?? 30_000);
    timer.unref();
    const list = this.idle.get(affinity) ?? [];
    list.push({ worker, timer });
    this.idle.set(affinity, list);
    this.idleCount += 1;
    void worker.whenExited().then(() => this.dropIdle(affinity, worker));
  }

  /**
   * Resolves with a worker for a step: one released for the same `affinity` when there is one, else a
   * pre-started one (forking its replacement right away).
   */
  acquire(affinity?: string): Promise<StepWorker> {
    if (this.closed) return Promise.reject(new CellarError('INVALID_STATE', 'The worker pool is closed.'));
    const reused = affinity === undefined ? null : this.takeIdle(affinity);
    if (reused) return Promise.resolve(reused);
    let w = this.ready.shift();
    while (w && !w.usable) {
      w.kill(); // an idle worker whose launcher died exits by itself; make sure
      w = this.ready.shift();
    }
    if (w) {
      // Fork the replacement after the caller has handed its step over: forking blocks this thread for
      // milliseconds, which would otherwise sit between one step's end and the next one's start.
      setImmediate(() => this.topUp());
      return Promise.resolve(w);
    }
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.topUp();
    });
  }

  /** Kills the idle workers and stops forking (running steps are not touched). */
  close(): void {
    this.closed = true;
    for (const list of this.idle.values()) {
      for (const { worker, timer } of list) {
        clearTimeout(timer);
        worker.kill();
      }
    }
    this.idle.clear();
    this.idleCount = 0;
    for (const w of this.ready.splice(0)) w.kill();
    for (const w of this.unready) w.kill();
    this.launcher?.close();
    this.launcher = null;
    for (const w of this.waiters.splice(0))
      w.reject(new CellarError('INVALID_STATE', 'The worker pool was closed.'));
    if (this.logFd !== null) closeSync(this.logFd);
    this.logFd = null;
  }
}
