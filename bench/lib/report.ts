/**
 * bench/lib/report — what every benchmark shares: statistics (percentiles, median and range of rounds), the
 * machine's load line, and the `BENCH_RESULT {json}` last line that `npm run bench` (scripts/bench.mjs)
 * collects into bench/RESULTS.md and the README's table.
 */
import { cpus, loadavg } from 'node:os';

/** One figure of a benchmark, as `npm run bench` tabulates it. */
export interface BenchRow {
  /** What was measured, with its size (e.g. "join 1M×10M, warm median"). */
  figure: string;
  value: number;
  unit: string;
  /** The peer or floor it is compared with (empty when none). */
  peer?: string;
  /** ours / peer (lower is better for times; the goal says which way). */
  ratio?: number | null;
  /** The goal in words, e.g. "≤ 0.5× DuckDB same rules". */
  goal?: string;
  met?: boolean | null;
}

/** The p-th percentile (nearest rank) of sorted values. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  return sorted[Math.min(n - 1, Math.max(0, Math.ceil((p / 100) * n) - 1))]!;
}

/** Sorted copy of numbers. */
export function sorted(values: ArrayLike<number>): Float64Array {
  return Float64Array.from(values).sort();
}

/** The median of values. */
export function median(values: ArrayLike<number>): number {
  const s = sorted(values);
  const n = s.length;
  if (n === 0) return NaN;
  return n % 2 ? s[(n - 1) >> 1]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}

/** "median (min–max)" of round values, formatted with `digits` decimals. */
export function medianRange(values: number[], digits = 0, unit = ''): string {
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return `${median(values).toFixed(digits)}${unit} (${lo.toFixed(digits)}–${hi.toFixed(digits)}${unit})`;
}

/** The machine's load, printed beside every figure. */
export function machineLoad(): string {
  const l = loadavg().map((x) => x.toFixed(2));
  return `load average ${l.join(' ')} on ${cpus().length} cores`;
}

/** A flag value from argv (`--name=value` or `--name value`), else an environment variable, else undefined. */
export function arg(name: string, env?: string): string | undefined {
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === `--${name}` && i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) return argv[i + 1];
    if (a.startsWith(`--${name}=`)) return a.slice(name.length + 3);
  }
  return env ? process.env[env] : undefined;
}

/** A numeric flag (`--rows=1e6`, `--rows 100000`, or env), else `quick` under `--quick`, else `dflt`. */
export function numArg(name: string, dflt: number, quick?: number, env?: string): number {
  const v = arg(name, env);
  if (v !== undefined) {
    const n = Number(v);
    if (!Number.isFinite(n)) throw new Error(`--${name} must be a number, got ${v}`);
    return n;
  }
  return isQuick() && quick !== undefined ? quick : dflt;
}

/** True under `--quick` (or BENCH_QUICK=1): small sizes for a fast pass over every bench. */
export function isQuick(): boolean {
  return process.argv.includes('--quick') || process.env.BENCH_QUICK === '1';
}

/** Prints the machine-readable result line; it must be the bench's last line of output. */
export function emitResult(bench: string, rows: BenchRow[], extra: Record<string, unknown> = {}): void {
  const clean = rows.map((r) => ({
    ...r,
    value: Number.isFinite(r.value) ? Number(r.value.toPrecision(6)) : null,
    ratio:
      r.ratio === undefined || r.ratio === null || !Number.isFinite(r.ratio)
        ? null
        : Number(r.ratio.toFixed(3)),
  }));
  console.log(
    `BENCH_RESULT ${JSON.stringify({ bench, load: loadavg(), nproc: cpus().length, ...extra, rows: clean })}`,
  );
}
