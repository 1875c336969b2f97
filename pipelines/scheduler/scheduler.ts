/**
 * scheduler/scheduler — the `Scheduler`: drives pipeline runs from the store. One `tick()` adopts runs whose
 * driver died (and the attempts those left running), creates due cron runs, starts queued runs within each
 * pipeline's maxActiveRuns, and dispatches ready tasks to pre-forked workers within the global concurrency
 * limit. When an attempt ends, its run is advanced at once (no polling delay between a step and the next).
 * All state is in the store; the in-memory maps only remember what this process is doing right now.
 */
import { resolve } from 'node:path';
import { CellarError } from '../../kernel-lib/errors.js';
import { openEmbedded, type EmbeddedBackend } from '../../kernel-lib/store/open.js';
import { currentProcess, isProcessAlive } from '../../kernel-lib/store/process.js';
import { resolveMaxLogBytes } from '../runner/log-cap.js';
import { WorkerPool } from '../runner/pool.js';
import type { StepWorker } from '../runner/worker-handle.js';
import { resolveWorkerScript } from '../runner/worker-path.js';
import { listPipelineNames, loadPipelineVersion, type LoadedPipelineVersion } from '../runner/version.js';
import { resolveParams } from '../runner/params.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './backoff.js';
import { validateCron } from './cron.js';
import { createDueRuns } from './due-runs.js';
import { executeAttempt, followAdoptedAttempt, type AttemptHost } from './execute.js';
import { SchedulerState, type PipelineRunRow, type TaskInstanceRow } from './state.js';
import { FINISHED_TASK_STATES } from './trigger-rules.js';
import {
  claimRun,
  failRun,
  finishRunIfDone,
  settleTriggers,
  startRun,
  type DriverContext,
} from './transitions.js';

/** Options of {@link Scheduler}. */
export interface SchedulerOptions {
  /** The store: an opened embedded backend, or the path of a `.cellar` directory. */
  store: EmbeddedBackend | string;
  /** The compiled worker script (default: found by runner/worker-path). */
  workerScript?: string;
  /** Most step attempts running at once in the whole store (default 8). */
  concurrency?: number;
  /** Workers kept forked ahead of time (default 2). */
  poolSize?: number;
  /**
   * Steps of one pipeline version a worker process may run one after another (default 100); 1 gives every
   * step a new process. A step that fails, times out or leaves anything behind always ends its process.
   */
  maxStepsPerWorker?: number;
  /** Cap of each step attempt's log in bytes (default: CELLAR_MAX_STEP_LOG_BYTES, else 50 MiB). */
  maxLogBytes?: number;
  /** Retry spacing (default: 1 s doubling, at most 5 min, with deterministic jitter). */
  retry?: Partial<RetryPolicy>;
  /** Clock for cron scheduling (default Date.now); tests move it. Attempt times always use the real clock. */
  now?: () => number;
  /** Create runs from cron schedules (default true). */
  schedule?: boolean;
  /** Drive only these runs (one-shot runs and backfills). */
  runIds?: string[];
  /** Pause between ticks of `start()` (default 1000 ms). */
  pollIntervalMs?: number;
  /** Receives one line per notable event (default: nothing). */
  log?: (line: string) => void;
}

/** What one tick did. */
export interface TickReport {
  adopted: string[];
  created: string[];
  started: string[];
  /** Pipelines whose schedule is invalid (they get no scheduled runs), with the reason. */
  invalidSchedules: Record<string, string>;
}

/** Runs being driven by a Scheduler of this process (two instances must not drive one run). */
const drivenHere = new Map<string, Scheduler>();

