/**
 * bench/serving — `cellar serve` (issue 11's benchmark): ElasticNet on 10 features, batch 1, 10 connections.
 * Each server is pinned to core 0 with `taskset`, the load to core 1: `wrk` for maximum throughput, and an
 * open-loop Node client at half the measured maximum rate for p99 latency (timed from the scheduled send, so a
 * stall is not hidden). Side by side, in interleaved rounds: cellar with the prediction log on (all requests) and
 * off, FastAPI + uvicorn + scikit-learn doing the same work (bench/serving_fastapi.py), and a bare node:http hello
 * world. Entity requests (online lookup of the 10 features + predict) are timed the same way. The first request
 * to a fresh server process is printed beside the warm figures. Medians of the rounds with their range.
 *
 * Run: `npm run build && node dist/esm/bench/serving.bench.js` (env BENCH_ROUNDS=5, BENCH_SECONDS=10).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pl from 'nodejs-polars';
import { writeParquet } from '../kernel-lib/data/io.js';
import { entity, featureStore, featureView, fileSource } from '../kernel-lib/features/index.js';
import { ElasticNet } from '../kernel-lib/ml/elasticnet.js';
import { mulberry32 } from '../kernel-lib/ml/random.js';
import { openStore } from '../kernel-lib/sdk.js';
import { closeAllEmbedded } from '../kernel-lib/store/open.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const FEATURES = Array.from({ length: 10 }, (_, i) => `f${i}`);
const ENTITIES = 1000;
const ROOT = resolve(new URL('../../..', import.meta.url).pathname);
const BIN = join(ROOT, 'bin', 'cellar.cjs');
const HOUR = 3_600_000;

interface Target {
  name: string;
  start(port: number): ChildProcess;
}

function pinned(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn('taskset', ['-c', '0', cmd, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...env },
  });
}

/** Builds the store: 10 online features, an ElasticNet trained from getHistoricalFeatures, registered @champion. */
async function setup(dir: string): Promise<{ trainCsv: string; row: Record<string, number> }> {
  const rand = mulberry32(11);
  const now = Date.now();
  const ids: number[] = [];
  const ts: Date[] = [];
  const cols: number[][] = FEATURES.map(() => []);
  for (let d = 0; d < ENTITIES; d++) {
    ids.push(1000 + d);
    ts.push(new Date(now - 2 * HOUR - Math.floor(rand() * HOUR)));
    for (const c of cols) c.push(rand());
  }
  const source = join(dir, 'stats.parquet');
  writeParquet(
    pl.DataFrame({
      item_id: ids,
      datetime: ts,
      ...Object.fromEntries(FEATURES.map((f, i) => [f, cols[i]!])),
    }),
    source,
  );
  const store = openStore(dir);
  const fs = featureStore({ embedded: store.embedded });
  const item = entity({ name: 'item', joinKeys: ['item_id'] });
  await fs.apply([
    item,
    featureView({
      name: 'stats10',
      entities: [item],
      schema: Object.fromEntries(FEATURES.map((f) => [f, 'float64'])) as Record<string, 'float64'>,
      ttl: '1d',
      source: fileSource({ path: source, timestampField: 'datetime' }),
    }),
  ]);
  await fs.materialize({ start: now - 4 * HOUR, end: now });
  const entityRows = ids.map((id) => ({ item_id: id, event_timestamp: new Date(now - HOUR) }));
  const train = await fs
    .getHistoricalFeatures({ entityRows, features: FEATURES.map((f) => `stats10:${f}`) })
    .toRows();
  const X = train.map((r) => Object.fromEntries(FEATURES.map((f) => [f, Number(r[f])])));
  const y = X.map((x) => FEATURES.reduce((s, f, j) => s + (j + 1) * x[f]!, 0) + rand() * 0.1);
  const run = await store.startRun({ experiment: 'bench' });
  new ElasticNet({ alpha: 0.01, l1Ratio: 0.1 }).fit(X, y);
  await run.end('FINISHED');
  await store.registerModel({
    name: 'bench',
    runId: run.id,
    alias: 'champion',
    serving: { missing: 'impute' },
  });
  const trainCsv = join(dir, 'train.csv');
  writeFileSync(
    trainCsv,
    [
      FEATURES.concat('y').join(','),
      ...X.map((x, i) =>
        FEATURES.map((f) => x[f])
          .concat(y[i]!)
          .join(','),
      ),
    ].join('\n'),
  );
  await fs.close();
  store.close();
  return { trainCsv, row: X[0]! };
}

