/**
 * ml/random — cellar's own seeded pseudo-random numbers (mulberry32) and Fisher–Yates permutations, so
 * splits and random coordinate selection are reproducible across machines and Node versions.
 */

/**
 * A seeded uniform generator on [0, 1) (mulberry32: 32-bit state, period 2³²). The seed is reduced to
 * an unsigned 32-bit integer, so `seed` and `seed + 2**32` give the same stream.
 *
 * @example
 * const rand = mulberry32(42); rand(); // 0.6011037519201636
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A uniformly random permutation of `0 … n-1` by Fisher–Yates: for i from n-1 down to 1, swap position i
 * with position ⌊rand()·(i+1)⌋.
 *
 * @example
 * permutation(5, mulberry32(42)); // a fixed reordering of [0, 1, 2, 3, 4]
 */
export function permutation(n: number, rand: () => number): number[] {
  const p = new Array<number>(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}
