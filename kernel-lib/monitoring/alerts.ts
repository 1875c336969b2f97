/**
 * monitoring/alerts — Prometheus and Grafana without hand-work: alerting rules (drift above a threshold,
 * feature freshness past the TTL, error rate, p99 latency) as a rules file `promtool check rules` accepts,
 * a Grafana dashboard JSON over the serving metrics and the drift gauges, and the drift gauges themselves as
 * Prometheus text (`driftMetrics`) for a server's `/metrics`.
 *
 * Metric names are options with defaults (`METRIC_NAMES`), so they can follow what `cellar serve` exports.
 */
import { FRESHNESS_METRIC, TTL_METRIC } from './freshness.js';
import type { MonitorReportData } from './report.js';

/** Names of the metrics the rules and the dashboard query. */
export interface MetricNames {
  /** Counter of requests, labels `model`, `status` (HTTP status code). */
  requests: string;
  /** Histogram of request durations in seconds (`_bucket` series), label `model`. */
  latency: string;
  /** Gauge: PSI per model and feature (labels `model`, `version`, `feature`). */
  psi: string;
  /** Gauge: 1 when a feature drifted per the report's thresholds, else 0. */
  drift: string;
  /** Gauge: age of the newest materialized value per feature view (label `view`). */
  freshness: string;
  /** Gauge: TTL per feature view (label `view`). */
  ttl: string;
}

/** Default metric names (the serving runtime's and monitoring's). */
export const METRIC_NAMES: MetricNames = {
  requests: 'cellar_serving_requests_total',
  latency: 'cellar_serving_request_duration_seconds',
  psi: 'cellar_model_feature_psi',
  drift: 'cellar_model_feature_drift',
  freshness: FRESHNESS_METRIC,
  ttl: TTL_METRIC,
};

/** Options of {@link prometheusRules}. */
export interface AlertOptions {
  /** Only this model (label matcher `model="…"`); default every model. */
  model?: string;
  /** PSI above which drift alerts (default 0.2). */
  psiThreshold?: number;
  /** Share of 5xx responses above which errors alert (default 0.05). */
  errorRate?: number;
  /** p99 latency in seconds above which latency alerts (default 0.5). */
  p99Seconds?: number;
  /** How long a condition must hold (default `10m`). */
  for?: string;
  metrics?: Partial<MetricNames>;
}

const y = (s: string): string => JSON.stringify(s);

function matcher(model: string | undefined, extra = ''): string {
  const parts = [...(model ? [`model=${y(model)}`] : []), ...(extra ? [extra] : [])];
  return parts.length ? `{${parts.join(',')}}` : '';
}

interface Rule {
  alert: string;
  expr: string;
  for: string;
  severity: string;
  summary: string;
  description: string;
}

/** The alerting rules as data. */
export function alertRules(opts: AlertOptions = {}): Rule[] {
  const m = { ...METRIC_NAMES, ...(opts.metrics ?? {}) };
  const f = opts.for ?? '10m';
  const psi = opts.psiThreshold ?? 0.2;
  const err = opts.errorRate ?? 0.05;
  const p99 = opts.p99Seconds ?? 0.5;
  const sel = matcher(opts.model);
  return [
    {
      alert: 'CellarFeatureDrift',
      expr: `max by (model, version, feature) (${m.psi}${sel}) > ${psi}`,
      for: f,
      severity: 'warning',
      summary: 'Feature {{ $labels.feature }} of {{ $labels.model }} drifted',
      description: `PSI {{ $value }} above ${psi} against the training data of version {{ $labels.version }}; run cellar monitor {{ $labels.model }}@champion.`,
    },
    {
      alert: 'CellarFeatureStale',
      expr: `(${m.freshness} > on (view) ${m.ttl}) and on (view) (${m.ttl} > 0)`,
      for: f,
      severity: 'warning',
      summary: 'Feature view {{ $labels.view }} is older than its TTL',
      description:
        'The newest materialized value is {{ $value }} s old; online reads return OUTSIDE_MAX_AGE. Run cellar features materialize-incremental.',
    },
    {
      alert: 'CellarServingErrorRate',
      expr:
        `sum by (model) (rate(${m.requests}${matcher(opts.model, 'status=~"5.."')}[5m])) / ` +
        `sum by (model) (rate(${m.requests}${sel}[5m])) > ${err}`,
      for: f,
      severity: 'critical',
      summary: '{{ $labels.model }} answers with server errors',
      description: `More than ${err * 100}% of requests failed with 5xx over 5 minutes ({{ $value }}).`,
    },
    {
      alert: 'CellarServingLatencyP99',
      expr: `histogram_quantile(0.99, sum by (model, le) (rate(${m.latency}_bucket${sel}[5m]))) > ${p99}`,
      for: f,
      severity: 'warning',
      summary: '{{ $labels.model }} p99 latency is high',
      description: `p99 latency {{ $value }} s is above ${p99} s.`,
    },
  ];
}

/**
 * A Prometheus rules file (YAML) with the alerting rules: drift, freshness past TTL, error rate, p99 latency.
 *
 * @example
 * writeFileSync('cellar-rules.yml', prometheusRules({ model: 'driver' }))
 */
export function prometheusRules(opts: AlertOptions = {}): string {
  const lines = ['groups:', `  - name: ${y(`cellar${opts.model ? `-${opts.model}` : ''}`)}`, '    rules:'];
  for (const r of alertRules(opts)) {
    lines.push(
      `      - alert: ${r.alert}`,
      `        expr: ${y(r.expr)}`,
      `        for: ${r.for}`,
      '        labels:',
      `          severity: ${r.severity}`,
      '        annotations:',
      `          summary: ${y(r.summary)}`,
      `          description: ${y(r.description)}`,
    );
  }
  return lines.join('\n') + '\n';
}