async function waitReady(url: string, child: ChildProcess, stderr: () => string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`server exited: ${stderr()}`);
    try {
      if ((await fetch(url + '/ping')).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`server never became ready: ${stderr()}`);
}

function wrk(url: string, body: string, dir: string, seconds: number): { rps: number; p99ms: number } {
  const lua = join(dir, 'post.lua');
  writeFileSync(
    lua,
    `wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = ${JSON.stringify(body)}\n`,
  );
  const out = execFileSync(
    'taskset',
    ['-c', '1', 'wrk', '-t1', '-c10', `-d${seconds}s`, '--latency', '-s', lua, url + '/invocations'],
    {
      encoding: 'utf8',
    },
  );
  if (/Non-2xx/.test(out)) throw new Error(`wrk saw errors:\n${out}`);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)![1]);
  const m = /99%\s+([\d.]+)(us|ms|s)/.exec(out)!;
  const p99ms = Number(m[1]) * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1);
  return { rps, p99ms };
}

/** Open-loop load at `rate` req/s on 10 connections for `seconds`, in a child pinned to core 1; returns p99 ms. */
function openLoop(url: string, body: string, rate: number, seconds: number): number {
  const script = `
const http = require('node:http');
const agent = new http.Agent({ keepAlive: true, maxSockets: 10 });
const [url, body, rate, seconds] = [process.argv[1], process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const lat = []; let errors = 0; const t0 = performance.now(); const n = Math.floor(rate * seconds); let sent = 0; let done = 0;
function fire(scheduled) {
  const req = http.request(url + '/invocations', { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
    res.resume(); res.on('end', () => { if (res.statusCode !== 200) errors++; lat.push(performance.now() - scheduled); if (++done === n) finish(); });
  });
  req.on('error', () => { errors++; if (++done === n) finish(); });
  req.end(body);
}
function tick() {
  const now = performance.now();
  while (sent < n && t0 + (sent * 1000) / rate <= now) fire(t0 + (sent++ * 1000) / rate);
  if (sent < n) setImmediate(tick);
}
function finish() { lat.sort((a, b) => a - b); process.stdout.write(JSON.stringify({ p99: lat[Math.floor(lat.length * 0.99)], errors })); process.exit(0); }
tick();`;
  const out = execFileSync(
    'taskset',
    ['-c', '1', process.execPath, '-e', script, url, body, String(rate), String(seconds)],
    {
      encoding: 'utf8',
    },
  );
  const r = JSON.parse(out) as { p99: number; errors: number };
  if (r.errors > 0) throw new Error(`open-loop load saw ${r.errors} errors`);
  return r.p99;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

function fmt(name: string, xs: number[], unit: string): string {
  return `${name.padEnd(44)} median ${median(xs).toFixed(unit === 'ms' ? 3 : 0)} ${unit} (range ${Math.min(...xs).toFixed(unit === 'ms' ? 3 : 0)}–${Math.max(...xs).toFixed(unit === 'ms' ? 3 : 0)})`;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'cellar-serving-bench-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const { trainCsv, row } = await setup(dir);
  closeAllEmbedded();
  const body = JSON.stringify({ dataframe_records: [row] });
  const entityBody = JSON.stringify({ entities: [{ item_id: 1007 }] });
  const cellar =
    (log: boolean): Target['start'] =>
    (port) =>
      pinned(
        process.execPath,
        [
          BIN,
          '--store',
          dir,
          'serve',
          'bench@champion',
          '--port',
          String(port),
          '--log-sample',
          log ? '1' : '0',
        ],
        {
          CELLAR_PACKAGE_ROOT: ROOT,
        },
      );
  const targets: Target[] = [
    { name: 'cellar serve (prediction log on)', start: cellar(true) },
    { name: 'cellar serve (prediction log off)', start: cellar(false) },
    {
      name: 'FastAPI+uvicorn+sklearn',
      start: (port) =>
        pinned('/usr/bin/python3', [join(ROOT, 'bench', 'serving_fastapi.py'), trainCsv, String(port)]),
    },
    {
      name: 'node:http hello world',
      start: (port) =>
        pinned(process.execPath, [
          '-e',
          `require('node:http').createServer((q,s)=>{q.resume();q.on('end',()=>{s.writeHead(200,{'content-type':'application/json'});s.end('{"predictions":[1]}')})}).listen(${port},'127.0.0.1')`,
        ]),
    },
  ];
  const rps: Record<string, number[]> = {};
  const cold: Record<string, number[]> = {};
  const p99Half: number[] = [];
  const entityP99: number[] = [];
  const entityRps: number[] = [];
  console.log(
    `load average before: ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}; ${ROUNDS} rounds × ${SECONDS}s`,
  );
  for (let round = 0; round < ROUNDS; round++) {
    for (const t of targets) {
      const port = 20000 + Math.floor(Math.random() * 20000);
      const child = t.start(port);
      let err = '';
      child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
      const url = `http://127.0.0.1:${port}`;
      try {
        await waitReady(url, child, () => err);
        const c0 = performance.now();
        const first = await fetch(url + '/invocations', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        });
        if (!first.ok) throw new Error(`${t.name}: ${first.status} ${await first.text()}`);
        (cold[t.name] ??= []).push(performance.now() - c0);
        wrk(url, body, dir, 1); // warm-up
        const r = wrk(url, body, dir, SECONDS);
        (rps[t.name] ??= []).push(r.rps);
        if (t.name === targets[0]!.name) {
          p99Half.push(openLoop(url, body, Math.floor(r.rps / 2), Math.min(SECONDS, 5)));
          const e = wrk(url, entityBody, dir, Math.min(SECONDS, 5));
          entityRps.push(e.rps);
          entityP99.push(openLoop(url, entityBody, Math.floor(e.rps / 2), Math.min(SECONDS, 5)));
        }
      } finally {
        child.kill('SIGTERM');
        await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
      }
    }
    console.log(
      `round ${round + 1}: ${targets.map((t) => `${t.name} ${rps[t.name]!.at(-1)!.toFixed(0)}`).join(', ')}`,
    );
  }
  console.log(
    `load average after: ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  for (const t of targets) console.log(fmt(`${t.name} throughput`, rps[t.name]!, 'req/s'));
  for (const t of targets) console.log(fmt(`${t.name} first request (fresh process)`, cold[t.name]!, 'ms'));
  console.log(fmt('cellar p99 at half max rate (features)', p99Half, 'ms'));
  console.log(fmt('cellar entity requests throughput', entityRps, 'req/s'));
  console.log(fmt('cellar p99 at half max rate (entities)', entityP99, 'ms'));
  const ours = median(rps[targets[0]!.name]!);
  const noLog = median(rps[targets[1]!.name]!);
  const fastapi = median(rps[targets[2]!.name]!);
  const hello = median(rps[targets[3]!.name]!);
  const rows = [
    {
      figure: 'throughput vs FastAPI',
      value: ours,
      unit: 'req/s',
      peer: 'FastAPI+uvicorn+sklearn',
      ratio: ours / fastapi,
      goal: '>= 3x',
      met: ours / fastapi >= 3,
    },
    {
      figure: 'throughput vs node:http hello',
      value: ours,
      unit: 'req/s',
      peer: 'node:http hello world',
      ratio: ours / hello,
      goal: '>= 0.6x',
      met: ours / hello >= 0.6,
    },
    {
      figure: 'p99 at half max rate',
      value: median(p99Half),
      unit: 'ms',
      peer: '',
      ratio: null,
      goal: '<= 2 ms',
      met: median(p99Half) <= 2,
    },
    {
      figure: 'entity p99 at half max rate',
      value: median(entityP99),
      unit: 'ms',
      peer: '',
      ratio: null,
      goal: '<= 3 ms',
      met: median(entityP99) <= 3,
    },
    {
      figure: 'prediction log cost',
      value: ours,
      unit: 'req/s',
      peer: 'cellar serve, log off',
      ratio: ours / noLog,
      goal: '>= 0.9x',
      met: ours / noLog >= 0.9,
    },
  ];
  for (const r of rows)
    console.log(
      `${r.figure}: ${r.value.toFixed(r.unit === 'ms' ? 3 : 0)} ${r.unit}${r.ratio === null ? '' : ` = ${r.ratio.toFixed(2)}× ${r.peer}`} (goal ${r.goal}: ${r.met ? 'met' : 'NOT met'})`,
    );
  console.log(`BENCH_RESULT ${JSON.stringify({ bench: 'serving', rows })}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
