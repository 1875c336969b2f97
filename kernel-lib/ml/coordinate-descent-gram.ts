/**
 * ml/coordinate-descent-gram — the Gram-matrix form of ElasticNet coordinate descent (scikit-learn's
 * `enet_coordinate_descent_gram`): the same updates and duality-gap stop expressed with `XᵀX` and `Xᵀy`,
 * so each pass costs O(p²) instead of O(n·p). `enetCoordinateDescent` switches to it on tall data that
 * needs many passes; the iterates are the same up to rounding.
 */

/** `Σ (a[i] − ma) · (b[i] − mb)`. */
export function centeredDot2(a: Float64Array, ma: number, b: Float64Array, mb: number): number {
  const n = a.length;
  const q = n - (n & 1);
  let s0 = 0;
  let s1 = 0;
  let i = 0;
  for (; i < q; i += 2) {
    s0 += (a[i] - ma) * (b[i] - mb);
    s1 += (a[i + 1] - ma) * (b[i + 1] - mb);
  }
  if (i < n) s0 += (a[i] - ma) * (b[i] - mb);
  return s0 + s1;
}

/** Gram matrix (row-major p×p) and `Xᵀy` of the centered data, plus `||y − yOffset||²`. */
export function centeredGram(
  X: Float64Array[],
  xOffset: Float64Array,
  y: Float64Array,
  yOffset: number,
  norms: Float64Array,
): { G: Float64Array; q: Float64Array; yNorm2: number } {
  const p = X.length;
  const G = new Float64Array(p * p);
  const q = new Float64Array(p);
  for (let j = 0; j < p; j++) {
    G[j * p + j] = norms[j];
    for (let k = j + 1; k < p; k++) {
      const v = centeredDot2(X[j], xOffset[j], X[k], xOffset[k]);
      G[j * p + k] = v;
      G[k * p + j] = v;
    }
    q[j] = centeredDot2(X[j], xOffset[j], y, yOffset);
  }
  return { G, q, yNorm2: centeredDot2(y, yOffset, y, yOffset) };
}

/** Options of `enetGramDescent`. */
export interface EnetGramOptions {
  l1Reg: number;
  l2Reg: number;
  maxIter: number;
  /** Tolerance on the largest coordinate update (relative to the largest coefficient). */
  tol: number;
  /** Tolerance on the duality gap (`tol · ||y||²`). */
  tolScaled: number;
  /** Index of the first pass to run (passes already done by another method). */
  startIter: number;
  random: (() => number) | null;
}

/** The duality gap in Gram form (scikit-learn's formula), with `H = G·w`. */
function gramGap(
  q: Float64Array,
  yNorm2: number,
  w: Float64Array,
  H: Float64Array,
  l1Reg: number,
  l2Reg: number,
): number {
  let dualNorm = 0;
  let qw = 0;
  let wH = 0;
  let l1Norm = 0;
  let wNorm2 = 0;
  for (let k = 0; k < w.length; k++) {
    const a = Math.abs(q[k] - H[k] - l2Reg * w[k]);
    if (a > dualNorm) dualNorm = a;
    qw += q[k] * w[k];
    wH += w[k] * H[k];
    l1Norm += Math.abs(w[k]);
    wNorm2 += w[k] * w[k];
  }
  const rNorm2 = yNorm2 + wH - 2 * qw;
  let c = 1;
  let gap: number;
  if (dualNorm > l1Reg) {
    c = l1Reg / dualNorm;
    gap = 0.5 * (rNorm2 + rNorm2 * c * c);
  } else gap = rNorm2;
  return gap + l1Reg * l1Norm - c * yNorm2 + c * qw + 0.5 * l2Reg * (1 + c * c) * wNorm2;
}

/**
 * Continues coordinate descent from `w` (updated in place) using the Gram matrix `G` (p×p row-major),
 * `q = Xᵀy` and `yNorm2 = ||y||²` of the centered data, for passes `startIter … maxIter − 1`.
 */
export function enetGramDescent(
  G: Float64Array,
  q: Float64Array,
  yNorm2: number,
  w: Float64Array,
  opts: EnetGramOptions,
): { dualGap: number; nIter: number; converged: boolean } {
  const p = w.length;
  const { l1Reg, l2Reg, maxIter, tol, tolScaled, random } = opts;
  const H = new Float64Array(p);
  for (let j = 0; j < p; j++) {
    if (w[j] === 0) continue;
    for (let k = 0; k < p; k++) H[k] += w[j] * G[j * p + k];
  }
  let gap = Infinity;
  let nIter = opts.startIter;
  for (let iter = opts.startIter; iter < maxIter; iter++) {
    let wMax = 0;
    let dwMax = 0;
    for (let f = 0; f < p; f++) {
      const j = random ? Math.floor(random() * p) : f;
      const gjj = G[j * p + j];
      if (gjj === 0) continue;
      const wj = w[j];
      const tmp = q[j] - H[j] + wj * gjj;
      const shrunk = Math.abs(tmp) - l1Reg;
      const wNew = shrunk > 0 ? (tmp > 0 ? shrunk : -shrunk) / (gjj + l2Reg) : 0;
      if (wNew !== wj) {
        const d = wNew - wj;
        const row = j * p;
        for (let k = 0; k < p; k++) H[k] += d * G[row + k];
        w[j] = wNew;
      }
      const dw = Math.abs(wNew - wj);
      if (dw > dwMax) dwMax = dw;
      const aw = Math.abs(wNew);
      if (aw > wMax) wMax = aw;
    }
    nIter = iter + 1;
    if (wMax === 0 || dwMax / wMax < tol || iter === maxIter - 1) {
      gap = gramGap(q, yNorm2, w, H, l1Reg, l2Reg);
      if (gap < tolScaled || gap <= 0) return { dualGap: gap, nIter, converged: true };
    }
  }
  return { dualGap: gap, nIter, converged: false };
}
