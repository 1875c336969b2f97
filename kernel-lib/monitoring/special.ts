/**
 * monitoring/special — the special functions behind the drift tests' p-values: log-gamma, the regularized
 * upper incomplete gamma function (chi-square survival) and the one-sided Smirnov survival function. They
 * follow the algorithms scipy 1.10 uses (cephes `igamc`, cephes `smirnov`) in plain float64; the oracle
 * tests compare them with scipy to 1e-9.
 */

const LANCZOS_G = 7;
const LANCZOS = [
  0.9999999999998099, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 0.000009984369578019572, 1.5056327351493116e-7,
];
const LOG_SQRT_2PI = 0.9189385332046728;
const EPS = 2.220446049250313e-16;
const MAXLOG = 709.782712893384;
const MINLOG = -708.3964185322641;

/** log Γ(x) for x > 0 (Lanczos approximation, relative error ~1e-15). */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const z = x - 1;
  let a = LANCZOS[0]!;
  const t = z + LANCZOS_G + 0.5;
  for (let i = 1; i < LANCZOS.length; i++) a += LANCZOS[i]! / (z + i);
  return LOG_SQRT_2PI + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Regularized lower incomplete gamma P(a, x) by its power series (cephes `igam` series). */
function igamSeries(a: number, x: number): number {
  const ax = a * Math.log(x) - x - logGamma(a);
  if (ax < MINLOG) return 0;
  let r = a;
  let c = 1;
  let ans = 1;
  do {
    r += 1;
    c *= x / r;
    ans += c;
  } while (c / ans > EPS);
  return (ans * Math.exp(ax)) / a;
}

/** Regularized upper incomplete gamma Q(a, x) by its continued fraction (cephes `igamc`). */
function igamcFraction(a: number, x: number): number {
  const ax = a * Math.log(x) - x - logGamma(a);
  if (ax < MINLOG) return 0;
  const big = 4503599627370496;
  const biginv = 2.220446049250313e-16;
  let y = 1 - a;
  let z = x + y + 1;
  let c = 0;
  let pkm2 = 1;
  let qkm2 = x;
  let pkm1 = x + 1;
  let qkm1 = z * x;
  let ans = pkm1 / qkm1;
  let t: number;
  do {
    c += 1;
    y += 1;
    z += 2;
    const yc = y * c;
    const pk = pkm1 * z - pkm2 * yc;
    const qk = qkm1 * z - qkm2 * yc;
    if (qk !== 0) {
      const r = pk / qk;
      t = Math.abs((ans - r) / r);
      ans = r;
    } else t = 1;
    pkm2 = pkm1;
    pkm1 = pk;
    qkm2 = qkm1;
    qkm1 = qk;
    if (Math.abs(pk) > big) {
      pkm2 *= biginv;
      pkm1 *= biginv;
      qkm2 *= biginv;
      qkm1 *= biginv;
    }
  } while (t > EPS);
  return ans * Math.exp(ax);
}

/**
 * Regularized upper incomplete gamma function Q(a, x) = Γ(a, x) / Γ(a) (scipy's `gammaincc`).
 * The chi-square survival function with k degrees of freedom is `gammaincc(k / 2, x / 2)`.
 */
export function gammaincc(a: number, x: number): number {
  if (!(a > 0) || !(x >= 0) || Number.isNaN(x)) return Number.NaN;
  if (x === 0) return 1;
  if (!Number.isFinite(x)) return 0;
  if (x < 1 || x < a) return 1 - igamSeries(a, x);
  return igamcFraction(a, x);
}

/** Survival function of the chi-square distribution (scipy's `chi2.sf`). */
export function chi2Sf(x: number, dof: number): number {
  if (x <= 0) return 1;
  return gammaincc(dof / 2, x / 2);
}

/**
 * Survival function of the one-sided Smirnov statistic D+_n (scipy's `special.smirnov(n, x)`): the
 * Birnbaum–Tingey / Smirnov lower sum, with cephes' special cases for x ≤ 1/n and x ≥ 1 − 1/n and its
 * approximation above n = 1e6. Terms are summed in log space (plain float64 instead of cephes'
 * double-double; the difference is far below 1e-12 for the sizes monitoring meets).
 */
export function smirnov(n: number, x: number): number {
  if (!(n > 0 && x >= 0 && x <= 1)) return Number.NaN;
  if (n === 1) return 1 - x;
  if (x === 0) return 1;
  if (x === 1) return 0;
  const nx = n * x;
  let nxfl = Math.floor(nx);
  let alpha = nx - nxfl;
  if (alpha === 1) {
    nxfl += 1;
    alpha = 0;
  }
  let n1mxfl = n - nxfl - (alpha === 0 ? 0 : 1);
  if (alpha === 0) n1mxfl -= 1;
  if (nxfl === 0 || (nxfl === 1 && alpha === 0)) {
    const cdf = x * Math.pow(1 + x, n - 1);
    return clip01(1 - cdf);
  }
  if (-2 * n * x * x < MINLOG) return 0;
  if (nxfl >= n - 1) return clip01(Math.pow(1 - x, n));
  if (n > 1000000) {
    const logp = -Math.pow(6.0 * n * x + 1, 2) / 18.0 / n;
    return clip01(logp < -Math.LN2 ? Math.exp(logp) : 1 + Math.expm1(logp));
  }
  // sf = x * Σ_{v=0..n(1-x)} C(n,v) (1 - x - v/n)^(n-v) (x + v/n)^(v-1)
  let sum = 0;
  let logC = 0;
  for (let v = 0; v <= n1mxfl; v++) {
    const a = 1 - x - v / n;
    const b = x + v / n;
    const logTerm = logC + (n - v) * Math.log(a) + (v - 1) * Math.log(b);
    if (logTerm > -MAXLOG - 40) sum += Math.exp(logTerm);
    logC += Math.log((n - v) / (v + 1));
  }
  return clip01(x * sum);
}

/** Clips a probability into [0, 1]. */
export function clip01(p: number): number {
  return p < 0 ? 0 : p > 1 ? 1 : p;
}
