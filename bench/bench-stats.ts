/**
 * bench/bench-stats — the small statistics every cellar bench prints the same way: medians of interleaved
 * rounds with their range (never the best), the machine's load beside them, and the one `BENCH_RESULT`
 * JSON line (last line of output) that `npm run bench` collects.
 */
import { loadavg } from 'node:os';

/** Median of the values. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** `median ms (min–max, n rounds)`. */
export function describe(xs: number[], digits = 1): string {
  const lo = Math.min(...xs).toFixed(digits);
  const hi = Math.max(...xs).toFixed(digits);
  return `${median(xs).toFixed(digits)} ms (range ${lo}–${hi}, ${xs.length} rounds)`;
}

/** The machine's load averages, printed beside figures. */
export function loadLine(): string {
  return `machine load (1/5/15 min): ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' / ')}, ${process.env.CELLAR_BENCH_NOTE ?? ''}`.replace(/, $/, '');
}

/** One figure of a bench result. */
export interface BenchRow {
  figure: string;
  value: number;
  unit: string;
  peer: string | null;
  ratio: number | null;
  goal: string;
  met: boolean | null;
}

/** Prints the machine-readable result line (must be the last line of the bench's output). */
export function printBenchResult(bench: string, rows: BenchRow[]): void {
  const round = (x: number | null) => (x === null ? null : Math.round(x * 1000) / 1000);
  const clean = rows.map((r) => ({ ...r, value: round(r.value), ratio: round(r.ratio) }));
  console.log(`BENCH_RESULT ${JSON.stringify({ bench, load: loadavg(), rows: clean })}`);
}
