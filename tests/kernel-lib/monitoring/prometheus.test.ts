/**
 * The generated Prometheus rules pass `promtool check rules`, and a real Prometheus (Debian's) scraping a
 * 127.0.0.1 endpoint that exports monitoring's drift and freshness gauges next to serving-style request
 * metrics (prom-client) fires every alert: drift, stale features, error rate, p99 latency. The Grafana
 * dashboard is checked as a JSON model.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Counter, Histogram, Registry } from 'prom-client';
import { driftMetrics, grafanaDashboard, prometheusRules } from '../../../kernel-lib/monitoring/alerts.js';
import { numericDrift } from '../../../kernel-lib/monitoring/drift.js';
import { numericReference } from '../../../kernel-lib/monitoring/reference.js';
import type { MonitorReportData } from '../../../kernel-lib/monitoring/report.js';
import { DEFAULT_THRESHOLDS } from '../../../kernel-lib/monitoring/drift.js';
import { mulberry32 } from '../../../kernel-lib/ml/random.js';
import { freePort } from '../../helpers/servers.js';
import { cleanupTmp, makeTmp } from '../../helpers/tmp.js';

let prom: ChildProcess | null = null;
let server: Server | null = null;
let ticker: NodeJS.Timeout | null = null;
afterEach(async () => {
  if (ticker) clearInterval(ticker);
  if (prom && prom.exitCode === null) {
    prom.kill('SIGTERM');
    await new Promise((r) => prom!.once('exit', r));
  }
  if (server) await new Promise((r) => server!.close(r));
  cleanupTmp();
});

function driftedReport(): MonitorReportData {
  const rand = mulberry32(4);
  const ref = numericReference(Array.from({ length: 3000 }, () => rand()))!;
  const cur = Float64Array.from({ length: 2000 }, () => rand() + 0.5);
  const same = Float64Array.from({ length: 2000 }, () => rand());
  return {
    model: 'driver',
    version: 3,
    reference: 'driver@champion',
    runId: null,
    window: { since: null, until: new Date().toISOString() },
    generatedAt: new Date().toISOString(),
    rows: 2000,
    referenceRows: 3000,
    thresholds: DEFAULT_THRESHOLDS,
    features: [numericDrift('conv_rate', ref, cur), numericDrift('acc_rate', ref, same)],
    prediction: null,
    performance: null,
    drifted: ['conv_rate'],
  };
}

test('promtool accepts the rules; the Grafana dashboard is a well-formed JSON model', () => {
  const dir = makeTmp();
  for (const [name, opts] of [
    ['all.yml', {}],
    ['driver.yml', { model: 'driver', psiThreshold: 0.1, errorRate: 0.01, p99Seconds: 0.25, for: '5m' }],
  ] as const) {
    const file = join(dir, name);
    writeFileSync(file, prometheusRules(opts));
    const r = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
    expect(r.error).toBeUndefined();
    expect(`${r.stdout}${r.stderr}`).toContain('SUCCESS: 4 rules found');
    expect(r.status).toBe(0);
  }
  const dash = grafanaDashboard({ model: 'driver' }) as {
    panels: Array<Record<string, unknown>>;
    [k: string]: unknown;
  };
  expect(dash).toMatchObject({
    title: expect.stringContaining('driver'),
    schemaVersion: 39,
    uid: 'cellar-driver',
  });
  const ids = dash.panels.map((p) => p.id);
  expect(new Set(ids).size).toBe(ids.length);
  for (const p of dash.panels) {
    expect(p).toMatchObject({
      type: expect.any(String),
      title: expect.any(String),
      gridPos: { w: 12, h: 8 },
    });
    const targets = p.targets as Array<{ expr: string; refId: string }>;
    expect(targets.length).toBeGreaterThan(0);
    for (const t of targets) expect(t.expr).toMatch(/cellar_/);
  }
  const exprs = dash.panels
    .flatMap((p) => (p.targets as Array<{ expr: string }>).map((t) => t.expr))
    .join('\n');
  for (const m of [
    'cellar_serving_requests_total',
    'cellar_serving_request_duration_seconds_bucket',
    'cellar_model_feature_psi',
    'cellar_feature_view_age_seconds',
  ]) {
    expect(exprs).toContain(m);
  }
  expect(JSON.parse(JSON.stringify(dash))).toEqual(dash);
});

test('a real Prometheus scraping drift, freshness and request metrics fires every generated alert', async () => {
  const dir = makeTmp();
  const registry = new Registry();
  const requests = new Counter({
    name: 'cellar_serving_requests_total',
    help: 'requests',
    labelNames: ['model', 'status'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'cellar_serving_request_duration_seconds',
    help: 'latency',
    labelNames: ['model'],
    buckets: [0.01, 0.1, 0.5, 1, 2],
    registers: [registry],
  });
  ticker = setInterval(() => {
    requests.inc({ model: 'driver', status: '200' }, 10);
    requests.inc({ model: 'driver', status: '503' }, 5);
    for (let i = 0; i < 10; i++) latency.observe({ model: 'driver' }, 1.5);
  }, 200);
  const drift = driftMetrics(driftedReport());
  expect(drift).toMatch(/cellar_model_feature_drift\{model="driver",version="3",feature="conv_rate"\} 1/);
  expect(drift).toMatch(/cellar_model_feature_drift\{model="driver",version="3",feature="acc_rate"\} 0/);
  const freshness =
    'cellar_feature_view_age_seconds{view="driver_stats"} 90000\ncellar_feature_view_ttl_seconds{view="driver_stats"} 86400\n' +
    'cellar_feature_view_age_seconds{view="fresh_view"} 10\ncellar_feature_view_ttl_seconds{view="fresh_view"} 86400\n';
  server = createServer((_req, res) => {
    void registry.metrics().then((m) => {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(m + drift + freshness);
    });
  });
  const appPort = freePort();
  await new Promise<void>((r) => server!.listen(appPort, '127.0.0.1', r));
  writeFileSync(join(dir, 'rules.yml'), prometheusRules({ for: '0s' }));
  writeFileSync(
    join(dir, 'prometheus.yml'),
    [
      'global:',
      '  scrape_interval: 1s',
      '  evaluation_interval: 1s',
      'rule_files: [rules.yml]',
      'scrape_configs:',
      '  - job_name: cellar',
      `    static_configs: [{ targets: ['127.0.0.1:${appPort}'] }]`,
      '',
    ].join('\n'),
  );
  const promPort = freePort();
  prom = spawn(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'tsdb')}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  prom.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const wanted = [
    'CellarFeatureDrift',
    'CellarFeatureStale',
    'CellarServingErrorRate',
    'CellarServingLatencyP99',
  ];
  const deadline = Date.now() + 60_000;
  let firing: Array<{ labels: Record<string, string> }> = [];
  while (Date.now() < deadline) {
    if (prom.exitCode !== null) throw new Error(`prometheus exited with ${prom.exitCode}:\n${log}`);
    try {
      const res = await fetch(`http://127.0.0.1:${promPort}/api/v1/alerts`);
      const body = (await res.json()) as {
        data: { alerts: Array<{ state: string; labels: Record<string, string> }> };
      };
      firing = body.data.alerts.filter((a) => a.state === 'firing');
      if (wanted.every((w) => firing.some((a) => a.labels.alertname === w))) break;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  const names = firing
    .map((a) => `${a.labels.alertname}:${a.labels.feature ?? a.labels.view ?? a.labels.model}`)
    .sort();
  expect(names).toEqual([
    'CellarFeatureDrift:conv_rate',
    'CellarFeatureStale:driver_stats',
    'CellarServingErrorRate:driver',
    'CellarServingLatencyP99:driver',
  ]);
}, 90_000);