/** Drives pipeline runs stored in one store. */
export class Scheduler {
  /** The store's embedded backend. */
  readonly backend: EmbeddedBackend;
  /** The scheduler tables. */
  readonly state: SchedulerState;
  private readonly ctx: DriverContext;
  private readonly host: AttemptHost;
  private readonly concurrency: number;
  private readonly clock: () => number;
  private readonly only: Set<string> | null;
  private pool: WorkerPool | null = null;
  private readonly workers = new Map<string, StepWorker>();
  private readonly taskCache = new Map<string, Map<string, TaskInstanceRow>>();
  private readonly inflight = new Map<string, Promise<void>>();
  private readonly versions = new Map<string, LoadedPipelineVersion>();
  private readonly experiments = new Map<string, string>();
  private readonly mine = new Set<string>();
  private readonly retryTimers = new Map<string, NodeJS.Timeout>();
  private readonly invalid = new Map<string, string>();
  private changeWaiters: Array<() => void> = [];
  private launching = 0;
  private stopped = false;
  /** Set by stop(): no new attempts start. */
  private stopping = false;
  /** Set by stop({ drain: false }): attempts in flight are left to the next scheduler. */
  private abandoned = false;
  private loop: Promise<void> | null = null;
  private wakeLoop: (() => void) | null = null;

  /** Opens the store (if given a path) and prepares; nothing runs until `tick()` or `start()`. */
  constructor(private readonly opts: SchedulerOptions) {
    this.backend = typeof opts.store === 'string' ? openEmbedded(resolve(opts.store)) : opts.store;
    this.state = new SchedulerState(this.backend.db);
    this.ctx = {
      backend: this.backend,
      state: this.state,
      me: currentProcess(),
      retry: { ...DEFAULT_RETRY_POLICY, ...opts.retry },
      now: Date.now,
    };
    this.concurrency = Math.max(1, Math.floor(opts.concurrency ?? 8));
    this.clock = opts.now ?? Date.now;
    this.only = opts.runIds ? new Set(opts.runIds) : null;
    this.host = {
      ctx: this.ctx,
      pool: () => this.getPool(),
      experimentId: (pipeline) => this.experimentId(pipeline),
      isStopping: () => this.stopping,
      track: (key, worker) => (worker ? this.workers.set(key, worker) : this.workers.delete(key)),
      taskChanged: (runId, step) => this.refreshTask(runId, step),
      log: (line) => this.log(line),
      maxLogBytes: resolveMaxLogBytes(opts.maxLogBytes),
    };
  }

  private log(line: string): void {
    this.opts.log?.(line);
  }

  private getPool(): WorkerPool {
    this.pool ??= new WorkerPool({
      script: resolveWorkerScript(this.opts.workerScript),
      size: this.opts.poolSize ?? 2,
      maxIdle: this.concurrency,
      ...(this.opts.maxStepsPerWorker === undefined
        ? {}
        : { maxStepsPerWorker: this.opts.maxStepsPerWorker }),
      logFile: resolve(this.backend.root, 'logs', 'workers.log'),
    });
    return this.pool;
  }

  private version(pipeline: string, version: number): LoadedPipelineVersion {
    const key = `${pipeline}@${version}`;
    let v = this.versions.get(key);
    if (!v) {
      v = loadPipelineVersion(this.backend.root, pipeline, version);
      this.versions.set(key, v);
    }
    return v;
  }

  private async experimentId(pipeline: string): Promise<string> {
    let id = this.experiments.get(pipeline);
    if (!id) {
      id = (await this.backend.tracking.getOrCreateExperiment(pipeline)).id;
      this.experiments.set(pipeline, id);
    }
    return id;
  }

  private wants(run: PipelineRunRow): boolean {
    return this.only === null || this.only.has(run.runId);
  }

  private takeLocally(runId: string): boolean {
    const holder = drivenHere.get(runId);
    if (holder && holder !== this) return false;
    drivenHere.set(runId, this);
    return true;
  }

  /**
   * The task instances of a run this process drives. Read from the store once, then kept current by this
   * process's own transitions (it is the only writer of a run it drives): re-reading every task of a wide
   * run after each step would cost O(steps²).
   */
  private tasksOf(runId: string): Map<string, TaskInstanceRow> {
    let cached = this.taskCache.get(runId);
    if (!cached) {
      cached = new Map(this.state.tasks(runId).map((t) => [t.step, t]));
      this.taskCache.set(runId, cached);
    }
    return cached;
  }

