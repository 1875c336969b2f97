/**
 * bench/elasticnet — ElasticNet through `import('cellar')` (the package entry a notebook loads) against
 * scikit-learn's ElasticNet with `precompute=False` and `precompute=True` (Debian python3-sklearn), on the same
 * N × 10 seeded Gaussian data (y = Xw + noise): independent features (a few passes) and correlated ones
 * (x_j = 0.9·x_{j−1} + noise: tens of passes), two (alpha, l1_ratio) settings each.
 *
 * Every contender runs in a fresh process per round (rounds interleaved, order rotating): it loads the data
 * (untimed), then times its first fit in that process ("cold", what a notebook pays) and a second fit ("warm").
 * Medians (range) of the rounds are printed, never the best, and the objectives must agree to 1e-6 relative.
 * Goal (issue 9): cellar ≤ 1.0× scikit-learn with its best precompute setting for the data, first fit included.
 *
 * Run: `npm run bench -- elasticnet [--rows=1000000] [--rounds=5] [--quick]` (env BENCH_ROWS also sets rows).
 * Needs Debian's python3-sklearn for the peer; without it the bench says so and exits 0.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { enetObjective, mulberry32 } from '../kernel-lib/ml/index.js';
import { emitResult, machineLoad, median, medianRange, numArg, type BenchRow } from './lib/report.js';

const PYTHON = '/usr/bin/python3';
const P = 10;
const TRUE_W = [1.5, -2, 0, 0, 0.5, 3, 0, -1, 0, 0.2];
const CONFIGS = [
  { alpha: 0.5, l1Ratio: 0.1, label: "course's alpha=0.5, l1_ratio=0.1" },
  { alpha: 0.1, l1Ratio: 0.9, label: 'sparse alpha=0.1, l1_ratio=0.9' },
];
const TOL = 1e-4;
const MAX_ITER = 1000;
const CONTENDERS = [
  'cellar',
  'cellar-ml-only',
  'sklearn-precompute-False',
  'sklearn-precompute-True',
] as const;
type Contender = (typeof CONTENDERS)[number];

/** What each child prints: the cold and warm fit times and the fitted model. */
interface FitResult {
  cold: number;
  warm: number;
  coef: number[];
  intercept: number;
  n_iter: number;
}

const PY_SCRIPT = `
import json, sys, time
import numpy as np
from sklearn.linear_model import ElasticNet
a = json.loads(sys.argv[1])
n, p = a["n"], a["p"]
X = np.fromfile(a["x"], dtype="<f8").reshape(n, p)
y = np.fromfile(a["y"], dtype="<f8")
times = []
for _ in range(2):
    m = ElasticNet(alpha=a["alpha"], l1_ratio=a["l1Ratio"], tol=a["tol"], max_iter=a["maxIter"], precompute=a["precompute"])
    t0 = time.perf_counter()
    m.fit(X, y)
    times.append(time.perf_counter() - t0)
print(json.dumps({"cold": times[0], "warm": times[1], "coef": m.coef_.tolist(), "intercept": float(m.intercept_), "n_iter": int(m.n_iter_)}))
`;

/** Child: cellar's fit through the package entry, timed in a fresh process. */
async function cellarChild(args: {
  x: string;
  y: string;
  n: number;
  alpha: number;
  l1Ratio: number;
  entry?: 'cellar' | 'ml';
}): Promise<void> {
  const buf = readFileSync(args.x);
  const rows = new Float64Array(buf.buffer, buf.byteOffset, buf.byteLength / 8);
  const ybuf = readFileSync(args.y);
  const y = new Float64Array(ybuf.buffer, ybuf.byteOffset, ybuf.byteLength / 8);
  const X: Record<string, Float64Array> = {};
  for (let j = 0; j < P; j++) {
    const c = new Float64Array(args.n);
    for (let i = 0; i < args.n; i++) c[i] = rows[i * P + j]!;
    X[`x${j}`] = c;
  }
  // 'cellar': the package entry, as a notebook imports it; 'ml': the ml module alone (no tracking hooks loaded),
  // which shows what the package entry adds to a fit.
  const { ElasticNet } =
    args.entry === 'ml' ? await import('../kernel-lib/ml/index.js') : await import('cellar');
  const times: number[] = [];
  let m: InstanceType<typeof ElasticNet> | undefined;
  for (let r = 0; r < 2; r++) {
    m = new ElasticNet({ alpha: args.alpha, l1Ratio: args.l1Ratio, tol: TOL, maxIter: MAX_ITER });
    const t0 = performance.now();
    m.fit(X, y);
    times.push((performance.now() - t0) / 1000);
  }
  const out: FitResult = {
    cold: times[0]!,
    warm: times[1]!,
    coef: [...m!.coef],
    intercept: m!.intercept,
    n_iter: m!.nIter ?? -1,
  };
  console.log(JSON.stringify(out));
}

