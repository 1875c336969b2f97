/**
 * Migration 3 — pipeline definitions: pipelines and their content-addressed, numbered versions (owned by
 * the notebook exporter, kernel-lib/exporter).
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
`,
};
