/** Randomized tests of the run-search filter language: printed random filters parse back to the same tree and agree with a naive evaluator. */
import { mulberry32 } from '../../../kernel-lib/ml/random.js';
import {
  compileFilter,
  evaluateFilter,
  formatFilter,
  parseFilter,
  type CompareOp,
  type Entity,
  type FilterExpr,
  type RunView,
} from '../../../kernel-lib/tracking/filter.js';

const cmp = (entity: Entity, key: string, op: CompareOp, value: string | number | Array<string | number>) =>
  ({ kind: 'compare', entity, key, op, value }) as FilterExpr;

// ---------------------------------------------------------------------------------------------------
// Randomized round trip: random ASTs → formatFilter → parseFilter must give the same AST, and both must
// agree with a naive reference evaluator on random runs.

const STRINGS = [
  '0.5',
  '0.50',
  '10',
  '9',
  '-1e-3',
  'abc',
  'ABC',
  "it's",
  '100%',
  'a_c',
  'abc_',
  'back\\slash',
  '',
  'prod',
  'x"y',
  'é',
  '😀',
  'DROP TABLE runs; --',
  ' 3 ',
  'a%c',
];
const PATTERNS = [
  '%',
  'a%',
  '%c',
  '_b_',
  'A%',
  '%\\%',
  'a\\_c',
  '%_%',
  '',
  '😀',
  '_',
  "it's%",
  '%0%',
  '\\\\%',
  'x"%',
];
const NUMBERS = [0, 1, -1, 0.5, 0.25, 10, 9, 1e-3, -2.5e3, 1e21, 1700000000000, 3];
const METRIC_VALUES = [...NUMBERS, NaN, Infinity, -Infinity];
const KEYS: Record<'metrics' | 'params' | 'tags', string[]> = {
  metrics: ['rmse', 'val loss', 'a.b', 'x`y'],
  params: ['alpha', 'model', 'the key', 'p.q'],
  tags: ['stage', 'mlflow.runName', "it's", 'k\\'],
};
const STATUSES = ['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED'];
const ID_POOL = ['r1', 'r2', 'x%', 'A', ''];

function randomCompare(rnd: () => number): FilterExpr {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const some = <T>(xs: readonly T[]): T[] =>
    Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => pick(xs));
  const stringCompare = (entity: Entity, key: string, ops: CompareOp[], pool: string[]): FilterExpr => {
    const op = pick(ops);
    if (op === 'IN' || op === 'NOT IN') return cmp(entity, key, op, some(pool));
    return cmp(entity, key, op, op === 'LIKE' || op === 'ILIKE' ? pick([...PATTERNS, ...pool]) : pick(pool));
  };
  const strOps: CompareOp[] = ['=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'];
  const numOps: CompareOp[] = ['=', '!=', '<', '<=', '>', '>='];
  const entity = pick(['metrics', 'params', 'tags', 'attributes'] as const);
  if (entity === 'metrics') return cmp(entity, pick(KEYS.metrics), pick(numOps), pick(NUMBERS));
  if (entity === 'params') {
    const op = pick([...strOps, '<', '<=', '>', '>='] as CompareOp[]);
    if (/^[<>]/.test(op)) return cmp(entity, pick(KEYS.params), op, pick(NUMBERS));
    return stringCompare(entity, pick(KEYS.params), [op], STRINGS);
  }
  if (entity === 'tags') return stringCompare(entity, pick(KEYS.tags), strOps, STRINGS);
  const key = pick([
    'run_id',
    'run_name',
    'status',
    'start_time',
    'end_time',
    'experiment_id',
    'parent_run_id',
  ]);
  if (key === 'start_time' || key === 'end_time') return cmp(entity, key, pick(numOps), pick(NUMBERS));
  if (key === 'status') return stringCompare(entity, key, ['=', '!=', 'IN', 'NOT IN'], STATUSES);
  return stringCompare(entity, key, strOps, [...ID_POOL, ...STRINGS.slice(0, 4)]);
}

function randomExpr(rnd: () => number, depth: number): FilterExpr {
  if (depth <= 0 || rnd() < 0.3) return randomCompare(rnd);
  return {
    kind: rnd() < 0.5 ? 'and' : 'or',
    left: randomExpr(rnd, depth - 1),
    right: randomExpr(rnd, depth - 1),
  };
}

