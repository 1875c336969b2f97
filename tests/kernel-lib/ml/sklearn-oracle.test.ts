/**
 * Oracle tests: cellar's linear estimators against scikit-learn 1.2 results stored in
 * tests/fixtures/sklearn (regenerate with scripts/gen-sklearn-fixtures.py; no Python needed here).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ElasticNet,
  Lasso,
  LinearRegression,
  Ridge,
  type LinearEstimator,
} from '../../../kernel-lib/ml/index.js';

interface Fit {
  estimator: 'ElasticNet' | 'Lasso' | 'Ridge' | 'LinearRegression';
  params: Record<string, number | boolean>;
  coef: number[];
  intercept: number;
  n_iter?: number;
}
interface Fixture {
  name: string;
  feature_names: string[];
  X: number[][];
  y: number[];
  fits: Fit[];
}

const dir = join(__dirname, '..', '..', 'fixtures', 'sklearn');
const fixtures: Fixture[] = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as Fixture);

function build(fit: Fit): LinearEstimator {
  const p = fit.params;
  const common = {
    fitIntercept: p.fit_intercept as boolean | undefined,
    maxIter: p.max_iter as number | undefined,
    tol: p.tol as number | undefined,
  };
  switch (fit.estimator) {
    case 'ElasticNet':
      return new ElasticNet({ alpha: p.alpha as number, l1Ratio: p.l1_ratio as number, ...common });
    case 'Lasso':
      return new Lasso({ alpha: p.alpha as number, ...common });
    case 'Ridge':
      return new Ridge({ alpha: p.alpha as number, fitIntercept: common.fitIntercept });
    case 'LinearRegression':
      return new LinearRegression({ fitIntercept: common.fitIntercept });
  }
}

/** |a − b| ≤ rel·|b|, with coefficients that are ~0 compared against the largest one. */
function expectClose(actual: number[], expected: number[], rel: number): void {
  const scale = Math.max(...expected.map(Math.abs), 1e-300);
  actual.forEach((a, i) => {
    const b = expected[i];
    const tol = rel * Math.max(Math.abs(b), 1e-3 * scale);
    if (!(Math.abs(a - b) <= tol)) {
      throw new Error(`coef[${i}]: cellar ${a} vs scikit-learn ${b} (|Δ| ${Math.abs(a - b)} > ${tol})`);
    }
  });
}

test('fixtures are present', () => {
  expect(fixtures.length).toBeGreaterThanOrEqual(3);
});

describe.each(fixtures.map((f) => [f.name, f] as const))('scikit-learn oracle: %s', (_name, fx) => {
  test.each(fx.fits.map((f) => [`${f.estimator} ${JSON.stringify(f.params)}`, f] as const))(
    '%s',
    (_label, fit) => {
      const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
      try {
        const model = build(fit).fit(fx.X, fx.y);
        // Same estimator on row objects with the fixture's names: names must carry through.
        expectClose(model.coef, fit.coef, 1e-6);
        expectClose([model.intercept], [fit.intercept], 1e-6);
        if (fit.n_iter !== undefined) expect(model.nIter).toBe(fit.n_iter);
        const rows = fx.X.map((r) => Object.fromEntries(fx.feature_names.map((n, j) => [n, r[j]])));
        const named = build(fit).fit(rows, fx.y);
        expect(named.featureNames).toEqual(fx.feature_names);
        expect(named.coef).toEqual(model.coef);
      } finally {
        warn.mockRestore();
      }
    },
  );
});
