/**
 * monitoring/report — `monitorReport({ model, since })`: the drift and live-performance report of a served
 * model version, computed from the store (reference statistics, prediction log, labels), never from the
 * server. The result is a `MonitorReport`: JSON (`toJSON`), a terminal table (`toText`), a self-contained
 * HTML page (`toHtml`) and a notebook card (`bundle`, shown automatically inside a notebook).
 */
import { inspect } from 'node:util';
import type { CellarStore } from '../client.js';
import { CellarError } from '../errors.js';
import { regressionMetrics } from '../ml/metrics.js';
import { getStore, openStore } from '../sdk.js';
import {
  DEFAULT_THRESHOLDS,
  columnDrift,
  numericDrift,
  type ColumnDrift,
  type DriftThresholds,
} from './drift.js';
import { monitoringStoreOf, referenceStatsOf } from './registry-link.js';
import { renderCardHtml, renderReportHtml, renderText } from './render.js';
import { resolveModelVersion } from './resolve.js';
import { sinceMs, instantMs } from './time.js';
import type { PredictionColumns } from './prediction-log.js';

/** Live metrics from labelled predictions, beside the training run's metrics. */
export interface LivePerformance {
  /** Labelled predictions used. */
  n: number;
  rmse: number;
  mae: number;
  r2: number;
  /** The training run's metrics (training_* and test_* when logged). */
  training: Record<string, number>;
}

/** The report's data (what `toJSON` returns). */
export interface MonitorReportData {
  model: string;
  version: number;
  reference: string;
  runId: string | null;
  window: { since: string | null; until: string };
  generatedAt: string;
  /** Logged predictions in the window. */
  rows: number;
  referenceRows: number;
  thresholds: DriftThresholds;
  features: ColumnDrift[];
  /** Drift of the predictions against the model's predictions on its training data. */
  prediction: ColumnDrift | null;
  performance: LivePerformance | null;
  /** Features (and `prediction`) that drifted. */
  drifted: string[];
}

/** Options of {@link monitorReport}. */
export interface MonitorReportOptions {
  /** `driver@champion`, `driver/3`, `driver` (latest) or a `models:/` URI. */
  model: string;
  /** Window start: a duration back from now (`24h`, `7d`) or an instant; default: everything logged. */
  since?: string | number | Date;
  /** Window end (exclusive); default now. */
  until?: string | number | Date;
  /** The store (a directory or an opened store); default the SDK's default store. */
  store?: string | CellarStore;
  thresholds?: Partial<DriftThresholds>;
  /** Show the card when running inside a notebook (default true). */
  display?: boolean;
}

/** A monitoring report: renders as a card in a notebook, a table in a terminal, HTML or JSON. */
export class MonitorReport {
  /** Wraps computed report data. */
  constructor(readonly data: MonitorReportData) {}

  /** The report as plain JSON data. */
  toJSON(): MonitorReportData {
    return this.data;
  }

  /** The report as an aligned text table (what `cellar monitor` prints). */
  toText(): string {
    return renderText(this.data);
  }

  /** A self-contained HTML page with Plotly histograms (Plotly is embedded: no network needed). */
  toHtml(): string {
    return renderReportHtml(this.data);
  }

  /** The notebook MIME bundle: an HTML card with SVG histograms, the JSON data and a text form. */
  bundle(): Record<string, unknown> {
    return {
      'text/html': renderCardHtml(this.data),
      'application/json': this.data,
      'text/plain': this.toText(),
    };
  }

  /** Shows the card in the notebook (nothing outside one); returns this report. */
  async show(): Promise<this> {
    const { displayBundle } = await import('../display/sink.js');
    displayBundle(this.bundle(), 'text/html');
    return this;
  }

  /** console.log / REPL form. */
  [inspect.custom](): string {
    return this.toText();
  }
}

function storeOf(s: string | CellarStore | undefined): CellarStore {
  if (s === undefined) return getStore();
  return typeof s === 'string' ? openStore(s) : s;
}