/** Options of {@link grafanaDashboard}. */
export interface DashboardOptions {
  model?: string;
  title?: string;
  metrics?: Partial<MetricNames>;
}

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource: { type: 'prometheus'; uid: '${DS_PROMETHEUS}' };
  targets: Array<{ refId: string; expr: string; legendFormat: string }>;
  fieldConfig: { defaults: Record<string, unknown>; overrides: unknown[] };
  options: Record<string, unknown>;
}

/**
 * A Grafana dashboard (JSON model, schemaVersion 39) over the serving metrics (request rate, error rate,
 * latency quantiles) and monitoring's gauges (PSI per feature, drift flags, feature freshness). Import it
 * in Grafana and pick the Prometheus data source.
 *
 * @example
 * writeFileSync('cellar-dashboard.json', JSON.stringify(grafanaDashboard({ model: 'driver' }), null, 2))
 */
export function grafanaDashboard(opts: DashboardOptions = {}): Record<string, unknown> {
  const m = { ...METRIC_NAMES, ...(opts.metrics ?? {}) };
  const sel = matcher(opts.model);
  let id = 0;
  const panel = (
    type: string,
    title: string,
    x: number,
    yPos: number,
    targets: Array<[string, string]>,
    unit: string,
    extra: Record<string, unknown> = {},
  ): Panel => ({
    id: ++id,
    type,
    title,
    gridPos: { x, y: yPos, w: 12, h: 8 },
    datasource: { type: 'prometheus', uid: '${DS_PROMETHEUS}' },
    targets: targets.map(([expr, legendFormat], i) => ({
      refId: String.fromCharCode(65 + i),
      expr,
      legendFormat,
    })),
    fieldConfig: { defaults: { unit, ...extra }, overrides: [] },
    options:
      type === 'timeseries'
        ? { legend: { displayMode: 'list', placement: 'bottom' } }
        : { reduceOptions: { calcs: ['lastNotNull'] } },
  });
  const panels = [
    panel(
      'timeseries',
      'Requests per second',
      0,
      0,
      [[`sum by (model, status) (rate(${m.requests}${sel}[5m]))`, '{{model}} {{status}}']],
      'reqps',
    ),
    panel(
      'timeseries',
      'Error rate (5xx)',
      12,
      0,
      [
        [
          `sum by (model) (rate(${m.requests}${matcher(opts.model, 'status=~"5.."')}[5m])) / sum by (model) (rate(${m.requests}${sel}[5m]))`,
          '{{model}}',
        ],
      ],
      'percentunit',
    ),
    panel(
      'timeseries',
      'Latency',
      0,
      8,
      [0.5, 0.95, 0.99].map((q) => [
        `histogram_quantile(${q}, sum by (model, le) (rate(${m.latency}_bucket${sel}[5m])))`,
        `{{model}} p${Math.round(q * 100)}`,
      ]) as Array<[string, string]>,
      's',
    ),
    panel(
      'gauge',
      'Feature drift (PSI)',
      12,
      8,
      [[`max by (model, feature) (${m.psi}${sel})`, '{{model}} {{feature}}']],
      'none',
      {
        min: 0,
        max: 0.5,
        thresholds: {
          mode: 'absolute',
          steps: [
            { color: 'green', value: null },
            { color: 'orange', value: 0.1 },
            { color: 'red', value: 0.2 },
          ],
        },
      },
    ),
    panel('stat', 'Drifted features', 0, 16, [[`sum by (model) (${m.drift}${sel})`, '{{model}}']], 'none'),
    panel(
      'bargauge',
      'Feature freshness (age of newest online value)',
      12,
      16,
      [
        [`${m.freshness}`, '{{view}}'],
        [`${m.ttl}`, '{{view}} TTL'],
      ],
      's',
    ),
  ];
  return {
    __inputs: [
      {
        name: 'DS_PROMETHEUS',
        label: 'Prometheus',
        type: 'datasource',
        pluginId: 'prometheus',
        pluginName: 'Prometheus',
      },
    ],
    title: opts.title ?? `cellar${opts.model ? ` — ${opts.model}` : ''}`,
    uid: `cellar-${(opts.model ?? 'all').replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 30)}`,
    tags: ['cellar'],
    timezone: 'utc',
    schemaVersion: 39,
    version: 1,
    editable: true,
    refresh: '30s',
    time: { from: 'now-6h', to: 'now' },
    templating: { list: [] },
    annotations: { list: [] },
    panels,
  };
}

/** The drift gauges of a report as Prometheus text (PSI per feature and a 0/1 drift flag). */
export function driftMetrics(report: MonitorReportData, names: Partial<MetricNames> = {}): string {
  const m = { ...METRIC_NAMES, ...names };
  const esc = (s: string): string => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
  const cols = [...report.features, ...(report.prediction ? [report.prediction] : [])];
  const labels = (f: string): string =>
    `{model="${esc(report.model)}",version="${report.version}",feature="${esc(f)}"}`;
  return (
    [
      `# HELP ${m.psi} Population stability index of a feature against the model's training data.`,
      `# TYPE ${m.psi} gauge`,
      ...cols.filter((c) => c.psi !== null).map((c) => `${m.psi}${labels(c.name)} ${c.psi}`),
      `# HELP ${m.drift} 1 when the feature drifted per cellar's thresholds.`,
      `# TYPE ${m.drift} gauge`,
      ...cols.map((c) => `${m.drift}${labels(c.name)} ${c.drifted ? 1 : 0}`),
    ].join('\n') + '\n'
  );
}
