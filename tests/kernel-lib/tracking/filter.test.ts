import { CellarError } from '../../../kernel-lib/errors.js';
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

function run(over: Partial<RunView> = {}): RunView {
  return {
    runId: 'r1',
    runName: 'baseline',
    status: 'FINISHED',
    startTime: 1_700_000_000_000,
    endTime: 1_700_000_060_000,
    experimentId: '1',
    parentRunId: null,
    metrics: {},
    params: {},
    tags: {},
    ...over,
  };
}

const cmp = (entity: Entity, key: string, op: CompareOp, value: string | number | Array<string | number>) =>
  ({ kind: 'compare', entity, key, op, value }) as FilterExpr;

/** Parses `filter`, expecting a CellarError; returns it. */
function filterError(filter: string): CellarError {
  try {
    parseFilter(filter);
  } catch (e) {
    expect(e).toBeInstanceOf(CellarError);
    return e as CellarError;
  }
  throw new Error(`expected ${JSON.stringify(filter)} to be rejected`);
}

const matches = (filter: string, r: RunView) => compileFilter(filter)(r);

describe('parseFilter: syntax', () => {
  test('empty, whitespace, null and undefined mean "no filter"', () => {
    expect(parseFilter('')).toBeNull();
    expect(parseFilter('  \n\t ')).toBeNull();
    expect(parseFilter(null)).toBeNull();
    expect(parseFilter(undefined)).toBeNull();
    expect(compileFilter('  ')(run())).toBe(true);
    expect(evaluateFilter(null, run())).toBe(true);
  });

  test('the MLflow example parses into an and of two comparisons', () => {
    expect(parseFilter("metrics.rmse < 0.5 and params.alpha = '0.5'")).toEqual({
      kind: 'and',
      left: cmp('metrics', 'rmse', '<', 0.5),
      right: cmp('params', 'alpha', '=', '0.5'),
    });
  });

  test('and binds tighter than or; parentheses group; chains are left-associative', () => {
    const [a, b, c] = ['metrics.a = 1', 'metrics.b = 2', 'metrics.c = 3'];
    const [A, B, C] = [cmp('metrics', 'a', '=', 1), cmp('metrics', 'b', '=', 2), cmp('metrics', 'c', '=', 3)];
    expect(parseFilter(`${a} or ${b} and ${c}`)).toEqual({
      kind: 'or',
      left: A,
      right: { kind: 'and', left: B, right: C },
    });
    expect(parseFilter(`(${a} or ${b}) and ${c}`)).toEqual({
      kind: 'and',
      left: { kind: 'or', left: A, right: B },
      right: C,
    });
    expect(parseFilter(`${a} and ${b} and ${c}`)).toEqual({
      kind: 'and',
      left: { kind: 'and', left: A, right: B },
      right: C,
    });
    expect(parseFilter(`((((${a}))))`)).toEqual(A);
  });

  test('keywords and entity prefixes are case-insensitive; MLflow entity aliases work', () => {
    expect(parseFilter("METRICS.rmse < 1 AND Params.alpha LIKE 'x' Or TAGS.t iLiKe 'y'")).toEqual({
      kind: 'or',
      left: { kind: 'and', left: cmp('metrics', 'rmse', '<', 1), right: cmp('params', 'alpha', 'LIKE', 'x') },
      right: cmp('tags', 't', 'ILIKE', 'y'),
    });
    expect(parseFilter('metric.rmse < 1')).toEqual(cmp('metrics', 'rmse', '<', 1));
    for (const p of ['param', 'parameter', 'parameters']) {
      expect(parseFilter(`${p}.a = 'x'`)).toEqual(cmp('params', 'a', '=', 'x'));
    }
    expect(parseFilter("tag.a = 'x'")).toEqual(cmp('tags', 'a', '=', 'x'));
    for (const p of ['attribute', 'attr', 'run']) {
      expect(parseFilter(`${p}.status = 'failed'`)).toEqual(cmp('attributes', 'status', '=', 'FAILED'));
    }
  });

  test('keys: dotted, backtick-, double- and single-quoted, with escapes', () => {
    expect(parseFilter("tags.mlflow.source.name = 'nb'")).toEqual(
      cmp('tags', 'mlflow.source.name', '=', 'nb'),
    );
    expect(parseFilter('metrics.`val loss` < 2')).toEqual(cmp('metrics', 'val loss', '<', 2));
    expect(parseFilter('tags."mlflow.runName" = "a"')).toEqual(cmp('tags', 'mlflow.runName', '=', 'a'));
    expect(parseFilter("metrics.'prediction accuracy' >= 0.9")).toEqual(
      cmp('metrics', 'prediction accuracy', '>=', 0.9),
    );
    expect(parseFilter('metrics."2019-04-02 error rate" < 1')).toEqual(
      cmp('metrics', '2019-04-02 error rate', '<', 1),
    );
    expect(parseFilter('params.`a``b` = "x"')).toEqual(cmp('params', 'a`b', '=', 'x'));
    expect(parseFilter('metrics.val-loss/epoch:1 > 0')).toEqual(cmp('metrics', 'val-loss/epoch:1', '>', 0));
    expect(parseFilter('metrics.精度 > 0')).toEqual(cmp('metrics', '精度', '>', 0));
  });

  test("string literals: single or double quotes, doubled or backslash-escaped quotes, '\\\\'", () => {
    const value = (f: string) => (parseFilter(f) as { value: unknown }).value;
    expect(value("params.a = 'it''s'")).toBe("it's");
    expect(value("params.a = 'it\\'s'")).toBe("it's");
    expect(value('params.a = "say ""hi"""')).toBe('say "hi"');
    expect(value('params.a = "say \\"hi\\""')).toBe('say "hi"');
    expect(value('params.a = "it\'s"')).toBe("it's");
    expect(value("params.a = 'back\\\\slash'")).toBe('back\\slash');
    expect(value("params.a = '100\\%'")).toBe('100\\%'); // kept for LIKE
    expect(value("params.a = ''")).toBe('');
    expect(value("params.a = 'two\nlines'")).toBe('two\nlines');
  });

  test('numbers: integers, decimals, negatives, scientific notation', () => {
    const value = (f: string) => (parseFilter(f) as { value: unknown }).value;
    expect(value('metrics.a = 3')).toBe(3);
    expect(value('metrics.a = -0.25')).toBe(-0.25);
    expect(value('metrics.a < .5')).toBe(0.5);
    expect(value('metrics.a < 1.')).toBe(1);
    expect(value('metrics.a < 1e-3')).toBe(0.001);
    expect(value('metrics.a < -2.5E+2')).toBe(-250);
    expect(value('metrics.a<-1')).toBe(-1);
  });

  test('operators: all comparisons, IN lists, NOT IN, <> as !=', () => {
    for (const op of ['=', '!=', '<', '<=', '>', '>=']) {
      expect(parseFilter(`metrics.a ${op} 1`)).toEqual(cmp('metrics', 'a', op as CompareOp, 1));
    }
    expect(parseFilter('metrics.a <> 1')).toEqual(cmp('metrics', 'a', '!=', 1));
    expect(parseFilter('params.model IN (\'a\', "b")')).toEqual(cmp('params', 'model', 'IN', ['a', 'b']));
    expect(parseFilter("params.model not  in ('a')")).toEqual(cmp('params', 'model', 'NOT IN', ['a']));
    expect(parseFilter("attributes.status in ('running', 'Finished')")).toEqual(
      cmp('attributes', 'status', 'IN', ['RUNNING', 'FINISHED']),
    );
  });

  test('attribute keys and their aliases are canonical in the expression', () => {
    const key = (f: string) => (parseFilter(f) as { key: string }).key;
    expect(key('attributes.created > 0')).toBe('start_time');
    expect(key('attributes.Start_Time > 0')).toBe('start_time');
    expect(key('attributes.`run name` = "x"')).toBe('run_name');
    for (const k of ['run_id', 'run_name', 'experiment_id', 'parent_run_id']) {
      expect(key(`attributes.${k} = 'x'`)).toBe(k);
    }
    expect(key('attributes.end_time <= 5')).toBe('end_time');
  });

  test('SQL-injection-looking text is just a literal value', () => {
    const f = "params.a = '1''; DROP TABLE runs; --' or tags.x = \"' OR 1=1 --\"";
    expect(parseFilter(f)).toEqual({
      kind: 'or',
      left: cmp('params', 'a', '=', "1'; DROP TABLE runs; --"),
      right: cmp('tags', 'x', '=', "' OR 1=1 --"),
    });
    expect(matches(f, run({ params: { a: "1'; DROP TABLE runs; --" } }))).toBe(true);
    expect(matches(f, run({ params: { a: '1' } }))).toBe(false);
  });
});