function gaussian(rand: () => number): () => number {
  return () => {
    let u = 0;
    while (u === 0) u = rand();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
  };
}

function makeData(n: number, correlated: boolean): { columns: Float64Array[]; y: Float64Array } {
  const g = gaussian(mulberry32(20261125));
  const columns = Array.from({ length: P }, () => new Float64Array(n));
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let v = 0;
    let prev = 0;
    for (let j = 0; j < P; j++) {
      const x = correlated && j > 0 ? 0.9 * prev + 0.45 * g() : g();
      columns[j]![i] = x;
      prev = x;
      v += TRUE_W[j]! * x;
    }
    y[i] = v + g();
  }
  return { columns, y };
}

function writeBinary(
  dir: string,
  n: number,
  columns: Float64Array[],
  y: Float64Array,
): { x: string; y: string } {
  const rows = new Float64Array(n * P); // row-major, as numpy.fromfile(...).reshape(n, p) reads it
  for (let j = 0; j < P; j++) {
    const c = columns[j]!;
    for (let i = 0; i < n; i++) rows[i * P + j] = c[i]!;
  }
  const xPath = join(dir, 'X.f64');
  const yPath = join(dir, 'y.f64');
  writeFileSync(xPath, new Uint8Array(rows.buffer));
  writeFileSync(yPath, new Uint8Array(y.buffer, y.byteOffset, y.byteLength));
  return { x: xPath, y: yPath };
}

function hasSklearn(): boolean {
  return spawnSync(PYTHON, ['-c', 'import sklearn, numpy'], { encoding: 'utf8' }).status === 0;
}

function spawnFit(kind: Contender, args: Record<string, unknown>): FitResult {
  const res =
    kind === 'cellar' || kind === 'cellar-ml-only'
      ? spawnSync(
          process.execPath,
          [
            process.argv[1]!,
            '--child',
            JSON.stringify({ ...args, entry: kind === 'cellar' ? 'cellar' : 'ml' }),
          ],
          { encoding: 'utf8' },
        )
      : spawnSync(
          PYTHON,
          ['-c', PY_SCRIPT, JSON.stringify({ ...args, precompute: kind === 'sklearn-precompute-True' })],
          { encoding: 'utf8' },
        );
  if (res.status !== 0) throw new Error(`${kind} failed (${res.status}): ${res.stderr || String(res.error)}`);
  return JSON.parse(res.stdout.trim().split('\n').pop()!) as FitResult;
}

