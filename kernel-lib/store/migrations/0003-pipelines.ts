/**
 * Migration 3 — pipeline definitions: pipelines and their content-addressed, numbered versions (owned by
 * the notebook exporter, kernel-lib/exporter). A version's files live in `pipelines/<name>/<version>/`;
 * its row is written in the same transaction that moves the files into place, and UNIQUE(name, hash)
 * makes two concurrent exports of the same notebook end with one version.
 */
import type { Migration } from '../schema.js';

/** Tables of exported pipelines. */
export const MIGRATION_3: Migration = {
  version: 3,
  description: 'pipelines and pipeline versions',
  sql: `
CREATE TABLE pipelines (
  name       TEXT PRIMARY KEY,
  created_at INTEGER NOT NULL
);

CREATE TABLE pipeline_versions (
  name            TEXT NOT NULL REFERENCES pipelines(name),
  version         INTEGER NOT NULL CHECK (version >= 1),
  hash            TEXT NOT NULL,
  spec_json       TEXT NOT NULL,
  schedule        TEXT,
  notebook_digest TEXT NOT NULL,
  notebook_path   TEXT,
  created_at      INTEGER NOT NULL,
  PRIMARY KEY (name, version),
  UNIQUE (name, hash)
);
`,
};
