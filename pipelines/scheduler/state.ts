/**
 * scheduler/state — rows of the scheduler's tables (migration 4: pipeline_runs, task_instances,
 * task_attempts, pipeline_state) and the reads and simple writes over them. Every write goes through
 * `writeTx` (BEGIN IMMEDIATE with busy retries). The state transitions that also touch tracking live in
 * scheduler/transitions.
 */
import { CellarError } from '../../kernel-lib/errors.js';
import type { PipelineSpec } from '../../kernel-lib/exporter/spec.js';
import type { ProcessIdentity } from '../../kernel-lib/store/process.js';
import type { Statement } from 'better-sqlite3';
import { writeTx, type SqliteDb } from '../../kernel-lib/store/sqlite.js';
import { validatePipelineName } from '../runner/ids.js';
import type { TaskState } from './trigger-rules.js';

/** States of a pipeline run. */
export type RunState = 'queued' | 'running' | 'success' | 'failed';
/** Why a run exists. */
export type RunType = 'scheduled' | 'manual' | 'backfill' | 'external';

/** A pipeline run. Times are epoch ms. */
export interface PipelineRunRow {
  runId: string;
  pipeline: string;
  version: number;
  runType: RunType;
  state: RunState;
  logicalDate: number;
  intervalStart: number;
  intervalEnd: number;
  params: Record<string, unknown>;
  trackingRunId: string | null;
  /** The process driving the run (null while queued for any scheduler). */
  owner: ProcessIdentity | null;
  createdAt: number;
  startedAt: number | null;
  endedAt: number | null;
  error: string | null;
}

/** A task instance: one step of one run. */
export interface TaskInstanceRow {
  runId: string;
  step: string;
  /** Index of the step in the spec (topological order). */
  position: number;
  state: TaskState;
  /** Attempts started so far. */
  tryNumber: number;
  maxTries: number;
  nextTryAt: number | null;
  /** The attempt whose outputs downstream steps read. */
  outputTry: number | null;
  trackingRunId: string | null;
  startedAt: number | null;
  endedAt: number | null;
  error: string | null;
}

/** One attempt of a task: the process that ran it and where its files are. */
export interface AttemptRow {
  runId: string;
  step: string;
  tryNumber: number;
  state: 'running' | 'success' | 'failed';
  host: string;
  pid: number | null;
  procStarted: string | null;
  logPath: string;
  resultPath: string;
  outputDir: string;
  startedAt: number;
  timeoutAt: number | null;
  endedAt: number | null;
  exitCode: number | null;
  signal: string | null;
  error: string | null;
}

type Raw = Record<string, unknown>;

function runFromRow(r: Raw): PipelineRunRow {
  return {
    runId: r.run_id as string,
    pipeline: r.pipeline as string,
    version: r.version as number,
    runType: r.run_type as RunType,
    state: r.state as RunState,
    logicalDate: r.logical_date as number,
    intervalStart: r.interval_start as number,
    intervalEnd: r.interval_end as number,
    params: JSON.parse(r.params_json as string) as Record<string, unknown>,
    trackingRunId: (r.tracking_run_id as string | null) ?? null,
    owner:
      r.owner_pid === null || r.owner_pid === undefined
        ? null
        : {
            host: r.owner_host as string,
            pid: r.owner_pid as number,
            started: (r.owner_started as string) ?? '',
          },
    createdAt: r.created_at as number,
    startedAt: (r.started_at as number | null) ?? null,
    endedAt: (r.ended_at as number | null) ?? null,
    error: (r.error as string | null) ?? null,
  };
}

function taskFromRow(r: Raw): TaskInstanceRow {
  return {
    runId: r.run_id as string,
    step: r.step as string,
    position: r.position as number,
    state: r.state as TaskState,
    tryNumber: r.try_number as number,
    maxTries: r.max_tries as number,
    nextTryAt: (r.next_try_at as number | null) ?? null,
    outputTry: (r.output_try as number | null) ?? null,
    trackingRunId: (r.tracking_run_id as string | null) ?? null,
    startedAt: (r.started_at as number | null) ?? null,
    endedAt: (r.ended_at as number | null) ?? null,
    error: (r.error as string | null) ?? null,
  };
}