  /** Re-reads one task instance after a transition changed it. */
  private refreshTask(runId: string, step: string): void {
    const cached = this.taskCache.get(runId);
    const row = cached ? this.state.task(runId, step) : null;
    if (cached && row) cached.set(step, row);
  }

  private release(runId: string): void {
    this.taskCache.delete(runId);
    if (drivenHere.get(runId) === this) drivenHere.delete(runId);
    this.mine.delete(runId);
    const t = this.retryTimers.get(runId);
    if (t) clearTimeout(t);
    this.retryTimers.delete(runId);
  }

  private notify(): void {
    for (const w of this.changeWaiters.splice(0)) w();
  }

  /** Resolves at the next change this scheduler makes (an attempt or run ending), or after `ms`. */
  waitForChange(ms: number): Promise<void> {
    return new Promise((res) => {
      const done = (): void => {
        clearTimeout(t);
        this.changeWaiters = this.changeWaiters.filter((w) => w !== done);
        res();
      };
      const t = setTimeout(done, ms);
      this.changeWaiters.push(done);
    });
  }

  /** Makes this process drive a run (claiming it in the store) and adopts attempts it left running. */
  private async own(run: PipelineRunRow, report: TickReport): Promise<boolean> {
    if (this.mine.has(run.runId)) return true;
    if (!this.takeLocally(run.runId)) return false;
    await this.experimentId(run.pipeline);
    if (!claimRun(this.ctx, run.runId)) {
      drivenHere.delete(run.runId);
      return false;
    }
    this.mine.add(run.runId);
    for (const a of this.state.attempts(run.runId)) {
      const key = `${a.runId}/${a.step}`;
      if (a.state !== 'running' || this.inflight.has(key)) continue;
      report.adopted.push(`${a.runId}/${a.step}#${a.tryNumber}`);
      this.log(`adopting ${a.step} try ${a.tryNumber} of run ${a.runId} (pid ${String(a.pid)})`);
      const p = followAdoptedAttempt(this.host, a, () => this.abandoned).finally(() => {
        this.inflight.delete(key);
        this.afterAttempt(a.runId);
      });
      this.inflight.set(key, p);
    }
    return true;
  }

  /**
   * One pass: adopt orphaned runs, create due cron runs, start queued runs, dispatch ready tasks.
   *
   * @throws CellarError INVALID_STATE after `stop()`.
   */
  async tick(): Promise<TickReport> {
    if (this.stopping) throw new CellarError('INVALID_STATE', 'The scheduler is stopped.');
    const report: TickReport = { adopted: [], created: [], started: [], invalidSchedules: {} };
    const me = this.ctx.me;
    for (const run of this.state.activeRuns()) {
      // Runs of an external orchestrator (Airflow calling `cellar step run`) are driven by it, never adopted.
      if (!this.wants(run) || this.mine.has(run.runId) || run.runType === 'external') continue;
      const ownedByMe =
        run.owner !== null &&
        run.owner.host === me.host &&
        run.owner.pid === me.pid &&
        run.owner.started === me.started;
      if (run.owner && !ownedByMe && isProcessAlive(run.owner)) continue;
      if (run.state === 'running' || run.owner) await this.own(run, report);
    }
    if (this.opts.schedule !== false && this.only === null) this.createScheduledRuns(report);
    for (const run of this.state.activeRuns()) {
      if (run.state !== 'queued' || !this.wants(run) || run.runType === 'external') continue;
      await this.maybeStart(run, report);
    }
    for (const runId of [...this.mine]) this.advance(runId);
    return report;
  }

