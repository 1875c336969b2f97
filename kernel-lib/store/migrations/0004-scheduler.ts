/**
 * Migration 4 — pipeline runs, task instances and attempts, per-pipeline scheduler state (owned by the
 * scheduler, pipelines/scheduler). Everything the scheduler needs to resume after a crash is here: which
 * process drives a run, which process runs an attempt (host + pid + kernel start time), where its log and
 * result file are, and when a retry is due.
 *
 * Times are epoch milliseconds (UTC). Invariants the schema enforces:
 * - at most one run per (pipeline, logical date): UNIQUE (pipeline, logical_date);
 * - at most one live attempt per task: a partial UNIQUE index over attempts in state 'running'.
 */
import type { Migration } from '../schema.js';

/** Tables of the scheduler. */
export const MIGRATION_4: Migration = {
  version: 4,
  description: 'pipeline runs, task instances and attempts, scheduler state',
  sql: `
CREATE TABLE pipeline_state (
  pipeline            TEXT PRIMARY KEY,
  paused              INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
  next_interval_start INTEGER,
  updated_at          INTEGER NOT NULL
);

CREATE TABLE pipeline_runs (
  run_id          TEXT PRIMARY KEY,
  pipeline        TEXT NOT NULL,
  version         INTEGER NOT NULL,
  run_type        TEXT NOT NULL CHECK (run_type IN ('scheduled', 'manual', 'backfill', 'external')),
  state           TEXT NOT NULL CHECK (state IN ('queued', 'running', 'success', 'failed')),
  logical_date    INTEGER NOT NULL,
  interval_start  INTEGER NOT NULL,
  interval_end    INTEGER NOT NULL,
  params_json     TEXT NOT NULL,
  tracking_run_id TEXT,
  owner_host      TEXT,
  owner_pid       INTEGER,
  owner_started   TEXT,
  created_at      INTEGER NOT NULL,
  started_at      INTEGER,
  ended_at        INTEGER,
  error           TEXT,
  UNIQUE (pipeline, logical_date)
);
CREATE INDEX pipeline_runs_active ON pipeline_runs (pipeline, state) WHERE state IN ('queued', 'running');
CREATE INDEX pipeline_runs_by_created ON pipeline_runs (pipeline, created_at DESC);

CREATE TABLE task_instances (
  run_id          TEXT NOT NULL REFERENCES pipeline_runs(run_id),
  step            TEXT NOT NULL,
  position        INTEGER NOT NULL,
  state           TEXT NOT NULL CHECK (state IN ('queued', 'running', 'success', 'failed', 'up_for_retry',
                                                 'upstream_failed', 'skipped')),
  try_number      INTEGER NOT NULL DEFAULT 0,
  max_tries       INTEGER NOT NULL,
  next_try_at     INTEGER,
  output_try      INTEGER,
  tracking_run_id TEXT,
  started_at      INTEGER,
  ended_at        INTEGER,
  error           TEXT,
  PRIMARY KEY (run_id, step)
) WITHOUT ROWID;

CREATE TABLE task_attempts (
  run_id        TEXT NOT NULL,
  step          TEXT NOT NULL,
  try_number    INTEGER NOT NULL,
  state         TEXT NOT NULL CHECK (state IN ('running', 'success', 'failed')),
  host          TEXT NOT NULL,
  pid           INTEGER,
  proc_started  TEXT,
  log_path      TEXT NOT NULL,
  result_path   TEXT NOT NULL,
  output_dir    TEXT NOT NULL,
  started_at    INTEGER NOT NULL,
  timeout_at    INTEGER,
  ended_at      INTEGER,
  exit_code     INTEGER,
  signal        TEXT,
  error         TEXT,
  PRIMARY KEY (run_id, step, try_number),
  FOREIGN KEY (run_id, step) REFERENCES task_instances(run_id, step)
) WITHOUT ROWID;
CREATE UNIQUE INDEX task_attempts_one_live ON task_attempts (run_id, step) WHERE state = 'running';
CREATE INDEX task_attempts_running ON task_attempts (state) WHERE state = 'running';
`,
};