function attemptFromRow(r: Raw): AttemptRow {
  return {
    runId: r.run_id as string,
    step: r.step as string,
    tryNumber: r.try_number as number,
    state: r.state as AttemptRow['state'],
    host: r.host as string,
    pid: (r.pid as number | null) ?? null,
    procStarted: (r.proc_started as string | null) ?? null,
    logPath: r.log_path as string,
    resultPath: r.result_path as string,
    outputDir: r.output_dir as string,
    startedAt: r.started_at as number,
    timeoutAt: (r.timeout_at as number | null) ?? null,
    endedAt: (r.ended_at as number | null) ?? null,
    exitCode: (r.exit_code as number | null) ?? null,
    signal: (r.signal as string | null) ?? null,
    error: (r.error as string | null) ?? null,
  };
}

/** What a new run needs. */
export interface NewRun {
  spec: PipelineSpec;
  runId: string;
  runType: RunType;
  logicalDate: number;
  intervalStart: number;
  intervalEnd: number;
  params: Record<string, unknown>;
  /** Set when the creating process drives the run itself (one-shot runs). */
  owner?: ProcessIdentity | null;
}

/** Reads and simple writes of the scheduler tables of one store. */
export class SchedulerState {
  private readonly statements = new Map<string, Statement>();

  /** Wraps the store's database connection. */
  constructor(readonly db: SqliteDb) {}

  /** A prepared statement for `text`, prepared once per connection (the scheduler runs the same few often). */
  sql(text: string): Statement {
    let st = this.statements.get(text);
    if (!st) {
      st = this.db.prepare(text);
      this.statements.set(text, st);
    }
    return st;
  }

  /** The run, or null. */
  findRun(runId: string): PipelineRunRow | null {
    const r = this.sql('SELECT * FROM pipeline_runs WHERE run_id = ?').get(runId) as Raw | undefined;
    return r ? runFromRow(r) : null;
  }

  /**
   * The run.
   *
   * @throws CellarError NOT_FOUND for an unknown run id.
   */
  getRun(runId: string): PipelineRunRow {
    const run = this.findRun(runId);
    if (!run) throw new CellarError('NOT_FOUND', `No pipeline run "${runId}".`, { runId });
    return run;
  }

  /** The run of `pipeline` at `logicalDate`, or null. */
  findRunAt(pipeline: string, logicalDate: number): PipelineRunRow | null {
    const r = this.sql('SELECT * FROM pipeline_runs WHERE pipeline = ? AND logical_date = ?').get(
      pipeline,
      logicalDate,
    ) as Raw | undefined;
    return r ? runFromRow(r) : null;
  }

  /** Runs, newest logical date first, optionally of one pipeline and/or in some states. */
  listRuns(opts: { pipeline?: string; states?: RunState[]; limit?: number } = {}): PipelineRunRow[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (opts.pipeline !== undefined) {
      where.push('pipeline = ?');
      args.push(opts.pipeline);
    }
    if (opts.states && opts.states.length > 0) {
      where.push(`state IN (${opts.states.map(() => '?').join(', ')})`);
      args.push(...opts.states);
    }
    const sql =
      `SELECT * FROM pipeline_runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ` +
      'ORDER BY logical_date DESC, created_at DESC LIMIT ?';
    return (this.sql(sql).all(...args, opts.limit ?? 1_000_000) as Raw[]).map(runFromRow);
  }

  /** Queued and running runs, oldest logical date first. */
  activeRuns(): PipelineRunRow[] {
    return (
      this.sql(
        "SELECT * FROM pipeline_runs WHERE state IN ('queued', 'running') ORDER BY logical_date, created_at",
      ).all() as Raw[]
    ).map(runFromRow);
  }

  /** The task instances of a run, in step order. */
  tasks(runId: string): TaskInstanceRow[] {
    return (
      this.sql('SELECT * FROM task_instances WHERE run_id = ? ORDER BY position').all(runId) as Raw[]
    ).map(taskFromRow);
  }

  /** One task instance, or null. */
  task(runId: string, step: string): TaskInstanceRow | null {
    const r = this.sql('SELECT * FROM task_instances WHERE run_id = ? AND step = ?').get(runId, step) as
      Raw | undefined;
    return r ? taskFromRow(r) : null;
  }

  /** Attempts of a run (optionally of one step), in order. */
  attempts(runId: string, step?: string): AttemptRow[] {
    const rows =
      step === undefined
        ? this.sql('SELECT * FROM task_attempts WHERE run_id = ? ORDER BY started_at, step, try_number').all(
            runId,
          )
        : this.sql('SELECT * FROM task_attempts WHERE run_id = ? AND step = ? ORDER BY try_number').all(
            runId,
            step,
          );
    return (rows as Raw[]).map(attemptFromRow);
  }

