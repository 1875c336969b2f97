/**
 * cli/progress — what `cellar pipelines run` and `backfill` show while they wait: a line per step that ends
 * (and, when the output is not a terminal, per step that starts) and per run that ends; on a terminal also
 * one status line, redrawn in place, with the running steps and their elapsed time. Progress goes to stderr
 * so stdout keeps only the result (`--json` stays parseable). The store is the source: the reporter polls
 * the runs' rows, so it shows what the scheduler recorded, whoever ran the steps.
 */
import type { PipelineRunRow, TaskInstanceRow } from '../scheduler/state.js';

/** Where progress is written (process.stderr in the CLI). */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** A run's current rows, as the store has them. */
export interface RunSnapshot {
  run: PipelineRunRow;
  tasks: TaskInstanceRow[];
}

/** Options of {@link RunProgress}. */
export interface RunProgressOptions {
  stream: ProgressStream;
  /** Reads a run's rows (SchedulerState.getRun + tasks). */
  read(runId: string): RunSnapshot;
  /** Poll period in ms (default 200 on a terminal, 500 otherwise). */
  intervalMs?: number;
  /** Clock (tests). */
  now?: () => number;
}

const ENDED_RUN = new Set(['success', 'failed']);

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

/** Watches runs and reports their progress until `stop()`. */
export class RunProgress {
  private readonly tty: boolean;
  private readonly now: () => number;
  private readonly seen = new Map<string, string>();
  private runIds: string[] = [];
  private timer: NodeJS.Timeout | null = null;
  private statusShown = false;
  private readonly startedAt: number;

  /** Creates a reporter; nothing is shown before `watch`. */
  constructor(private readonly opts: RunProgressOptions) {
    this.tty = opts.stream.isTTY === true;
    this.now = opts.now ?? Date.now;
    this.startedAt = this.now();
  }

  /** Starts reporting on `runs` (call once, right after they were created). */
  watch(runs: PipelineRunRow[]): void {
    this.runIds = runs.map((r) => r.runId);
    const first = runs[0];
    if (first !== undefined) {
      const what = runs.length === 1 ? `run ${first.runId}` : `${runs.length} runs`;
      this.line(`${first.pipeline}@${first.version}: ${what}`);
    }
    const every = this.opts.intervalMs ?? (this.tty ? 200 : 500);
    this.timer = setInterval(() => this.poll(), every);
    this.timer.unref();
  }

  /** Reports what changed since the last poll (also called by the timer). */
  poll(): void {
    const snapshots: RunSnapshot[] = [];
    for (const id of this.runIds) {
      try {
        snapshots.push(this.opts.read(id));
      } catch {
        // A read that races a write is retried at the next tick; progress never fails the command.
      }
    }
    for (const s of snapshots) this.reportChanges(s);
    if (this.tty) this.drawStatus(snapshots);
  }

  /** Final poll, then stops the timer and clears the status line. */
  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.poll();
    this.clearStatus();
  }

  private reportChanges({ run, tasks }: RunSnapshot): void {
    for (const t of tasks) {
      const key = `${run.runId}\u0000${t.step}`;
      const mark = `${t.state}:${t.tryNumber}`;
      if (this.seen.get(key) === mark) continue;
      this.seen.set(key, mark);
      const text = this.taskLine(run, t);
      if (text !== null) this.line(text);
    }
    const runKey = `${run.runId}\u0000`;
    if (ENDED_RUN.has(run.state) && this.seen.get(runKey) !== run.state) {
      this.seen.set(runKey, run.state);
      const done = tasks.filter((t) => t.state === 'success').length;
      const took =
        run.startedAt !== null && run.endedAt !== null ? ` in ${seconds(run.endedAt - run.startedAt)}` : '';
      const error = run.state === 'failed' && run.error ? `: ${run.error}` : '';
      this.line(`${run.runId}: run ${run.state}${took} (${done}/${tasks.length} steps succeeded)${error}`);
    }
  }

  private taskLine(run: PipelineRunRow, t: TaskInstanceRow): string | null {
    const tries = t.maxTries > 1 ? ` (try ${t.tryNumber}/${t.maxTries})` : '';
    const took = t.startedAt !== null && t.endedAt !== null ? ` in ${seconds(t.endedAt - t.startedAt)}` : '';
    switch (t.state) {
      case 'running':
        return this.tty ? null : `${run.runId}: step ${t.step} running${tries}`;
      case 'success':
        return `${run.runId}: step ${t.step} succeeded${took}${tries}`;
      case 'failed':
        return `${run.runId}: step ${t.step} failed${took}${tries}${t.error ? `: ${t.error}` : ''}`;
      case 'up_for_retry':
        return `${run.runId}: step ${t.step} will be retried${tries}${t.error ? `: ${t.error}` : ''}`;
      case 'upstream_failed':
      case 'skipped':
        return `${run.runId}: step ${t.step} ${t.state.replace('_', ' ')}`;
      default:
        return null;
    }
  }

  private statusText(snapshots: RunSnapshot[]): string {
    const ended = snapshots.filter((s) => ENDED_RUN.has(s.run.state));
    const failed = ended.filter((s) => s.run.state === 'failed').length;
    const running: string[] = [];
    for (const s of snapshots) {
      for (const t of s.tasks) {
        if (t.state === 'running' && t.startedAt !== null)
          running.push(`${t.step} ${seconds(this.now() - t.startedAt)}`);
      }
    }
    const steps = snapshots.reduce((n, s) => n + s.tasks.length, 0);
    const stepsDone = snapshots.reduce((n, s) => n + s.tasks.filter((t) => t.state === 'success').length, 0);
    const parts = [
      snapshots.length > 1
        ? `runs ${ended.length}/${snapshots.length} done${failed ? ` (${failed} failed)` : ''}`
        : '',
      `steps ${stepsDone}/${steps}`,
      running.length > 0 ? `running: ${running.join(', ')}` : '',
      `elapsed ${seconds(this.now() - this.startedAt)}`,
    ].filter((p) => p !== '');
    const text = parts.join(' · ');
    const width = Math.max(20, (this.opts.stream.columns ?? 80) - 1);
    return text.length > width ? `${text.slice(0, width - 1)}…` : text;
  }

  private drawStatus(snapshots: RunSnapshot[]): void {
    this.opts.stream.write(`\r\x1b[K${this.statusText(snapshots)}`);
    this.statusShown = true;
  }

  private clearStatus(): void {
    if (!this.statusShown) return;
    this.opts.stream.write('\r\x1b[K');
    this.statusShown = false;
  }

  private line(text: string): void {
    this.clearStatus();
    this.opts.stream.write(`${text}\n`);
  }
}
