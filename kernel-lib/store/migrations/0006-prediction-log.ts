/**
 * Migration 6 — the prediction log (owned by kernel-lib/serving/prediction-log.ts): one row per scored row of a
 * served request (or a batch prediction), written in batches off the request path, read by monitoring
 * (`readPredictionLog`). Times are epoch milliseconds (UTC); JSON columns hold plain objects.
 */
import type { Migration } from '../schema.js';

/** The prediction log table. */
export const MIGRATION_6: Migration = {
  version: 6,
  description: 'prediction log',
  sql: `
CREATE TABLE prediction_log (
  id            INTEGER PRIMARY KEY,
  model         TEXT NOT NULL,
  version       INTEGER,
  model_uri     TEXT NOT NULL,
  request_id    TEXT NOT NULL,
  row_index     INTEGER NOT NULL,
  ts            INTEGER NOT NULL,
  latency_ms    REAL NOT NULL,
  entity_json   TEXT,
  inputs_json   TEXT NOT NULL,
  features_json TEXT,
  missing_json  TEXT,
  prediction    REAL,
  status        TEXT NOT NULL CHECK (status IN ('ok', 'rejected')),
  source        TEXT NOT NULL DEFAULT 'serve'
);
CREATE INDEX prediction_log_by_model ON prediction_log (model, ts);
`,
};
