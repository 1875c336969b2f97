/**
 * runner/pool — a warm pool of step worker processes. Starting Node costs tens of milliseconds, so the pool
 * forks workers ahead of time; each worker still runs exactly one step and then exits (every step is
 * isolated in its own process), and the pool forks a replacement as soon as one is taken. Handing a step to
 * a ready worker is one IPC message.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { CellarError } from '../../kernel-lib/errors.js';
import { currentProcess, processStartTime } from '../../kernel-lib/store/process.js';
import type { StepResult, WorkerMessage, WorkerTask } from './protocol.js';

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
}

/** How an attempt ended, as the runner saw it. */
export interface AttemptOutcome {
  /** The worker's report (from IPC, or from the result file), or null when it died without one. */
  result: StepResult | null;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** True when the runner killed the step because it ran past its timeout. */
  timedOut: boolean;
}

/** Reads an attempt's result file, or null when the worker did not get to write it. */
export function readResultFile(file: string): StepResult | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as StepResult;
  } catch {
    return null;
  }
}

/** One forked worker process (ready for, or running, one step). */
export class StepWorker {
  /** The worker's pid. */
  readonly pid: number;
  /** Its kernel start time (with host and pid, identifies the process across restarts of the runner). */
  readonly started: string;
  /** The host it runs on. */
  readonly host: string;
  /** Resolves when the worker has loaded and waits for a task; rejects when it died first. */
  readonly ready: Promise<void>;
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  private readonly exited: Promise<void>;

  /** Wraps a freshly forked child (use {@link WorkerPool.acquire}). */
  constructor(private readonly child: ChildProcess) {
    if (child.pid === undefined) throw new CellarError('INTERNAL', 'Could not start a step worker process.');
    this.pid = child.pid;
    this.started = processStartTime(child.pid);
    this.host = currentProcess().host;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve();
      });
    });
    this.ready = new Promise((resolve, reject) => {
      const onMessage = (m: WorkerMessage): void => {
        if (m?.type === 'ready') {
          child.off('message', onMessage);
          resolve();
        }
      };
      child.on('message', onMessage);
      void this.exited.then(() => reject(new Error(`worker ${this.pid} exited before it was ready`)));
    });
    this.ready.catch(() => undefined);
    child.on('error', () => undefined); // reported through 'exit'
  }

  /** True once the process has exited. */
  get isExited(): boolean {
    return this.exitInfo !== null;
  }

  /**
   * Hands `task` to the worker and resolves when the step has finished (successful results resolve as soon
   * as the worker reports them; failures once the process is gone, so that a retry never overlaps it).
   */
  run(task: WorkerTask, timeoutMs = 0): Promise<AttemptOutcome> {
    return new Promise((resolve) => {
      let result: StepResult | null = null;
      let timedOut = false;
      let settled = false;
      const settle = (): void => {
        if (settled) return;
        settled = true;
        if (timer) clearTimeout(timer);
        this.child.off('message', onMessage);
        resolve({
          result: result ?? readResultFile(task.resultFile),
          exitCode: this.exitInfo?.code ?? null,
          signal: this.exitInfo?.signal ?? null,
          timedOut,
        });
      };
      const onMessage = (m: WorkerMessage): void => {
        if (m?.type !== 'result') return;
        result = m.result;
        if (result.ok) settle();
      };
      const timer =
        timeoutMs > 0
          ? setTimeout(() => {
              timedOut = true;
              result = null;
              this.kill();
            }, timeoutMs)
          : null;
      this.child.on('message', onMessage);
      void this.exited.then(() => {
        if (timedOut) result = null;
        settle();
      });
      try {
        this.child.send({ type: 'task', task }, (err) => {
          if (err) this.kill();
        });
      } catch {
        this.kill();
      }
    });
  }

  /** Kills the process and what it started (SIGKILL to its process group). */
  kill(): void {
    if (this.isExited) return;
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      this.child.kill('SIGKILL');
    }
  }

  /** Resolves when the process has exited. */
  whenExited(): Promise<void> {
    return this.exited;
  }
}

/**
 * Forks one worker process running `script`; its stdout/stderr outside a step go to `logFd` (or nowhere).
 * Worker processes get no Node flags of this process (`execArgv: []`) and lead a process group of their own:
 * Ctrl-C in the scheduler's terminal does not kill running steps (the scheduler decides), and a timeout kills
 * whatever the step started too.
 */
export function forkWorker(
  script: string,
  logFd: number | null = null,
  env: NodeJS.ProcessEnv = process.env,
): StepWorker {
  const out = logFd ?? 'ignore';
  const child = fork(script, [], {
    execArgv: [],
    env,
    stdio: ['ignore', out, out, 'ipc'],
    serialization: 'json',
    detached: true,
  });
  return new StepWorker(child);
}

/** A pool of pre-forked step workers. */
export class WorkerPool {
  private readonly size: number;
  private readonly ready: StepWorker[] = [];
  private readonly starting = new Set<StepWorker>();
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

  private spawn(): void {
    const worker = forkWorker(this.opts.script, this.logFd, this.opts.env);
    this.starting.add(worker);
    worker.ready.then(
      () => {
        this.starting.delete(worker);
        this.failuresInARow = 0;
        if (this.closed) return worker.kill();
        const waiter = this.waiters.shift();
        if (waiter) {
          waiter.resolve(worker);
          setImmediate(() => this.topUp());
        } else this.ready.push(worker);
      },
      () => {
        this.starting.delete(worker);
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
    while (this.ready.length + this.starting.size < this.size + this.waiters.length) this.spawn();
  }

  /** Resolves with a ready worker (forking a replacement right away). */
  acquire(): Promise<StepWorker> {
    if (this.closed) return Promise.reject(new CellarError('INVALID_STATE', 'The worker pool is closed.'));
    const w = this.ready.shift();
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
    for (const w of this.starting) w.kill();
    for (const w of this.waiters.splice(0))
      w.reject(new CellarError('INVALID_STATE', 'The worker pool was closed.'));
    if (this.logFd !== null) closeSync(this.logFd);
    this.logFd = null;
  }
}