describe('evaluateFilter: semantics', () => {
  const r = run({
    metrics: { rmse: 0.4, r2: 0.85, nan: NaN, 'val loss': 1.5, big: 1e21 },
    params: { alpha: '0.5', model: 'ElasticNet', l1: '1e-1', word: 'abc', spaced: ' 3 ' },
    tags: { stage: 'prod', note: 'data drift seen', 'mlflow.runName': 'Base_1', pct: '100%' },
  });

  test('metrics compare numerically', () => {
    expect(matches('metrics.rmse < 0.5', r)).toBe(true);
    expect(matches('metrics.rmse <= 0.4 and metrics.rmse >= 0.4 and metrics.rmse = 0.4', r)).toBe(true);
    expect(matches('metrics.rmse > 0.4', r)).toBe(false);
    expect(matches('metrics.rmse != 0.4', r)).toBe(false);
    expect(matches('metrics.`val loss` = 1.5', r)).toBe(true);
    expect(matches('metrics.big > 9e20', r)).toBe(true);
  });

  test('a NaN metric never matches, not even !=', () => {
    for (const op of ['=', '!=', '<', '<=', '>', '>=']) expect(matches(`metrics.nan ${op} 0`, r)).toBe(false);
  });

  test('a run missing the key matches nothing, not even != or NOT IN', () => {
    expect(matches('metrics.missing != 1', r)).toBe(false);
    expect(matches("params.missing != 'x'", r)).toBe(false);
    expect(matches("params.missing NOT IN ('x')", r)).toBe(false);
    expect(matches("tags.missing LIKE '%'", r)).toBe(false);
    expect(matches("attributes.parent_run_id != 'x'", r)).toBe(false);
    expect(matches('attributes.end_time > 0', run({ endTime: null }))).toBe(false);
    expect(matches("attributes.run_name LIKE '%'", run({ runName: null }))).toBe(false);
  });

  test('inherited object names are not keys', () => {
    expect(matches("params.constructor != 'x'", r)).toBe(false);
    expect(matches("tags.__proto__ LIKE '%'", r)).toBe(false);
    expect(matches('metrics.toString > 0', r)).toBe(false);
    expect(matches("params.constructor = 'x'", run({ params: { constructor: 'x' } }))).toBe(true);
  });

  test('params and tags compare as strings', () => {
    expect(matches("params.alpha = '0.5'", r)).toBe(true);
    expect(matches("params.alpha = '0.50'", r)).toBe(false);
    expect(matches("params.alpha != '0.50'", r)).toBe(true);
    expect(matches("params.model IN ('Ridge', 'ElasticNet')", r)).toBe(true);
    expect(matches("params.model NOT IN ('Ridge', 'ElasticNet')", r)).toBe(false);
    expect(matches('tags."mlflow.runName" = "Base_1"', r)).toBe(true);
  });

  test('cellar extension: < <= > >= on params with a number compare numerically', () => {
    expect(matches('params.alpha < 0.6', r)).toBe(true);
    expect(matches('params.alpha >= 0.5', r)).toBe(true);
    expect(matches('params.alpha > 0.5', r)).toBe(false);
    expect(matches('params.l1 < 0.2', r)).toBe(true); // '1e-1' is a number
    expect(matches('params.spaced > 2', r)).toBe(true);
    expect(matches('params.word < 1e300', r)).toBe(false); // not a number → no match
    expect(matches('params.word > -1e300', r)).toBe(false);
  });

  test('LIKE is case-sensitive, ILIKE is not; % and _ are wildcards; \\ escapes', () => {
    expect(matches("tags.note LIKE '%drift%'", r)).toBe(true);
    expect(matches("tags.note LIKE '%DRIFT%'", r)).toBe(false);
    expect(matches("tags.note ILIKE '%DRIFT%'", r)).toBe(true);
    expect(matches("tags.note LIKE 'data%'", r)).toBe(true);
    expect(matches("tags.note LIKE 'drift%'", r)).toBe(false);
    expect(matches("tags.note LIKE 'data drift see_'", r)).toBe(true);
    expect(matches("tags.note LIKE 'data drift se_'", r)).toBe(false);
    expect(matches("tags.stage LIKE 'prod'", r)).toBe(true);
    expect(matches("tags.stage LIKE 'pro'", r)).toBe(false);
    expect(matches("tags.pct LIKE '100\\%'", r)).toBe(true);
    expect(matches("tags.pct LIKE '10\\%'", r)).toBe(false);
    expect(matches('tags."mlflow.runName" LIKE \'Base\\_%\'', r)).toBe(true);
    expect(
      matches('tags."mlflow.runName" LIKE \'Base\\_%\'', run({ tags: { 'mlflow.runName': 'BaseX1' } })),
    ).toBe(false);
    expect(matches("tags.e LIKE '_'", run({ tags: { e: '😀' } }))).toBe(true); // one character, not code unit
  });

  test('LIKE patterns are not regular expressions (no injection, no blow-up)', () => {
    const t = (v: string) => run({ tags: { t: v } });
    expect(matches("tags.t LIKE '.*'", t('anything'))).toBe(false);
    expect(matches("tags.t LIKE '.*'", t('.*'))).toBe(true);
    expect(matches("tags.t LIKE 'a+b(c)[d]{2}$^|?'", t('a+b(c)[d]{2}$^|?'))).toBe(true);
    expect(matches("tags.t ILIKE '%a%a%a%a%a%a%a%a%a%a%a%b'", t('a'.repeat(5000)))).toBe(false);
  });

  test('attributes: status (case-insensitive), times in epoch ms, ids and names', () => {
    const x = run({ status: 'finished', parentRunId: 'p1', runName: 'my run' });
    expect(matches("attributes.status = 'FINISHED'", x)).toBe(true);
    expect(matches("attributes.status != 'running'", x)).toBe(true);
    expect(matches("attributes.status IN ('FAILED', 'KILLED')", x)).toBe(false);
    expect(matches("attributes.status NOT IN ('FAILED', 'KILLED')", x)).toBe(true);
    expect(matches('attributes.start_time >= 1700000000000 and attributes.end_time < 1700000060001', x)).toBe(
      true,
    );
    expect(matches('attributes.created = 1.7e12', x)).toBe(true);
    expect(matches("attributes.run_id = 'r1' and attributes.experiment_id = '1'", x)).toBe(true);
    expect(matches("attributes.run_id IN ('r2', 'r1')", x)).toBe(true);
    expect(matches("attributes.parent_run_id = 'p1'", x)).toBe(true);
    expect(matches("run.`run name` ILIKE 'MY%'", x)).toBe(true);
  });

  test('or, and, and parentheses combine as written', () => {
    const f = 'metrics.r2 >= 0.8 or tags.stage = "prod"';
    expect(matches(f, run({ metrics: { r2: 0.9 } }))).toBe(true);
    expect(matches(f, run({ tags: { stage: 'prod' } }))).toBe(true);
    expect(matches(f, run({ metrics: { r2: 0.1 }, tags: { stage: 'dev' } }))).toBe(false);
    const g = 'metrics.a = 1 or metrics.b = 1 and metrics.c = 1';
    expect(matches(g, run({ metrics: { a: 1 } }))).toBe(true);
    expect(matches(`(${g.replace(' and', ') and')}`, run({ metrics: { a: 1 } }))).toBe(false);
  });

  test('evaluateFilter and compileFilter agree, and parsed expressions can be reused', () => {
    const expr = parseFilter("metrics.rmse < 0.5 and params.alpha = '0.5'");
    expect(evaluateFilter(expr, r)).toBe(true);
    expect(evaluateFilter(expr, run())).toBe(false);
    expect(compileFilter("metrics.rmse < 0.5 and params.alpha = '0.5'")(r)).toBe(true);
  });
});

