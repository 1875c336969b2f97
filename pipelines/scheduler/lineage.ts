/**
 * scheduler/lineage — a pipeline run as tracking runs: one run per pipeline run (experiment = the pipeline's
 * name) with one nested run per step, tagged so that notebook → pipeline version → pipeline run → step run
 * (→ model version registered from it) can be followed; pipeline metrics are logged on the pipeline's run.
 * These helpers are synchronous so that they join the scheduler's write transactions.
 */
import type { PipelineSpec } from '../../kernel-lib/exporter/spec.js';
import type { ProcessIdentity } from '../../kernel-lib/store/process.js';
import type { SqliteDb } from '../../kernel-lib/store/sqlite.js';
import type { SqliteTrackingStore } from '../../kernel-lib/tracking/sqlite-tracking-store.js';
import { MAX_PARAM_VALUE_LENGTH, setOwn } from '../../kernel-lib/tracking/validate.js';
import type { PipelineRunRow } from './state.js';

/** Tag keys written on pipeline and step runs. */
export const LINEAGE_TAGS = {
  pipeline: 'cellar.pipeline.name',
  version: 'cellar.pipeline.version',
  hash: 'cellar.pipeline.hash',
  runId: 'cellar.pipeline.runId',
  runType: 'cellar.pipeline.runType',
  logicalDate: 'cellar.pipeline.logicalDate',
  step: 'cellar.pipeline.step',
  tries: 'cellar.pipeline.tries',
  notebookDigest: 'cellar.notebook.digest',
  notebookPath: 'cellar.notebook.path',
} as const;

function baseTags(spec: PipelineSpec, run: PipelineRunRow): Record<string, string> {
  const tags: Record<string, string> = {
    [LINEAGE_TAGS.pipeline]: spec.name,
    [LINEAGE_TAGS.version]: String(spec.version),
    [LINEAGE_TAGS.hash]: String(spec.hash ?? ''),
    [LINEAGE_TAGS.runId]: run.runId,
    [LINEAGE_TAGS.runType]: run.runType,
    [LINEAGE_TAGS.logicalDate]: new Date(run.logicalDate).toISOString(),
  };
  if (spec.source?.notebookDigest) tags[LINEAGE_TAGS.notebookDigest] = spec.source.notebookDigest;
  if (spec.source?.notebookPath) tags[LINEAGE_TAGS.notebookPath] = spec.source.notebookPath;
  return tags;
}

/** Parameter values as tracking params (strings as they are, other values as JSON; overlong ones left out). */
export function paramsForTracking(params: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(params)) {
    const text = typeof v === 'string' ? v : JSON.stringify(v);
    if (text !== undefined && text.length <= MAX_PARAM_VALUE_LENGTH) setOwn(out, k, text);
  }
  return out;
}

/** Creates the tracking run of a pipeline run; returns its id. */
export function createPipelineTrackingRun(
  tracking: SqliteTrackingStore,
  experimentId: string,
  spec: PipelineSpec,
  run: PipelineRunRow,
  owner: ProcessIdentity | null,
): string {
  const data = tracking.createRunSync({
    experimentId,
    runName: `${spec.name}@${spec.version} ${run.runId}`.slice(0, 250),
    tags: baseTags(spec, run),
    owner,
  });
  const params = paramsForTracking(run.params);
  if (Object.keys(params).length > 0) tracking.logBatchSync(data.id, { params });
  return data.id;
}

/** Creates the nested tracking run of one step; returns its id. */
export function createStepTrackingRun(
  tracking: SqliteTrackingStore,
  experimentId: string,
  spec: PipelineSpec,
  run: PipelineRunRow,
  step: string,
  owner: ProcessIdentity,
): string {
  return tracking.createRunSync({
    experimentId,
    runName: step,
    parentRunId: run.trackingRunId,
    tags: { ...baseTags(spec, run), [LINEAGE_TAGS.step]: step },
    owner,
  }).id;
}

/** Logs pipeline metrics on a tracking run (step 0, now). */
export function logMetrics(
  tracking: SqliteTrackingStore,
  runId: string,
  metrics: Record<string, number>,
): void {
  const now = Date.now();
  const points = Object.entries(metrics).map(([key, value]) => ({ key, value, step: 0, timestamp: now }));
  if (points.length > 0) tracking.logBatchSync(runId, { metrics: points });
}

/**
 * Makes `owner` the owner of a tracking run again after the scheduler that drove it died: any process that
 * opened the store meanwhile marked it KILLED (its owner was dead), but the pipeline run goes on. The
 * tracking store has no "resume" operation, so this updates its row directly (inside the caller's
 * transaction); runs that ended FINISHED or FAILED are left alone.
 */
export function reclaimTrackingRun(db: SqliteDb, runId: string, owner: ProcessIdentity): void {
  db.prepare(
    `UPDATE runs SET status = 'RUNNING', end_time = NULL, owner_host = ?, owner_pid = ?, owner_started = ?
     WHERE run_id = ? AND status IN ('RUNNING', 'KILLED')`,
  ).run(owner.host, owner.pid, owner.started, runId);
}