function randomRun(rnd: () => number, i: number): RunView {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const bag = <T>(keys: string[], values: readonly T[]) =>
    Object.fromEntries(keys.filter(() => rnd() < 0.7).map((k) => [k, pick(values)]));
  return {
    runId: pick(ID_POOL) + i,
    runName: rnd() < 0.2 ? null : pick([...ID_POOL, ...STRINGS]),
    status: pick([...STATUSES, 'finished']),
    startTime: pick(NUMBERS),
    endTime: rnd() < 0.3 ? null : pick(NUMBERS),
    experimentId: pick(STRINGS.slice(0, 4)),
    parentRunId: rnd() < 0.5 ? null : pick(ID_POOL),
    metrics: bag(KEYS.metrics, METRIC_VALUES),
    params: bag(KEYS.params, STRINGS),
    tags: bag(KEYS.tags, STRINGS),
  };
}

/** Reference semantics, written the obvious way (LIKE through an escaped regular expression). */
function oracle(e: FilterExpr, r: RunView): boolean {
  if (e.kind !== 'compare')
    return e.kind === 'and'
      ? oracle(e.left, r) && oracle(e.right, r)
      : oracle(e.left, r) || oracle(e.right, r);
  const attrs: Record<string, unknown> = {
    run_id: r.runId,
    run_name: r.runName,
    status: r.status.toUpperCase(),
    start_time: r.startTime,
    end_time: r.endTime,
    experiment_id: r.experimentId,
    parent_run_id: r.parentRunId,
  };
  const bag = e.entity === 'attributes' ? attrs : (r[e.entity] as Record<string, unknown>);
  let v = Object.prototype.hasOwnProperty.call(bag, e.key) ? bag[e.key] : undefined;
  if (v === undefined || v === null || (typeof v === 'number' && Number.isNaN(v))) return false;
  if (e.op === 'IN') return (e.value as unknown[]).includes(v);
  if (e.op === 'NOT IN') return !(e.value as unknown[]).includes(v);
  if (e.op === 'LIKE' || e.op === 'ILIKE') {
    let re = '';
    const p = Array.from(e.value as string);
    for (let i = 0; i < p.length; i++) {
      if (p[i] === '\\' && i + 1 < p.length) re += escapeRe(p[++i]);
      else re += p[i] === '%' ? '[\\s\\S]*' : p[i] === '_' ? '.' : escapeRe(p[i]);
    }
    return new RegExp(`^${re}$`, e.op === 'ILIKE' ? 'isu' : 'su').test(v as string);
  }
  if (e.entity === 'params' && typeof e.value === 'number') {
    if (!/^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(v as string)) return false;
    v = Number(v);
  }
  const [a, b] = [v as number, e.value as number];
  return { '=': a === b, '!=': a !== b, '<': a < b, '<=': a <= b, '>': a > b, '>=': a >= b }[e.op as '='];
}

function escapeRe(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

describe('randomized: parse(format(ast)) is the same filter', () => {
  test('on 1500 random ASTs and 40 random runs each', () => {
    const rnd = mulberry32(20240601);
    const runs = Array.from({ length: 40 }, (_, i) => randomRun(rnd, i));
    let matched = 0;
    for (let n = 0; n < 1500; n++) {
      const ast = randomExpr(rnd, 1 + Math.floor(rnd() * 5));
      const text = formatFilter(ast);
      const parsed = parseFilter(text);
      expect(parsed).toEqual(ast);
      const pred = compileFilter(text);
      for (const r of runs) {
        const want = oracle(ast, r);
        if (evaluateFilter(ast, r) !== want || pred(r) !== want) {
          throw new Error(`mismatch for ${text} on ${JSON.stringify(r)}: oracle says ${want}`);
        }
        if (want) matched++;
      }
    }
    // The generator must produce filters that sometimes match and sometimes do not.
    expect(matched).toBeGreaterThan(1500 * 40 * 0.05);
    expect(matched).toBeLessThan(1500 * 40 * 0.95);
  });

  test('reformatting with random spacing and keyword case parses to the same AST', () => {
    const rnd = mulberry32(99);
    for (let n = 0; n < 300; n++) {
      const ast = randomExpr(rnd, 3);
      const noisy = formatFilter(ast)
        .replace(/ (and|or|LIKE|ILIKE|NOT IN|IN) /g, (_m, kw: string) =>
          rnd() < 0.5 ? ` ${kw.toLowerCase()}\n ` : `  ${kw.toUpperCase()}\t`,
        )
        .replace(/ (=|!=|<=|>=|<|>) /g, (_m, op: string) => (rnd() < 0.5 ? op : ` ${op}  `));
      expect(parseFilter(noisy)).toEqual(ast);
    }
  });
});
