/**
 * Run search compiled to SQL against its oracle: on runs stored through the API, `searchRuns` (filter,
 * order and page in SQLite) must return exactly the runs, in exactly the order, that the in-memory
 * evaluator (evaluateFilter + compareRuns) gives on the same data — on random filters in the style of
 * filter-random.test.ts, random orders, random pages, and on 30,000 runs.
 */
import { mulberry32 } from '../../../kernel-lib/ml/random.js';
import { openEmbedded, type EmbeddedBackend } from '../../../kernel-lib/store/open.js';
import {
  evaluateFilter,
  formatFilter,
  parseFilter,
  type RunView,
} from '../../../kernel-lib/tracking/filter.js';
import { compareRuns, type OrderClause } from '../../../kernel-lib/tracking/order-by.js';
import { compileSearch } from '../../../kernel-lib/tracking/search-sql.js';
import { SQLITE_DIALECT } from '../../../kernel-lib/tracking/search-dialect.js';
import type { RunStatus } from '../../../kernel-lib/tracking/types.js';
import { cleanupTmp, makeTmp } from '../../helpers/tmp.js';
import {
  orderText,
  randomExpr,
  randomOrder,
  storeRuns,
  type FilterPools,
  type RunSpec,
} from './random-search.js';

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
  'É',
  '😀',
  'DROP TABLE runs; --',
  ' 3 ',
  'a%c',
  'İ',
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
  'é%',
  '%\\',
];
const NUMBERS = [0, 1, -1, 0.5, 0.25, 10, 9, 1e-3, -2.5e3, 1e21, 1700000000000, 3];
const TIMES = [0, 1, -1, 10, 9, 3, 1700000000000];
const KEYS = {
  metrics: ['rmse', 'val loss', 'a.b', 'm'],
  params: ['alpha', 'model', 'the key', 'p.q'],
  tags: ['stage', 'mlflow.runName', 'k:v', 't'],
};
const STATUSES: RunStatus[] = ['FINISHED', 'FAILED', 'KILLED'];

afterEach(cleanupTmp);

function randomSpecs(rnd: () => number, n: number, experiments: string[]): RunSpec[] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const bag = <T>(keys: string[], values: readonly T[]) =>
    Object.fromEntries(keys.filter(() => rnd() < 0.7).map((k) => [k, pick(values)]));
  return Array.from({ length: n }, (_, i) => ({
    experimentId: pick(experiments),
    runName: rnd() < 0.2 ? null : pick(STRINGS.filter((s) => s.trim() !== '')),
    startTime: pick(TIMES),
    end: rnd() < 0.25 ? null : { status: pick(STATUSES), time: pick(TIMES) },
    parent: i > 0 && rnd() < 0.3 ? Math.floor(rnd() * i) : null,
    metrics: bag(KEYS.metrics, NUMBERS),
    params: bag(KEYS.params, STRINGS),
    tags: bag(KEYS.tags, STRINGS),
  }));
}

function oracle(
  views: RunView[],
  filter: string,
  order: OrderClause[],
  expIds: Set<string> | null,
): string[] {
  const expr = parseFilter(filter);
  return views
    .filter((v) => (expIds === null || expIds.has(v.experimentId)) && evaluateFilter(expr, v))
    .sort(compareRuns(order))
    .map((v) => v.runId);
}

async function setup(
  n: number,
  seed: number,
): Promise<{ backend: EmbeddedBackend; views: RunView[]; pools: FilterPools; exps: string[] }> {
  const backend = openEmbedded(makeTmp());
  const exps: string[] = [];
  for (const name of ['a', 'b', 'c']) exps.push((await backend.tracking.createExperiment(name)).id);
  const rnd = mulberry32(seed);
  const views = storeRuns(backend.tracking, backend.db, randomSpecs(rnd, n, exps));
  const ids = [
    ...views.slice(0, 3).map((v) => v.runId),
    'x%',
    'A',
    views[0]!.runId.slice(0, 5) + '%',
    ...exps,
    '0',
  ];
  const pools: FilterPools = {
    keys: KEYS,
    strings: STRINGS,
    patterns: PATTERNS,
    numbers: NUMBERS,
    statuses: ['RUNNING', ...STATUSES],
    ids,
  };
  return { backend, views, pools, exps };
}