describe('parseFilter: errors point at the bad token', () => {
  test('missing operator: names the key, the column, the expected operators, and draws a caret', () => {
    const e = filterError('metrics.rmse foo 0.5');
    expect(e.code).toBe('INVALID_FILTER');
    expect(e.httpStatus).toBe(400);
    expect(e.message).toContain(
      'expected a comparison operator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN)',
    );
    expect(e.message).toContain("after metrics.rmse, got 'foo' at column 14");
    expect(e.message.split('\n').slice(1)).toEqual(['  metrics.rmse foo 0.5', '               ^^^']);
    expect(e.details).toEqual({ position: 13, line: 1, column: 14, token: 'foo' });
  });

  test.each([
    ["params.a = 'abc", 'unterminated string', 12, "Close it with '."],
    ['params.a = "abc\'', 'unterminated string', 12, 'Close it with ".'],
    ["params.a = 'ends with backslash\\'", 'unterminated string', 12, ''],
    ['metrics.`val loss < 1', 'unterminated quoted key', 9, ''],
    ['params.m IN ()', 'empty IN list', 14, 'at least one value'],
    ['params.m NOT IN ()', 'empty NOT IN list', 18, ''],
    ["params.m IN 'a'", "expected '(' after params.m IN", 13, "Write params.m IN ('a', 'b')."],
    ["params.m IN ('a',)", "expected a quoted string after params.m IN, got ')'", 18, ''],
    ["params.m IN ('a' 'b')", "expected ',' or ')' in the IN list", 18, ''],
    ["params.m IN ('a', 1)", 'params hold strings', 19, "Quote it: '1'."],
    ["metrics.rmse < 'abc'", 'metrics hold numbers: expected a number', 16, 'Use a number.'],
    ["metrics.rmse < '0.5'", 'metrics hold numbers', 16, 'Remove the quotes: 0.5.'],
    ['params.a = 1', 'params hold strings: expected a quoted string after params.a =', 12, "Quote it: '1'."],
    ['tags.a != 2.5', 'tags hold strings', 11, "Quote it: '2.5'."],
    ["params.a < 'x'", '< on a param compares numerically', 12, ''],
    ["foo.x = '1'", "unknown entity 'foo' in foo.x", 1, 'metrics., params., tags. or attributes.'],
    ["datasets.name = 'x'", "unknown entity 'datasets'", 1, ''],
    ["metrics.a < 1 'x'", "expected AND, OR or the end of the filter after '1', got 'x'", 15, ''],
    ['metrics.a < 1 metrics.b < 2', 'expected AND, OR or the end of the filter', 15, ''],
    ['metrics.a < 1)', "unbalanced ')'", 14, ''],
    ['(metrics.a < 1', "expected ')' to close the '(' at column 1, got the end of the input", 15, ''],
    ['metrics.a < 1 and', 'expected a comparison such as metrics.rmse < 0.5 after', 18, ''],
    ['metrics.a < 1 or or metrics.b < 1', "expected a key like metrics.rmse, got 'or'", 18, ''],
    ['()', "expected a comparison such as metrics.rmse < 0.5 after '(', got ')'", 2, ''],
    ['rmse < 0.5', "key 'rmse' has no entity prefix", 1, 'metrics.rmse, params.rmse, tags.rmse'],
    ["status = 'FAILED'", "key 'status' has no entity prefix", 1, 'Did you mean attributes.status?'],
    ['created > 5', 'no entity prefix', 1, 'Did you mean attributes.start_time?'],
    ['"metrics.rmse" < 1', 'expected a key like metrics.rmse', 1, 'Quote only the key'],
    ["attributes.foo = 'x'", "unknown attribute 'foo'", 1, 'run_id, run_name, status, start_time, end_time'],
    ["attributes.status = 'DONE'", "unknown run status 'DONE'", 21, 'RUNNING, SCHEDULED, FINISHED'],
    [
      "attributes.status LIKE 'F%'",
      'LIKE cannot be used with attributes.status',
      19,
      'supports =, !=, IN, NOT IN',
    ],
    [
      "attributes.start_time > '2024-01-01'",
      'attributes.start_time holds numbers (epoch milliseconds)',
      25,
      '',
    ],
    ["metrics.a LIKE '1'", 'LIKE cannot be used with metrics', 11, ''],
    ['metrics.a IN (1, 2)', 'IN cannot be used with metrics', 11, ''],
    ["tags.a > 'b'", '> cannot be used with tags', 8, ''],
    [
      'attributes.status = FINISHED',
      "expected a quoted string after attributes.status =, got 'FINISHED'",
      21,
      "Quote text values: 'FINISHED'.",
    ],
    ['metrics.a == 1', "unexpected '=='", 11, 'single ='],
    ['metrics.a < 1 && metrics.b < 1', "unexpected character '&'", 15, 'Use AND.'],
    ['metrics.a < 1 || metrics.b < 1', "unexpected character '|'", 15, 'Use OR.'],
    ['metrics.a ! 1', "unexpected '!'", 11, ''],
    ["params.a NOT LIKE 'x'", "expected IN after NOT, got 'LIKE'", 14, 'NOT only exists as NOT IN.'],
    ['metrics. < 1', "missing key after 'metrics.'", 1, ''],
    ['metrics.`` < 1', 'empty key', 9, ''],
    ['`metrics.a` < 1', "unexpected character '`'", 1, 'Backticks quote a key'],
    ['metrics.a < 1.2.3', "malformed number '1.2.3'", 13, ''],
    ['metrics.a < 12abc', "malformed number '12abc'", 13, ''],
    ['metrics.a < 1e999', 'number out of range', 13, ''],
    ['metrics.a < - 1', "unexpected character '-'", 13, ''],
    ['metrics.a < ; DROP TABLE runs', "unexpected character ';'", 13, ''],
  ])('%s → %s', (filter, problem, column, hint) => {
    const e = filterError(filter);
    expect(e.code).toBe('INVALID_FILTER');
    expect(e.message).toContain(problem);
    expect(e.message).toContain(`at column ${column}`);
    if (hint) expect(e.message).toContain(hint);
    expect(e.details?.column).toBe(column);
    expect(e.details?.position).toBe(column - 1);
    // The caret line marks the reported column under the echoed filter.
    const lines = e.message.split('\n');
    expect(lines[2].indexOf('^')).toBe(lines[1].indexOf(filter.slice(0, 10)) + column - 1);
  });

  test('multi-line filters report the line and column', () => {
    const e = filterError('metrics.a < 1\n  and params.b = 2');
    expect(e.message).toContain('at line 2, column 18');
    expect(e.details).toMatchObject({ line: 2, column: 18, position: 31, token: '2' });
    expect(e.message.split('\n').slice(1)).toEqual(['    and params.b = 2', '                   ^']);
  });

  test('errors in very long filters show a window around the bad token', () => {
    const long =
      Array.from({ length: 200 }, (_, i) => `metrics.m${i} < ${i}`).join(' and ') + ' and metrics.x <';
    const e = filterError(long);
    const [, shown, caret] = e.message.split('\n');
    expect(shown.length).toBeLessThan(120);
    expect(shown.startsWith('  …')).toBe(true);
    expect(caret.indexOf('^')).toBe(shown.length); // the caret sits just after the last character
  });

  test('10,000 nested parentheses give a clear error, not a stack overflow', () => {
    const deep = '('.repeat(10_000) + 'metrics.a < 1' + ')'.repeat(10_000);
    const e = filterError(deep);
    expect(e.message).toContain('parentheses nested deeper than 100 levels');
    expect(e.details?.column).toBe(101);
    expect(filterError('('.repeat(10_000)).message).toContain('nested deeper');
    const ok = '('.repeat(100) + 'metrics.a < 1' + ')'.repeat(100);
    expect(parseFilter(ok)).toEqual(cmp('metrics', 'a', '<', 1));
    expect(filterError('('.repeat(101) + 'metrics.a < 1' + ')'.repeat(101)).message).toContain(
      'nested deeper',
    );
  });

  test('a chain of 10,000 comparisons parses, evaluates and prints without recursion trouble', () => {
    const n = 10_000;
    const ors = Array.from({ length: n }, (_, i) => `metrics.m = ${i}`).join(' or ');
    const expr = parseFilter(ors) as FilterExpr;
    expect(evaluateFilter(expr, run({ metrics: { m: n - 1 } }))).toBe(true);
    expect(evaluateFilter(expr, run({ metrics: { m: -1 } }))).toBe(false);
    expect(formatFilter(expr)).toBe(ors);
    const ands = Array.from({ length: n }, (_, i) => `metrics.m > ${-i}`).join(' AND ');
    expect(compileFilter(ands)(run({ metrics: { m: 1 } }))).toBe(true);
  });

  test('non-string filters are rejected', () => {
    expect(() => parseFilter(42 as unknown as string)).toThrow(/must be a string/);
  });

  test('random garbage either parses or throws INVALID_FILTER, never anything else', () => {
    const rnd = mulberry32(7);
    const bits = [
      'metrics.a',
      'params.b',
      'tags.`c`',
      'attributes.status',
      '(',
      ')',
      ' and ',
      ' or ',
      '<',
      '=',
      '!=',
      ' IN ',
      ' NOT ',
      'LIKE',
      "'x'",
      '"y',
      "'",
      '1',
      '-2.5e3',
      ',',
      '`',
      '.',
      '\\',
      ' ',
      '\n',
      '%',
      'é',
      '😀',
      'foo',
    ];
    for (let n = 0; n < 3000; n++) {
      const len = 1 + Math.floor(rnd() * 8);
      const text = Array.from({ length: len }, () => bits[Math.floor(rnd() * bits.length)]).join('');
      try {
        const expr = parseFilter(text);
        if (expr) expect(parseFilter(formatFilter(expr))).toEqual(expr);
      } catch (e) {
        expect(e).toBeInstanceOf(CellarError);
        expect((e as CellarError).code).toBe('INVALID_FILTER');
        expect(typeof (e as CellarError).details?.position).toBe('number');
      }
    }
  });
});

