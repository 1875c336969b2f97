/**
 * Migration 5 — indexes for run search compiled to SQL (owned by kernel-lib/tracking/search-sql.ts): a
 * filter or an order on `metrics.<key>`, `params.<key>` or `tags.<key>` reads the rows of one key by value
 * instead of probing every run, and the default order (newest first, then run id) and the per-experiment
 * order are read from an index, so a page of 100 runs costs about 100 index steps at any store size.
 */
import type { Migration } from '../schema.js';

/** Indexes of run search. */
export const MIGRATION_5: Migration = {
  version: 5,
  description: 'run search indexes',
  sql: `
CREATE INDEX latest_metrics_by_key_value ON latest_metrics (key, value);
CREATE INDEX params_by_key_value ON params (key, value);
CREATE INDEX tags_by_key_value ON tags (key, value);
CREATE INDEX runs_by_start ON runs (start_time DESC, run_id);
CREATE INDEX runs_by_experiment_start ON runs (experiment_id, start_time DESC, run_id);
`,
};
