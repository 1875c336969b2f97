/**
 * Benchmark: cold start, as a user meets it. Each figure is a fresh `node` process, timed from spawn to exit:
 * `cellar --help`, `require('cellar')` (tslab's path, the CommonJS build), `import 'cellar'` (the ESM build)
 * and `cellar runs list --max 100` on a small store (200 runs), side by side with `node -e 0` (every Node start
 * here pays ~45 ms for a CA bundle, so the peer is measured in the same rounds). Rounds are interleaved (every
 * command once per round, order rotated), the first round (cold file cache) is printed beside the median of
 * all rounds with their range, never the best. Goals: ≤ 250 ms each; `runs list` ≤ 2× `cellar --help`.
 * Run: npm run build && node dist/esm/bench/cold-start.bench.js [rounds]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { openStore } from '../kernel-lib/sdk.js';

const ROUNDS = Math.max(5, Number(process.argv[2] ?? 7));
const GOAL_MS = 250;
/** dist/esm/bench/cold-start.bench.js → the package root. */
const ROOT = resolve(dirname(realpathSync(process.argv[1]!)), '..', '..', '..');
const BIN = join(ROOT, 'bin', 'cellar.cjs');

interface Case {
  figure: string;
  args: string[];
}

async function makeStore(dir: string): Promise<void> {
  const store = openStore(dir);
  for (let i = 0; i < 200; i++) {
    const run = await store.startRun({ experiment: 'cold-start', runName: `run-${i}` });
    await run.logParams({ alpha: String(i % 7), l1_ratio: '0.1' });
    await run.logMetrics({ rmse: 1 / (i + 1), mae: 0.5 / (i + 1) });
    await run.end('FINISHED');
  }
  store.close();
}

function timeOnce(c: Case): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, c.args, {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '', CELLAR_URI: '' },
  });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${c.figure} failed (${r.status}): ${r.stderr.toString()}`);
  return ms;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const fmt = (ms: number): string => `${ms.toFixed(0)} ms`;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'cellar-cold-'));
  try {
    await makeStore(dir);
    const cases: Case[] = [
      { figure: 'node -e 0', args: ['-e', '0'] },
      { figure: 'cellar --help', args: [BIN, '--help'] },
      { figure: "require('cellar')", args: ['-e', "require('cellar')"] },
      { figure: "import 'cellar'", args: ['--input-type=module', '-e', "import 'cellar'"] },
      { figure: 'cellar runs list --max 100', args: [BIN, '--store', dir, 'runs', 'list', '--max', '100'] },
    ];
    const loadBefore = loadavg();
    const times = new Map<string, number[]>(cases.map((c) => [c.figure, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (let k = 0; k < cases.length; k++) {
        const c = cases[(k + round) % cases.length]!; // rotate the order so no command always goes first
        times.get(c.figure)!.push(timeOnce(c));
      }
    }
    const loadAfter = loadavg();
    const med = (f: string): number => median(times.get(f)!);
    const node0 = med('node -e 0');
    console.log(
      `cold start, ${ROUNDS} interleaved rounds, fresh processes; ${cpus().length} CPUs, load average ` +
        `${loadBefore.map((l) => l.toFixed(2)).join(' ')} before, ${loadAfter.map((l) => l.toFixed(2)).join(' ')} after`,
    );
    console.log(
      'figure'.padEnd(30) + 'first'.padStart(9) + 'median'.padStart(9) + '   range'.padEnd(18) + 'vs peer',
    );
    const rows: Array<Record<string, unknown>> = [];
    for (const c of cases) {
      const xs = times.get(c.figure)!;
      const m = median(xs);
      const isList = c.figure.startsWith('cellar runs list');
      const peer = isList ? 'cellar --help' : 'node -e 0';
      const ratio = m / med(peer);
      const range = `${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))}`;
      const vs =
        c.figure === 'node -e 0' ? '(peer)' : `${ratio.toFixed(2)}× ${peer}, +${fmt(m - node0)} over node`;
      console.log(
        c.figure.padEnd(30) + fmt(xs[0]!).padStart(9) + fmt(m).padStart(9) + `   ${range}`.padEnd(18) + vs,
      );
      if (c.figure === 'node -e 0') continue;
      const goal = isList ? '≤ 2× cellar --help' : `≤ ${GOAL_MS} ms`;
      const met = isList ? ratio <= 2 : m <= GOAL_MS;
      rows.push({
        figure: c.figure,
        value: Math.round(m),
        unit: 'ms',
        peer: `${peer} (${fmt(med(peer))})`,
        ratio: Number(ratio.toFixed(2)),
        goal,
        met,
      });
    }
    console.log(`BENCH_RESULT ${JSON.stringify({ bench: 'cold-start', rows })}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
