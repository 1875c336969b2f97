/**
 * `cellar serve` operations, on a real child process: SIGTERM under load (readiness 503, in-flight requests finish,
 * zero failed responses, exit 0), alias moves swapping the model atomically (every response one consistent
 * version; a version that fails to load leaves the old one serving and readiness says why), `/metrics` checked by
 * `promtool check metrics` and scraped by a real Prometheus that answers a query on the request counter.
 */
import { execFileSync, spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openStore } from '../../../kernel-lib/index.js';
import { closeAllEmbedded } from '../../../kernel-lib/store/open.js';
import { freePort } from '../../helpers/servers.js';
import { cleanupTmp, makeTmp } from '../../helpers/tmp.js';
import { buildServingStore, startServer, type ServingFixture } from './fixture.js';

let fx: ServingFixture;
const ROW = { conv_rate: 0.5, acc_rate: 0.9, avg_daily_trips: 10 };
const BODY = JSON.stringify({ dataframe_records: [ROW] });
let byVersion: Record<string, number>;

beforeAll(async () => {
  fx = await buildServingStore(makeTmp('cellar-serve-life-'));
  const store = openStore(fx.dir);
  byVersion = {
    '1': (await store.loadModel('models:/driver/1')).predict([ROW])[0]!,
    '2': (await store.loadModel('models:/driver/2')).predict([ROW])[0]!,
  };
}, 120_000);

afterAll(() => {
  closeAllEmbedded();
  cleanupTmp();
});

interface Outcome {
  status: number;
  version: string;
  prediction: number | null;
}

/** One POST on a keep-alive agent; rejects on a socket error after the request was sent. */
function once(url: string, agent: Agent): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const req = request(
      url + '/invocations',
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(BODY) },
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => {
          const json = text.startsWith('{') ? (JSON.parse(text) as { predictions?: number[] }) : {};
          resolve({
            status: res.statusCode!,
            version: String(res.headers['x-model-version'] ?? ''),
            prediction: json.predictions?.[0] ?? null,
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(BODY);
  });
}

/** `n` clients sending requests back to back until `stop()`; collects outcomes and errors per client. */
function load(url: string, n: number) {
  let running = true;
  const results: Outcome[][] = [];
  const failures: string[] = [];
  let refused = 0;
  const loops = Array.from({ length: n }, async (_, c) => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    results[c] = [];
    while (running) {
      try {
        results[c]!.push(await once(url, agent));
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        // The listening socket is closed once the drain starts: a new connection is refused before any request
        // is sent (a load balancer has already taken the instance out). Anything else is a failed request.
        if (code === 'ECONNREFUSED') {
          refused++;
          break;
        }
        failures.push(`${code ?? ''} ${(e as Error).message}`);
        break;
      }
    }
    agent.destroy();
  });
  return {
    results,
    failures,
    refused: () => refused,
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}

test('SIGTERM under load: readiness 503, in-flight requests finish, zero failed responses, exit 0', async () => {
  const srv = await startServer(fx.dir, ['driver@champion', '--body-timeout-ms', '5000']);
  const { hostname, port } = new URL(srv.url);
  const traffic = load(srv.url, 8);
  await new Promise((r) => setTimeout(r, 1000));
  // A request whose body is still arriving when SIGTERM lands, and an idle keep-alive connection for /ping.
  const slow = connect(Number(port), hostname);
  const ping = connect(Number(port), hostname);
  await Promise.all([slow, ping].map((s) => new Promise((r) => s.once('connect', r))));
  let slowReply = '';
  slow.on('data', (d) => (slowReply += d.toString()));
  slow.write(
    `POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${BODY.length}\r\n\r\n`,
  );
  slow.write(BODY.slice(0, 10));
  await new Promise((r) => setTimeout(r, 100));
  srv.child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 150));
  let pingReply = '';
  ping.on('data', (d) => (pingReply += d.toString()));
  ping.write('GET /v2/health/ready HTTP/1.1\r\nHost: x\r\n\r\n');
  await new Promise((r) => setTimeout(r, 150));
  slow.write(BODY.slice(10));
  const code = await srv.exited;
  await traffic.stop();
  expect(code).toBe(0);
  expect(pingReply).toMatch(/^HTTP\/1.1 503/);
  expect(pingReply).toMatch(/draining/);
  expect(slowReply).toMatch(/^HTTP\/1.1 200/);
  expect(slowReply).toMatch(/"predictions"/);
  const all = traffic.results.flat();
  expect(traffic.failures).toEqual([]);
  expect(all.length).toBeGreaterThan(50);
  expect(all.filter((o) => o.status !== 200)).toEqual([]);
}, 60_000);

