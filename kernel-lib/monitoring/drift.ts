/**
 * monitoring/drift — compares current values of one column with its reference statistics: PSI on the
 * reference deciles, the KS test against the stored reference sample (chi-square for categories), null-rate
 * change, share of values outside the training range, and histogram shares for plots. Pure functions.
 */
import { histogramCounts } from './reference.js';
import { binCounts, chiSquareTest, ksTestSorted, psiFromCounts, type TestResult } from './stats.js';
import type { CategoricalReference, ColumnReference, NumericReference } from './types.js';

/** When a column counts as drifted. */
export interface DriftThresholds {
  /** PSI at or above this is drift (default 0.2). */
  psi: number;
  /** A test p-value below this is drift (default 0.01), when the KS statistic is also at least `ksStatistic`. */
  pValue: number;
  /** Minimum KS statistic for a small p-value to count (large samples make tiny shifts significant; default 0.1). */
  ksStatistic: number;
}

/** Default thresholds. */
export const DEFAULT_THRESHOLDS: DriftThresholds = { psi: 0.2, pValue: 0.01, ksStatistic: 0.1 };

/** Drift of one column. */
export interface ColumnDrift {
  name: string;
  kind: 'numeric' | 'categorical';
  /** Current rows (including nulls). */
  count: number;
  nullRate: number;
  referenceNullRate: number;
  /** nullRate − referenceNullRate. */
  nullRateChange: number;
  psi: number | null;
  /** KS test (numeric) against the stored reference sample. */
  ks: TestResult | null;
  /** Chi-square test (categorical). */
  chiSquare: TestResult | null;
  /** Share of non-null current values outside [reference min, reference max] (numeric). */
  outOfRange: number | null;
  mean: number | null;
  referenceMean: number | null;
  /** Counts per PSI bin (reference deciles, or categories) on each side. */
  psiBins: { reference: number[]; current: number[] } | null;
  /** Bars for plots: bin labels or edges, and the share of each side per bin. */
  histogram: { edges?: number[]; categories?: string[]; reference: number[]; current: number[] };
  drifted: boolean;
  /** Why it counts as drifted (empty when it does not). */
  reasons: string[];
}

function shares(counts: ArrayLike<number>): number[] {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i]!;
  return Array.from(counts, (c) => (total > 0 ? c / total : 0));
}

/** Drift of numeric current values (NaN = null) against a numeric reference. */
export function numericDrift(
  name: string,
  ref: NumericReference,
  values: Float64Array,
  t: DriftThresholds = DEFAULT_THRESHOLDS,
): ColumnDrift {
  const finite = new Float64Array(values.length);
  let k = 0;
  let sum = 0;
  let out = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) continue;
    finite[k++] = v;
    sum += v;
    if (v < ref.min || v > ref.max) out++;
  }
  const sorted = finite.subarray(0, k).sort();
  const current = Array.from(binCounts(sorted, ref.psi.edges));
  const psi = k > 0 ? psiFromCounts(ref.psi.counts, current) : null;
  const ks = k > 0 && ref.sample.length > 0 ? ksTestSorted(Float64Array.from(ref.sample), sorted) : null;
  const refTotal = ref.count > 0 ? ref.count : 1;
  const nullRate = values.length > 0 ? (values.length - k) / values.length : 0;
  const d: ColumnDrift = {
    name,
    kind: 'numeric',
    count: values.length,
    nullRate,
    referenceNullRate: ref.nulls / refTotal,
    nullRateChange: nullRate - ref.nulls / refTotal,
    psi,
    ks,
    chiSquare: null,
    psiBins: { reference: ref.psi.counts, current },
    outOfRange: k > 0 ? out / k : null,
    mean: k > 0 ? sum / k : null,
    referenceMean: ref.mean,
    histogram: {
      edges: ref.histogram.edges,
      reference: shares(ref.histogram.counts),
      current: shares(histogramCounts(sorted, ref.histogram.edges)),
    },
    drifted: false,
    reasons: [],
  };
  return judge(d, t);
}

/** Drift of categorical current values against a categorical reference. */
export function categoricalDrift(
  name: string,
  ref: CategoricalReference,
  values: ArrayLike<string | null>,
  t: DriftThresholds = DEFAULT_THRESHOLDS,
): ColumnDrift {
  const counts: Record<string, number> = {};
  let nulls = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined) nulls++;
    else counts[v] = (counts[v] ?? 0) + 1;
  }
  const cats = [...new Set([...Object.keys(ref.frequencies), ...Object.keys(counts)])].sort();
  const refCounts = cats.map((c) => ref.frequencies[c] ?? 0);
  const curCounts = cats.map((c) => counts[c] ?? 0);
  const nonNull = values.length - nulls;
  const refNonNull = ref.count - ref.nulls;
  const nullRate = values.length > 0 ? nulls / values.length : 0;
  const refNullRate = ref.count > 0 ? ref.nulls / ref.count : 0;
  const d: ColumnDrift = {
    name,
    kind: 'categorical',
    count: values.length,
    nullRate,
    referenceNullRate: refNullRate,
    nullRateChange: nullRate - refNullRate,
    psi: nonNull > 0 && refNonNull > 0 ? psiFromCounts(refCounts, curCounts) : null,
    ks: null,
    chiSquare: nonNull > 0 && refNonNull > 0 ? chiSquareTest(refCounts, curCounts) : null,
    psiBins: { reference: refCounts, current: curCounts },
    outOfRange:
      nonNull > 0
        ? cats.reduce((s, c, i) => s + (ref.frequencies[c] ? 0 : curCounts[i]!), 0) / nonNull
        : null,
    mean: null,
    referenceMean: null,
    histogram: { categories: cats, reference: shares(refCounts), current: shares(curCounts) },
    drifted: false,
    reasons: [],
  };
  return judge(d, t);
}

function judge(d: ColumnDrift, t: DriftThresholds): ColumnDrift {
  if (d.psi !== null && d.psi >= t.psi) d.reasons.push(`PSI ${d.psi.toFixed(3)} >= ${t.psi}`);
  if (d.ks && d.ks.pValue < t.pValue && d.ks.statistic >= t.ksStatistic) {
    d.reasons.push(`KS ${d.ks.statistic.toFixed(3)}, p ${d.ks.pValue.toExponential(2)} < ${t.pValue}`);
  }
  if (d.chiSquare && d.chiSquare.pValue < t.pValue) {
    d.reasons.push(`chi-square p ${d.chiSquare.pValue.toExponential(2)} < ${t.pValue}`);
  }
  if (d.nullRateChange > 0.05) d.reasons.push(`null rate +${(100 * d.nullRateChange).toFixed(1)} pts`);
  d.drifted = d.reasons.length > 0;
  return d;
}

/** Drift of a column of either kind. */
export function columnDrift(
  name: string,
  ref: ColumnReference,
  numeric: Float64Array | undefined,
  categorical: ArrayLike<string | null> | undefined,
  t: DriftThresholds = DEFAULT_THRESHOLDS,
): ColumnDrift {
  if (ref.kind === 'numeric') return numericDrift(name, ref, numeric ?? new Float64Array(0), t);
  return categoricalDrift(name, ref, categorical ?? [], t);
}
