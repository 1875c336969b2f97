/**
 * `cellar serve` in a child process on 127.0.0.1: MLflow's scoring protocol (every input form), the Open Inference
 * Protocol v2 routes, entity requests with the recorded feature references and policy, validation (400 naming
 * field and row), 413 / 408 / 503, the bearer token, and the prediction log written by the server.
 */
import { request } from 'node:http';
import { connect } from 'node:net';
import { openStore, readPredictionLog, featureStore } from '../../../kernel-lib/index.js';
import { closeAllEmbedded } from '../../../kernel-lib/store/open.js';
import { cleanupTmp, makeTmp } from '../../helpers/tmp.js';
import { buildServingStore, startServer, type ServerProcess, type ServingFixture } from './fixture.js';

let fx: ServingFixture;
let srv: ServerProcess;
const X = [
  { conv_rate: 0.5, acc_rate: 0.9, avg_daily_trips: 10 },
  { conv_rate: 0.2, acc_rate: 0.4, avg_daily_trips: 800 },
];
let expected: number[];

beforeAll(async () => {
  fx = await buildServingStore(makeTmp('cellar-serve-'));
  const store = openStore(fx.dir);
  expected = (await store.loadModel('models:/driver/1')).predict(X);
  srv = await startServer(fx.dir, [
    'driver@champion',
    '--max-rows',
    '50',
    '--max-body-bytes',
    '20000',
    '--body-timeout-ms',
    '400',
  ]);
}, 120_000);

afterAll(async () => {
  srv?.child.kill('SIGTERM');
  await srv?.exited;
  closeAllEmbedded();
  cleanupTmp();
});

