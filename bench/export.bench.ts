/**
 * Benchmark: `cellar export` of a generated 40-step and 1,000-step notebook (steps import cellar, fit a tiny
 * model, the last one logs a metric: bench/pipeline-notebook), through the real CLI, each export in a fresh
 * process as a user runs it, beside `node -e 0` (the floor every process pays) measured in the same rounds.
 * Rounds are interleaved (node -e 0, 40 steps, 1,000 steps, …); each export writes a new version (a new
 * pipeline name in a store created before the rounds). Prints median and range of the rounds and the first
 * round, the machine's load, and as its last line `BENCH_RESULT {json}`.
 * Goals (issue 9): 40 steps ≤ 1 s, 1,000 steps ≤ 10 s.
 * Run: npm run build && node dist/esm/bench/export.bench.js [--rounds 5] [--big 1000] [--quick]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chainNotebook, writeNotebookFile } from './pipeline-notebook.js';

const quick = process.argv.includes('--quick') || process.env.BENCH_QUICK === '1';
function flag(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : undefined;
  return v === undefined ? dflt : Number(v);
}
const ROUNDS = flag('rounds', 5);
const SMALL = 40;
const BIG = flag('big', quick ? 200 : 1000);
const CLI = fileURLToPath(new URL('../../../bin/cellar.cjs', import.meta.url));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) >> 1]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}
const range = (xs: number[]): string => `${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)} ms`;
const load = (): string =>
  `load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')} on ${cpus().length} cores`;

/** Wall time of one fresh process running `args`; throws when it fails. */
function timed(args: string[], cwd: string): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { cwd, encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed (${r.status}): ${r.stderr}${r.stdout}`);
  return ms;
}

function main(): void {
  const dir = mkdtempSync(join(tmpdir(), 'cellar-bench-export-'));
  try {
    const store = join(dir, '.cellar');
    const small = writeNotebookFile(dir, 'chain40', chainNotebook(SMALL, 10));
    const big = writeNotebookFile(dir, `chain${BIG}`, chainNotebook(BIG, 10));
    const exportArgs = (nb: string, name: string): string[] => [
      CLI,
      '--store',
      store,
      'export',
      nb,
      '--name',
      name,
    ];
    timed(exportArgs(small, 'warmup'), dir); // creates and migrates the store, so rounds measure exports only
    const floor: number[] = [];
    const s: number[] = [];
    const b: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      floor.push(timed(['-e', '0'], dir));
      s.push(timed(exportArgs(small, `small-${r}`), dir));
      b.push(timed(exportArgs(big, `big-${r}`), dir));
      console.log(
        `round ${r + 1}: node -e 0 ${floor[r]!.toFixed(0)} ms, ${SMALL} steps ${s[r]!.toFixed(0)} ms, ` +
          `${BIG} steps ${b[r]!.toFixed(0)} ms`,
      );
    }
    const f = median(floor);
    console.log(
      `\n== cellar export, fresh process each, ${ROUNDS} interleaved rounds (median, range; first round)`,
    );
    console.log(`node -e 0:            ${f.toFixed(0)} ms (${range(floor)})`);
    console.log(
      `${SMALL} steps:             ${median(s).toFixed(0)} ms (${range(s)}; first ${s[0]!.toFixed(0)} ms)   ` +
        `${(median(s) / f).toFixed(1)}× node -e 0   goal ≤ 1000 ms`,
    );
    console.log(
      `${BIG} steps:           ${median(b).toFixed(0)} ms (${range(b)}; first ${b[0]!.toFixed(0)} ms)   ` +
        `${(median(b) / f).toFixed(1)}× node -e 0   goal ≤ 10000 ms`,
    );
    console.log(load());
    const bigGoal = BIG === 1000 ? 10_000 : (10_000 * BIG) / 1000;
    const rows = [
      {
        figure: 'node -e 0 (floor)',
        value: Math.round(f),
        unit: 'ms',
        peer: '',
        ratio: null,
        goal: '',
        met: null,
      },
      {
        figure: `cellar export, ${SMALL} steps, fresh process (median)`,
        value: Math.round(median(s)),
        unit: 'ms',
        peer: 'node -e 0',
        ratio: Number((median(s) / f).toFixed(2)),
        goal: '≤ 1 s',
        met: median(s) <= 1000,
      },
      {
        figure: `cellar export, ${BIG} steps, fresh process (median)`,
        value: Math.round(median(b)),
        unit: 'ms',
        peer: 'node -e 0',
        ratio: Number((median(b) / f).toFixed(2)),
        goal: `≤ ${bigGoal / 1000} s`,
        met: median(b) <= bigGoal,
      },
    ];
    console.log(`BENCH_RESULT ${JSON.stringify({ bench: 'export', load: loadavg()[0], rows })}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
