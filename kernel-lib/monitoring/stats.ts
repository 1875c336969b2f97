/**
 * monitoring/stats — the drift statistics of the public API: the two-sample Kolmogorov–Smirnov test
 * (`ksTest`, scipy 1.10 `ks_2samp` with its default method 'auto'), the population stability index (`psi`,
 * reference-quantile bins) and the chi-square test of a category table (`chiSquareTest`, scipy's
 * `chi2_contingency` on the 2×k table). Pure functions over arrays; the oracle tests compare each with
 * scipy/numpy on random data to 1e-9.
 */
import { CellarError } from '../errors.js';
import { kolmogn } from './kolmogorov.js';
import { chi2Sf, clip01 } from './special.js';

/** Result of a hypothesis test. */
export interface TestResult {
  statistic: number;
  pValue: number;
}

/** Numbers as accepted by the statistics: arrays or typed arrays; null, NaN and ±Infinity are dropped. */
export type Sample = ArrayLike<number | null | undefined>;

/** Finite values of a sample, sorted ascending, as Float64Array. */
export function finiteSorted(sample: Sample, name: string): Float64Array {
  if (sample === null || typeof sample !== 'object' || typeof sample.length !== 'number') {
    throw new CellarError('INVALID_INPUT', `${name} must be an array of numbers.`);
  }
  const out = new Float64Array(sample.length);
  let k = 0;
  for (let i = 0; i < sample.length; i++) {
    const v = sample[i];
    if (typeof v === 'number' && Number.isFinite(v)) out[k++] = v;
  }
  return out.subarray(0, k).sort();
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** numpy's round (half to even). */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** sup |F1 − F2| over the pooled sample, exactly as ks_2samp computes it (searchsorted 'right' / n). */
function ksStatistic(a: Float64Array, b: Float64Array): number {
  const n1 = a.length;
  const n2 = b.length;
  let i = 0;
  let j = 0;
  let maxS = -Infinity;
  let minD = Infinity;
  while (i < n1 || j < n2) {
    const v = j >= n2 || (i < n1 && a[i]! <= b[j]!) ? a[i]! : b[j]!;
    while (i < n1 && a[i]! <= v) i++;
    while (j < n2 && b[j]! <= v) j++;
    const diff = i / n1 - j / n2;
    if (diff > maxS) maxS = diff;
    if (diff < minD) minD = diff;
  }
  const minS = Math.min(Math.max(-minD, 0), 1);
  return minS > maxS ? minS : maxS;
}

/** Pr(D_{n,n} >= h/n): Hodges' alternating sum in scipy's Horner form. */
function probOutsideSquare(n: number, h: number): number {
  let P = 0;
  let k = Math.floor(n / h);
  while (k >= 0) {
    let p1 = 1;
    for (let j = 0; j < h; j++) p1 = ((n - k * h - j) * p1) / (n + k * h + j + 1);
    P = p1 * (1 - P);
    k -= 1;
  }
  return 2 * P;
}

/** 1 − share of lattice paths staying strictly inside |x/m − y/n| < h/lcm (Viehmann's recursion). */
function outerProbInside(m0: number, n0: number, g: number, h: number): number {
  const m = Math.max(m0, n0);
  const n = Math.min(m0, n0);
  const mg = Math.floor(m / g);
  const ng = Math.floor(n / g);
  let minj = 0;
  let maxj = Math.min(Math.ceil(h / mg), n + 1);
  let curlen = maxj - minj;
  const lenA = Math.min(2 * maxj + 2, n + 1);
  const A = new Float64Array(lenA).fill(1);
  A.fill(0, minj, maxj);
  for (let i = 1; i <= m; i++) {
    const lastminj = minj;
    const lastlen = curlen;
    minj = Math.max(Math.floor((ng * i - h) / mg) + 1, 0);
    minj = Math.min(minj, n);
    maxj = Math.min(Math.ceil((ng * i + h) / mg), n + 1);
    if (maxj <= minj) return 1;
    let val = minj === 0 ? 0 : 1;
    for (let jj = 0; jj < maxj - minj; jj++) {
      const j = jj + minj;
      val = (A[jj + minj - lastminj]! * i + val * j) / (i + j);
      A[jj] = val;
    }
    curlen = maxj - minj;
    if (lastlen > curlen) A.fill(1, maxj - minj, maxj - minj + (lastlen - curlen));
  }
  return A[maxj - minj - 1]!;
}

/**
 * Two-sample Kolmogorov–Smirnov test (two-sided), as scipy 1.10's `ks_2samp(reference, current)`:
 * the exact distribution when both samples have at most 10,000 values, else the asymptotic one
 * (`kstwo.sf(D, round(n1·n2/(n1+n2)))`); the exact statistic is rounded to a multiple of 1/lcm(n1, n2) as
 * scipy does. Non-finite values and nulls are dropped.
 *
 * @example
 * const { statistic, pValue } = ksTest(trainingRows.map((r) => r.conv_rate), served.map((r) => r.conv_rate))
 * @throws CellarError INVALID_INPUT when a sample has no finite value
 */
export function ksTest(reference: Sample, current: Sample): TestResult {
  const a = finiteSorted(reference, 'reference');
  const b = finiteSorted(current, 'current');
  return ksTestSorted(a, b);
}

/** `ksTest` over two already sorted samples of finite values. */
export function ksTestSorted(a: Float64Array, b: Float64Array): TestResult {
  const n1 = a.length;
  const n2 = b.length;
  if (n1 === 0 || n2 === 0) {
    throw new CellarError('INVALID_INPUT', 'ksTest needs at least one finite value in each sample.');
  }
  let d = ksStatistic(a, b);
  const g = gcd(n1, n2);
  if (Math.max(n1, n2) <= 10000) {
    const lcm = (n1 / g) * n2;
    const h = roundHalfEven(d * lcm);
    const dExact = h / lcm;
    if (h === 0) return { statistic: dExact, pValue: 1 };
    const prob = n1 === n2 ? probOutsideSquare(n1, h) : outerProbInside(n1, n2, g, h);
    d = dExact;
    if (prob >= 0 && prob <= 1) return { statistic: d, pValue: prob };
  }
  const m = Math.max(n1, n2);
  const n = Math.min(n1, n2);
  const en = (m * n) / (m + n);
  return { statistic: d, pValue: clip01(kolmogn(roundHalfEven(en), d)) };
}

/** Options of {@link psi}. */
export interface PsiOptions {
  /** Number of reference-quantile bins (default 10). */
  bins?: number;
  /** Floor of a bin's share, so an empty bin does not make the index infinite (default 1e-4). */
  epsilon?: number;
}

/**
 * Quantiles of a sorted sample, numpy's default ('linear') method, bit-for-bit: `np.quantile(x, q)`.
 */
export function quantileSorted(sorted: Float64Array, q: number): number {
  const n = sorted.length;
  const virtual = (n - 1) * q;
  if (virtual >= n - 1) return sorted[n - 1]!;
  if (virtual < 0) return sorted[0]!;
  const lo = Math.floor(virtual);
  const t = virtual - lo;
  const a = sorted[lo]!;
  const b = sorted[lo + 1]!;
  const diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

/** Bin edges at the reference's quantiles 0, 1/bins, …, 1 (`np.quantile(ref, np.linspace(0, 1, bins + 1))`). */
export function quantileEdges(sorted: Float64Array, bins: number): number[] {
  const step = 1 / bins;
  const edges: number[] = [];
  for (let i = 0; i <= bins; i++) edges.push(quantileSorted(sorted, i === bins ? 1 : i * step));
  return edges;
}

/**
 * Counts of values per bin: bin i holds values with edges[i] <= v < edges[i+1] counted by the inner edges
 * only (`np.searchsorted(edges[1:-1], v, side='right')`), so values below or above the reference's range
 * fall into the first or last bin.
 */
export function binCounts(values: ArrayLike<number>, edges: readonly number[]): Float64Array {
  const inner = edges.slice(1, -1);
  const counts = new Float64Array(inner.length + 1);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) continue;
    let lo = 0;
    let hi = inner.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (inner[mid]! <= v) lo = mid + 1;
      else hi = mid;
    }
    counts[lo]! += 1;
  }
  return counts;
}

