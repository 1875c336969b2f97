/**
 * runner/launcher-main — the body of the launcher process (the worker script started with
 * `--cellar-launcher`). It forks the pool's step workers on request and relays messages between them and the
 * runner. Forking copies the page tables of the forking process, which takes milliseconds in a large
 * scheduler process and blocks its event loop; this small process does it instead, off the scheduler's
 * thread. When the runner goes away the launcher exits: idle workers then exit too, busy ones finish their
 * step and leave their result file for the next scheduler.
 */
import { fork, type ChildProcess } from 'node:child_process';
import type { TaskMessage, WorkerMessage } from './protocol.js';
import { workerForkOptions } from './worker-handle.js';

/** Runner → launcher. */
export type ToLauncher = { type: 'spawn'; id: number } | { type: 'to'; pid: number; msg: TaskMessage };

/** Launcher → runner. */
export type FromLauncher =
  | { type: 'launcher-ready' }
  | { type: 'spawned'; id: number; pid: number }
  | { type: 'spawn-failed'; id: number }
  | { type: 'from'; pid: number; msg: WorkerMessage }
  | { type: 'exit'; pid: number; code: number | null; signal: NodeJS.Signals | null };

/** Runs the launcher protocol; `workerScript` is the script the workers run (this same file). */
export function startLauncher(workerScript: string): void {
  if (typeof process.send !== 'function') {
    process.stderr.write('cellar launcher: this script is started by the pipeline runner, not by hand.\n');
    process.exit(2);
  }
  const workers = new Map<number, ChildProcess>();
  const tell = (m: FromLauncher): void => {
    if (process.connected) process.send!(m);
  };
  process.on('message', (m: ToLauncher) => {
    if (m?.type === 'spawn') {
      const child = fork(workerScript, [], workerForkOptions('inherit', process.env));
      const pid = child.pid;
      if (pid === undefined) {
        tell({ type: 'spawn-failed', id: m.id });
        return;
      }
      workers.set(pid, child);
      child.on('error', () => undefined); // reported through 'exit'
      child.on('message', (msg: WorkerMessage) => tell({ type: 'from', pid, msg }));
      child.once('exit', (code, signal) => {
        workers.delete(pid);
        tell({ type: 'exit', pid, code, signal });
      });
      tell({ type: 'spawned', id: m.id, pid });
    } else if (m?.type === 'to') {
      const child = workers.get(m.pid);
      try {
        child?.send(m.msg, (err) => {
          if (err) child.kill('SIGKILL');
        });
      } catch {
        child?.kill('SIGKILL');
      }
    }
  });
  process.on('disconnect', () => process.exit(0));
  tell({ type: 'launcher-ready' });
}
