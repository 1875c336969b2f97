/**
 * Migration 7 (monitoring) — reference statistics of registered model versions and the labels that arrive
 * after predictions (owned by kernel-lib/monitoring). Numbered 7 in the plan; on a branch without
 * migrations 5 and 6 it takes the next free version, and the lead renumbers at merge time.
 *
 * Times are epoch milliseconds (UTC).
 * - model_reference_stats: one JSON document per (model, version), written when the version is registered
 *   from the `reference_stats.json` its run logged next to the model; immutable like the version.
 * - prediction_labels: ground truth, joined to logged predictions by request id, or by entity key and time
 *   (the latest prediction of the same entity at or before the label's time).
 */
import type { Migration } from '../schema.js';

/** Tables of monitoring. */
export const MIGRATION_7: Migration = {
  version: 7,
  description: 'monitoring: reference statistics of model versions, prediction labels',
  sql: `
CREATE TABLE model_reference_stats (
  name       TEXT NOT NULL,
  version    INTEGER NOT NULL,
  run_id     TEXT,
  stats_json TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (name, version)
);

CREATE TABLE prediction_labels (
  id         INTEGER PRIMARY KEY,
  model      TEXT,
  request_id TEXT,
  entity_key TEXT,
  ts         INTEGER,
  label      REAL NOT NULL,
  logged_at  INTEGER NOT NULL,
  CHECK (request_id IS NOT NULL OR (entity_key IS NOT NULL AND ts IS NOT NULL))
);
CREATE INDEX prediction_labels_by_request ON prediction_labels (request_id) WHERE request_id IS NOT NULL;
CREATE INDEX prediction_labels_by_entity ON prediction_labels (entity_key, ts) WHERE entity_key IS NOT NULL;
`,
};