  private createScheduledRuns(report: TickReport): void {
    const now = this.clock();
    for (const name of listPipelineNames(this.backend.root)) {
      try {
        const { spec } = loadPipelineVersion(this.backend.root, name, 'latest');
        if (spec.schedule === null || this.state.pipelineState(name).paused) continue;
        const schedule = validateCron(spec.schedule);
        const params = resolveParams(spec.parameters, {});
        for (const r of createDueRuns(this.state, spec, schedule, now, params)) {
          report.created.push(r.runId);
          this.log(
            `created ${r.runId} for ${name} [${new Date(r.intervalStart).toISOString()}, ${new Date(r.intervalEnd).toISOString()})`,
          );
        }
      } catch (e) {
        const why = (e as Error).message;
        report.invalidSchedules[name] = why;
        if (this.invalid.get(name) !== why) this.log(`pipeline ${name} is not scheduled: ${why}`);
        this.invalid.set(name, why);
      }
    }
  }

  private async maybeStart(run: PipelineRunRow, report: TickReport): Promise<void> {
    const me = this.ctx.me;
    const ownedByMe = run.owner !== null && run.owner.pid === me.pid && run.owner.host === me.host;
    if (run.owner && !ownedByMe) return;
    let version: LoadedPipelineVersion;
    try {
      version = this.version(run.pipeline, run.version);
    } catch (e) {
      if (await this.own(run, report)) {
        failRun(this.ctx, run.runId, (e as Error).message);
        this.release(run.runId);
        this.notify();
      }
      return;
    }
    // Paused pipelines keep their queued runs; a run this process created to drive now (one-shot) still goes.
    if (!ownedByMe && this.state.pipelineState(run.pipeline).paused) return;
    if (this.state.countRunningRuns(run.pipeline) >= version.spec.maxActiveRuns) return;
    if (!(await this.own(run, report))) return;
    startRun(this.ctx, run.runId, version.spec, await this.experimentId(run.pipeline));
    report.started.push(run.runId);
    this.log(`started run ${run.runId} of ${run.pipeline}@${run.version}`);
  }

  /** Dispatches what is ready in one run this process drives, and ends the run when everything is done. */
  private advance(runId: string): void {
    if (!this.mine.has(runId) || this.stopped) return;
    const run = this.state.getRun(runId);
    if (run.state === 'queued') return;
    if (run.state !== 'running') {
      this.release(runId);
      this.notify();
      return;
    }
    let version: LoadedPipelineVersion;
    try {
      version = this.version(run.pipeline, run.version);
    } catch (e) {
      failRun(this.ctx, runId, (e as Error).message);
      this.release(runId);
      this.notify();
      return;
    }
    const tasks = this.tasksOf(runId);
    const ready = this.stopping ? [] : settleTriggers(this.ctx, run, version.spec, tasks);
    for (const t of ready) {
      const key = `${runId}/${t.step}`;
      if (this.inflight.has(key)) continue;
      if (this.state.countRunningAttempts() + this.launching >= this.concurrency) break;
      this.launch(run, version, t.step);
    }
    if (!this.stopping) this.armRetryTimer(runId, tasks);
    for (const t of tasks.values()) if (!FINISHED_TASK_STATES.has(t.state)) return;
    const after = finishRunIfDone(this.ctx, runId);
    if (after.state === 'success' || after.state === 'failed') {
      this.log(`run ${runId} ${after.state}`);
      this.release(runId);
      this.notify();
      this.wakeLoop?.(); // a slot is free: queued runs may start now rather than at the next poll
    }
  }

  private armRetryTimer(runId: string, tasks: ReadonlyMap<string, TaskInstanceRow>): void {
    if (this.retryTimers.has(runId)) return;
    let first = Infinity;
    for (const t of tasks.values()) {
      if (t.state === 'up_for_retry' && t.nextTryAt !== null) first = Math.min(first, t.nextTryAt);
    }
    if (first === Infinity) return;
    const wait = Math.max(0, first - Date.now()) + 1;
    this.retryTimers.set(
      runId,
      setTimeout(() => {
        this.retryTimers.delete(runId);
        this.advance(runId);
      }, wait),
    );
  }

