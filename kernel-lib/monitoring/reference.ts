/**
 * monitoring/reference — computes the reference statistics of a model's training data (count, nulls, mean,
 * std, quantiles, histogram, PSI deciles, a KS sample; categories with frequencies). Pure functions; autolog
 * calls `referenceStats` at fit time and logs the result next to the model.
 */
import { CellarError } from '../errors.js';
import { binCounts, quantileEdges, quantileSorted } from './stats.js';
import type {
  CategoricalReference,
  ColumnReference,
  FeatureValue,
  NumericReference,
  ReferenceStats,
} from './types.js';

/** File name of the reference statistics next to a run's model (`model/reference_stats.json`). */
export const REFERENCE_STATS_FILE = 'reference_stats.json';
/** Size of the stored KS sample (evenly spaced order statistics). */
export const REFERENCE_SAMPLE_SIZE = 5000;
/** Bins of the stored PSI deciles. */
export const PSI_BINS = 10;
const HISTOGRAM_BINS = 20;

/** Equal-width histogram edges over [min, max] (one bin of width 1 around a constant). */
export function histogramEdges(min: number, max: number, bins = HISTOGRAM_BINS): number[] {
  const lo = min === max ? min - 0.5 : min;
  const hi = min === max ? max + 0.5 : max;
  return Array.from({ length: bins + 1 }, (_, i) => (i === bins ? hi : lo + ((hi - lo) * i) / bins));
}

/** Counts of values per equal-width bin (values outside [edges[0], edges[last]] are not counted). */
export function histogramCounts(values: ArrayLike<number>, edges: readonly number[]): number[] {
  const bins = edges.length - 1;
  const lo = edges[0]!;
  const hi = edges[bins]!;
  const width = (hi - lo) / bins;
  const counts = new Array<number>(bins).fill(0);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!(v >= lo && v <= hi)) continue;
    let b = Math.floor((v - lo) / width);
    if (b >= bins) b = bins - 1;
    if (b > 0 && v < edges[b]!) b -= 1;
    counts[b]! += 1;
  }
  return counts;
}

/** Statistics of a numeric column; `null` when it has no finite value. */
export function numericReference(values: ArrayLike<number | null | undefined>): NumericReference | null {
  const finite = new Float64Array(values.length);
  let k = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v === 'number' && Number.isFinite(v)) finite[k++] = v;
  }
  if (k === 0) return null;
  const sorted = finite.subarray(0, k).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  const mean = sum / k;
  let ss = 0;
  for (const v of sorted) ss += (v - mean) * (v - mean);
  const min = sorted[0]!;
  const max = sorted[k - 1]!;
  const edges = histogramEdges(min, max);
  const psiEdges = quantileEdges(sorted, PSI_BINS);
  const q = (p: number): number => quantileSorted(sorted, p);
  return {
    kind: 'numeric',
    count: values.length,
    nulls: values.length - k,
    mean,
    std: Math.sqrt(ss / k),
    min,
    max,
    quantiles: {
      p01: q(0.01),
      p05: q(0.05),
      p25: q(0.25),
      p50: q(0.5),
      p75: q(0.75),
      p95: q(0.95),
      p99: q(0.99),
    },
    histogram: { edges, counts: histogramCounts(sorted, edges) },
    psi: { edges: psiEdges, counts: Array.from(binCounts(sorted, psiEdges)) },
    sample: orderStatistics(sorted, REFERENCE_SAMPLE_SIZE),
  };
}

/** `size` evenly spaced order statistics of a sorted array (all of it when shorter). */
export function orderStatistics(sorted: ArrayLike<number>, size: number): number[] {
  const n = sorted.length;
  if (n <= size) return Array.from(sorted);
  return Array.from({ length: size }, (_, i) => sorted[Math.floor(((i + 0.5) * n) / size)]!);
}

/** Statistics of a categorical column. */
export function categoricalReference(values: ArrayLike<FeatureValue | undefined>): CategoricalReference {
  const frequencies: Record<string, number> = {};
  let nulls = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v))) nulls++;
    else frequencies[String(v)] = (frequencies[String(v)] ?? 0) + 1;
  }
  return { kind: 'categorical', count: values.length, nulls, frequencies };
}

/** Numeric statistics when every non-null value is a number, else categorical. */
export function columnReference(values: ArrayLike<FeatureValue | undefined>): ColumnReference {
  let numeric = true;
  for (let i = 0; i < values.length && numeric; i++) {
    const v = values[i];
    if (v !== null && v !== undefined && typeof v !== 'number') numeric = false;
  }
  if (numeric) {
    const r = numericReference(values as ArrayLike<number | null>);
    if (r) return r;
  }
  return categoricalReference(values);
}

/** Inputs of {@link referenceStats}. */
export interface ReferenceInput {
  /** Training columns by feature name. */
  columns: Record<string, ArrayLike<FeatureValue | undefined>>;
  /** The model's predictions on the training rows. */
  prediction?: ArrayLike<number>;
  /** The training target. */
  target?: ArrayLike<number>;
  datasetFingerprint?: string;
}

/**
 * Reference statistics of a training set: per feature, and for the predictions and the target.
 *
 * @example
 * const stats = referenceStats({ columns: { conv_rate: X.map((r) => r[0]) }, target: y })
 */
export function referenceStats(input: ReferenceInput): ReferenceStats {
  const features: Record<string, ColumnReference> = {};
  let nRows = 0;
  for (const [name, values] of Object.entries(input.columns)) {
    features[name] = columnReference(values);
    nRows = Math.max(nRows, values.length);
  }
  const out: ReferenceStats = {
    format: 'cellar-reference-stats',
    formatVersion: 1,
    nRows,
    createdAt: new Date().toISOString(),
    features,
  };
  if (input.datasetFingerprint !== undefined) out.datasetFingerprint = input.datasetFingerprint;
  const prediction = input.prediction ? numericReference(input.prediction) : null;
  if (prediction) out.prediction = prediction;
  const target = input.target ? numericReference(input.target) : null;
  if (target) out.target = target;
  return out;
}

/** Parses and checks a reference statistics document. @throws CellarError INVALID_INPUT */
export function parseReferenceStats(text: string): ReferenceStats {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  const doc = json as Partial<ReferenceStats> | null;
  if (
    !doc ||
    doc.format !== 'cellar-reference-stats' ||
    typeof doc.features !== 'object' ||
    doc.features === null
  ) {
    throw new CellarError('INVALID_INPUT', 'Not a cellar reference statistics document.');
  }
  return doc as ReferenceStats;
}