describe('SQL run search agrees with the in-memory evaluator', () => {
  test('1500 random filters (filter-random style), random orders, on 60 stored runs', async () => {
    const { backend, views, pools } = await setup(60, 20240601);
    const rnd = mulberry32(7);
    let matched = 0;
    for (let n = 0; n < 1500; n++) {
      const filter = formatFilter(randomExpr(rnd, 1 + Math.floor(rnd() * 5), pools));
      const order = rnd() < 0.5 ? [] : randomOrder(rnd, pools);
      const want = oracle(views, filter, order, null);
      const got = await backend.tracking.searchRuns({ filter, orderBy: orderText(order) });
      const ids = got.runs.map((r) => r.id);
      if (JSON.stringify(ids) !== JSON.stringify(want)) {
        throw new Error(
          `mismatch for filter ${filter} order ${orderText(order).join(', ')}:\n got ${ids}\nwant ${want}`,
        );
      }
      matched += want.length;
    }
    expect(matched).toBeGreaterThan(1500 * 60 * 0.05);
    expect(matched).toBeLessThan(1500 * 60 * 0.95);
    backend.close();
  });

  test('random orders page by page, per experiment and across all; rows carry their params, metrics, tags', async () => {
    const { backend, views, pools, exps } = await setup(80, 99);
    const byId = new Map(views.map((v) => [v.runId, v]));
    const rnd = mulberry32(3);
    for (let n = 0; n < 150; n++) {
      const order = randomOrder(rnd, pools);
      const filter = rnd() < 0.5 ? '' : formatFilter(randomExpr(rnd, 2, pools));
      const experimentIds = rnd() < 0.5 ? undefined : exps.filter(() => rnd() < 0.6);
      const want = oracle(views, filter, order, experimentIds ? new Set(experimentIds) : null);
      const maxResults = 1 + Math.floor(rnd() * 30);
      const got: string[] = [];
      let pageToken: string | null = null;
      do {
        const page = await backend.tracking.searchRuns({
          filter,
          orderBy: orderText(order),
          maxResults,
          pageToken,
          ...(experimentIds ? { experimentIds } : {}),
        });
        expect(page.runs.length).toBeLessThanOrEqual(maxResults);
        for (const r of page.runs) {
          const v = byId.get(r.id)!;
          expect([r.metrics, r.params, r.tags, r.status, r.endTime]).toEqual([
            v.metrics,
            v.params,
            v.tags,
            v.status,
            v.endTime,
          ]);
        }
        got.push(...page.runs.map((r) => r.id));
        pageToken = page.nextPageToken;
      } while (pageToken);
      expect(got).toEqual(want);
    }
    backend.close();
  });

  test('deleted runs: active, deleted and all views', async () => {
    const { backend, views } = await setup(30, 5);
    for (const v of views.slice(0, 10)) await backend.tracking.deleteRun(v.runId);
    const deleted = new Set(views.slice(0, 10).map((v) => v.runId));
    const all = oracle(views, '', [], null);
    const ids = async (viewType: 'active' | 'deleted' | 'all') =>
      (await backend.tracking.searchRuns({ viewType })).runs.map((r) => r.id);
    expect(await ids('active')).toEqual(all.filter((id) => !deleted.has(id)));
    expect(await ids('deleted')).toEqual(all.filter((id) => deleted.has(id)));
    expect(await ids('all')).toEqual(all);
    backend.close();
  });

  test('a chain of 5,000 comparisons and 40 distinct keys compiles within SQLite limits', async () => {
    const { backend, views } = await setup(20, 11);
    const terms = Array.from({ length: 5000 }, (_, i) => `params.k${i % 40} = 'v${i}'`);
    const filter = `${terms.join(' or ')} or metrics.rmse >= 0`;
    expect((await backend.tracking.searchRuns({ filter })).runs.map((r) => r.id)).toEqual(
      oracle(views, filter, [], null),
    );
    backend.close();
  });

  test('the compiled query binds every value (text in a filter never becomes SQL)', () => {
    const { sql, args } = compileSearch(
      {
        filter: parseFilter("params.x = 'a''; DROP TABLE runs; --' or tags.`y` LIKE '%'"),
        order: [{ entity: 'metrics', key: "m'1", descending: true }],
        experimentIds: [1],
        lifecycle: 'active',
        limit: 11,
        offset: 0,
      },
      SQLITE_DIALECT,
    );
    expect(sql).not.toContain('DROP');
    expect(sql).not.toContain("m'1");
    expect(args).toEqual(["m'1", 'x', 'y', 1, 'active', "a'; DROP TABLE runs; --", '%', 11, 0]);
  });
});

