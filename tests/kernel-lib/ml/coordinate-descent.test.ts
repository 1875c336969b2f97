/**
 * The coordinate-descent core on its own: the residual form and the Gram form (used for long fits on
 * tall data) both reproduce scikit-learn's coefficients and pass counts from the stored fixtures.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { enetCoordinateDescent, enetDualityGap } from '../../../kernel-lib/ml/index.js';
import { mean } from '../../../kernel-lib/ml/linear-core.js';

interface Fit {
  estimator: string;
  params: { alpha: number; l1_ratio?: number; fit_intercept?: boolean; tol?: number; max_iter?: number };
  coef: number[];
  n_iter?: number;
  dual_gap?: number;
}
interface Fixture {
  name: string;
  X: number[][];
  y: number[];
  fits: Fit[];
}

const dir = join(__dirname, '..', '..', 'fixtures', 'sklearn');
const cases: [string, Fixture, Fit][] = [];
for (const f of readdirSync(dir)
  .filter((x) => x.endsWith('.json'))
  .sort()) {
  const fx = JSON.parse(readFileSync(join(dir, f), 'utf8')) as Fixture;
  for (const fit of fx.fits) {
    if (fit.estimator === 'ElasticNet' || fit.estimator === 'Lasso') {
      cases.push([`${fx.name} ${fit.estimator} ${JSON.stringify(fit.params)}`, fx, fit]);
    }
  }
}

function run(fx: Fixture, fit: Fit, gramAfter: number) {
  const n = fx.y.length;
  const X = fx.X[0].map((_, j) => Float64Array.from(fx.X, (r) => r[j]));
  const y = Float64Array.from(fx.y);
  const intercept = fit.params.fit_intercept ?? true;
  const l1Ratio = fit.estimator === 'Lasso' ? 1 : (fit.params.l1_ratio as number);
  return enetCoordinateDescent(X, y, {
    l1Reg: fit.params.alpha * l1Ratio * n,
    l2Reg: fit.params.alpha * (1 - l1Ratio) * n,
    maxIter: fit.params.max_iter ?? 1000,
    tol: fit.params.tol ?? 1e-4,
    xOffset: intercept ? Float64Array.from(X, (c) => mean(c)) : null,
    yOffset: intercept ? mean(y) : 0,
    gramAfter,
  });
}

describe.each([
  ['residual form', Infinity],
  ['Gram form from pass 2', 1],
  ['Gram form from the start', 0],
])('%s', (_label, gramAfter) => {
  test.each(cases)('%s', (_name, fx, fit) => {
    const r = run(fx, fit, gramAfter);
    const scale = Math.max(...fit.coef.map(Math.abs));
    Array.from(r.coef).forEach((c, j) => {
      expect(Math.abs(c - fit.coef[j])).toBeLessThanOrEqual(
        1e-6 * Math.max(Math.abs(fit.coef[j]), 1e-3 * scale),
      );
    });
    expect(r.nIter).toBe(fit.n_iter);
    if (fit.dual_gap !== undefined && r.converged) {
      // scikit-learn reports the gap divided by n; both are below tol·||y||²/n.
      expect(r.dualGap / fx.y.length).toBeLessThan(r.tolScaled / fx.y.length);
    }
  });
});

test('the duality gap is zero-ish at the optimum and positive away from it', () => {
  const X = [Float64Array.of(1, 2, 3, 4), Float64Array.of(1, 0, 1, 0)];
  const y = Float64Array.of(1, 2, 2, 5);
  const r = enetCoordinateDescent(X, y, { l1Reg: 0.1, l2Reg: 0.1, maxIter: 10000, tol: 1e-14 });
  expect(r.converged).toBe(true);
  const w0 = new Float64Array(2);
  const gapAtZero = enetDualityGap(X, new Float64Array(2), y, 0, Float64Array.from(y), w0, 0.1, 0.1);
  expect(gapAtZero).toBeGreaterThan(1);
  expect(Math.abs(r.dualGap)).toBeLessThan(1e-10);
});