async function post(
  path: string,
  body: unknown,
  type = 'application/json',
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies of many shapes, checked by the tests
): Promise<{ status: number; json: any; headers: Headers }> {
  const r = await fetch(srv.url + path, {
    method: 'POST',
    headers: { 'content-type': type },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, json: text.startsWith('{') ? JSON.parse(text) : text, headers: r.headers };
}

function close(a: number[], b: number[]): void {
  expect(a).toHaveLength(b.length);
  a.forEach((v, i) => expect(v).toBeCloseTo(b[i]!, 10));
}

test('MLflow scoring protocol: every input form answers {"predictions": [...]}', async () => {
  const cols = ['conv_rate', 'acc_rate', 'avg_daily_trips'];
  const split = { columns: cols, data: X.map((r) => cols.map((c) => r[c as keyof typeof r])) };
  const forms: unknown[] = [
    { dataframe_split: split },
    { dataframe_records: X },
    { instances: X },
    { instances: split.data },
    { inputs: X },
    { inputs: Object.fromEntries(cols.map((c) => [c, X.map((r) => r[c as keyof typeof r])])) },
  ];
  for (const body of forms) {
    const r = await post('/invocations', body);
    expect(r.status).toBe(200);
    close(r.json.predictions, expected);
    expect(r.headers.get('x-model-version')).toBe('1');
    expect(r.headers.get('x-request-id')).toMatch(/.+/);
  }
  const csv = `${cols.join(',')}\n${split.data.map((r) => r.join(',')).join('\n')}\n`;
  const r = await post('/invocations', csv, 'text/csv');
  expect(r.status).toBe(200);
  close(r.json.predictions, expected);
});

test('health, version and Open Inference Protocol v2 routes', async () => {
  for (const p of ['/ping', '/health']) expect((await fetch(srv.url + p)).status).toBe(200);
  expect(await (await fetch(srv.url + '/version')).text()).toMatch(/^\d+\.\d+\.\d+/);
  expect(await (await fetch(srv.url + '/v2/health/live')).json()).toEqual({ live: true });
  expect((await fetch(srv.url + '/v2/health/ready')).status).toBe(200);
  expect(await (await fetch(srv.url + '/v2/models/driver/ready')).json()).toEqual({
    name: 'driver',
    ready: true,
  });
  type Tensor = { name: string; datatype: string };
  const meta = (await (await fetch(srv.url + '/v2/models/driver')).json()) as { inputs: Tensor[] };
  expect(meta).toMatchObject({ name: 'driver', versions: ['1'] });
  expect(meta.inputs.map((i) => i.name)).toEqual(['conv_rate', 'acc_rate', 'avg_daily_trips']);
  expect((await fetch(srv.url + '/v2/models/other')).status).toBe(404);

  const tensors = meta.inputs.map((i) => ({
    name: i.name,
    shape: [2],
    datatype: i.datatype,
    data: X.map((r) => r[i.name as keyof typeof r]),
  }));
  const r = await post('/v2/models/driver/infer', { id: 'abc', inputs: tensors });
  expect(r.status).toBe(200);
  expect(r.json).toMatchObject({ model_name: 'driver', model_version: '1', id: 'abc' });
  expect(r.json.outputs[0]).toMatchObject({ name: 'prediction', shape: [2], datatype: 'FP64' });
  close(r.json.outputs[0].data, expected);
  const matrix = await post('/v2/models/driver/versions/1/infer', {
    inputs: [
      {
        name: 'input-0',
        shape: [2, 3],
        datatype: 'FP64',
        data: X.map((x) => [x.conv_rate, x.acc_rate, x.avg_daily_trips]),
      },
    ],
  });
  close(matrix.json.outputs[0].data, expected);
  expect((await post('/v2/models/driver/versions/7/infer', { inputs: tensors })).status).toBe(404);
});

test('entity requests: online features by key, the impute policy and per-row status', async () => {
  const fs = featureStore({ embedded: openStore(fx.dir).embedded });
  const online = (
    await fs.getOnlineFeatures({
      features: ['driver_stats:conv_rate', 'driver_stats:acc_rate', 'driver_stats:avg_daily_trips'],
      entityRows: [{ driver_id: 1001 }],
    })
  ).toRows();
  const model = await openStore(fx.dir).loadModel('models:/driver/1');
  const r = await post('/invocations', { entities: [{ driver_id: 1001 }, { driver_id: 9999 }] });
  expect(r.status).toBe(200);
  expect(r.json.predictions[0]).toBeCloseTo(model.predict(online)[0]!, 10);
  expect(r.json.feature_status[0]).toEqual({ missing: [], outside_ttl: [], imputed: [], rejected: false });
  expect(r.json.feature_status[1]).toEqual({
    missing: ['conv_rate', 'acc_rate', 'avg_daily_trips'],
    outside_ttl: [],
    imputed: ['conv_rate', 'acc_rate', 'avg_daily_trips'],
    rejected: false,
  });
  const means = openStore(fx.dir);
  const mv = await means.registry.getModelVersion('driver', 1);
  const m = JSON.parse(mv.tags['cellar.serving.means']!);
  expect(r.json.predictions[1]).toBeCloseTo(model.predict([m])[0]!, 10);
  const oip = await post('/v2/models/driver/infer', {
    inputs: [{ name: 'driver_id', shape: [1], datatype: 'INT64', data: [1001] }],
  });
  expect(oip.json.outputs[0].data[0]).toBeCloseTo(r.json.predictions[0], 10);
  const bad = await post('/invocations', { entities: [{ driver: 1 }] });
  expect(bad.status).toBe(400);
  expect(bad.json).toMatchObject({ error_code: 'INVALID_INPUT', field: 'driver_id', row: 0 });
  await fs.close();
});

test('validation: 400 naming the field and the row', async () => {
  const cases: Array<[unknown, Record<string, unknown>]> = [
    [{ dataframe_records: [X[0], { conv_rate: 0.1, acc_rate: 0.2 }] }, { field: 'avg_daily_trips', row: 1 }],
    [{ dataframe_records: [{ ...X[0], acc_rate: 'high' }] }, { field: 'acc_rate', row: 0 }],
    [{ dataframe_records: [X[0], X[1], { ...X[0], conv_rate: null }] }, { field: 'conv_rate', row: 2 }],
    [
      { dataframe_split: { columns: ['conv_rate', 'acc_rate'], data: [[0.1, 0.2]] } },
      { field: 'avg_daily_trips' },
    ],
    [{ dataframe_records: [] }, { message: expect.stringMatching(/no rows/) }],
    [{ dataframe_records: new Array(51).fill(X[0]) }, { message: expect.stringMatching(/at most 50/) }],
    [{ foo: 1 }, { message: expect.stringMatching(/dataframe_split/) }],
    [{ dataframe_records: X, instances: X }, { message: expect.stringMatching(/only one/) }],
  ];
  for (const [body, want] of cases) {
    const r = await post('/invocations', body);
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ error_code: 'INVALID_INPUT', ...want });
  }
  const deep = '{"dataframe_records":' + '['.repeat(40) + ']'.repeat(40) + '}';
  const d = await post('/invocations', deep);
  expect(d.status).toBe(400);
  expect(d.json.message).toMatch(/nests deeper/);
  const notJson = await post('/invocations', '{"dataframe_records": [');
  expect(notJson.status).toBe(400);
  expect((await post('/invocations', 'x', 'application/xml')).status).toBe(400);
});

test('a lossy cast into an integer column is refused', async () => {
  const store = openStore(fx.dir);
  const run = await store.startRun({ experiment: 'ints' });
  const { LinearRegression } = await import('../../../kernel-lib/index.js');
  new LinearRegression().fit(
    { n: new Int32Array([1, 2, 3, 4]) as unknown as number[], m: [1, 0, 1, 0] },
    [2, 4, 6, 9],
  );
  await run.end('FINISHED');
  const mv = await store.registerModel({ name: 'ints', runId: run.id });
  const sig = (await store.loadModel('models:/ints/1')).signature.inputs;
  const s2 = await startServer(fx.dir, [`ints/${mv.version}`, '--log-sample', '0']);
  try {
    const intCol = sig.find((c) => c.type === 'integer' || c.type === 'long');
    if (!intCol) throw new Error(`expected an integer column in ${JSON.stringify(sig)}`);
    const r = await fetch(s2.url + '/invocations', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        dataframe_records: [
          { n: 1, m: 0 },
          { n: 1.5, m: 1 },
        ],
      }),
    });
    expect(r.status).toBe(400);
    expect(await r.json()).toMatchObject({ field: intCol.name, row: 1 });
  } finally {
    s2.child.kill('SIGTERM');
    await s2.exited;
  }
});

