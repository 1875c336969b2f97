/**
 * tracking/search-sql — compiles a run search (parsed filter, order-by clauses, experiments, lifecycle view,
 * page) into one SQL query over the tracking tables that returns the page's run rows in order. The query
 * has the same results as the in-memory evaluator (filter.ts, order-by.ts), which the tests keep as the
 * oracle:
 * - each `metrics.`/`params.`/`tags.` key used is one LEFT JOIN on (run_id, key) (at most one row per run),
 *   so a missing key is NULL and NULL matches no comparison; with many keys the rest become scalar
 *   subqueries (SQLite allows 64 tables in a join);
 * - `and`/`or` chains are emitted as balanced groups, so a 10,000-term filter stays within SQLite's
 *   expression depth; there is no NOT, so NULL behaves as false everywhere;
 * - missing values sort last in both directions; params and tags that are decimal numbers sort
 *   numerically, before text; ties fall to start time DESC, then run id.
 * Database differences go through a {@link SearchDialect}.
 */
import type { FilterExpr } from './filter.js';
import type { OrderClause } from './order-by.js';
import type { SearchDialect } from './search-dialect.js';

/** What to search. */
export interface SearchPlan {
  filter: FilterExpr | null;
  order: OrderClause[];
  /** Experiment ids to search, or null for every run. */
  experimentIds: number[] | null;
  /** Lifecycle stage to keep, or null for all. */
  lifecycle: 'active' | 'deleted' | null;
  limit: number;
  offset: number;
  /**
   * With a first order clause on a metric, the search runs in two parts: `present` walks the runs that
   * have that metric in index order (value, then the other keys), stopping after the page; `missing`
   * takes the runs without it (they sort last); `count` counts the `present` part. Default: one query.
   */
  part?: 'present' | 'missing' | 'count';
}

/** A query and its parameters, in placeholder order. */
export interface CompiledSearch {
  sql: string;
  args: Array<string | number>;
}

/** The run columns the query returns, in the shape of table runs. */
export const RUN_COLUMNS =
  'r.run_id, r.experiment_id, r.run_name, r.status, r.start_time, r.end_time, r.parent_run_id, r.lifecycle_stage';

const TABLES = { metrics: 'latest_metrics', params: 'params', tags: 'tags' } as const;
/** Keys beyond this many become scalar subqueries instead of joins. */
const MAX_JOINED_KEYS = 24;
const NUMERIC_ATTRIBUTES = new Set(['start_time', 'end_time']);

type Compare = Extract<FilterExpr, { kind: 'compare' }>;

/** The comparisons of a filter, left to right, without recursion (chains may be long). */
function comparisons(expr: FilterExpr | null): Compare[] {
  const out: Compare[] = [];
  const stack: FilterExpr[] = expr ? [expr] : [];
  while (stack.length > 0) {
    const e = stack.pop()!;
    if (e.kind === 'compare') out.push(e);
    else stack.push(e.right, e.left);
  }
  return out;
}

/** @internal The operands of a same-kind and/or chain, in order. */
export function chain(expr: FilterExpr): FilterExpr[] {
  const out: FilterExpr[] = [];
  const stack: FilterExpr[] = [expr];
  while (stack.length > 0) {
    const e = stack.pop()!;
    if (e.kind === expr.kind && e.kind !== 'compare') stack.push(e.right, e.left);
    else out.push(e);
  }
  return out;
}

/** Joins SQL terms with `op` as a balanced tree of groups (depth log2 n). */
function balanced(terms: string[], op: 'AND' | 'OR'): string {
  if (terms.length === 1) return terms[0]!;
  const mid = terms.length >> 1;
  return `(${balanced(terms.slice(0, mid), op)} ${op} ${balanced(terms.slice(mid), op)})`;
}

class Compiler {
  readonly args: Array<string | number> = [];
  private readonly joined = new Map<string, string>();
  private readonly joins: string[] = [];

  constructor(private readonly d: SearchDialect) {}

  bind(v: string | number): string {
    this.args.push(v);
    return this.d.param(this.args.length);
  }

  /** Makes `metrics.key` the driving table `j0` (bound later, in the WHERE clause, by {@link driveTerm}). */
  drive(key: string): void {
    this.joined.set(`metrics\u0000${key}`, 'j0');
  }

  driveTerm(key: string): string {
    return `j0.key = ${this.bind(key)} AND r.run_id = j0.run_id`;
  }

  /** Allocates a LEFT JOIN for `entity.key` (must run before the WHERE clause is emitted). */
  join(entity: 'metrics' | 'params' | 'tags', key: string): void {
    const id = `${entity}\u0000${key}`;
    if (this.joined.has(id) || this.joined.size >= MAX_JOINED_KEYS) return;
    const alias = `j${this.joined.size}`;
    this.joined.set(id, alias);
    this.joins.push(
      `LEFT JOIN ${TABLES[entity]} ${alias} ON ${alias}.run_id = r.run_id AND ${alias}.key = ${this.bind(key)}`,
    );
  }

