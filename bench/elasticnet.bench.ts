/**
 * bench/elasticnet — cellar's ElasticNet against scikit-learn's (precompute=False) on the same
 * 1,000,000 × 10 seeded Gaussian data (y = Xw + noise), side by side in one run: fit times, the ratio
 * cellar/sklearn and the objective values (which must agree to 1e-6 relative). Two datasets: independent
 * features (converges in a few passes) and correlated ones (x_j = 0.9·x_{j−1} + noise: tens of passes).
 *
 * Run: `npm run build && node dist/esm/bench/elasticnet.bench.js` (env BENCH_ROWS overrides the row count).
 * Needs Debian's python3-sklearn for the peer; without it the bench says so and exits 0.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ElasticNet, enetObjective, mulberry32 } from '../kernel-lib/ml/index.js';

const PYTHON = '/usr/bin/python3';
const N = Number(process.env.BENCH_ROWS ?? 1_000_000);
const P = 10;
const REPEATS = 5;
const TRUE_W = [1.5, -2, 0, 0, 0.5, 3, 0, -1, 0, 0.2];
const CONFIGS = [
  { alpha: 0.5, l1Ratio: 0.1, label: "course's alpha=0.5, l1_ratio=0.1" },
  { alpha: 0.1, l1Ratio: 0.9, label: 'sparse alpha=0.1, l1_ratio=0.9' },
];
const TOL = 1e-4;
const MAX_ITER = 1000;

interface SklearnResult {
  seconds: number[];
  coef: number[];
  intercept: number;
  n_iter: number;
  objective: number;
}

const PY_SCRIPT = `
import json, sys, time
import numpy as np
from sklearn.linear_model import ElasticNet
args = json.loads(sys.argv[1])
n, p = args["n"], args["p"]
X = np.fromfile(args["x"], dtype="<f8").reshape(n, p)
y = np.fromfile(args["y"], dtype="<f8")
out = []
for c in args["configs"]:
    seconds = []
    for _ in range(args["repeats"]):
        m = ElasticNet(alpha=c["alpha"], l1_ratio=c["l1Ratio"], tol=args["tol"], max_iter=args["maxIter"], precompute=False)
        t0 = time.perf_counter()
        m.fit(X, y)
        seconds.append(time.perf_counter() - t0)
    r = y - X @ m.coef_ - m.intercept_
    obj = 0.5 / n * float(r @ r) + c["alpha"] * c["l1Ratio"] * float(np.abs(m.coef_).sum()) \\
        + 0.5 * c["alpha"] * (1 - c["l1Ratio"]) * float(m.coef_ @ m.coef_)
    out.append({"seconds": seconds, "coef": m.coef_.tolist(), "intercept": float(m.intercept_),
                "n_iter": int(m.n_iter_), "objective": obj})
print(json.dumps(out))
`;

function gaussian(rand: () => number): () => number {
  return () => {
    let u = 0;
    while (u === 0) u = rand();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
  };
}

function makeData(correlated: boolean): { columns: Float64Array[]; y: Float64Array } {
  const g = gaussian(mulberry32(20261125));
  const columns = Array.from({ length: P }, () => new Float64Array(N));
  const y = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    let v = 0;
    let prev = 0;
    for (let j = 0; j < P; j++) {
      const x = correlated && j > 0 ? 0.9 * prev + 0.45 * g() : g();
      columns[j][i] = x;
      prev = x;
      v += TRUE_W[j] * x;
    }
    y[i] = v + g();
  }
  return { columns, y };
}

function writeBinary(dir: string, columns: Float64Array[], y: Float64Array): { x: string; y: string } {
  const rows = new Float64Array(N * P); // row-major, as numpy.fromfile(...).reshape(n, p) reads it
  for (let j = 0; j < P; j++) {
    const c = columns[j];
    for (let i = 0; i < N; i++) rows[i * P + j] = c[i];
  }
  const xPath = join(dir, 'X.f64');
  const yPath = join(dir, 'y.f64');
  writeFileSync(xPath, new Uint8Array(rows.buffer));
  writeFileSync(yPath, new Uint8Array(y.buffer, y.byteOffset, y.byteLength));
  return { x: xPath, y: yPath };
}

function hasSklearn(): boolean {
  const r = spawnSync(PYTHON, ['-c', 'import sklearn, numpy'], { encoding: 'utf8' });
  return r.status === 0;
}

function fmt(s: number): string {
  return `${(s * 1000).toFixed(1)} ms`;
}

/** Runs both libraries on one dataset; returns the worst ratio cellar/sklearn. */
function runDataset(label: string, correlated: boolean, dir: string): number {
  console.log(`\n== ${label} ==`);
  const { columns, y } = makeData(correlated);
  const X: Record<string, Float64Array> = {};
  columns.forEach((c, j) => (X[`x${j}`] = c));
  const paths = writeBinary(dir, columns, y);
  const py = spawnSync(
    PYTHON,
    [
      '-c',
      PY_SCRIPT,
      JSON.stringify({
        ...paths,
        n: N,
        p: P,
        configs: CONFIGS,
        repeats: REPEATS,
        tol: TOL,
        maxIter: MAX_ITER,
      }),
    ],
    { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 },
  );
  if (py.status !== 0) throw new Error(`the scikit-learn run failed:\n${py.stderr}`);
  const sk = JSON.parse(py.stdout) as SklearnResult[];
  let worst = 0;
  CONFIGS.forEach((c, k) => {
    const seconds: number[] = [];
    let model: ElasticNet | undefined;
    for (let r = 0; r < REPEATS; r++) {
      const m = new ElasticNet({ alpha: c.alpha, l1Ratio: c.l1Ratio, tol: TOL, maxIter: MAX_ITER });
      const t0 = performance.now();
      m.fit(X, y);
      seconds.push((performance.now() - t0) / 1000);
      model = m;
    }
    const fitted = model as ElasticNet;
    const ours = Math.min(...seconds);
    const theirs = Math.min(...sk[k].seconds);
    const ratio = ours / theirs;
    worst = Math.max(worst, ratio);
    const objOurs = enetObjective(columns, y, fitted.coef, fitted.intercept, c.alpha, c.l1Ratio);
    const objTheirs = enetObjective(columns, y, sk[k].coef, sk[k].intercept, c.alpha, c.l1Ratio);
    const rel = Math.abs(objOurs - objTheirs) / Math.abs(objTheirs);
    const nz = fitted.coef.filter((v) => v !== 0).length;
    console.log(`${c.label} (${nz} of ${P} coefficients non-zero)`);
    console.log(
      `  cellar  fit: ${fmt(ours)} (best of ${REPEATS}: ${seconds.map(fmt).join(', ')}), n_iter ${fitted.nIter}`,
    );
    console.log(
      `  sklearn fit: ${fmt(theirs)} (best of ${REPEATS}: ${sk[k].seconds.map(fmt).join(', ')}), n_iter ${sk[k].n_iter}`,
    );
    console.log(
      `  ratio cellar/sklearn: ${ratio.toFixed(2)}x ${ratio <= 1 ? '(goal <= 1.0x met)' : '(goal <= 1.0x NOT met)'}`,
    );
    console.log(
      `  objective: cellar ${objOurs.toPrecision(12)}, sklearn ${objTheirs.toPrecision(12)} ` +
        `(as numpy computes it: ${sk[k].objective.toPrecision(12)}), relative difference ${rel.toExponential(2)} ` +
        (rel <= 1e-6 ? '(<= 1e-6 ok)' : '(> 1e-6 MISMATCH)'),
    );
    if (rel > 1e-6) process.exitCode = 1;
  });
  return worst;
}

function main(): void {
  if (!hasSklearn()) {
    console.log(
      `elasticnet bench: skipped — scikit-learn is not available to ${PYTHON}. ` +
        'Install the peer with: apt-get update && apt-get install -y python3-sklearn python3-numpy',
    );
    return;
  }
  console.log(
    `elasticnet bench: ${N.toLocaleString('en-US')} x ${P} seeded Gaussian data, tol=${TOL}, max_iter=${MAX_ITER}, ` +
      'sklearn precompute=False; times are fit() only, best of ' +
      REPEATS,
  );
  const dir = mkdtempSync(join(tmpdir(), 'cellar-enet-bench-'));
  try {
    const worst = Math.max(
      runDataset('independent features', false, dir),
      runDataset('correlated features (x_j = 0.9 x_{j-1} + noise)', true, dir),
    );
    console.log(`\nworst ratio cellar/sklearn: ${worst.toFixed(2)}x`);
  } catch (err) {
    console.log(`elasticnet bench: ${(err as Error).message}`);
    process.exitCode = 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