test('alias move: the server swaps atomically, every response carries one consistent version', async () => {
  const store = openStore(fx.dir);
  await store.setAlias('driver', 'champion', 1);
  const srv = await startServer(fx.dir, ['driver@champion', '--poll-ms', '50', '--log-sample', '0']);
  try {
    const traffic = load(srv.url, 4);
    await new Promise((r) => setTimeout(r, 600));
    await store.setAlias('driver', 'champion', 2);
    await new Promise((r) => setTimeout(r, 800));
    await traffic.stop();
    expect(traffic.failures).toEqual([]);
    for (const client of traffic.results) {
      let seen2 = false;
      for (const o of client) {
        expect(o.status).toBe(200);
        expect(['1', '2']).toContain(o.version);
        expect(o.prediction).toBeCloseTo(byVersion[o.version]!, 10); // model and header agree
        if (o.version === '2') seen2 = true;
        else expect(seen2).toBe(false); // never back to the old version
      }
      expect(seen2).toBe(true);
      expect(client[0]!.version).toBe('1');
    }
    // A version that fails to load (a malformed serving tag) leaves version 2 serving; readiness says why.
    const run = await store.startRun({ experiment: 'broken' });
    await run.logArtifact({
      name: 'model/model.json',
      data: await store.registry.readModelVersionArtifact('driver', 2),
      kind: 'model',
    });
    await run.end('FINISHED');
    const bad = await store.registerModel({
      name: 'driver',
      runId: run.id,
      tags: { 'cellar.serving.missing': 'sometimes' },
    });
    await store.setAlias('driver', 'champion', bad.version);
    let ready: { ready: boolean; reason: string | null } = { ready: false, reason: null };
    for (let i = 0; i < 50 && !ready.reason; i++) {
      await new Promise((r) => setTimeout(r, 50));
      ready = (await (await fetch(srv.url + '/v2/health/ready')).json()) as typeof ready;
    }
    expect(ready.ready).toBe(true);
    expect(ready.reason).toMatch(
      new RegExp(`version ${bad.version} of driver failed to load \\(still serving version 2\\)`),
    );
    expect(ready.reason).toMatch(/reject.*impute/);
    const still = await once(srv.url, new Agent());
    expect(still).toMatchObject({ status: 200, version: '2' });
    const metrics = await (await fetch(srv.url + '/metrics')).text();
    expect(metrics).toMatch(/cellar_serving_model_swaps_total\{result="swapped"\} 1/);
    expect(metrics).toMatch(/cellar_serving_model_swaps_total\{result="failed"\} 1/);
    expect(metrics).toMatch(/cellar_serving_model_info\{model="driver",version="2"/);
  } finally {
    await store.setAlias('driver', 'champion', 1);
    srv.child.kill('SIGTERM');
    await srv.exited;
  }
}, 60_000);

test('/metrics passes promtool and a real Prometheus scrapes it and answers a query on the request counter', async () => {
  const srv = await startServer(fx.dir, ['driver@champion', '--log-sample', '0']);
  const work = makeTmp('cellar-prom-');
  const promPort = freePort();
  const prom = { child: null as ReturnType<typeof spawn> | null, log: '' };
  try {
    for (let i = 0; i < 5; i++) await once(srv.url, new Agent());
    await fetch(srv.url + '/invocations', {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    });
    await fetch(srv.url + '/invocations', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ entities: [{ driver_id: 9999 }] }),
    });
    const text = await (await fetch(srv.url + '/metrics')).text();
    // promtool prints nothing and exits 0 for well-formed exposition text (lint problems exit non-zero).
    execFileSync('promtool', ['check', 'metrics'], { input: text });
    expect(text).toMatch(
      /cellar_serving_requests_total\{model="driver",route="invocations",status="200"\} 6/,
    );
    expect(text).toMatch(
      /cellar_serving_requests_total\{model="driver",route="invocations",status="400"\} 1/,
    );
    expect(text).toMatch(
      /cellar_serving_request_duration_seconds_bucket\{le="0.001",model="driver",route="invocations"\}/,
    );
    expect(text).toMatch(/cellar_serving_in_flight_requests 0/);
    expect(text).toMatch(/cellar_serving_missing_features_total\{feature="conv_rate",status="NOT_FOUND"\} 1/);
    expect(text).toMatch(/cellar_serving_online_lookup_duration_seconds_count 1/);

    const { host } = new URL(srv.url);
    mkdirSync(join(work, 'data'));
    writeFileSync(
      join(work, 'prometheus.yml'),
      `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: cellar\n    scrape_interval: 1s\n    static_configs:\n      - targets: ['${host}']\n`,
    );
    prom.child = spawn(
      'prometheus',
      [
        `--config.file=${join(work, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(work, 'data')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    prom.child.stderr!.on('data', (d: Buffer) => (prom.log = (prom.log + d.toString()).slice(-4000)));
    let exited: number | null = null;
    prom.child.on('exit', (c) => (exited = c ?? -1));
    const q = encodeURIComponent('sum(cellar_serving_requests_total{route="invocations",status="200"})');
    let value: string | null = null;
    for (let i = 0; i < 300 && value === null; i++) {
      if (exited !== null) throw new Error(`prometheus exited (${exited}): ${prom.log}`);
      await new Promise((r) => setTimeout(r, 100));
      try {
        const res = (await (await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${q}`)).json()) as {
          data: { result: Array<{ value: [number, string] }> };
        };
        value = res.data.result[0]?.value[1] ?? null;
      } catch {
        // not up yet
      }
    }
    if (value === null) throw new Error(`prometheus never answered the query: ${prom.log}`);
    expect(Number(value)).toBeGreaterThanOrEqual(6);
  } finally {
    prom.child?.kill('SIGTERM');
    srv.child.kill('SIGTERM');
    await srv.exited;
  }
}, 60_000);
