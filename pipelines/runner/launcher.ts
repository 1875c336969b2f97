/**
 * runner/launcher — the runner's side of the launcher process (see launcher-main): starts it, asks it for
 * workers, and gives each one a `WorkerChannel` relayed through it. If the launcher dies while workers are
 * alive, their handles fall back to watching the pid (+ start time) until the process is gone; the attempt's
 * result file says how it ended. A new launcher is started for the next workers.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { currentProcess, isProcessAlive, processStartTime } from '../../kernel-lib/store/process.js';
import type { FromLauncher, ToLauncher } from './launcher-main.js';
import { LAUNCHER_FLAG, type TaskMessage, type WorkerMessage } from './protocol.js';
import { StepWorker, type WorkerChannel } from './worker-handle.js';

interface Remote {
  started: string;
  listeners: Set<(m: WorkerMessage) => void>;
  exit: ((code: number | null, signal: NodeJS.Signals | null) => void) | null;
  exited: boolean;
}

/** One launcher process and the workers it started. */
export class Launcher {
  private readonly child: ChildProcess;
  private readonly remotes = new Map<number, Remote>();
  private readonly pending = new Map<
    number,
    { resolve: (w: StepWorker) => void; reject: (e: Error) => void }
  >();
  private readonly queue: ToLauncher[] = [];
  private isReady = false;
  private nextId = 1;
  /** True once the launcher process has exited. */
  dead = false;

  /** Starts the launcher process (output to `out`). */
  constructor(script: string, out: number | 'ignore', env: NodeJS.ProcessEnv) {
    this.child = fork(script, [LAUNCHER_FLAG], {
      execArgv: [],
      env,
      stdio: ['ignore', out, out, 'ipc'],
      serialization: 'json',
      detached: true, // Ctrl-C in the terminal must not cut the scheduler off from its running steps
    });
    this.child.on('error', () => undefined);
    this.child.on('message', (m: FromLauncher) => this.receive(m));
    this.child.once('exit', () => this.died());
  }

  private post(m: ToLauncher): void {
    if (this.dead) return;
    if (!this.isReady) {
      this.queue.push(m);
      return;
    }
    try {
      this.child.send(m);
    } catch {
      // the launcher is going away: 'exit' handles everything
    }
  }

  private receive(m: FromLauncher): void {
    switch (m?.type) {
      case 'launcher-ready':
        this.isReady = true;
        for (const q of this.queue.splice(0)) this.post(q);
        return;
      case 'spawned': {
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        const remote: Remote = {
          started: processStartTime(m.pid),
          listeners: new Set(),
          exit: null,
          exited: false,
        };
        this.remotes.set(m.pid, remote);
        p?.resolve(new StepWorker(m.pid, this.channel(m.pid, remote)));
        return;
      }
      case 'spawn-failed':
        this.pending.get(m.id)?.reject(new Error('the launcher could not start a worker'));
        this.pending.delete(m.id);
        return;
      case 'from':
        for (const fn of [...(this.remotes.get(m.pid)?.listeners ?? [])]) fn(m.msg);
        return;
      case 'exit':
        this.exited(m.pid, m.code, m.signal);
        return;
    }
  }

  private exited(pid: number, code: number | null, signal: NodeJS.Signals | null): void {
    const r = this.remotes.get(pid);
    if (!r || r.exited) return;
    r.exited = true;
    this.remotes.delete(pid);
    r.exit?.(code, signal);
  }

  private died(): void {
    this.dead = true;
    for (const p of this.pending.values()) p.reject(new Error('the launcher process exited'));
    this.pending.clear();
    // Workers outlive their launcher: follow them by pid (+ start time) until they are gone.
    for (const [pid, r] of this.remotes) {
      const identity = { host: currentProcess().host, pid, started: r.started };
      const poll = setInterval(() => {
        if (!isProcessAlive(identity)) {
          clearInterval(poll);
          this.exited(pid, null, null);
        }
      }, 50);
    }
  }

  private channel(pid: number, remote: Remote): WorkerChannel {
    return {
      send: (msg: TaskMessage, failed) => {
        if (this.dead) return failed();
        this.post({ type: 'to', pid, msg });
      },
      onMessage: (fn) => remote.listeners.add(fn),
      offMessage: (fn) => remote.listeners.delete(fn),
      onExit: (fn) => {
        remote.exit = fn;
      },
      open: () => !this.dead,
    };
  }

  /** The launcher process's pid. */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Asks for a new worker; resolves with its handle once it is forked (its `ready` tells when it is loaded). */
  spawn(): Promise<StepWorker> {
    if (this.dead) return Promise.reject(new Error('the launcher process exited'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.post({ type: 'spawn', id });
    });
  }

  /** Stops the launcher (idle workers exit with it; running ones finish their step). */
  close(): void {
    if (!this.dead) this.child.disconnect();
  }
}
