/**
 * runner/worker-handle — the runner's handle on one step worker process: wait until it is ready, hand it a
 * step, learn how the attempt ended (its report over IPC, else its result file, plus exit code and signal),
 * whether the worker stays for another step, and kill it on timeout. The handle talks through a `WorkerChannel`: directly to a child this process forked,
 * or through the launcher process that forks the pool's workers (runner/launcher).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { CellarError } from '../../kernel-lib/errors.js';
import { currentProcess, processStartTime } from '../../kernel-lib/store/process.js';
import type { StepResult, TaskMessage, WorkerMessage, WorkerTask } from './protocol.js';

/** How an attempt ended, as the runner saw it. */
export interface AttemptOutcome {
  /** The worker's report (from IPC, or from the result file), or null when it died without one. */
  result: StepResult | null;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** True when the runner killed the step because it ran past its timeout. */
  timedOut: boolean;
  /** True when the step succeeded and the worker waits for another step (see WorkerPool.release). */
  reusable: boolean;
}

/** How the runner reaches one worker. */
export interface WorkerChannel {
  /** Sends a message; calls `failed` when it cannot be delivered. */
  send(msg: TaskMessage, failed: () => void): void;
  onMessage(fn: (m: WorkerMessage) => void): void;
  offMessage(fn: (m: WorkerMessage) => void): void;
  /** Registers the (single) exit callback. */
  onExit(fn: (code: number | null, signal: NodeJS.Signals | null) => void): void;
  /** False once messages can no longer reach the worker (its launcher died). */
  open?(): boolean;
}

/** Reads an attempt's result file, or null when the worker did not get to write it. */
export function readResultFile(file: string): StepResult | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as StepResult;
  } catch {
    return null;
  }
}

/** One worker process (ready for, or running, one step). */
export class StepWorker {
  /** The worker's pid. */
  readonly pid: number;
  /** Its kernel start time (with host and pid, identifies the process across restarts of the runner). */
  readonly started: string;
  /** The host it runs on. */
  readonly host: string;
  /** Resolves when the worker has loaded and waits for a task; rejects when it died first. */
  readonly ready: Promise<void>;
  /** Steps handed to this worker so far. */
  stepsRun = 0;
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  private readonly exited: Promise<void>;

  /** Wraps a freshly started worker process (use WorkerPool.acquire or forkWorker). */
  constructor(
    pid: number,
    private readonly channel: WorkerChannel,
  ) {
    this.pid = pid;
    this.started = processStartTime(pid);
    this.host = currentProcess().host;
    this.exited = new Promise((resolve) => {
      channel.onExit((code, signal) => {
        this.exitInfo = { code, signal };
        resolve();
      });
    });
    this.ready = new Promise((resolve, reject) => {
      const onMessage = (m: WorkerMessage): void => {
        if (m?.type === 'ready') {
          channel.offMessage(onMessage);
          resolve();
        }
      };
      channel.onMessage(onMessage);
      void this.exited.then(() => reject(new Error(`worker ${this.pid} exited before it was ready`)));
    });
    this.ready.catch(() => undefined);
  }

  /** True once the process has exited. */
  get isExited(): boolean {
    return this.exitInfo !== null;
  }

  /** True while a step can still be handed to this worker. */
  get usable(): boolean {
    return !this.isExited && (this.channel.open?.() ?? true);
  }

  /**
   * Hands `task` to the worker and resolves when the step has finished (successful results resolve as soon
   * as the worker reports them; failures once the process is gone, so that a retry never overlaps it).
   */
  run(task: WorkerTask, timeoutMs = 0): Promise<AttemptOutcome> {
    this.stepsRun += 1;
    return new Promise((resolve) => {
      let result: StepResult | null = null;
      let reusable = false;
      let timedOut = false;
      let settled = false;
      const settle = (): void => {
        if (settled) return;
        settled = true;
        if (timer) clearTimeout(timer);
        this.channel.offMessage(onMessage);
        resolve({
          // The exit notice can overtake the last IPC message: the result file is written before either.
          result: timedOut ? null : (result ?? readResultFile(task.resultFile)),
          exitCode: this.exitInfo?.code ?? null,
          signal: this.exitInfo?.signal ?? null,
          timedOut,
          reusable: reusable && !timedOut && !this.isExited,
        });
      };
      const onMessage = (m: WorkerMessage): void => {
        if (m?.type !== 'result') return;
        result = m.result;
        reusable = m.reusable === true && result.ok;
        if (result.ok) settle();
      };
      const timer =
        timeoutMs > 0
          ? setTimeout(() => {
              timedOut = true;
              this.kill();
            }, timeoutMs)
          : null;
      this.channel.onMessage(onMessage);
      void this.exited.then(settle);
      this.channel.send({ type: 'task', task }, () => this.kill());
    });
  }

