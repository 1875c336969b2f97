/**
 * tracking/order-by — run-search ordering (MLflow's `order_by`): parses clauses such as
 * `metrics.rmse ASC` or ``metrics.`val loss` DESC`` and builds a comparator over `RunView`s that is a total,
 * stable order, so that pages of a search never overlap or skip runs.
 *
 * Semantics:
 * - Each clause is `<key> [ASC|DESC]` (ASC by default, keywords case-insensitive), with keys written as in
 *   filters (`metrics.`, `params.`, `tags.`, `attributes.`, same aliases and quoting). A string may hold
 *   several clauses separated by commas; an array holds one or more per entry. A key may appear once.
 * - Runs without the value (or with a null attribute such as the `end_time` of a running run) sort last
 *   whatever the direction; NaN metrics sort after every number but before missing values (as MLflow).
 * - Metrics and numeric attributes sort numerically, other attributes by their string (code-point order,
 *   independent of locale, as the SQL stores sort). Cellar extension: params and tags whose whole value is a decimal number sort
 *   numerically ('9' before '10') and before non-numeric values, which sort as strings.
 * - Ties, and the order with no clauses at all, fall back to `attributes.start_time DESC` then run id ASC.
 */
import { CellarError } from '../errors.js';
import {
  describeToken,
  numericParam,
  resolveKey,
  runValue,
  syntaxError,
  tokenize,
  type Entity,
  type RunView,
  type Source,
} from './filter.js';

/** One sort key of a run search. Attribute keys are canonical (e.g. `start_time`). */
export interface OrderClause {
  entity: Entity;
  key: string;
  descending: boolean;
}

/**
 * Parses MLflow-style order-by clauses; `undefined`, an empty string or an empty array give `[]`
 * (the default order: newest first).
 *
 * @throws CellarError `INVALID_PARAMETER` naming the bad token and its column, for an unknown key or
 *   entity, a direction other than ASC/DESC, trailing text, a repeated key, or an entry that is not a string.
 * @example
 * parseOrderBy(['metrics.rmse ASC', 'attributes.start_time DESC'])
 * parseOrderBy('metrics.`val loss`, params.alpha desc')
 */
export function parseOrderBy(orderBy: string | string[] | undefined): OrderClause[] {
  if (orderBy === undefined || orderBy === null) return [];
  const entries: unknown[] = typeof orderBy === 'string' ? [orderBy] : orderBy;
  if (!Array.isArray(entries)) {
    throw new CellarError(
      'INVALID_PARAMETER',
      `order_by must be a string or an array of strings, got ${typeof orderBy}.`,
    );
  }
  const clauses: OrderClause[] = [];
  const seen = new Set<string>();
  entries.forEach((entry, n) => {
    const label = typeof orderBy === 'string' ? 'order_by' : `order_by[${n}]`;
    if (typeof entry !== 'string') {
      const hint = "Each entry is a string such as 'metrics.rmse ASC'.";
      throw new CellarError(
        'INVALID_PARAMETER',
        `Invalid ${label}: expected a string, got ${typeof entry}. ${hint}`,
      );
    }
    if (entry.trim() === '') {
      if (typeof orderBy === 'string') return;
      throw new CellarError(
        'INVALID_PARAMETER',
        `Invalid ${label}: empty clause. Remove it or write e.g. 'metrics.rmse ASC'.`,
      );
    }
    const src: Source = { text: entry, code: 'INVALID_PARAMETER', label };
    const toks = tokenize(src);
    for (let i = 0; ; i++) {
      const keyTok = toks[i];
      const { entity, key } = resolveKey(src, keyTok, 'metrics.rmse');
      const dir = toks[++i];
      const hasDir = dir.kind === 'word' && (dir.str === 'ASC' || dir.str === 'DESC');
      const id = `${entity}.${key}`;
      if (seen.has(id)) syntaxError(src, keyTok, `${id} appears twice`, 'Sort by each key once.');
      seen.add(id);
      clauses.push({ entity, key, descending: hasDir && dir.str === 'DESC' });
      const sep = hasDir ? toks[++i] : dir;
      if (sep.kind === 'eof') break;
      if (sep.kind !== 'punct' || sep.str !== ',') {
        const expected = hasDir ? "',' or the end" : "ASC, DESC, ',' or the end";
        syntaxError(src, sep, `expected ${expected} after '${keyTok.text}', got ${describeToken(sep)}`);
      }
    }
  });
  return clauses;
}

const TIE_BREAKERS: OrderClause[] = [
  { entity: 'attributes', key: 'start_time', descending: true },
  { entity: 'attributes', key: 'run_id', descending: false },
];

/** 0 for a value, 1 for NaN, 2 for missing: the last two sort last in both directions. */
function rank(v: unknown): number {
  if (v === undefined || v === null) return 2;
  return typeof v === 'number' && Number.isNaN(v) ? 1 : 0;
}

function order<T>(x: T, y: T): number {
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * Code-point order of two strings (UTF-8 byte order, as SQLite's BINARY and PostgreSQL's "C" collation
 * sort): UTF-16 code-unit order except that surrogates (astral characters) sort after U+E000–U+FFFF.
 */
function orderText(x: string, y: string): number {
  if (x === y) return 0;
  const n = Math.min(x.length, y.length);
  let i = 0;
  while (i < n && x.charCodeAt(i) === y.charCodeAt(i)) i++;
  if (i === n) return x.length - y.length < 0 ? -1 : 1;
  const fix = (c: number) => (c >= 0xe000 ? c - 0x800 : c >= 0xd800 ? c + 0x2000 : c);
  return fix(x.charCodeAt(i)) < fix(y.charCodeAt(i)) ? -1 : 1;
}

/** Ascending comparison of two present values of the same key. */
function comparePresent(x: string | number, y: string | number, numericStrings: boolean): number {
  if (typeof x === 'number' && typeof y === 'number') return order(x, y);
  if (numericStrings) {
    const nx = numericParam(String(x));
    const ny = numericParam(String(y));
    if (nx !== null && ny !== null) return order(nx, ny);
    if (nx !== null || ny !== null) return nx !== null ? -1 : 1; // numbers before text
  }
  return orderText(String(x), String(y));
}

function compareBy(clause: OrderClause, a: RunView, b: RunView): number {
  const va = runValue(a, clause.entity, clause.key);
  const vb = runValue(b, clause.entity, clause.key);
  const ra = rank(va);
  const rb = rank(vb);
  if (ra !== 0 || rb !== 0) return ra - rb;
  const numericStrings = clause.entity === 'params' || clause.entity === 'tags';
  const c = comparePresent(va as string | number, vb as string | number, numericStrings);
  return clause.descending ? -c : c;
}

/**
 * A comparator for `Array.prototype.sort` that orders runs by `clauses`, then by start time (newest first),
 * then by run id, so that the order is total and the same on every call (pagination relies on it).
 *
 * @example
 * runs.sort(compareRuns(parseOrderBy(['metrics.rmse ASC'])))
 */
export function compareRuns(clauses: OrderClause[]): (a: RunView, b: RunView) => number {
  const all = [...clauses, ...TIE_BREAKERS];
  return (a, b) => {
    for (const clause of all) {
      const c = compareBy(clause, a, b);
      if (c !== 0) return c;
    }
    return 0;
  };
}