describe('formatFilter', () => {
  test('prints canonical text', () => {
    const f = "METRICS.rmse<0.5 AND params.alpha=\"0.5\" or (tags.`a b` like 'it''s%' and run.created>=1e3)";
    expect(formatFilter(parseFilter(f) as FilterExpr)).toBe(
      "metrics.rmse < 0.5 and params.alpha = '0.5' or tags.`a b` LIKE 'it''s%' and attributes.start_time >= 1000",
    );
    expect(
      formatFilter(parseFilter("(metrics.a = 1 or metrics.b = 2) and params.m not in ('x', 'y')")!),
    ).toBe("(metrics.a = 1 or metrics.b = 2) and params.m NOT IN ('x', 'y')");
  });

  test('keeps the shape of right-nested trees and quotes awkward keys', () => {
    const A = cmp('metrics', 'a.', '=', 1);
    const B = cmp('tags', 'x`y\\z', '=', 'back\\slash');
    const C = cmp('params', '', '=', '');
    const tree: FilterExpr = { kind: 'and', left: A, right: { kind: 'and', left: B, right: C } };
    const text = formatFilter(tree);
    expect(text).toBe("metrics.`a.` = 1 and (tags.`x``y\\\\z` = 'back\\\\slash' and params.`` = '')");
    // An empty key cannot be parsed back; every other part round-trips.
    expect(() => parseFilter(text)).toThrow(/empty key/);
    const tree2: FilterExpr = { kind: 'and', left: A, right: { kind: 'and', left: B, right: A } };
    expect(parseFilter(formatFilter(tree2))).toEqual(tree2);
  });

  test('refuses numbers the language cannot express', () => {
    expect(() => formatFilter(cmp('metrics', 'a', '<', Infinity))).toThrow(CellarError);
    expect(() => formatFilter(cmp('metrics', 'a', '<', NaN))).toThrow(CellarError);
  });
});