  /** Attempts in state running (of every run). */
  runningAttempts(): AttemptRow[] {
    return (this.sql("SELECT * FROM task_attempts WHERE state = 'running'").all() as Raw[]).map(
      attemptFromRow,
    );
  }

  /** Number of attempts running in the whole store (the global concurrency count). */
  countRunningAttempts(): number {
    return this.sql("SELECT COUNT(*) FROM task_attempts WHERE state = 'running'").pluck().get() as number;
  }

  /** Number of runs of `pipeline` in state running. */
  countRunningRuns(pipeline: string): number {
    return this.sql("SELECT COUNT(*) FROM pipeline_runs WHERE pipeline = ? AND state = 'running'")
      .pluck()
      .get(pipeline) as number;
  }

  /** Number of runs of `pipeline` queued or running. */
  countActiveRuns(pipeline: string): number {
    return this.sql(
      "SELECT COUNT(*) FROM pipeline_runs WHERE pipeline = ? AND state IN ('queued', 'running')",
    )
      .pluck()
      .get(pipeline) as number;
  }

  /** Scheduler state of a pipeline (paused, where scheduled run creation continues). */
  pipelineState(pipeline: string): { paused: boolean; nextIntervalStart: number | null } {
    const r = this.sql('SELECT paused, next_interval_start FROM pipeline_state WHERE pipeline = ?').get(
      pipeline,
    ) as { paused: number; next_interval_start: number | null } | undefined;
    return { paused: r?.paused === 1, nextIntervalStart: r?.next_interval_start ?? null };
  }

  /** Pauses or unpauses a pipeline (stored, so every scheduler process sees it). */
  setPaused(pipeline: string, paused: boolean): void {
    validatePipelineName(pipeline);
    writeTx(this.db, paused ? 'pause a pipeline' : 'unpause a pipeline', () => {
      this.sql(
        `INSERT INTO pipeline_state (pipeline, paused, updated_at) VALUES (?, ?, ?)
           ON CONFLICT (pipeline) DO UPDATE SET paused = excluded.paused, updated_at = excluded.updated_at`,
      ).run(pipeline, paused ? 1 : 0, Date.now());
    });
  }

  /** Records where scheduled run creation continues (inside the caller's transaction). */
  setNextIntervalStart(pipeline: string, start: number): void {
    this.db
      .prepare(
        `INSERT INTO pipeline_state (pipeline, next_interval_start, updated_at) VALUES (?, ?, ?)
         ON CONFLICT (pipeline) DO UPDATE SET next_interval_start = excluded.next_interval_start,
           updated_at = excluded.updated_at`,
      )
      .run(pipeline, start, Date.now());
  }

  /**
   * Inserts a run (queued, or owned and running when `owner` is given — the caller then starts it) and one
   * queued task instance per step, in one transaction.
   *
   * @throws CellarError ALREADY_EXISTS when the pipeline already has a run at that logical date, or the run id is taken.
   */
  createRun(r: NewRun): PipelineRunRow {
    const now = Date.now();
    writeTx(this.db, 'create a pipeline run', () => {
      const clash = this.findRunAt(r.spec.name, r.logicalDate);
      if (clash) {
        throw new CellarError(
          'ALREADY_EXISTS',
          `Pipeline "${r.spec.name}" already has a run at ${new Date(r.logicalDate).toISOString()} (${clash.runId}); ` +
            'there is at most one run per logical date.',
          { runId: clash.runId },
        );
      }
      if (this.findRun(r.runId)) {
        throw new CellarError('ALREADY_EXISTS', `A pipeline run "${r.runId}" already exists.`, {
          runId: r.runId,
        });
      }
      this.sql(
        `INSERT INTO pipeline_runs (run_id, pipeline, version, run_type, state, logical_date, interval_start,
             interval_end, params_json, owner_host, owner_pid, owner_started, created_at)
           VALUES (?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        r.runId,
        r.spec.name,
        r.spec.version,
        r.runType,
        r.logicalDate,
        r.intervalStart,
        r.intervalEnd,
        JSON.stringify(r.params),
        r.owner?.host ?? null,
        r.owner?.pid ?? null,
        r.owner?.started ?? null,
        now,
      );
      const insertTask = this.sql(
        "INSERT INTO task_instances (run_id, step, position, state, max_tries) VALUES (?, ?, ?, 'queued', ?)",
      );
      r.spec.steps.forEach((s, i) => insertTask.run(r.runId, s.name, i, s.retries + 1));
    });
    return this.getRun(r.runId);
  }
}