/** PSI of two count vectors over the same bins: Σ (c − r)·ln(c / r) over shares floored at `epsilon`. */
export function psiFromCounts(
  refCounts: ArrayLike<number>,
  curCounts: ArrayLike<number>,
  epsilon = 1e-4,
): number {
  if (refCounts.length !== curCounts.length) {
    throw new CellarError('INVALID_INPUT', 'psi needs the same number of bins on both sides.');
  }
  let nr = 0;
  let nc = 0;
  for (let i = 0; i < refCounts.length; i++) {
    nr += refCounts[i]!;
    nc += curCounts[i]!;
  }
  if (nr <= 0 || nc <= 0) throw new CellarError('INVALID_INPUT', 'psi needs values on both sides.');
  let total = 0;
  for (let i = 0; i < refCounts.length; i++) {
    const r = Math.max(refCounts[i]! / nr, epsilon);
    const c = Math.max(curCounts[i]! / nc, epsilon);
    total += (c - r) * Math.log(c / r);
  }
  return total;
}

/**
 * Population stability index of `current` against `reference`: bins at the reference's quantiles
 * (`np.quantile(reference, np.linspace(0, 1, bins + 1))`, values outside the reference's range counted in
 * the end bins), shares floored at `epsilon` (1e-4), PSI = Σ (cur − ref)·ln(cur / ref). Below 0.1 is
 * usually read as stable, above 0.25 as a shift. Non-finite values and nulls are dropped.
 *
 * @example
 * psi(trainingConvRate, servedConvRate, { bins: 10 }) // 0.03
 * @throws CellarError INVALID_INPUT for an empty sample, INVALID_PARAMETER for bad options
 */