/** Sends raw HTTP on a socket and resolves with what came back when the server closes or `waitMs` passes. */
function raw(url: string, head: string, body: string, opts: { waitMs?: number } = {}): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const sock = connect(Number(port), hostname);
    let got = '';
    sock.on('data', (d) => (got += d.toString()));
    sock.on('close', () => resolve(got));
    sock.on('error', () => resolve(got));
    sock.write(head + '\r\n\r\n' + body);
    setTimeout(() => {
      sock.destroy();
      resolve(got);
    }, opts.waitMs ?? 3000);
  });
}

test('413 before parsing, 408 for a slow body', async () => {
  const big = JSON.stringify({ dataframe_records: new Array(1000).fill(X[0]) });
  const r = await post('/invocations', big);
  expect(r.status).toBe(413);
  expect(r.json.error_code).toBe('RESOURCE_TOO_LARGE');
  // Chunked (no content-length): refused as soon as the bytes pass the limit.
  const chunked = await new Promise<number>((resolve, reject) => {
    const req = request(
      srv.url + '/invocations',
      { method: 'POST', headers: { 'content-type': 'application/json' } },
      (res) => {
        res.resume();
        resolve(res.statusCode!);
      },
    );
    req.on('error', reject);
    for (let i = 0; i < 30; i++) req.write('x'.repeat(1000));
    req.end();
  });
  expect(chunked).toBe(413);
  const slow = await raw(
    srv.url,
    'POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100',
    '{"dataframe_records": [',
  );
  expect(slow).toMatch(/^HTTP\/1.1 408/);
  expect(slow).toMatch(/did not arrive within 400 ms/);
});

test('saturated: a fast 503 with Retry-After; bearer token on every route but health', async () => {
  const s2 = await startServer(
    fx.dir,
    ['driver@champion', '--max-in-flight', '1', '--body-timeout-ms', '3000'],
    {
      CELLAR_SERVE_TOKEN: 'sekret',
    },
  );
  try {
    const auth = { authorization: 'Bearer sekret', 'content-type': 'application/json' };
    // Hold the one slot with a body that is still arriving.
    const holding = raw(
      s2.url,
      'POST /invocations HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sekret\r\nContent-Type: application/json\r\nContent-Length: 100',
      '{',
      { waitMs: 1500 },
    );
    await new Promise((r) => setTimeout(r, 200));
    const busy = await fetch(s2.url + '/invocations', {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ dataframe_records: X }),
    });
    expect(busy.status).toBe(503);
    expect(busy.headers.get('retry-after')).toBe('1');
    await holding;
    const ok = await fetch(s2.url + '/invocations', {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ dataframe_records: X }),
    });
    expect(ok.status).toBe(200);
    const noToken = await fetch(s2.url + '/invocations', {
      method: 'POST',
      body: JSON.stringify({ dataframe_records: X }),
    });
    expect(noToken.status).toBe(401);
    expect((await fetch(s2.url + '/metrics')).status).toBe(401);
    expect((await fetch(s2.url + '/metrics', { headers: auth })).status).toBe(200);
    expect((await fetch(s2.url + '/ping')).status).toBe(200);
    expect((await fetch(s2.url + '/v2/health/ready')).status).toBe(200);
  } finally {
    s2.child.kill('SIGTERM');
    expect(await s2.exited).toBe(0);
  }
});

test('every scored request is in the prediction log with its request id, inputs, features and version', async () => {
  const r = await post('/invocations', { entities: [{ driver_id: 1002 }] });
  const id = r.headers.get('x-request-id')!;
  let rows: ReturnType<typeof readPredictionLog> = [];
  for (let i = 0; i < 50 && rows.length === 0; i++) {
    await new Promise((res) => setTimeout(res, 100));
    rows = readPredictionLog(openStore(fx.dir).embedded.db, {
      model: 'driver',
      since: Date.now() - 60_000,
    }).filter((x) => x.requestId === id);
  }
  expect(rows).toHaveLength(1);
  expect(rows[0]).toMatchObject({
    model: 'driver',
    version: 1,
    modelUri: 'models:/driver@champion',
    entity: { driver_id: 1002 },
    status: 'ok',
    source: 'serve',
    rowIndex: 0,
  });
  expect(rows[0]!.prediction).toBeCloseTo(r.json.predictions[0], 10);
  expect(Object.keys(rows[0]!.features!)).toEqual(['conv_rate', 'acc_rate', 'avg_daily_trips']);
  expect(rows[0]!.inputs).toMatchObject({ driver_id: 1002, conv_rate: rows[0]!.features!.conv_rate });
  expect(rows[0]!.latencyMs).toBeGreaterThan(0);
  const all = readPredictionLog(openStore(fx.dir).embedded.db, { model: 'driver' });
  expect(all.length).toBeGreaterThan(10);
});