  get joinText(): string {
    return this.joins.join('\n');
  }

  value(entity: Compare['entity'], key: string): string {
    if (entity === 'attributes') {
      return key === 'experiment_id' ? this.d.integerAsText('r.experiment_id') : `r.${key}`;
    }
    const alias = this.joined.get(`${entity}\u0000${key}`);
    if (alias) return `${alias}.value`;
    return `(SELECT value FROM ${TABLES[entity]} WHERE run_id = r.run_id AND key = ${this.bind(key)})`;
  }

  compare(c: Compare): string {
    const v = this.value(c.entity, c.key);
    if (c.op === 'LIKE' || c.op === 'ILIKE')
      return this.d.like(v, this.bind(String(c.value)), c.op === 'ILIKE');
    if (c.op === 'IN' || c.op === 'NOT IN') {
      const list = (Array.isArray(c.value) ? c.value : [c.value]).map((x) => this.bind(x));
      return `${v} ${c.op} (${list.join(', ')})`;
    }
    const lhs = c.entity === 'params' && typeof c.value === 'number' ? this.d.numeric(v) : v;
    return `${lhs} ${c.op === '!=' ? '<>' : c.op} ${this.bind(c.value as string | number)}`;
  }

  filter(expr: FilterExpr): string {
    if (expr.kind === 'compare') return this.compare(expr);
    const terms = chain(expr).map((e) => this.filter(e));
    return balanced(terms, expr.kind === 'and' ? 'AND' : 'OR');
  }

  orderTerms(c: OrderClause): string[] {
    const dir = c.descending ? 'DESC' : 'ASC';
    const v = this.value(c.entity, c.key);
    if (c.entity === 'metrics' || (c.entity === 'attributes' && NUMERIC_ATTRIBUTES.has(c.key))) {
      return [`(${v} IS NULL)`, `${v} ${dir}`];
    }
    if (c.entity === 'attributes') return [`(${v} IS NULL)`, `${this.d.textOrder(v)} ${dir}`];
    const num = this.d.numeric(v);
    const text = this.d.textOrder(`CASE WHEN ${num} IS NULL THEN ${v} END`);
    return [`(${v} IS NULL)`, `(${num} IS NULL) ${dir}`, `${num} ${dir}`, `${text} ${dir}`];
  }
}

/**
 * Compiles a run search to one query returning the page's rows of table runs ({@link RUN_COLUMNS}), in
 * order. Ask for one row more than the page to learn whether a next page exists.
 *
 * @example
 * const { sql, args } = compileSearch({ filter: parseFilter("metrics.rmse < 0.5"), order: [], experimentIds: null, lifecycle: 'active', limit: 101, offset: 0 }, SQLITE_DIALECT)
 */
export function compileSearch(plan: SearchPlan, dialect: SearchDialect): CompiledSearch {
  const c = new Compiler(dialect);
  const part = plan.part;
  const first = plan.order[0];
  const split = part !== undefined && first?.entity === 'metrics';
  const driven = split && part !== 'missing';
  if (driven) c.drive(first.key);
  // The missing part has no value for the first clause: it neither joins nor sorts on it.
  const order = split && part === 'missing' ? plan.order.slice(1) : plan.order;
  for (const o of order) if (o.entity !== 'attributes') c.join(o.entity, o.key);
  for (const cmp of comparisons(plan.filter)) if (cmp.entity !== 'attributes') c.join(cmp.entity, cmp.key);
  const joins = c.joinText;
  const where: string[] = [];
  if (driven) where.push(c.driveTerm(first.key));
  if (split && part === 'missing') {
    where.push(
      `NOT EXISTS (SELECT 1 FROM latest_metrics WHERE run_id = r.run_id AND key = ${c.bind(first.key)})`,
    );
  }
  if (plan.experimentIds !== null) {
    where.push(`r.experiment_id IN (${plan.experimentIds.map((id) => c.bind(id)).join(', ')})`);
  }
  if (plan.lifecycle !== null) where.push(`r.lifecycle_stage = ${c.bind(plan.lifecycle)}`);
  if (plan.filter) where.push(c.filter(plan.filter));
  // CROSS JOIN keeps the metric's index as the outer loop, so the walk stops after the page.
  const from = driven ? 'latest_metrics j0 CROSS JOIN runs r' : 'runs r';
  const head = `SELECT ${part === 'count' ? 'count(*)' : RUN_COLUMNS} FROM ${from}\n${joins}${joins ? '\n' : ''}`;
  const whereText = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
  if (part === 'count') return { sql: `${head}${whereText}`, args: c.args };
  const terms = order.flatMap((o, i) => {
    const t = c.orderTerms(o);
    return driven && i === 0 ? t.slice(1) : t; // every run of the present part has the value
  });
  const orderBy = [...terms, 'r.start_time DESC', 'r.run_id ASC'];
  const page = dialect.page(c.bind(plan.limit), c.bind(plan.offset));
  return { sql: `${head}${whereText}\nORDER BY ${orderBy.join(', ')}\n${page}`, args: c.args };
}