export function psi(reference: Sample, current: Sample, opts: PsiOptions = {}): number {
  const bins = opts.bins ?? 10;
  if (!Number.isInteger(bins) || bins < 1 || bins > 1000) {
    throw new CellarError('INVALID_PARAMETER', 'psi option bins must be an integer between 1 and 1000.');
  }
  const eps = opts.epsilon ?? 1e-4;
  if (!(eps > 0 && eps < 1))
    throw new CellarError('INVALID_PARAMETER', 'psi option epsilon must be in (0, 1).');
  const ref = finiteSorted(reference, 'reference');
  const cur = finiteSorted(current, 'current');
  if (ref.length === 0 || cur.length === 0) {
    throw new CellarError('INVALID_INPUT', 'psi needs at least one finite value in each sample.');
  }
  const edges = quantileEdges(ref, bins);
  return psiFromCounts(binCounts(ref, edges), binCounts(cur, edges), eps);
}

/** Counts per category: an object, a Map or an array aligned with the other side. */
export type CategoryCounts = Record<string, number> | Map<string, number> | ArrayLike<number>;

function countsToMap(c: CategoryCounts, name: string): Map<string, number> {
  const m = new Map<string, number>();
  const put = (k: string, v: unknown): void => {
    if (typeof v !== 'number' || !(v >= 0) || !Number.isFinite(v)) {
      throw new CellarError(
        'INVALID_INPUT',
        `${name} counts must be finite non-negative numbers (got ${String(v)} for "${k}").`,
      );
    }
    m.set(k, (m.get(k) ?? 0) + v);
  };
  if (c instanceof Map) for (const [k, v] of c) put(k, v);
  else if (c !== null && typeof c === 'object' && typeof (c as ArrayLike<number>).length === 'number') {
    const a = c as ArrayLike<number>;
    for (let i = 0; i < a.length; i++) put(String(i), a[i]);
  } else if (c !== null && typeof c === 'object') for (const [k, v] of Object.entries(c)) put(k, v);
  else throw new CellarError('INVALID_INPUT', `${name} must be counts per category.`);
  return m;
}

/**
 * Chi-square test of homogeneity of two category count vectors, as scipy's
 * `chi2_contingency([refCounts, curCounts])` (Pearson statistic, Yates' correction when there is one degree
 * of freedom), over the categories seen on either side (a category absent on both sides is dropped, where
 * scipy would refuse the zero expected count). Counts may be objects keyed by category, Maps, or aligned
 * arrays.
 *
 * @example
 * chiSquareTest({ a: 120, b: 80 }, { a: 50, b: 70 }) // { statistic, pValue }
 * @throws CellarError INVALID_INPUT for negative counts or an empty side
 */
export function chiSquareTest(refCounts: CategoryCounts, curCounts: CategoryCounts): TestResult {
  const ref = countsToMap(refCounts, 'refCounts');
  const cur = countsToMap(curCounts, 'curCounts');
  const keys = [...new Set([...ref.keys(), ...cur.keys()])].filter(
    (k) => (ref.get(k) ?? 0) + (cur.get(k) ?? 0) > 0,
  );
  const obs = [keys.map((k) => ref.get(k) ?? 0), keys.map((k) => cur.get(k) ?? 0)];
  const rows = obs.map((r) => r.reduce((s, v) => s + v, 0));
  if (rows[0] === 0 || rows[1] === 0) {
    throw new CellarError('INVALID_INPUT', 'chiSquareTest needs a positive count on each side.');
  }
  const total = rows[0]! + rows[1]!;
  const cols = keys.map((_, j) => obs[0]![j]! + obs[1]![j]!);
  const dof = keys.length - 1;
  if (dof <= 0) return { statistic: 0, pValue: 1 };
  let stat = 0;
  for (let i = 0; i < 2; i++) {
    for (let j = 0; j < keys.length; j++) {
      const expected = (rows[i]! * cols[j]!) / total;
      let o = obs[i]![j]!;
      if (dof === 1) {
        const diff = expected - o;
        o += Math.sign(diff) * Math.min(0.5, Math.abs(diff));
      }
      stat += ((o - expected) * (o - expected)) / expected;
    }
  }
  return { statistic: stat, pValue: chi2Sf(stat, dof) };
}
