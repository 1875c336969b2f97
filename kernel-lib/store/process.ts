/**
 * store/process — identifies processes across restarts so that work owned by a dead process (a RUNNING
 * run, a step attempt) can be detected: host name + pid + the kernel's start time of that pid, which
 * changes when a pid is reused.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

/** Who owns a piece of work. */
export interface ProcessIdentity {
  host: string;
  pid: number;
  /** Start time of the process as the OS reports it (Linux: clock ticks since boot), or '' if unknown. */
  started: string;
}

/** Reads the start time of `pid` from /proc (Linux), or '' when it cannot be read. */
export function processStartTime(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may contain spaces; fields after it are space-separated.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19] ?? ''; // field 22 overall: starttime
  } catch {
    return '';
  }
}

/** The one-letter state of `pid` from /proc (R, S, Z, …), or '' when unknown. */
export function processState(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] ?? '';
  } catch {
    return '';
  }
}

let self: ProcessIdentity | undefined;

/** The identity of the current process (computed once). */
export function currentProcess(): ProcessIdentity {
  self ??= { host: hostname(), pid: process.pid, started: processStartTime(process.pid) };
  return self;
}

/**
 * True when the process that `owner` names is still running on this host. Owners on other hosts are
 * assumed alive (cellar cannot check them from here).
 */
export function isProcessAlive(owner: ProcessIdentity): boolean {
  if (owner.host !== currentProcess().host) return true;
  try {
    process.kill(owner.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
    // EPERM: it exists but belongs to someone else
  }
  if (processState(owner.pid) === 'Z') return false; // exited, not yet reaped by its parent
  if (owner.started === '') return true;
  const now = processStartTime(owner.pid);
  return now === '' || now === owner.started;
}