/** All contenders on one dataset and config, interleaved rounds; returns the table rows. */
function runCase(
  n: number,
  rounds: number,
  data: { columns: Float64Array[]; y: Float64Array; x: string; yPath: string },
  dataLabel: string,
  c: (typeof CONFIGS)[number],
): BenchRow[] {
  const results = Object.fromEntries(CONTENDERS.map((k) => [k, [] as FitResult[]])) as Record<
    Contender,
    FitResult[]
  >;
  const args = {
    x: data.x,
    y: data.yPath,
    n,
    p: P,
    alpha: c.alpha,
    l1Ratio: c.l1Ratio,
    tol: TOL,
    maxIter: MAX_ITER,
  };
  for (let r = 0; r < rounds; r++) {
    for (let j = 0; j < CONTENDERS.length; j++) {
      const k = CONTENDERS[(j + r) % CONTENDERS.length]!;
      results[k].push(spawnFit(k, args));
    }
  }
  console.log(`\n== ${dataLabel}, ${c.label}`);
  const obj = (f: FitResult): number =>
    enetObjective(data.columns, data.y, f.coef, f.intercept, c.alpha, c.l1Ratio);
  const ref = obj(results['sklearn-precompute-False'][0]!);
  for (const k of CONTENDERS) {
    const f = results[k];
    const rel = Math.abs(obj(f[0]!) - ref) / Math.abs(ref);
    console.log(
      `  ${k.padEnd(25)} first fit ${medianRange(
        f.map((x) => x.cold * 1000),
        0,
        ' ms',
      )}, warm ${medianRange(
        f.map((x) => x.warm * 1000),
        0,
        ' ms',
      )}, ` +
        `n_iter ${f[0]!.n_iter}, objective rel. diff ${rel.toExponential(1)}${rel > 1e-6 ? ' MISMATCH' : ''}`,
    );
    if (rel > 1e-6) process.exitCode = 1;
  }
  const rows: BenchRow[] = [];
  for (const m of ['cold', 'warm'] as const) {
    const med = (k: Contender): number => median(results[k].map((x) => x[m]));
    const best = Math.min(med('sklearn-precompute-False'), med('sklearn-precompute-True'));
    const bestName = best === med('sklearn-precompute-True') ? 'True' : 'False';
    const ratio = med('cellar') / best;
    console.log(
      `  ratio cellar / sklearn best precompute (${bestName}), ${m === 'cold' ? 'first fit' : 'warm'}: ${ratio.toFixed(2)}× (goal ≤ 1.0×); ` +
        `vs precompute=False ${(med('cellar') / med('sklearn-precompute-False')).toFixed(2)}×, vs True ${(med('cellar') / med('sklearn-precompute-True')).toFixed(2)}×`,
    );
    const mlOnly = med('cellar-ml-only');
    console.log(
      `  import('cellar') vs the ml module alone, ${m}: ${(med('cellar') / mlOnly).toFixed(2)}× (the package entry's fit hooks)`,
    );
    rows.push({
      figure: `ElasticNet ${n / 1e6}M×10 ${dataLabel}, ${c.label}, ml module alone, ${m === 'cold' ? 'first fit' : 'warm fit'}`,
      value: mlOnly * 1000,
      unit: 'ms',
      peer: `sklearn, best precompute (${bestName})`,
      ratio: mlOnly / best,
    });
    rows.push({
      figure: `ElasticNet ${n / 1e6}M×10 ${dataLabel}, ${c.label}, ${m === 'cold' ? 'first fit in a fresh process' : 'warm fit'}`,
      value: med('cellar') * 1000,
      unit: 'ms',
      peer: `sklearn, best precompute (${bestName})`,
      ratio,
      goal: '≤ 1.0×',
      met: ratio <= 1,
    });
  }
  return rows;
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') {
    await cellarChild(JSON.parse(process.argv[3]!) as Parameters<typeof cellarChild>[0]);
    return;
  }
  if (!hasSklearn()) {
    console.log(
      `elasticnet bench: skipped — scikit-learn is not available to ${PYTHON}. ` +
        'Install the peer with: apt-get update && apt-get install -y python3-sklearn python3-numpy',
    );
    emitResult('elasticnet', [], { skipped: `scikit-learn is not available to ${PYTHON}` });
    return;
  }
  const n = numArg('rows', 1_000_000, 200_000, 'BENCH_ROWS');
  const rounds = numArg('rounds', 5, 3);
  const size = `${n.toLocaleString('en-US')} × ${P}, tol=${TOL}, max_iter=${MAX_ITER}, ${rounds} rounds`;
  console.log(`elasticnet bench: ${size}; cellar via import('cellar'); fit() times only; ${machineLoad()}`);
  const dir = mkdtempSync(join(tmpdir(), 'cellar-enet-bench-'));
  const rows: BenchRow[] = [];
  try {
    for (const [label, correlated] of [
      ['independent', false],
      ['correlated', true],
    ] as const) {
      const { columns, y } = makeData(n, correlated);
      const paths = writeBinary(dir, n, columns, y);
      for (const c of CONFIGS)
        rows.push(...runCase(n, rounds, { columns, y, x: paths.x, yPath: paths.y }, label, c));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`\n${machineLoad()}`);
  emitResult('elasticnet', rows, { size });
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
