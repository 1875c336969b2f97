/**
 * tracking/sqlite-search — row shapes of the tracking tables and the read side shared by the embedded
 * tracking store: loading params/latest metrics/tags of many runs at once, and `searchRuns` (filter, order,
 * page tokens) over them.
 */
import { CellarError } from '../errors.js';
import { cachedStatement, type SqliteDb } from '../store/sqlite.js';
import { compileFilter, type RunView } from './filter.js';
import { compareRuns, parseOrderBy } from './order-by.js';
import type { RunData, RunStatus, RunsPage, SearchRunsQuery } from './types.js';
import { setOwn } from './validate.js';

/** The params, latest metrics and tags of a run. */
export type RunFields = Pick<RunData, 'params' | 'metrics' | 'tags'>;

/** A row of table runs. */
export interface RunRow {
  run_id: string;
  experiment_id: number;
  run_name: string | null;
  status: RunStatus;
  start_time: number;
  end_time: number | null;
  parent_run_id: string | null;
  lifecycle_stage: 'active' | 'deleted';
}

/** A row of table experiments. */
export interface ExperimentRow {
  experiment_id: number;
  name: string;
  lifecycle_stage: 'active' | 'deleted';
  created_at: number;
  updated_at: number;
}

/** Largest page of searchRuns. */
export const MAX_RESULTS_LIMIT = 50_000;

/** Encodes a search offset as an opaque page token. */
export function encodePageToken(offset: number): string {
  return Buffer.from(JSON.stringify({ offset }), 'utf8').toString('base64url');
}

/** Decodes a page token made by {@link encodePageToken}. */
export function decodePageToken(token: string): number {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { offset?: unknown };
    if (typeof parsed.offset === 'number' && Number.isSafeInteger(parsed.offset) && parsed.offset >= 0)
      return parsed.offset;
  } catch {
    // fall through to the error below
  }
  throw new CellarError(
    'INVALID_PARAMETER',
    `Invalid page token "${token}": pass back the nextPageToken of a previous search.`,
  );
}

/** Checks an experiment id and returns it as the integer key. */
export function experimentId(id: string): number {
  const n = Number(id);
  if (typeof id !== 'string' || !/^\d+$/.test(id) || !Number.isSafeInteger(n)) {
    throw new CellarError('NOT_FOUND', `No experiment with id ${JSON.stringify(id)}.`);
  }
  return n;
}

/** Builds the user-facing run from its row and fields. */
export function toRunData(row: RunRow, d: RunFields): RunData {
  return {
    id: row.run_id,
    experimentId: String(row.experiment_id),
    runName: row.run_name,
    status: row.status,
    startTime: row.start_time,
    endTime: row.end_time,
    parentRunId: row.parent_run_id,
    lifecycleStage: row.lifecycle_stage,
    params: d.params,
    metrics: d.metrics,
    tags: d.tags,
  };
}

/** Loads params, latest metrics and tags of many runs with three queries (by run ids, or all runs of experiments). */
export function loadRunFields(
  db: SqliteDb,
  runIds: string[],
  experimentIds?: number[],
): Map<string, RunFields> {
  const out = new Map<string, RunFields>();
  for (const id of runIds) out.set(id, { params: {}, metrics: {}, tags: {} });
  const where =
    experimentIds !== undefined
      ? `run_id IN (SELECT run_id FROM runs WHERE experiment_id IN (${experimentIds.map(() => '?').join(',')}))`
      : `run_id IN (${runIds.map(() => '?').join(',')})`;
  const args = experimentIds ?? runIds;
  if (args.length === 0) return out;
  const fill = (table: string, field: 'params' | 'metrics' | 'tags'): void => {
    const rows = cachedStatement(db, `SELECT run_id, key, value FROM ${table} WHERE ${where}`)
      .raw()
      .all(...args) as Array<[string, string, string | number]>;
    for (const [id, key, value] of rows) {
      const target = out.get(id);
      if (target) setOwn(target[field] as Record<string, string | number>, key, value);
    }
  };
  fill('params', 'params');
  fill('latest_metrics', 'metrics');
  fill('tags', 'tags');
  return out;
}

/**
 * Searches runs: filter (MLflow language plus `or`), order, page. `checkExperiment` throws NOT_FOUND for an
 * unknown experiment id.
 *
 * @throws CellarError INVALID_FILTER, INVALID_PARAMETER, NOT_FOUND
 */
export function searchRunsInDb(
  db: SqliteDb,
  query: SearchRunsQuery,
  checkExperiment: (id: string) => void,
): RunsPage {
  const predicate = compileFilter(query.filter ?? null);
  const order = compareRuns(parseOrderBy(query.orderBy));
  const maxResults = query.maxResults ?? 1000;
  if (!Number.isSafeInteger(maxResults) || maxResults < 1 || maxResults > MAX_RESULTS_LIMIT) {
    throw new CellarError(
      'INVALID_PARAMETER',
      `maxResults must be an integer from 1 to ${MAX_RESULTS_LIMIT}, got ${String(maxResults)}.`,
    );
  }
  const offset = query.pageToken ? decodePageToken(query.pageToken) : 0;
  const view = query.viewType ?? 'active';
  let expIds: number[];
  if (query.experimentIds === undefined) {
    expIds = (cachedStatement(db, 'SELECT experiment_id FROM experiments').pluck().all() as number[]).slice();
  } else {
    expIds = query.experimentIds.map((id) => {
      checkExperiment(id);
      return experimentId(id);
    });
  }
  if (expIds.length === 0) return { runs: [], nextPageToken: null };
  const placeholders = expIds.map(() => '?').join(',');
  const rows = cachedStatement(
    db,
    `SELECT * FROM runs WHERE experiment_id IN (${placeholders})${view === 'all' ? '' : ' AND lifecycle_stage = ?'}`,
  ).all(...expIds, ...(view === 'all' ? [] : [view])) as RunRow[];
  const data = loadRunFields(
    db,
    rows.map((r) => r.run_id),
    expIds,
  );
  const views: Array<{ row: RunRow; view: RunView }> = rows.map((row) => {
    const d = data.get(row.run_id)!;
    return {
      row,
      view: {
        runId: row.run_id,
        runName: row.run_name,
        status: row.status,
        startTime: row.start_time,
        endTime: row.end_time,
        experimentId: String(row.experiment_id),
        parentRunId: row.parent_run_id,
        metrics: d.metrics,
        params: d.params,
        tags: d.tags,
      },
    };
  });
  const matched = views.filter((v) => predicate(v.view));
  matched.sort((a, b) => order(a.view, b.view));
  const page = matched.slice(offset, offset + maxResults);
  const next = offset + maxResults < matched.length ? encodePageToken(offset + maxResults) : null;
  return { runs: page.map((v) => toRunData(v.row, data.get(v.row.run_id)!)), nextPageToken: next };
}
