/**
 * ml/linalg — the little dense linear algebra the linear estimators need on p×p systems (row-major
 * Float64Array): Cholesky factorisation and triangular solves.
 */

/**
 * Lower-triangular L with `A = L·Lᵀ` for a symmetric positive definite `A` (p×p, row-major), or null when
 * `A` is not numerically positive definite (collinear or constant features).
 */
export function choleskyFactor(A: Float64Array, p: number): Float64Array | null {
  const L = new Float64Array(p * p);
  for (let i = 0; i < p; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * p + j];
      for (let k = 0; k < j; k++) s -= L[i * p + k] * L[j * p + k];
      if (i === j) {
        if (!(s > 1e-13 * A[i * p + i])) return null; // also catches NaN and a zero diagonal
        L[i * p + i] = Math.sqrt(s);
      } else L[i * p + j] = s / L[j * p + j];
    }
  }
  return L;
}

/** Solves `L·z = b` for lower-triangular L (p×p, row-major). */
export function forwardSolve(L: Float64Array, b: Float64Array, p: number): Float64Array {
  const z = new Float64Array(p);
  for (let i = 0; i < p; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= L[i * p + k] * z[k];
    z[i] = s / L[i * p + i];
  }
  return z;
}

/** Solves `Lᵀ·x = z` for lower-triangular L (p×p, row-major). */
export function backSolveTransposed(L: Float64Array, z: Float64Array, p: number): Float64Array {
  const x = new Float64Array(p);
  for (let i = p - 1; i >= 0; i--) {
    let s = z[i];
    for (let k = i + 1; k < p; k++) s -= L[k * p + i] * x[k];
    x[i] = s / L[i * p + i];
  }
  return x;
}

/**
 * Solves `A·x = b` for a symmetric positive definite `A` (p×p, row-major) by Cholesky; null when `A` is
 * not positive definite.
 *
 * @example
 * choleskySolve(Float64Array.of(4, 2, 2, 3), Float64Array.of(2, 1), 2); // Float64Array [0.5, 0]
 */
export function choleskySolve(A: Float64Array, b: Float64Array, p: number): Float64Array | null {
  const L = choleskyFactor(A, p);
  return L && backSolveTransposed(L, forwardSolve(L, b, p), p);
}
