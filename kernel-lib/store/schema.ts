/**
 * store/schema — the numbered migrations of the embedded SQLite store. A migration is appended, never
 * edited once released: stores in the wild have applied it. `PRAGMA user_version` records how many ran.
 */

import { MIGRATION_3 } from './migrations/0003-pipelines.js';
import { MIGRATION_4 } from './migrations/0004-scheduler.js';
import { MIGRATION_5 } from './migrations/0005-run-search.js';
import { MIGRATION_6 } from './migrations/0006-prediction-log.js';
import { MIGRATION_7 } from './migrations/0007-monitoring.js';

/** One schema migration: its number (1-based, contiguous) and the SQL that moves the store to it. */
export interface Migration {
  version: number;
  description: string;
  sql: string;
}

/** All migrations, in order. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'tracking and model registry',
    sql: `
CREATE TABLE experiments (
  experiment_id   INTEGER PRIMARY KEY,
  name            TEXT NOT NULL UNIQUE,
  lifecycle_stage TEXT NOT NULL DEFAULT 'active' CHECK (lifecycle_stage IN ('active', 'deleted')),
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL
);
CREATE TABLE experiment_tags (
  experiment_id INTEGER NOT NULL REFERENCES experiments(experiment_id),
  key           TEXT NOT NULL,
  value         TEXT NOT NULL,
  PRIMARY KEY (experiment_id, key)
);
INSERT INTO experiments (experiment_id, name, created_at, updated_at)
  VALUES (0, 'Default', CAST(unixepoch('subsec') * 1000 AS INTEGER), CAST(unixepoch('subsec') * 1000 AS INTEGER));

CREATE TABLE runs (
  run_id          TEXT PRIMARY KEY,
  experiment_id   INTEGER NOT NULL REFERENCES experiments(experiment_id),
  run_name        TEXT,
  status          TEXT NOT NULL CHECK (status IN ('RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED')),
  start_time      INTEGER NOT NULL,
  end_time        INTEGER,
  parent_run_id   TEXT REFERENCES runs(run_id),
  lifecycle_stage TEXT NOT NULL DEFAULT 'active' CHECK (lifecycle_stage IN ('active', 'deleted')),
  owner_host      TEXT,
  owner_pid       INTEGER,
  owner_started   TEXT
);
CREATE INDEX runs_by_experiment ON runs (experiment_id, start_time DESC);
CREATE INDEX runs_running ON runs (status) WHERE status = 'RUNNING';
CREATE INDEX runs_by_parent ON runs (parent_run_id) WHERE parent_run_id IS NOT NULL;

CREATE TABLE params (
  run_id TEXT NOT NULL REFERENCES runs(run_id),
  key    TEXT NOT NULL,
  value  TEXT NOT NULL,
  PRIMARY KEY (run_id, key)
) WITHOUT ROWID;

CREATE TABLE tags (
  run_id TEXT NOT NULL REFERENCES runs(run_id),
  key    TEXT NOT NULL,
  value  TEXT NOT NULL,
  PRIMARY KEY (run_id, key)
) WITHOUT ROWID;

CREATE TABLE metrics (
  run_id    TEXT NOT NULL,
  key       TEXT NOT NULL,
  value     REAL NOT NULL,
  step      INTEGER NOT NULL,
  timestamp INTEGER NOT NULL
);
CREATE INDEX metrics_by_run_key ON metrics (run_id, key, step);

CREATE TABLE latest_metrics (
  run_id    TEXT NOT NULL REFERENCES runs(run_id),
  key       TEXT NOT NULL,
  value     REAL NOT NULL,
  step      INTEGER NOT NULL,
  timestamp INTEGER NOT NULL,
  PRIMARY KEY (run_id, key)
) WITHOUT ROWID;

CREATE TABLE run_artifacts (
  run_id     TEXT NOT NULL REFERENCES runs(run_id),
  path       TEXT NOT NULL,
  digest     TEXT NOT NULL,
  size       INTEGER NOT NULL,
  kind       TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (run_id, path)
) WITHOUT ROWID;

CREATE TABLE run_inputs (
  run_id      TEXT NOT NULL REFERENCES runs(run_id),
  fingerprint TEXT NOT NULL,
  context     TEXT NOT NULL,
  n_rows      INTEGER,
  n_cols      INTEGER,
  schema_json TEXT,
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (run_id, fingerprint, context)
) WITHOUT ROWID;

CREATE TABLE registered_models (
  name        TEXT PRIMARY KEY,
  description TEXT NOT NULL DEFAULT '',
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  deleted_at  INTEGER
);
CREATE TABLE registered_model_tags (
  name  TEXT NOT NULL REFERENCES registered_models(name),
  key   TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (name, key)
);
CREATE TABLE model_versions (
  name            TEXT NOT NULL REFERENCES registered_models(name),
  version         INTEGER NOT NULL,
  run_id          TEXT REFERENCES runs(run_id),
  source          TEXT NOT NULL,
  artifact_digest TEXT NOT NULL,
  description     TEXT NOT NULL DEFAULT '',
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  deleted_at      INTEGER,
  PRIMARY KEY (name, version)
);
CREATE TABLE model_version_tags (
  name    TEXT NOT NULL,
  version INTEGER NOT NULL,
  key     TEXT NOT NULL,
  value   TEXT NOT NULL,
  PRIMARY KEY (name, version, key),
  FOREIGN KEY (name, version) REFERENCES model_versions(name, version)
);
CREATE TABLE model_aliases (
  name    TEXT NOT NULL,
  alias   TEXT NOT NULL,
  version INTEGER NOT NULL,
  PRIMARY KEY (name, alias),
  FOREIGN KEY (name, version) REFERENCES model_versions(name, version)
);
`,
  },
  {
    version: 2,
    description: 'feature store: definitions registry, online store, materialization watermarks',
    sql: `
CREATE TABLE feature_definitions (
  kind       TEXT NOT NULL CHECK (kind IN ('entity', 'featureView', 'featureService')),
  name       TEXT NOT NULL,
  version    INTEGER NOT NULL,
  spec_json  TEXT NOT NULL,
  spec_hash  TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  deleted_at INTEGER,
  PRIMARY KEY (kind, name, version)
);

CREATE TABLE online_features (
  view        TEXT NOT NULL,
  entity_key  TEXT NOT NULL,
  event_ts    INTEGER NOT NULL,
  created_ts  INTEGER,
  values_json TEXT NOT NULL,
  written_at  INTEGER NOT NULL,
  PRIMARY KEY (view, entity_key)
) WITHOUT ROWID;

CREATE TABLE materialization_watermarks (
  view       TEXT PRIMARY KEY,
  watermark  INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

CREATE TABLE materializations (
  id          INTEGER PRIMARY KEY,
  view        TEXT NOT NULL,
  start_ts    INTEGER NOT NULL,
  end_ts      INTEGER NOT NULL,
  rows        INTEGER NOT NULL,
  finished_at INTEGER NOT NULL
);
`,
  },
  MIGRATION_3,
  MIGRATION_4,
  MIGRATION_5,
  MIGRATION_6,
  MIGRATION_7,
];

/** The schema version this build of cellar writes. */
export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;