describe('SQL run search at 30,000 runs', () => {
  test('random filters, orders and pages agree with the reference evaluator', async () => {
    const backend = openEmbedded(makeTmp());
    const exps = [
      (await backend.tracking.createExperiment('big')).id,
      (await backend.tracking.createExperiment('other')).id,
    ];
    const rnd = mulberry32(30000);
    const round = (x: number) => Math.round(x * 100) / 100;
    const specs: RunSpec[] = Array.from({ length: 30_000 }, (_, i) => ({
      experimentId: exps[i % 7 === 0 ? 1 : 0]!,
      runName: `run-${i % 1000}`,
      startTime: 1_700_000_000_000 + Math.floor(rnd() * 20_000) * 1000,
      end: rnd() < 0.05 ? null : { status: STATUSES[Math.floor(rnd() * 3)]!, time: 1_800_000_000_000 + i },
      parent: null,
      metrics: Object.fromEntries(
        ['m1', 'm2', 'm3', 'm4'].filter(() => rnd() < 0.9).map((k) => [k, round(rnd())]),
      ),
      params: Object.fromEntries(
        ['p1', 'p2', 'p3']
          .filter(() => rnd() < 0.9)
          .map((k) => [k, ['x', 'y', 'z', '0.5', '10', '9'][Math.floor(rnd() * 6)]!]),
      ),
      tags: Object.fromEntries(
        ['t1', 't2']
          .filter(() => rnd() < 0.8)
          .map((k) => [k, ['prod', 'dev', 'Prod', 'staging'][Math.floor(rnd() * 4)]!]),
      ),
    }));
    const views = storeRuns(backend.tracking, backend.db, specs);
    const pools: FilterPools = {
      keys: { metrics: ['m1', 'm2', 'm3', 'm4', 'nope'], params: ['p1', 'p2', 'p3'], tags: ['t1', 't2'] },
      strings: ['x', 'y', 'z', '0.5', '10', '9', 'prod', 'dev', 'Prod', 'staging', 'run-7'],
      patterns: ['%', 'p%', '%o%', 'P%', 'run-1%', '_'],
      numbers: [0.5, 0.25, 0.75, 0, 1, 9, 10, 1_700_000_010_000_000 / 1000, 1_800_000_000_500],
      statuses: ['RUNNING', ...STATUSES],
      ids: [views[5]!.runId, ...exps],
    };
    const queries = [
      {
        filter: "metrics.m1 > 0.5 and params.p1 = 'x'",
        order: [{ entity: 'metrics', key: 'm2', descending: true }] as OrderClause[],
      },
      { filter: '', order: [] as OrderClause[] },
      ...Array.from({ length: 30 }, () => ({
        filter: formatFilter(randomExpr(rnd, 1 + Math.floor(rnd() * 3), pools)),
        order: randomOrder(rnd, pools),
      })),
    ];
    for (const q of queries) {
      const want = oracle(views, q.filter, q.order, null);
      const maxResults = [100, 1000, 7][Math.floor(rnd() * 3)]!;
      let offset = 0;
      let pageToken: string | null = null;
      for (let page = 0; page < 3; page++) {
        const got = await backend.tracking.searchRuns({
          filter: q.filter,
          orderBy: orderText(q.order),
          maxResults,
          pageToken,
        });
        const expected = want.slice(offset, offset + maxResults);
        const ids = got.runs.map((r) => r.id);
        if (JSON.stringify(ids) !== JSON.stringify(expected)) {
          throw new Error(`mismatch at offset ${offset} for ${q.filter} / ${orderText(q.order).join(', ')}`);
        }
        offset += maxResults;
        expect(got.nextPageToken === null).toBe(offset >= want.length);
        if (!got.nextPageToken) break;
        pageToken = got.nextPageToken;
      }
    }
    backend.close();
  }, 600_000);
});
