/**
 * Oracle tests: ksTest, psi and chiSquareTest against scipy 1.10 / numpy on random data generated here
 * (exact and asymptotic KS regimes, ties, unequal sizes, shifted distributions), to 1e-9.
 */
import { chiSquareTest, ksTest, psi } from '../../../kernel-lib/monitoring/stats.js';
import { kolmogn } from '../../../kernel-lib/monitoring/kolmogorov.js';
import { mulberry32 } from '../../../kernel-lib/ml/random.js';
import { cleanupTmp } from '../../helpers/tmp.js';
import { runPython } from './oracle.js';

afterAll(cleanupTmp);

const seed = Number(process.env.CELLAR_ORACLE_SEED ?? Date.now() % 1e9);
const rand = mulberry32(seed);

function normal(): number {
  const u = 1 - rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

function sample(n: number, shift: number, scale: number, ties: boolean): number[] {
  return Array.from({ length: n }, () => {
    const v = shift + scale * normal();
    return ties ? Math.round(v * 4) / 4 : v;
  });
}

function closeTo(actual: number, expected: number, what: string): void {
  if (!(Math.abs(actual - expected) <= 1e-9)) {
    throw new Error(`${what}: cellar ${actual} vs scipy ${expected} (seed ${seed})`);
  }
}

const KS_PY = `
import json, sys
from scipy.stats import ks_2samp
cases = json.load(open(sys.argv[1]))
out = []
for c in cases:
    r = ks_2samp(c['a'], c['b'])
    out.append([float(r.statistic), float(r.pvalue)])
print(json.dumps(out))
`;

describe('ksTest matches scipy.stats.ks_2samp (method auto)', () => {
  it('on random samples in the exact regime: equal and unequal sizes, ties, shifts', () => {
    const cases: Array<{ a: number[]; b: number[] }> = [];
    const sizes = [
      [1, 1],
      [3, 5],
      [7, 7],
      [20, 20],
      [50, 37],
      [100, 100],
      [250, 400],
      [1000, 999],
      [3000, 2000],
      [120, 9000],
    ];
    for (const [n1, n2] of sizes) {
      for (const ties of [false, true]) {
        const shift = rand() < 0.5 ? 0 : 0.3 * rand();
        cases.push({ a: sample(n1!, 0, 1, ties), b: sample(n2!, shift, 1 + 0.2 * rand(), ties) });
      }
    }
    const expected = runPython<Array<[number, number]>>(KS_PY, cases);
    cases.forEach((c, i) => {
      const got = ksTest(c.a, c.b);
      closeTo(got.statistic, expected[i]![0], `KS statistic, sizes ${c.a.length}x${c.b.length}`);
      closeTo(got.pValue, expected[i]![1], `KS p-value, sizes ${c.a.length}x${c.b.length}`);
    });
  });

  it('on random samples in the asymptotic regime (more than 10,000 values on one side)', () => {
    const cases: Array<{ a: number[]; b: number[] }> = [];
    const sizes = [
      [10001, 30],
      [12000, 150],
      [20000, 5000],
      [15000, 15000],
      [50000, 800],
      [10500, 400],
    ];
    for (const [n1, n2] of sizes) {
      for (const shift of [0, 0.02, 0.1, 0.5]) {
        cases.push({ a: sample(n1!, 0, 1, rand() < 0.3), b: sample(n2!, shift, 1, false) });
      }
    }
    const expected = runPython<Array<[number, number]>>(KS_PY, cases);
    cases.forEach((c, i) => {
      const got = ksTest(c.a, c.b);
      closeTo(got.statistic, expected[i]![0], `KS statistic, sizes ${c.a.length}x${c.b.length}`);
      closeTo(got.pValue, expected[i]![1], `KS p-value, sizes ${c.a.length}x${c.b.length}`);
    });
  });
});

describe('psi matches numpy (reference-quantile bins)', () => {
  const PSI_PY = `
import json, sys
import numpy as np
cases = json.load(open(sys.argv[1]))
out = []
for c in cases:
    ref = np.asarray(c['a'], dtype=float); cur = np.asarray(c['b'], dtype=float)
    edges = np.quantile(ref, np.linspace(0, 1, c['bins'] + 1))
    r = np.bincount(np.searchsorted(edges[1:-1], ref, side='right'), minlength=c['bins']) / len(ref)
    k = np.bincount(np.searchsorted(edges[1:-1], cur, side='right'), minlength=c['bins']) / len(cur)
    r = np.maximum(r, 1e-4); k = np.maximum(k, 1e-4)
    out.append(float(np.sum((k - r) * np.log(k / r))))
print(json.dumps(out))
`;
  it('on random samples with and without ties, shifted, several bin counts', () => {
    const cases: Array<{ a: number[]; b: number[]; bins: number }> = [];
    for (const bins of [1, 5, 10, 20]) {
      for (const ties of [false, true]) {
        cases.push({
          a: sample(200 + Math.floor(rand() * 3000), 0, 1, ties),
          b: sample(50 + Math.floor(rand() * 3000), rand() * 0.8, 1 + rand(), ties),
          bins,
        });
      }
    }
    const expected = runPython<number[]>(PSI_PY, cases);
    cases.forEach((c, i) => closeTo(psi(c.a, c.b, { bins: c.bins }), expected[i]!, `PSI bins=${c.bins}`));
  });
});

describe('chiSquareTest matches scipy.stats.chi2_contingency', () => {
  const CHI_PY = `
import json, sys
from scipy.stats import chi2_contingency
cases = json.load(open(sys.argv[1]))
out = []
for c in cases:
    r = chi2_contingency([c['a'], c['b']])
    out.append([float(r[0]), float(r[1])])
print(json.dumps(out))
`;
  it('on random category counts (2 to 12 categories, Yates correction at one degree of freedom)', () => {
    const cases: Array<{ a: number[]; b: number[] }> = [];
    for (let t = 0; t < 30; t++) {
      const k = 2 + Math.floor(rand() * 11);
      const scale = [5, 50, 5000][t % 3]!;
      cases.push({
        a: Array.from({ length: k }, () => 1 + Math.floor(rand() * scale)),
        b: Array.from({ length: k }, () => 1 + Math.floor(rand() * scale)),
      });
    }
    const expected = runPython<Array<[number, number]>>(CHI_PY, cases);
    cases.forEach((c, i) => {
      const got = chiSquareTest(c.a, c.b);
      closeTo(got.statistic, expected[i]![0], `chi-square statistic (${c.a.length} categories)`);
      closeTo(got.pValue, expected[i]![1], `chi-square p-value (${c.a.length} categories)`);
    });
  });

  it('keys categories by name and drops categories absent on both sides', () => {
    const a = chiSquareTest({ x: 10, y: 20, z: 0 }, { y: 5, x: 30, z: 0 });
    const b = chiSquareTest([10, 20], [30, 5]);
    expect(a).toEqual(b);
  });
});

describe('the Kolmogorov distribution matches scipy.stats.kstwo.sf in every branch', () => {
  it('on a grid of n and x (Ruben-Gambino, Durbin matrix, Pomeranz, Pelz-Good, Smirnov)', () => {
    const cases: Array<[number, number]> = [];
    for (const n of [1, 2, 5, 17, 60, 140, 141, 500, 3000, 20000, 150000]) {
      for (const x of [
        0.3 / n,
        0.7 / n,
        1 / n,
        0.01,
        0.03,
        0.05,
        0.08,
        0.12,
        0.2,
        0.35,
        0.5,
        0.7,
        1 - 0.5 / n,
      ]) {
        if (x > 0 && x < 1) cases.push([n, x]);
      }
      for (let k = 0; k < 4; k++) cases.push([n, rand() * Math.min(1, 6 / Math.sqrt(n))]);
    }
    const expected = runPython<number[]>(
      `
import json, sys
from scipy.stats import kstwo
print(json.dumps([float(kstwo.sf(x, n)) for n, x in json.load(open(sys.argv[1]))]))
`,
      cases,
    );
    cases.forEach(([n, x], i) => closeTo(kolmogn(n, x), expected[i]!, `kstwo.sf(${x}, ${n})`));
  });
});
