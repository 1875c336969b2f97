/**
 * tracking/sqlite-search — row shapes of the tracking tables and the read side shared by the embedded
 * tracking store: loading params/latest metrics/tags of many runs at once, and `searchRuns` (filter, order,
 * page tokens) over them.
 */
import { CellarError } from '../errors.js';
import { cachedStatement, type SqliteDb } from '../store/sqlite.js';
import { parseFilter, type FilterExpr } from './filter.js';
import { parseOrderBy } from './order-by.js';
import { registerSearchFunctions, SQLITE_DIALECT } from './search-dialect.js';
import { chain, compileSearch, type SearchPlan } from './search-sql.js';
import type { RunData, RunStatus, RunsPage, SearchRunsQuery } from './types.js';

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

/**
 * Loads params, latest metrics and tags of the given runs with three queries. SQLite builds one JSON
 * object per run and table (`json_group_object`; its numbers round-trip exactly), so a page costs a few
 * hundred rows instead of one row per value; the ids travel as one JSON array, so a page of any size is
 * one cached statement per table.
 */
export function loadRunFields(db: SqliteDb, runIds: string[]): Map<string, RunFields> {
  const out = new Map<string, RunFields>();
  for (const id of runIds) out.set(id, { params: {}, metrics: {}, tags: {} });
  if (runIds.length === 0) return out;
  const single = runIds.length === 1;
  const where = single ? 'run_id = ?' : 'run_id IN (SELECT value FROM json_each(?))';
  const arg = single ? runIds[0]! : JSON.stringify(runIds);
  const fill = (table: string, field: 'params' | 'metrics' | 'tags'): void => {
    const rows = cachedStatement(
      db,
      `SELECT run_id, json_group_object(key, value) FROM ${table} WHERE ${where} GROUP BY run_id`,
    )
      .raw()
      .all(arg) as Array<[string, string]>;
    for (const [id, json] of rows) {
      const target = out.get(id);
      if (target) target[field] = JSON.parse(json) as never;
    }
  };
  fill('params', 'params');
  fill('latest_metrics', 'metrics');
  fill('tags', 'tags');
  return out;
}

/**
 * Searches runs: filter (MLflow language plus `or`), order and page all run in SQLite (search-sql.ts);
 * only the page's runs are then loaded with their params, latest metrics and tags. `checkExperiment`
 * throws NOT_FOUND for an unknown experiment id.
 *
 * @throws CellarError INVALID_FILTER, INVALID_PARAMETER, NOT_FOUND
 */
export function searchRunsInDb(
  db: SqliteDb,
  query: SearchRunsQuery,
  checkExperiment: (id: string) => void,
): RunsPage {
  const filter = parseFilter(query.filter ?? null);
  const order = parseOrderBy(query.orderBy);
  const maxResults = query.maxResults ?? 1000;
  if (!Number.isSafeInteger(maxResults) || maxResults < 1 || maxResults > MAX_RESULTS_LIMIT) {
    throw new CellarError(
      'INVALID_PARAMETER',
      `maxResults must be an integer from 1 to ${MAX_RESULTS_LIMIT}, got ${String(maxResults)}.`,
    );
  }
  const offset = query.pageToken ? decodePageToken(query.pageToken) : 0;
  const view = query.viewType ?? 'active';
  let expIds: number[] | null = null;
  if (query.experimentIds !== undefined) {
    expIds = query.experimentIds.map((id) => {
      checkExperiment(id);
      return experimentId(id);
    });
    if (expIds.length === 0) return { runs: [], nextPageToken: null };
  }
  registerSearchFunctions(db);
  const plan: SearchPlan = {
    filter,
    order,
    experimentIds: expIds,
    lifecycle: view === 'all' ? null : view,
    limit: maxResults + 1,
    offset,
  };
  const rows =
    order[0]?.entity === 'metrics' && walkMetricIndex(db, plan)
      ? searchInParts(db, plan)
      : runQuery(db, plan);
  const more = rows.length > maxResults;
  if (more) rows.pop();
  const data = loadRunFields(
    db,
    rows.map((r) => r.run_id),
  );
  return {
    runs: rows.map((row) => toRunData(row, data.get(row.run_id)!)),
    nextPageToken: more ? encodePageToken(offset + maxResults) : null,
  };
}

function runQuery(db: SqliteDb, plan: SearchPlan): RunRow[] {
  const { sql, args } = compileSearch(plan, SQLITE_DIALECT);
  return cachedStatement(db, sql).all(...args) as RunRow[];
}

/**
 * A search ordered first by a metric: the runs that have the metric, walked in the metric's index order
 * (the query stops after the page), then — only when the page reaches past them — the runs without it.
 */
function searchInParts(db: SqliteDb, plan: SearchPlan): RunRow[] {
  const rows = runQuery(db, { ...plan, part: 'present' });
  if (rows.length >= plan.limit) return rows;
  let present = plan.offset + rows.length; // how many runs have the metric (exact once one row came back)
  if (rows.length === 0 && plan.offset > 0) {
    const { sql, args } = compileSearch({ ...plan, part: 'count' }, SQLITE_DIALECT);
    present = cachedStatement(db, sql)
      .pluck()
      .get(...args) as number;
  }
  const missing = runQuery(db, {
    ...plan,
    part: 'missing',
    limit: plan.limit - rows.length,
    offset: Math.max(0, plan.offset - present),
  });
  return [...rows, ...missing];
}

const COUNT_TABLES = { metrics: 'latest_metrics', params: 'params', tags: 'tags' } as const;

/** Index count of the runs one top-level `and` term keeps, or null when no index can count it. */
function termCount(db: SqliteDb, term: FilterExpr): number | null {
  if (term.kind !== 'compare' || term.entity === 'attributes') return null;
  const table = COUNT_TABLES[term.entity];
  const count = (cond: string, arg: string | number) =>
    cachedStatement(db, `SELECT count(*) FROM ${table} WHERE key = ? AND ${cond}`)
      .pluck()
      .get(term.key, arg) as number;
  if (term.entity === 'metrics' && term.op !== '!=') return count(`value ${term.op} ?`, term.value as number);
  if (term.op === '=' && typeof term.value === 'string') return count('value = ?', term.value);
  if (term.op === 'IN') return count('value IN (SELECT value FROM json_each(?))', JSON.stringify(term.value));
  return null;
}

/**
 * Chooses, for a search ordered first by a metric, between walking that metric's index in order (cheap
 * when many runs match: the walk stops after the page) and letting SQLite start from the most selective
 * filter term (cheap when few match). Both give the same rows; this only estimates which reads less, from
 * index counts of the top-level `and` terms (assumed independent).
 */
function walkMetricIndex(db: SqliteDb, plan: SearchPlan): boolean {
  if (plan.filter === null) return true;
  const terms = plan.filter.kind === 'and' ? chain(plan.filter) : [plan.filter];
  const counts = terms.map((t) => termCount(db, t)).filter((n): n is number => n !== null);
  if (counts.length === 0) return true;
  const withKey = cachedStatement(db, 'SELECT count(*) FROM latest_metrics WHERE key = ?')
    .pluck()
    .get(plan.order[0]!.key) as number;
  if (withKey === 0) return true;
  const expected = counts.reduce((acc, n) => acc * (n / withKey), withKey);
  const walked = Math.min(withKey, ((plan.offset + plan.limit) / Math.max(expected, 1)) * withKey);
  return walked <= Math.min(...counts);
}