  /** Kills the process and what it started (SIGKILL to its process group). */
  kill(): void {
    if (this.isExited) return;
    for (const target of [-this.pid, this.pid]) {
      try {
        process.kill(target, 'SIGKILL');
        return;
      } catch {
        // not a group leader (or gone): try the process itself
      }
    }
  }

  /** Resolves when the process has exited. */
  whenExited(): Promise<void> {
    return this.exited;
  }
}

/** A channel to a child process this process forked itself. */
export function childChannel(child: ChildProcess): WorkerChannel {
  child.on('error', () => undefined); // reported through 'exit'
  return {
    send(msg, failed) {
      try {
        child.send(msg, (err) => {
          if (err) failed();
        });
      } catch {
        failed();
      }
    },
    onMessage: (fn) => child.on('message', fn),
    offMessage: (fn) => child.off('message', fn),
    onExit: (fn) => child.once('exit', fn),
  };
}

/** Options every worker process is started with (directly or by the launcher). */
export function workerForkOptions(
  stdout: number | 'ignore' | 'inherit',
  env: NodeJS.ProcessEnv,
): Parameters<typeof fork>[2] {
  // No Node flags of the parent; a process group of its own: Ctrl-C in the scheduler's terminal does not
  // kill running steps (the scheduler decides), and a timeout kills whatever the step started too.
  const fast = lazyCaEnv(env);
  return {
    execArgv: fast.execArgv,
    env: fast.env,
    stdio: ['ignore', stdout, stdout, 'ipc'],
    serialization: 'json',
    detached: true,
  };
}

/** System-wide CA bundles: files that already hold the full set of public roots (plus local additions). */
const SYSTEM_CA_BUNDLES = new Set([
  '/etc/ssl/certs/ca-certificates.crt',
  '/etc/pki/tls/certs/ca-bundle.crt',
  '/etc/ssl/cert.pem',
]);

/**
 * Node parses every certificate of `NODE_EXTRA_CA_CERTS` at start-up (~30 ms for a system bundle, more than
 * half of a worker's start). When it names the system bundle, the same trust is had lazily — only when a step
 * opens a TLS connection — with OpenSSL's store pointed at that bundle (`--use-openssl-ca` + `SSL_CERT_FILE`).
 * Any other value (e.g. one corporate CA, meant to be added to Node's roots) is passed through unchanged.
 */
export function lazyCaEnv(env: NodeJS.ProcessEnv): { env: NodeJS.ProcessEnv; execArgv: string[] } {
  const extra = env.NODE_EXTRA_CA_CERTS;
  if (!extra || !SYSTEM_CA_BUNDLES.has(extra) || (env.SSL_CERT_FILE && env.SSL_CERT_FILE !== extra)) {
    return { env, execArgv: [] };
  }
  const out: NodeJS.ProcessEnv = { ...env, SSL_CERT_FILE: extra };
  delete out.NODE_EXTRA_CA_CERTS;
  return { env: out, execArgv: ['--use-openssl-ca'] };
}

/**
 * Forks one worker process running `script` as a child of this process (used for single steps; the pool
 * goes through the launcher). Its stdout/stderr outside a step go to `logFd` (or nowhere).
 *
 * @throws CellarError INTERNAL when the process cannot be started.
 */
export function forkWorker(
  script: string,
  logFd: number | null = null,
  env: NodeJS.ProcessEnv = process.env,
): StepWorker {
  const child = fork(script, [], workerForkOptions(logFd ?? 'ignore', env));
  if (child.pid === undefined) throw new CellarError('INTERNAL', 'Could not start a step worker process.');
  return new StepWorker(child.pid, childChannel(child));
}
