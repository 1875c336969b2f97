/**
 * Benchmark: the platform server (`cellar up`) against the SDK in-process, side by side in one run.
 *   1. First page (25 rows) of a filtered, sorted runs table through HTTP (`POST /api/runs/search`) vs the
 *      same `searchRuns` call through the SDK, on BENCH_RUNS runs × (50 params, 50 metrics, 20 tags).
 *   2. MLflow `runs/log-batch` of 500 metrics from 20 concurrent HTTP clients: metrics/s and request p99,
 *      beside the SDK's `logBatch` of the same batches in-process (one writer).
 *   3. An MLflow client's `log-metric` round trip (sequential, keep-alive): p99, beside the SDK's logBatch of
 *      one metric.
 * First call in a fresh process beside the warm median; medians of 5 interleaved rounds with their range.
 * Run: npm run build && node dist/esm/bench/platform.bench.js   (BENCH_RUNS=30000 for the size)
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openStore } from '../kernel-lib/sdk.js';
import type { CellarStore } from '../kernel-lib/client.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 3000);
const ROUNDS = 5;
const CLIENTS = 20;
const BATCH = 500;
const BATCHES_PER_CLIENT = 10;
const ROUND_TRIPS = 500;
const QUERY = {
  filter: "metrics.m0 < 0.5 and params.p1 = 'v1'",
  orderBy: ['metrics.m2 DESC'],
  maxResults: 25,
};

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};
const fmt = (xs: number[]): string =>
  `median ${median(xs).toFixed(2)} (range ${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)})`;

async function populate(store: CellarStore): Promise<void> {
  const exp = await store.tracking.getOrCreateExperiment('bench');
  const t0 = performance.now();
  for (let i = 0; i < RUNS; i++) {
    const run = await store.tracking.createRun({ experimentId: exp.id, runName: `r${i}` });
    const params: Record<string, string> = {};
    const tags: Record<string, string> = {};
    const metrics = [];
    for (let k = 0; k < 50; k++) params[`p${k}`] = `v${(i + k) % 7}`;
    for (let k = 0; k < 20; k++) tags[`t${k}`] = `x${(i * 7 + k) % 11}`;
    for (let k = 0; k < 50; k++)
      metrics.push({ key: `m${k}`, value: ((i * 31 + k * 17) % 1000) / 1000, step: 0, timestamp: 1 });
    await store.tracking.logBatch(run.id, { params, tags, metrics });
    await store.tracking.endRun(run.id, 'FINISHED');
  }
  console.log(
    `populated ${RUNS} runs × (50 params, 50 metrics, 20 tags) in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
}

async function startUp(dir: string): Promise<{ url: string; token: string; stop(): void }> {
  const bin = resolve(process.argv[1]!, '..', '..', '..', '..', 'bin', 'cellar.cjs');
  const child = spawn(
    process.execPath,
    [bin, '--store', dir, 'up', '--port', '0', '--no-scheduler', '--quiet'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const login = await new Promise<string>((ok, fail) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /open (http:\S+)/.exec(out);
      if (m) ok(m[1]!);
    });
    child.on('exit', (c) => fail(new Error(`cellar up exited ${c}`)));
  });
  const u = new URL(login);
  return {
    url: `${u.protocol}//${u.host}`,
    token: u.searchParams.get('token')!,
    stop: () => child.kill('SIGTERM'),
  };
}

async function post(url: string, token: string, body: unknown): Promise<unknown> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${url}: ${JSON.stringify(json)}`);
  return json;
}

async function main(): Promise<void> {
  console.log(
    `load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')} (2 cores shared)`,
  );
  const dir = mkdtempSync(join(tmpdir(), 'cellar-bench-platform-'));
  const rows: Array<Record<string, unknown>> = [];
  try {
    const store = openStore(dir);
    await populate(store);
    const server = await startUp(dir);
    const search = `${server.url}/api/runs/search`;
    try {
      // 1. first page through HTTP vs the SDK
      let t = performance.now();
      await post(search, server.token, QUERY);
      const httpCold = performance.now() - t;
      t = performance.now();
      await store.searchRuns(QUERY);
      const sdkFirst = performance.now() - t;
      const http: number[] = [];
      const sdk: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        t = performance.now();
        const page = (await post(search, server.token, QUERY)) as { runs: unknown[] };
        http.push(performance.now() - t);
        t = performance.now();
        const local = await store.searchRuns(QUERY);
        sdk.push(performance.now() - t);
        if (page.runs.length !== local.length) throw new Error('HTTP and SDK pages differ');
      }
      console.log(
        `runs page: HTTP first call ${httpCold.toFixed(1)} ms (fresh server), SDK first ${sdkFirst.toFixed(1)} ms`,
      );
      console.log(
        `runs page: HTTP ${fmt(http)} ms, SDK ${fmt(sdk)} ms, ratio ${(median(http) / median(sdk)).toFixed(2)}`,
      );
      rows.push({
        figure: `runs table first page, ${RUNS} runs, HTTP`,
        value: +median(http).toFixed(2),
        unit: 'ms',
        peer: 'SDK searchRuns in-process',
        ratio: +(median(http) / median(sdk)).toFixed(2),
        goal: '<= 150 ms and <= 2.5x SDK',
        met: median(http) <= 150 && median(http) / median(sdk) <= 2.5,
      });

      // 2. log-batch of 500 metrics from 20 concurrent clients
      const exp = await store.tracking.getOrCreateExperiment('ingest');
      const batchBody = (runId: string, b: number) => ({
        run_id: runId,
        metrics: Array.from({ length: BATCH }, (_, i) => ({
          key: `k${i % 50}`,
          value: i / BATCH,
          step: b * 10 + Math.floor(i / 50),
          timestamp: 1,
        })),
      });
      const rates: number[] = [];
      const p99s: number[] = [];
      const sdkRates: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        const runs = await Promise.all(
          Array.from({ length: CLIENTS }, () => store.tracking.createRun({ experimentId: exp.id })),
        );
        const latencies: number[] = [];
        const t0 = performance.now();
        await Promise.all(
          runs.map(async (run) => {
            for (let b = 0; b < BATCHES_PER_CLIENT; b++) {
              const s = performance.now();
              await post(`${server.url}/api/2.0/mlflow/runs/log-batch`, server.token, batchBody(run.id, b));
              latencies.push(performance.now() - s);
            }
          }),
        );
        const secs = (performance.now() - t0) / 1000;
        rates.push((CLIENTS * BATCHES_PER_CLIENT * BATCH) / secs);
        p99s.push(pct(latencies, 99));
        const localRuns = await Promise.all(
          Array.from({ length: CLIENTS }, () => store.tracking.createRun({ experimentId: exp.id })),
        );
        const t1 = performance.now();
        for (const run of localRuns)
          for (let b = 0; b < BATCHES_PER_CLIENT; b++)
            await store.tracking.logBatch(run.id, { metrics: batchBody(run.id, b).metrics });
        sdkRates.push((CLIENTS * BATCHES_PER_CLIENT * BATCH) / ((performance.now() - t1) / 1000));
      }
      console.log(
        `log-batch: HTTP ${fmt(rates)} metrics/s, request p99 ${fmt(p99s)} ms; SDK ${fmt(sdkRates)} metrics/s`,
      );
      rows.push({
        figure: 'MLflow log-batch 500 metrics, 20 concurrent clients',
        value: Math.round(median(rates)),
        unit: 'metrics/s',
        peer: 'SDK logBatch in-process',
        ratio: +(median(rates) / median(sdkRates)).toFixed(2),
        goal: '>= 100000 metrics/s',
        met: median(rates) >= 100_000,
      });
      rows.push({
        figure: 'MLflow log-batch request p99 (20 clients)',
        value: +median(p99s).toFixed(2),
        unit: 'ms',
        peer: 'none',
        ratio: null,
        goal: '<= 50 ms',
        met: median(p99s) <= 50,
      });

      // 3. log-metric round trip
      const run = await store.tracking.createRun({ experimentId: exp.id });
      const http99: number[] = [];
      const sdk99: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        const lat: number[] = [];
        for (let i = 0; i < ROUND_TRIPS; i++) {
          const s = performance.now();
          await post(`${server.url}/api/2.0/mlflow/runs/log-metric`, server.token, {
            run_id: run.id,
            key: 'loss',
            value: i,
            step: r * ROUND_TRIPS + i,
            timestamp: 1,
          });
          lat.push(performance.now() - s);
        }
        http99.push(pct(lat, 99));
        const local: number[] = [];
        for (let i = 0; i < ROUND_TRIPS; i++) {
          const s = performance.now();
          await store.tracking.logBatch(run.id, {
            metrics: [{ key: 'local', value: i, step: r * ROUND_TRIPS + i, timestamp: 1 }],
          });
          local.push(performance.now() - s);
        }
        sdk99.push(pct(local, 99));
      }
      console.log(`log-metric round trip p99: HTTP ${fmt(http99)} ms, SDK ${fmt(sdk99)} ms`);
      rows.push({
        figure: 'MLflow log-metric round trip p99',
        value: +median(http99).toFixed(2),
        unit: 'ms',
        peer: 'SDK logBatch of one metric',
        ratio: +(median(http99) / median(sdk99)).toFixed(2),
        goal: '<= 2 ms p99',
        met: median(http99) <= 2,
      });
    } finally {
      server.stop();
      store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`BENCH_RESULT ${JSON.stringify({ bench: 'platform', rows })}`);
}

void main();
