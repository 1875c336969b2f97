import { CellarError } from '../../../kernel-lib/errors.js';
import type { RunView } from '../../../kernel-lib/tracking/filter.js';
import { compareRuns, parseOrderBy, type OrderClause } from '../../../kernel-lib/tracking/order-by.js';

function run(runId: string, over: Partial<RunView> = {}): RunView {
  return {
    runId,
    runName: null,
    status: 'FINISHED',
    startTime: 1000,
    endTime: null,
    experimentId: '1',
    parentRunId: null,
    metrics: {},
    params: {},
    tags: {},
    ...over,
  };
}

const ids = (runs: RunView[]) => runs.map((r) => r.runId);
const sorted = (runs: RunView[], orderBy?: string | string[]) =>
  ids([...runs].sort(compareRuns(parseOrderBy(orderBy))));

function orderError(orderBy: unknown): CellarError {
  try {
    parseOrderBy(orderBy as string[]);
  } catch (e) {
    expect(e).toBeInstanceOf(CellarError);
    return e as CellarError;
  }
  throw new Error(`expected ${JSON.stringify(orderBy)} to be rejected`);
}

describe('parseOrderBy', () => {
  test('nothing means the default order', () => {
    expect(parseOrderBy(undefined)).toEqual([]);
    expect(parseOrderBy('')).toEqual([]);
    expect(parseOrderBy('   ')).toEqual([]);
    expect(parseOrderBy([])).toEqual([]);
  });

  test('clauses: ASC by default, directions case-insensitive, arrays and comma lists', () => {
    expect(parseOrderBy('metrics.rmse')).toEqual([{ entity: 'metrics', key: 'rmse', descending: false }]);
    expect(parseOrderBy(['metrics.rmse ASC', 'attributes.start_time DESC'])).toEqual([
      { entity: 'metrics', key: 'rmse', descending: false },
      { entity: 'attributes', key: 'start_time', descending: true },
    ]);
    expect(parseOrderBy('metrics.`val loss` desc, params.alpha, tags."mlflow.runName" Asc')).toEqual([
      { entity: 'metrics', key: 'val loss', descending: true },
      { entity: 'params', key: 'alpha', descending: false },
      { entity: 'tags', key: 'mlflow.runName', descending: false },
    ]);
    expect(parseOrderBy(['metric.a DESC, param.b'])).toEqual([
      { entity: 'metrics', key: 'a', descending: true },
      { entity: 'params', key: 'b', descending: false },
    ]);
  });

  test('attribute aliases resolve to canonical keys', () => {
    expect(parseOrderBy('attributes.created DESC')).toEqual([
      { entity: 'attributes', key: 'start_time', descending: true },
    ]);
    expect(parseOrderBy('run.`run name`')).toEqual([
      { entity: 'attributes', key: 'run_name', descending: false },
    ]);
    expect(parseOrderBy('attr.END_TIME')).toEqual([
      { entity: 'attributes', key: 'end_time', descending: false },
    ]);
  });

  test.each([
    ['metrics.rmse DOWN', "expected ASC, DESC, ',' or the end after 'metrics.rmse', got 'DOWN'", 14],
    ['metrics.rmse ASC extra', "expected ',' or the end after 'metrics.rmse', got 'extra'", 18],
    ['start_time DESC', "key 'start_time' has no entity prefix", 1],
    ['rmse', 'Prefix it with its entity: metrics.rmse', 1],
    ['foo.x', "unknown entity 'foo'", 1],
    ['attributes.duration', "unknown attribute 'duration'", 1],
    ['metrics.a,', 'expected a key like metrics.rmse, got the end of the input', 11],
    ['metrics.a, metrics.a DESC', 'metrics.a appears twice', 12],
    ['metrics.`a', 'unterminated quoted key', 9],
    ['DESC', "expected a key like metrics.rmse, got 'DESC'", 1],
    ['"metrics.rmse" DESC', 'Quote only the key', 1],
  ])('%s → INVALID_PARAMETER: %s', (orderBy, problem, column) => {
    const e = orderError(orderBy);
    expect(e.code).toBe('INVALID_PARAMETER');
    expect(e.message).toContain('Invalid order_by:');
    expect(e.message).toContain(problem);
    expect(e.message).toContain(`at column ${column}`);
    expect(e.details?.column).toBe(column);
    expect(e.message.split('\n')[1]).toBe(`  ${orderBy}`);
    expect(e.message.split('\n')[2].indexOf('^')).toBe(column + 1);
  });

  test('array entries are checked one by one and named by index', () => {
    expect(orderError(['metrics.a', 'metrics.a DESC']).message).toMatch(
      /^Invalid order_by\[1\]: metrics.a appears twice/,
    );
    expect(orderError(['metrics.a', 'params.b sideways']).message).toContain(
      'order_by[1]: expected ASC, DESC',
    );
    expect(orderError(['metrics.a', '']).message).toContain('order_by[1]: empty clause');
    expect(orderError(['metrics.a', 3]).message).toContain('order_by[1]: expected a string, got number');
    expect(orderError(42).message).toContain('order_by must be a string or an array of strings');
    expect(orderError(['metrics.a', 3]).code).toBe('INVALID_PARAMETER');
  });
});

