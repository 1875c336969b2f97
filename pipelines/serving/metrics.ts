/**
 * serving/metrics — the Prometheus metrics of a serving process (prom-client, its own registry): requests by
 * route and status, a latency histogram, in-flight requests, the loaded model name/version, online lookup
 * latency, missing-feature counts, rejected overload, model swaps and the prediction log's progress.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The metrics of one serving process. */
export class ServingMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'model' | 'route' | 'status'>;
  readonly latency: Histogram<'model' | 'route'>;
  readonly inFlight: Gauge;
  readonly modelInfo: Gauge<'model' | 'version' | 'uri'>;
  readonly lookupLatency: Histogram;
  readonly missingFeatures: Counter<'feature' | 'status'>;
  readonly rejectedRows: Counter;
  readonly swaps: Counter<'result'>;
  readonly logRows: Counter<'result'>;

  /**
   * Creates the metrics. prom-client's default process metrics are left out: three of them are gauges named
   * `*_total`, which `promtool check metrics` rejects.
   */
  constructor() {
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'cellar_serving_requests_total',
      help: 'HTTP requests answered, by model, route and status code.',
      labelNames: ['model', 'route', 'status'],
      registers,
    });
    this.latency = new Histogram({
      name: 'cellar_serving_request_duration_seconds',
      help: 'Time from request start to the response being written, by model and route.',
      labelNames: ['model', 'route'],
      buckets: [0.0005, 0.001, 0.002, 0.003, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.inFlight = new Gauge({
      name: 'cellar_serving_in_flight_requests',
      help: 'Requests being processed now.',
      registers,
    });
    this.modelInfo = new Gauge({
      name: 'cellar_serving_model_info',
      help: 'The model version loaded (value 1 for the one serving).',
      labelNames: ['model', 'version', 'uri'],
      registers,
    });
    this.lookupLatency = new Histogram({
      name: 'cellar_serving_online_lookup_duration_seconds',
      help: 'Online feature lookup time of entity requests.',
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.1],
      registers,
    });
    this.missingFeatures = new Counter({
      name: 'cellar_serving_missing_features_total',
      help: 'Features missing (NOT_FOUND, NULL_VALUE) or outside their TTL (OUTSIDE_MAX_AGE) in entity requests.',
      labelNames: ['feature', 'status'],
      registers,
    });
    this.rejectedRows = new Counter({
      name: 'cellar_serving_rejected_rows_total',
      help: 'Entity rows not scored because of missing features (policy reject).',
      registers,
    });
    this.swaps = new Counter({
      name: 'cellar_serving_model_swaps_total',
      help: 'Model version changes seen by the alias poller, by result (swapped, failed).',
      labelNames: ['result'],
      registers,
    });
    this.logRows = new Counter({
      name: 'cellar_serving_prediction_log_rows_total',
      help: 'Rows handed to the prediction log, by result (buffered, dropped).',
      labelNames: ['result'],
      registers,
    });
  }

  /** Marks `model@version` as the one loaded (and clears the previous one). */
  setModel(model: string, version: number | null, uri: string): void {
    this.modelInfo.reset();
    this.modelInfo.set({ model, version: version === null ? '' : String(version), uri }, 1);
  }
}
