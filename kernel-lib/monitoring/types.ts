/**
 * monitoring/types — the shapes monitoring works on: reference statistics of a model version, logged
 * predictions and labels, and the store interface that reads and writes them (`MonitoringStore`, with an
 * embedded SQLite implementation).
 */

/** Statistics of one numeric column of the training data. */
export interface NumericReference {
  kind: 'numeric';
  /** Rows (including nulls). */
  count: number;
  /** Null, NaN or missing values. */
  nulls: number;
  mean: number;
  /** Population standard deviation (ddof = 0, numpy's default). */
  std: number;
  min: number;
  max: number;
  /** numpy-linear quantiles at 1, 5, 25, 50, 75, 95 and 99 %. */
  quantiles: Record<'p01' | 'p05' | 'p25' | 'p50' | 'p75' | 'p95' | 'p99', number>;
  /** Equal-width histogram over [min, max] for plots (edges has one more entry than counts). */
  histogram: { edges: number[]; counts: number[] };
  /** PSI bins: the reference's deciles as edges (`np.quantile(x, linspace(0, 1, 11))`) and counts per bin. */
  psi: { edges: number[]; counts: number[] };
  /**
   * Up to 5,000 evenly spaced order statistics of the values (all values, sorted, when there are fewer):
   * the reference side of the KS test, since the raw training data is not stored.
   */
  sample: number[];
}

/** Statistics of one categorical (string) column of the training data. */
export interface CategoricalReference {
  kind: 'categorical';
  count: number;
  nulls: number;
  /** Count per category. */
  frequencies: Record<string, number>;
}

/** Either kind of column statistics. */
export type ColumnReference = NumericReference | CategoricalReference;

/** The reference statistics of a model version (`model/reference_stats.json` of its run). */
export interface ReferenceStats {
  format: 'cellar-reference-stats';
  formatVersion: 1;
  /** Training rows. */
  nRows: number;
  datasetFingerprint?: string;
  createdAt: string;
  features: Record<string, ColumnReference>;
  /** The model's predictions on its training data. */
  prediction?: NumericReference;
  /** The training target. */
  target?: NumericReference;
}

/** A value a model saw: a number, a category, or null when missing. */
export type FeatureValue = number | string | null;

/** One logged prediction. */
export interface PredictionRow {
  /** Epoch milliseconds. */
  ts: number;
  model: string;
  version: number;
  requestId: string | null;
  /** The feature values the model was given (after online feature lookup). */
  features: Record<string, FeatureValue>;
  /** The entity keys of the request (e.g. `{ driver_id: 1001 }`), when it had any. */
  entityKeys: Record<string, string | number> | null;
  prediction: number | null;
  latencyMs?: number | null;
}

/** What `PredictionSource.read` selects. */
export interface PredictionQuery {
  model: string;
  /** Only this version (default: every version). */
  version?: number;
  /** Epoch ms lower bound, inclusive. */
  since?: number;
  /** Epoch ms upper bound, exclusive. */
  until?: number;
  /** At most this many rows, the newest first when limited. */
  limit?: number;
}

/** Where logged predictions are read from (the serving runtime's prediction log). */
export interface PredictionSource {
  /** Rows matching the query, oldest first. */
  read(q: PredictionQuery): Promise<PredictionRow[]>;
}

/** A label (ground truth) for a prediction: by request id, or by entity keys and time. */
export interface LabelRow {
  label: number;
  requestId?: string | null;
  entityKeys?: Record<string, string | number> | null;
  /** Epoch ms or ISO string of the labelled event (needed with entityKeys). */
  ts?: number | string | Date | null;
  model?: string | null;
}

/** Storage of everything monitoring keeps. */
export interface MonitoringStore extends PredictionSource {
  putReferenceStats(
    name: string,
    version: number,
    runId: string | null,
    stats: ReferenceStats,
  ): Promise<void>;
  /** The reference statistics of a version, or null when it has none. */
  getReferenceStats(name: string, version: number): Promise<ReferenceStats | null>;
  /** Appends predictions (creating the prediction log when the store has none); returns the count. */
  logPredictions(rows: PredictionRow[]): Promise<number>;
  /** Appends labels; returns the count. */
  logLabels(rows: LabelRow[]): Promise<number>;
  /** Labels joined to the predictions of `q` (prediction, label) pairs. */
  labelledPredictions(q: PredictionQuery): Promise<Array<{ prediction: number; label: number }>>;
}
