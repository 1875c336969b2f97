/**
 * Random filters, orders and stored runs for the run-search oracle tests: the SQL search of a store must
 * return exactly what the in-memory evaluator (evaluateFilter + compareRuns) returns on the same runs.
 */
import type { SqliteTrackingStore } from '../../../kernel-lib/tracking/sqlite-tracking-store.js';
import type { CompareOp, Entity, FilterExpr, RunView } from '../../../kernel-lib/tracking/filter.js';
import type { OrderClause } from '../../../kernel-lib/tracking/order-by.js';
import type { RunStatus } from '../../../kernel-lib/tracking/types.js';

/** The values a random filter draws from. */
export interface FilterPools {
  keys: Record<'metrics' | 'params' | 'tags', string[]>;
  strings: string[];
  patterns: string[];
  numbers: number[];
  statuses: string[];
  /** Values for run_id / run_name / parent_run_id / experiment_id comparisons. */
  ids: string[];
}

const cmp = (entity: Entity, key: string, op: CompareOp, value: string | number | Array<string | number>) =>
  ({ kind: 'compare', entity, key, op, value }) as FilterExpr;

/** One random comparison that parses (right value type for the key and operator). */
export function randomCompare(rnd: () => number, pools: FilterPools): FilterExpr {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const some = <T>(xs: readonly T[]): T[] =>
    Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => pick(xs));
  const stringCompare = (entity: Entity, key: string, ops: CompareOp[], pool: string[]): FilterExpr => {
    const op = pick(ops);
    if (op === 'IN' || op === 'NOT IN') return cmp(entity, key, op, some(pool));
    const likePool = [...pools.patterns, ...pool];
    return cmp(entity, key, op, op === 'LIKE' || op === 'ILIKE' ? pick(likePool) : pick(pool));
  };
  const strOps: CompareOp[] = ['=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'];
  const numOps: CompareOp[] = ['=', '!=', '<', '<=', '>', '>='];
  const entity = pick(['metrics', 'params', 'tags', 'attributes'] as const);
  if (entity === 'metrics') return cmp(entity, pick(pools.keys.metrics), pick(numOps), pick(pools.numbers));
  if (entity === 'params') {
    const op = pick([...strOps, '<', '<=', '>', '>='] as CompareOp[]);
    if (/^[<>]/.test(op)) return cmp(entity, pick(pools.keys.params), op, pick(pools.numbers));
    return stringCompare(entity, pick(pools.keys.params), [op], pools.strings);
  }
  if (entity === 'tags') return stringCompare(entity, pick(pools.keys.tags), strOps, pools.strings);
  const attributes = ['run_id', 'run_name', 'status', 'start_time', 'end_time', 'experiment_id'];
  const key = pick([...attributes, 'parent_run_id']);
  if (key === 'start_time' || key === 'end_time') return cmp(entity, key, pick(numOps), pick(pools.numbers));
  if (key === 'status') return stringCompare(entity, key, ['=', '!=', 'IN', 'NOT IN'], pools.statuses);
  return stringCompare(entity, key, strOps, [...pools.ids, ...pools.strings.slice(0, 4)]);
}

/** A random and/or tree of comparisons, up to `depth` levels. */
export function randomExpr(rnd: () => number, depth: number, pools: FilterPools): FilterExpr {
  if (depth <= 0 || rnd() < 0.3) return randomCompare(rnd, pools);
  return {
    kind: rnd() < 0.5 ? 'and' : 'or',
    left: randomExpr(rnd, depth - 1, pools),
    right: randomExpr(rnd, depth - 1, pools),
  };
}

/** 0–3 distinct random order clauses. */
export function randomOrder(rnd: () => number, pools: FilterPools): OrderClause[] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const out: OrderClause[] = [];
  const n = Math.floor(rnd() * 4);
  const attributes = [
    'run_id',
    'run_name',
    'status',
    'start_time',
    'end_time',
    'experiment_id',
    'parent_run_id',
  ];
  while (out.length < n) {
    const entity = pick(['metrics', 'params', 'tags', 'attributes'] as const);
    const key = entity === 'attributes' ? pick(attributes) : pick(pools.keys[entity]);
    if (out.some((c) => c.entity === entity && c.key === key)) continue;
    out.push({ entity, key, descending: rnd() < 0.5 });
  }
  return out;
}

/** Text of order clauses for `searchRuns`. */
export function orderText(clauses: OrderClause[]): string[] {
  return clauses.map((c) => `${c.entity}.\`${c.key}\` ${c.descending ? 'DESC' : 'ASC'}`);
}

/** What one stored run should hold. */
export interface RunSpec {
  experimentId: string;
  runName: string | null;
  startTime: number;
  /** null: the run stays RUNNING. */
  end: { status: RunStatus; time: number } | null;
  parent: number | null;
  metrics: Record<string, number>;
  params: Record<string, string>;
  tags: Record<string, string>;
}

/**
 * Stores `specs` through the store's API in one transaction (fast: one commit) and returns the views the
 * in-memory evaluator needs, with the ids the store gave the runs.
 */
export function storeRuns(
  tracking: SqliteTrackingStore,
  db: { transaction: (fn: () => void) => () => void },
  specs: RunSpec[],
): RunView[] {
  const views: RunView[] = [];
  db.transaction(() => {
    for (const s of specs) {
      const parentRunId = s.parent === null ? null : views[s.parent]!.runId;
      const run = tracking.createRunSync({
        experimentId: s.experimentId,
        runName: s.runName,
        startTime: s.startTime,
        tags: s.tags,
        parentRunId,
      });
      const metrics = Object.entries(s.metrics).map(([key, value]) => ({
        key,
        value,
        step: 0,
        timestamp: 1,
      }));
      tracking.logBatchSync(run.id, { params: s.params, metrics });
      if (s.end) tracking.endRunSync(run.id, s.end.status, s.end.time);
      views.push({
        runId: run.id,
        runName: s.runName,
        status: s.end?.status ?? 'RUNNING',
        startTime: s.startTime,
        endTime: s.end?.time ?? null,
        experimentId: s.experimentId,
        parentRunId,
        metrics: { ...s.metrics },
        params: { ...s.params },
        tags: parentRunId ? { ...s.tags, 'mlflow.parentRunId': parentRunId } : { ...s.tags },
      });
    }
  })();
  return views;
}