describe('compareRuns', () => {
  test('default: newest start time first, then run id ascending', () => {
    const runs = [
      run('b', { startTime: 5 }),
      run('a', { startTime: 5 }),
      run('c', { startTime: 9 }),
      run('d'),
    ];
    expect(sorted(runs)).toEqual(['d', 'c', 'a', 'b']);
    expect(sorted(runs, [])).toEqual(['d', 'c', 'a', 'b']);
  });

  test('metrics ASC and DESC; missing values last in both directions; NaN after numbers', () => {
    const runs = [
      run('none'),
      run('nan', { metrics: { rmse: NaN } }),
      run('low', { metrics: { rmse: 0.1 } }),
      run('high', { metrics: { rmse: 2 } }),
      run('neg', { metrics: { rmse: -1 } }),
      run('inf', { metrics: { rmse: Infinity } }),
    ];
    expect(sorted(runs, 'metrics.rmse')).toEqual(['neg', 'low', 'high', 'inf', 'nan', 'none']);
    expect(sorted(runs, 'metrics.rmse DESC')).toEqual(['inf', 'high', 'low', 'neg', 'nan', 'none']);
  });

  test('ties on a clause fall to the next clause, then to start time DESC and run id', () => {
    const runs = [
      run('a', { params: { m: 'x' }, metrics: { r: 1 }, startTime: 1 }),
      run('b', { params: { m: 'x' }, metrics: { r: 2 }, startTime: 1 }),
      run('c', { params: { m: 'y' }, metrics: { r: 1 }, startTime: 1 }),
      run('d', { params: { m: 'x' }, metrics: { r: 2 }, startTime: 3 }),
      run('e', { params: { m: 'x' }, metrics: { r: 2 }, startTime: 1 }),
    ];
    expect(sorted(runs, ['params.m', 'metrics.r DESC'])).toEqual(['d', 'b', 'e', 'a', 'c']);
    expect(sorted(runs, ['params.m DESC', 'metrics.r'])).toEqual(['c', 'a', 'd', 'b', 'e']);
  });

  test('params and tags: numeric values sort numerically and before text (cellar extension)', () => {
    const runs = ['10', '9', '0.5', '-2', 'abc', 'Abc', '1e1', ''].map((v, i) =>
      run(`r${i}`, { params: { p: v } }),
    );
    const values = (orderBy: string) =>
      sorted(runs, orderBy).map((id) => runs.find((r) => r.runId === id)?.params.p);
    expect(values('params.p')).toEqual(['-2', '0.5', '9', '10', '1e1', '', 'Abc', 'abc']);
    // '10' and '1e1' are the same number: the tie goes to the run id, whatever the direction.
    expect(values('params.p DESC')).toEqual(['abc', 'Abc', '', '10', '1e1', '9', '0.5', '-2']);
  });

  test('attributes: status, names, end time (running runs last), ids', () => {
    const runs = [
      run('r1', { status: 'RUNNING', runName: 'zeta', endTime: null, startTime: 3 }),
      run('r2', { status: 'FAILED', runName: null, endTime: 50, startTime: 2 }),
      run('r3', { status: 'finished', runName: 'alpha', endTime: 20, startTime: 1 }),
    ];
    expect(sorted(runs, 'attributes.status')).toEqual(['r2', 'r3', 'r1']);
    expect(sorted(runs, 'attributes.run_name')).toEqual(['r3', 'r1', 'r2']);
    expect(sorted(runs, 'attributes.run_name DESC')).toEqual(['r1', 'r3', 'r2']);
    expect(sorted(runs, 'attributes.end_time DESC')).toEqual(['r2', 'r3', 'r1']);
    expect(sorted(runs, 'attributes.end_time')).toEqual(['r3', 'r2', 'r1']);
    expect(sorted(runs, 'attributes.start_time')).toEqual(['r3', 'r2', 'r1']);
    expect(sorted(runs, 'attributes.run_id DESC')).toEqual(['r3', 'r2', 'r1']);
  });

  test('string order does not depend on locale (code-unit order)', () => {
    const runs = ['b', 'a', 'B', 'é', 'e', 'Z'].map((v) => run(v, { tags: { t: v } }));
    expect(sorted(runs, 'tags.t')).toEqual(['B', 'Z', 'a', 'b', 'e', 'é']);
  });

  test('randomized: the order is total, antisymmetric and independent of input order', () => {
    let seed = 12345;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)];
    const runs = Array.from({ length: 120 }, (_, i) =>
      run(`run-${i}`, {
        startTime: pick([1, 2, 3]),
        endTime: pick([null, 5, 6]),
        status: pick(['RUNNING', 'FINISHED', 'FAILED']),
        metrics: rnd() < 0.8 ? { m: pick([0, 1, -1, NaN, 0.5]) } : {},
        params: rnd() < 0.8 ? { p: pick(['1', '10', 'x', '2.0', '2']) } : {},
        tags: rnd() < 0.5 ? { t: pick(['a', 'b']) } : {},
      }),
    );
    const orderings: Array<string | string[]> = [
      [],
      'metrics.m',
      'metrics.m DESC, params.p',
      ['params.p DESC', 'tags.t', 'attributes.end_time DESC'],
      'attributes.status, attributes.end_time',
    ];
    for (const orderBy of orderings) {
      const cmp = compareRuns(parseOrderBy(orderBy));
      const broken: string[] = [];
      for (const a of runs) {
        for (const b of runs) {
          const c = cmp(a, b);
          if (Math.sign(c) !== -Math.sign(cmp(b, a)) || (a !== b && c === 0))
            broken.push(`${a.runId}/${b.runId}`);
        }
      }
      expect(broken).toEqual([]); // antisymmetric, and distinct run ids never tie
      const once = ids([...runs].sort(cmp));
      for (let k = 0; k < 3; k++) {
        const shuffled = [...runs].sort(() => rnd() - 0.5);
        expect(ids(shuffled.sort(cmp))).toEqual(once);
      }
      // Sorted order is transitive: every adjacent pair is in order, so every pair is.
      const byId = new Map(runs.map((r) => [r.runId, r]));
      const pairs = once.slice(1).map((id, k) => cmp(byId.get(once[k]) as RunView, byId.get(id) as RunView));
      expect(pairs.every((c) => c < 0)).toBe(true);
    }
  });

  test('pages taken from the sorted list never overlap or skip runs', () => {
    const runs = Array.from({ length: 25 }, (_, i) => run(`r${i % 7}-${i}`, { startTime: i % 3 }));
    const clauses: OrderClause[] = parseOrderBy('attributes.start_time');
    const all = ids([...runs].sort(compareRuns(clauses)));
    const pages: string[] = [];
    for (let offset = 0; offset < runs.length; offset += 4) {
      // Each page is computed from a fresh, differently ordered copy, as separate requests would.
      pages.push(
        ...ids(
          [...runs]
            .reverse()
            .sort(compareRuns(clauses))
            .slice(offset, offset + 4),
        ),
      );
    }
    expect(pages).toEqual(all);
    expect(new Set(pages).size).toBe(runs.length);
  });
});
