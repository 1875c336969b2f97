/**
 * runner/pool — a warm pool of step worker processes. Starting Node costs tens of milliseconds, so the pool
 * starts workers ahead of time; each worker still runs exactly one step and then exits (every step is
 * isolated in its own process), and a replacement is started as soon as one is taken. Handing a step to a
 * ready worker is one IPC message. Workers are forked by a small launcher process (runner/launcher), so the
 * runner's own event loop never blocks in fork().
 */
import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { CellarError } from '../../kernel-lib/errors.js';
import { Launcher } from './launcher.js';
import { forkWorker, type StepWorker } from './worker-handle.js';

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
}

/** A pool of pre-forked step workers. */
export class WorkerPool {
  private readonly size: number;
  private readonly ready: StepWorker[] = [];
  private readonly waiters: Array<{ resolve: (w: StepWorker) => void; reject: (e: Error) => void }> = [];
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

  /** Resolves with a ready worker (forking a replacement right away). */
  acquire(): Promise<StepWorker> {
    if (this.closed) return Promise.reject(new CellarError('INVALID_STATE', 'The worker pool is closed.'));
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