  private launch(run: PipelineRunRow, version: LoadedPipelineVersion, step: string): void {
    const key = `${run.runId}/${step}`;
    this.launching += 1;
    let reserved = true;
    const written = (): void => {
      if (reserved) this.launching -= 1;
      reserved = false;
    };
    const p = executeAttempt(this.host, run, version, step, written).finally(() => {
      this.inflight.delete(key);
      this.afterAttempt(run.runId);
    });
    this.inflight.set(key, p);
  }

  /**
   * Interrupts the runs this scheduler drives (e.g. on Ctrl-C of `cellar pipelines run`): no new attempts, the
   * step processes it started are killed and recorded as failed, and its runs end failed with `reason`.
   */
  async abort(reason: string): Promise<void> {
    this.stopping = true;
    this.abandoned = true;
    this.wakeLoop?.();
    for (const w of this.workers.values()) w.kill();
    await this.drain();
    for (const runId of [...this.mine]) {
      failRun(this.ctx, runId, reason);
      this.release(runId);
    }
    this.notify();
  }

  private afterAttempt(runId: string): void {
    this.advance(runId);
    for (const other of [...this.mine]) if (other !== runId) this.advance(other);
    this.notify();
  }

  /** Starts ticking every `pollIntervalMs` until `stop()`. */
  start(): void {
    if (this.loop) return;
    const every = this.opts.pollIntervalMs ?? 1000;
    this.loop = (async () => {
      while (!this.stopping) {
        try {
          await this.tick();
        } catch (e) {
          if (!this.stopping) this.log(`tick failed: ${(e as Error).message}`);
        }
        if (this.stopping) break;
        await new Promise<void>((res) => {
          const t = setTimeout(res, every);
          this.wakeLoop = () => {
            clearTimeout(t);
            res();
          };
        });
      }
    })();
  }

  /**
   * Drives one run until it ends and returns it (ticking, and waking early whenever an attempt ends).
   *
   * @throws CellarError NOT_FOUND for an unknown run.
   */
  async runUntilDone(runId: string, pollMs = 200): Promise<PipelineRunRow> {
    let lastTick = 0;
    while (true) {
      const run = this.state.getRun(runId);
      if (run.state === 'success' || run.state === 'failed') return run;
      if (this.stopped) return run; // stopped: nothing here will move it on
      // Attempts ending advance their run at once; ticks (adoption, queued runs) are needed only now and then.
      if (!this.stopping && (Date.now() - lastTick >= pollMs || run.state === 'queued')) {
        lastTick = Date.now();
        await this.tick();
      }
      const again = this.state.getRun(runId);
      if (again.state === 'success' || again.state === 'failed') return again;
      await this.waitForChange(pollMs);
    }
  }

  /**
   * Ticks until this scheduler drives nothing and a tick finds nothing to start: every due, queued or
   * orphaned run it could take has ended (`cellar scheduler --once`).
   */
  async runUntilIdle(pollMs = 200): Promise<void> {
    while (!this.stopping) {
      const report = await this.tick();
      if (this.mine.size === 0 && this.inflight.size === 0 && report.started.length === 0) return;
      await this.waitForChange(pollMs);
    }
  }

  /** Waits until no attempt this scheduler started or adopted is still running. */
  async drain(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight.values()]);
  }

  /**
   * Stops ticking. With `drain` (default), waits for the attempts in flight to end and records them;
   * without, leaves them running in their own processes for the next scheduler to adopt.
   */
  async stop(opts: { drain?: boolean } = {}): Promise<void> {
    this.stopping = true;
    this.abandoned = opts.drain === false;
    this.wakeLoop?.();
    await this.loop;
    if (!this.abandoned) await this.drain();
    this.stopped = true;
    for (const t of this.retryTimers.values()) clearTimeout(t);
    this.retryTimers.clear();
    for (const runId of [...this.mine]) this.release(runId);
    this.pool?.close();
    this.pool = null;
    this.notify();
  }
}
