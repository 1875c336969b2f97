/**
 * Keys that name Object.prototype members (`__proto__`, `constructor`, `prototype`) are params, metrics and
 * tags like any other: stored, read back, searchable and shown by the CLI — never silently dropped.
 */
import { main } from '../../../pipelines/cli/main.js';
import { openStore } from '../../../kernel-lib/sdk.js';
import { cleanupTmp, makeTmp } from '../../helpers/tmp.js';

afterEach(cleanupTmp);

const KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty'];

async function cellar(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

test('prototype-named keys are stored as params, metrics and tags through the SDK and shown by the CLI', async () => {
  const dir = makeTmp();
  const store = openStore(dir);
  const run = await store.startRun({ experiment: 'hostile', tags: JSON.parse('{"__proto__": "start"}') });
  for (const [i, k] of KEYS.entries()) {
    await run.logParam(k, `p${i}`);
    await run.logMetric(k, i + 0.5);
    await run.setTag(`t.${k}`, `v${i}`);
  }
  // the same keys arriving as own properties of parsed JSON (e.g. from the REST API or the bridge)
  await run.logParams(JSON.parse('{"__proto__x": 1}'));
  await run.logMetrics(JSON.parse('{"prototype": 9}'), 1);
  await run.setTags(JSON.parse('{"__proto__": "overwritten", "constructor": "c"}'));
  await run.end();

  const data = await store.getRun(run.id);
  expect(Object.getPrototypeOf(data.params)).toBe(Object.prototype);
  for (const [i, k] of KEYS.entries()) {
    expect(Object.hasOwn(data.params, k)).toBe(true);
    expect(data.params[k]).toBe(`p${i}`);
    expect(Object.hasOwn(data.metrics, k)).toBe(true);
    expect(data.tags[`t.${k}`]).toBe(`v${i}`);
  }
  expect(data.metrics.prototype).toBe(9);
  expect(data.params.__proto__x).toBe('1');
  expect(Object.hasOwn(data.tags, '__proto__')).toBe(true);
  expect(data.tags.__proto__).toBe('overwritten');
  expect(data.tags.constructor).toBe('c');
  // params stay write-once for these keys too
  const again = await store.startRun({ experiment: 'hostile' });
  await again.logParam('__proto__', 'a');
  await expect(again.logParam('__proto__', 'b')).rejects.toMatchObject({ code: 'PARAM_CONFLICT' });
  await again.end();
  // the filter language finds them
  const found = await store.tracking.searchRuns({ filter: "params.__proto__ = 'p0'" });
  expect(found.runs.map((r) => r.id)).toEqual([run.id]);
  store.close();

  const shown = await cellar('--store', dir, 'runs', 'show', run.id, '--json');
  expect(shown.code).toBe(0);
  const json = JSON.parse(shown.out) as { params: object; metrics: object; tags: object };
  expect(Object.entries(json.params)).toEqual(expect.arrayContaining([['__proto__', 'p0']]));
  expect(Object.entries(json.metrics)).toEqual(expect.arrayContaining([['__proto__', 0.5]]));
  expect(Object.entries(json.tags)).toEqual(expect.arrayContaining([['t.__proto__', 'v0']]));
  const text = await cellar('--store', dir, 'runs', 'show', run.id);
  expect(text.out).toMatch(/__proto__\s+p0/);
});