async function livePerformance(
  store: CellarStore,
  q: { model: string; version: number; since?: number; until: number },
  runId: string | null,
): Promise<LivePerformance | null> {
  const pairs = await monitoringStoreOf(store).labelledPredictions(q);
  if (pairs.length === 0) return null;
  const m = regressionMetrics(
    pairs.map((p) => p.label),
    pairs.map((p) => p.prediction),
  );
  const training: Record<string, number> = {};
  if (runId) {
    const run = await store.tracking.getRun(runId);
    for (const [k, v] of Object.entries(run.metrics))
      if (/^(training|test)_(rmse|mae|r2)$/.test(k)) training[k] = v;
  }
  return { n: pairs.length, ...m, training };
}

/**
 * Compares the logged predictions of a model version with the reference statistics of its training data:
 * per feature PSI, KS statistic and p-value (chi-square for categories), null-rate change and out-of-range
 * share; prediction drift; and live RMSE/MAE/R² once labels were logged (`logLabels`). Reads the store only.
 * Inside a notebook the report shows itself as a card.
 *
 * @example
 * const report = await monitorReport({ model: 'driver@champion', since: '24h' })
 * report.data.drifted // ['conv_rate']
 * @throws CellarError NOT_FOUND for an unknown model/alias/version, INVALID_STATE when the version has no
 *   reference statistics (it was not trained with autolog), INVALID_PARAMETER for a bad window
 */
export async function monitorReport(opts: MonitorReportOptions): Promise<MonitorReport> {
  if (!opts || typeof opts !== 'object') {
    throw new CellarError(
      'INVALID_PARAMETER',
      "monitorReport takes { model: 'driver@champion', since: '24h' }.",
    );
  }
  const store = storeOf(opts.store);
  const now = Date.now();
  const until = opts.until === undefined ? now : instantMs(opts.until, 'until');
  const since = sinceMs(opts.since, now);
  const mv = await resolveModelVersion(store, opts.model);
  const ref = await referenceStatsOf(store, mv);
  if (!ref) {
    throw new CellarError(
      'INVALID_STATE',
      `${mv.name} version ${mv.version} has no reference statistics: train it inside a run with autolog on (the default), then register it.`,
    );
  }
  const thresholds = { ...DEFAULT_THRESHOLDS, ...(opts.thresholds ?? {}) };
  const names = Object.keys(ref.features);
  const numeric = names.filter((n) => ref.features[n]!.kind === 'numeric');
  const categorical = names.filter((n) => ref.features[n]!.kind === 'categorical');
  const q = { model: mv.name, version: mv.version, ...(since === undefined ? {} : { since }), until };
  const cols: PredictionColumns = monitoringStoreOf(store).readColumns(q, numeric, categorical);
  const features = names.map((n) =>
    columnDrift(n, ref.features[n]!, cols.numeric[n], cols.categorical[n], thresholds),
  );
  const prediction =
    ref.prediction && cols.n > 0
      ? numericDrift('prediction', ref.prediction, cols.prediction, thresholds)
      : null;
  const performance = await livePerformance(store, q, mv.runId);
  const data: MonitorReportData = {
    model: mv.name,
    version: mv.version,
    reference: opts.model,
    runId: mv.runId,
    window: {
      since: since === undefined ? null : new Date(since).toISOString(),
      until: new Date(until).toISOString(),
    },
    generatedAt: new Date(now).toISOString(),
    rows: cols.n,
    referenceRows: ref.nRows,
    thresholds,
    features: cols.n > 0 ? features : [],
    prediction,
    performance,
    drifted: [...(cols.n > 0 ? features : []), ...(prediction ? [prediction] : [])]
      .filter((d) => d.drifted)
      .map((d) => d.name),
  };
  const report = new MonitorReport(data);
  if (opts.display !== false) {
    const { isInsideTslab } = await import('../display/sink.js');
    if (isInsideTslab()) await report.show();
  }
  return report;
}
