/**
 * bench/pit-join — cellar's point-in-time join against DuckDB's `ASOF LEFT JOIN` (@duckdb/node-api) and
 * pandas `merge_asof` (Debian python3-pandas), side by side on the same seeded data: entity rows
 * (driver_id, event_timestamp) and feature rows (driver_id, ts, 3 float features), unsorted, with unique
 * (driver_id, ts) per feature row so every winner is unambiguous.
 *
 * Each contender runs in its own child process (so peak RSS is its own), and is timed from the files:
 *   cellar  — reading the entity Parquet + readSourceColumns (feature Parquet) + pointInTimeJoin + gather;
 *   DuckDB  — CREATE TABLE … AS SELECT … FROM read_parquet(e) ASOF LEFT JOIN read_parquet(f) (materialized);
 *   pandas  — sort both frames + merge_asof (from a binary dump: pandas 1.5 here has no Parquet engine).
 * Then the joined values are compared row by row (ordered by entity row) and the ratios printed.
 *
 * Warm-up (warm mode, all contenders alike): before its timed run, each child does the same join twice, untimed, on a
 * separate warm-up data set (other seed and files, a quarter of the size), so the timed run is what a
 * session that has joined before pays per call — JIT-compiled JavaScript in cellar, a used DuckDB instance —
 * not one-off start-up work. Nothing is cached across the two: cellar's source cache is emptied, DuckDB's
 * warm-up table dropped, and every timed run reads and joins the benchmark files from scratch in a fresh
 * process. Peak RSS restarts after the warm-up (/proc/self/clear_refs) from what the process then holds, so it
 * is the timed run's peak (including any memory the warm-up left behind).
 *
 * Run: `npm run build && node dist/esm/bench/pit-join.bench.js [entityRows] [featureRows] [entities]`
 * (default 1,000,000 × 10,000,000 × 100,000). Env: BENCH_REPEATS (default 3); BENCH_COMPRESSION (Parquet codec:
 * snappy — the default of pyarrow, DuckDB and Spark — or zstd, lz4, uncompressed); BENCH_KEEP=1 keeps the data.
 * Both modes are printed: cold (each timed run is the first join of a new process) and warm (after the
 * warm-up below); BENCH_WARMUP=0 runs only cold, BENCH_WARMUP=N only warm with N warm-up joins.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pl from 'nodejs-polars';
import { readParquet, writeParquet } from '../kernel-lib/data/io.js';
import {
  clearSourceColumnCache,
  gatherValues,
  readSourceColumns,
  seriesToKeyColumn,
} from '../kernel-lib/features/columns.js';
import { pointInTimeJoin } from '../kernel-lib/features/pit-join.js';
import { columnToEpochMs } from '../kernel-lib/features/timestamps.js';
import type { ValueColumn } from '../kernel-lib/features/stores.js';
import { fileSource } from '../kernel-lib/features/types.js';
import { mulberry32 } from '../kernel-lib/ml/random.js';

const FEATURES = ['conv_rate', 'acc_rate', 'avg_daily_trips'];
const PYTHON = '/usr/bin/python3';
const HOUR = 3_600_000;
const T0 = Date.UTC(2022, 0, 1);
const COMPRESSION = (process.env.BENCH_COMPRESSION ?? 'snappy') as 'snappy' | 'zstd' | 'lz4' | 'uncompressed';
/** Untimed warm-up joins per child before the timed one (0 = time cold processes); set per mode by the parent. */
const WARMUP = Math.max(0, Math.floor(Number(process.env.BENCH_WARMUP ?? 0) || 0));
/** Warm-up joins of the "warm" mode. */
const WARM_JOINS = 2;
/** The warm-up data set's directory inside the benchmark's. */
const WARMUP_DIR = 'warmup';
/** bench/pandas_merge_asof.py, found from this script's place in dist/esm/bench/. */
const PANDAS_SCRIPT = join(
  dirname(process.argv[1] ?? '.'),
  '..',
  '..',
  '..',
  'bench',
  'pandas_merge_asof.py',
);

interface ChildResult {
  seconds: number;
  maxRssMb: number;
  /** RSS before the timed work (Node with the libraries loaded, after the warm-up if any). */
  baseRssMb?: number;
}

/**
 * Resets this process's peak RSS (VmHWM) to its current RSS, after collecting garbage when the process was
 * started with --expose-gc, so the peak measured next belongs to the timed run alone (Linux; a no-op elsewhere).
 */
async function resetPeakRss(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 2; i++) {
    gc?.();
    // Native memory held by collected polars objects is released by finalizers that run on a later tick.
    await new Promise((resolve) => setImmediate(resolve));
  }
  try {
    writeFileSync('/proc/self/clear_refs', '5');
  } catch {
    /* not Linux */
  }
}

/**
 * Peak RSS of this process in MB: VmHWM from /proc (per address space; `resourceUsage().maxRSS` would
 * include the parent's RSS at fork time on Linux), else maxRSS.
 */
function maxRssMb(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) / 1024;
  } catch {
    /* not Linux */
  }
  return process.resourceUsage().maxRSS / 1024;
}

/** Writes a column as raw little-endian int64 (from integral doubles ≥ 0) or float64. */
function dump(path: string, values: Float64Array, asInt: boolean): void {
  if (!asInt) {
    writeFileSync(path, new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
    return;
  }
  const halves = new Uint32Array(values.length * 2);
  for (let i = 0; i < values.length; i++) {
    halves[2 * i] = values[i]! % 4294967296;
    halves[2 * i + 1] = Math.floor(values[i]! / 4294967296);
  }
  writeFileSync(path, new Uint8Array(halves.buffer));
}

function generate(dir: string, nE: number, nF: number, nK: number, seed = 20261125): void {
  const rand = mulberry32(seed);
  const perKey = Math.ceil(nF / nK);
  // Feature row i belongs to key i % nK, hour slot ⌊i / nK⌋ (+ jitter under an hour): (key, ts) is unique.
  const order = new Int32Array(nF);
  for (let i = 0; i < nF; i++) order[i] = i;
  for (let i = nF - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const tmp = order[i]!;
    order[i] = order[j]!;
    order[j] = tmp;
  }
  const fKey = new Float64Array(nF);
  const fTs = new Float64Array(nF);
  const values = FEATURES.map(() => new Float64Array(nF));
  for (let r = 0; r < nF; r++) {
    const i = order[r]!;
    fKey[r] = 1000 + (i % nK);
    fTs[r] = T0 + Math.floor(i / nK) * HOUR + Math.floor(rand() * 0.9 * HOUR);
    values[0]![r] = rand();
    values[1]![r] = rand();
    values[2]![r] = Math.floor(rand() * 1000);
  }
  const eKey = new Float64Array(nE);
  const eTs = new Float64Array(nE);
  const rid = new Int32Array(nE);
  const span = (perKey + 10) * HOUR;
  for (let r = 0; r < nE; r++) {
    // 5 % of the entities have no feature rows; some times fall before the first row.
    eKey[r] = 1000 + Math.floor(rand() * nK * 1.05);
    eTs[r] = T0 - 5 * HOUR + Math.floor(rand() * span);
    rid[r] = r;
  }
  const time = (name: string, v: Float64Array) => pl.Series(name, v).cast(pl.Int64).cast(pl.Datetime('ms'));
  writeParquet(
    pl.DataFrame([
      pl.Series('driver_id', fKey).cast(pl.Int64),
      time('ts', fTs),
      ...FEATURES.map((f, j) => pl.Series(f, values[j]!)),
    ]),
    join(dir, 'features.parquet'),
    { compression: COMPRESSION },
  );
  writeParquet(
    pl.DataFrame([
      pl.Series('rid', rid),
      pl.Series('driver_id', eKey).cast(pl.Int64),
      time('event_timestamp', eTs),
    ]),
    join(dir, 'entities.parquet'),
    { compression: COMPRESSION },
  );
  dump(join(dir, 'f_driver_id.bin'), fKey, true);
  dump(join(dir, 'f_ts.bin'), fTs, true);
  FEATURES.forEach((f, j) => dump(join(dir, `f_${f}.bin`), values[j]!, false));
  dump(join(dir, 'e_driver_id.bin'), eKey, true);
  dump(join(dir, 'e_ts.bin'), eTs, true);
}

/**
 * Cellar's join from the files: the feature columns joined onto the entity rows, in entity row order. The
 * entity rows are read first, as `getHistoricalFeatures` has them before it reads the feature source.
 */
async function cellarJoin(dir: string): Promise<Record<string, ValueColumn>> {
  const entities = readParquet(join(dir, 'entities.parquet'), { columns: ['driver_id', 'event_timestamp'] });
  const entityKey = seriesToKeyColumn(entities.getColumn('driver_id'), 'driver_id').values;
  const entityTs = columnToEpochMs(entities.getColumn('event_timestamp'), 'event_timestamp');
  const source = fileSource({ path: join(dir, 'features.parquet'), timestampField: 'ts' });
  const src = readSourceColumns(source, {
    joinKeys: ['driver_id'],
    features: { conv_rate: 'float64', acc_rate: 'float64', avg_daily_trips: 'float64' },
    viewName: 'driver_stats',
  });
  const index = pointInTimeJoin({
    entityKeys: [entityKey],
    entityTs,
    featureKeys: [src.keys.driver_id!],
    featureTs: src.ts,
    ttlMs: 0,
  });
  return gatherValues(src, FEATURES, index);
}

/** Child: cellar's join, timed from the files; writes the joined columns (entity order) for the check. */
async function runCellar(dir: string, outDir: string): Promise<ChildResult> {
  if (WARMUP > 0) {
    for (let i = 0; i < WARMUP; i++) await cellarJoin(join(dir, WARMUP_DIR));
    clearSourceColumnCache();
    await resetPeakRss();
  }
  const baseRssMb = process.memoryUsage().rss / 1e6 / 1.048576;
  const start = performance.now();
  const out = await cellarJoin(dir);
  const seconds = (performance.now() - start) / 1000;
  const peak = maxRssMb();
  for (const f of FEATURES) dump(join(outDir, `cellar_${f}.bin`), out[f]!.data as Float64Array, false);
  return { seconds, maxRssMb: peak, baseRssMb };
}

/** Child: DuckDB's ASOF LEFT JOIN, materialized into a table; then the result ordered by entity row to Parquet. */
async function runDuckdb(dir: string, outDir: string): Promise<ChildResult> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const instance = await DuckDBInstance.create(':memory:');
  const con = await instance.connect();
  const asof = (table: string, from: string) =>
    con.run(
      `CREATE TABLE ${table} AS SELECT e.rid, f.conv_rate, f.acc_rate, f.avg_daily_trips ` +
        `FROM read_parquet('${join(from, 'entities.parquet')}') e ` +
        `ASOF LEFT JOIN read_parquet('${join(from, 'features.parquet')}') f ` +
        `ON e.driver_id = f.driver_id AND e.event_timestamp >= f.ts`,
    );
  if (WARMUP > 0) {
    for (let i = 0; i < WARMUP; i++) {
      await asof('warmup', join(dir, WARMUP_DIR));
      await con.run('DROP TABLE warmup');
    }
    await resetPeakRss();
  }
  const start = performance.now();
  await asof('joined', dir);
  const seconds = (performance.now() - start) / 1000;
  await con.run(
    `COPY (SELECT ${FEATURES.join(', ')} FROM joined ORDER BY rid) TO '${join(outDir, 'duckdb.parquet')}' (FORMAT parquet)`,
  );
  con.closeSync();
  return { seconds, maxRssMb: maxRssMb() };
}

function child(kind: string, dir: string, outDir: string): Promise<ChildResult> {
  return kind === 'cellar' ? runCellar(dir, outDir) : runDuckdb(dir, outDir);
}

function spawnChild(
  kind: string,
  dir: string,
  outDir: string,
  nE: number,
  nF: number,
  warmup: number,
): ChildResult {
  const env = { ...process.env, BENCH_WARMUP: String(warmup) };
  const res =
    kind === 'pandas'
      ? spawnSync(PYTHON, [PANDAS_SCRIPT, dir, String(nE), String(nF), outDir], { encoding: 'utf8', env })
      : spawnSync(process.execPath, ['--expose-gc', process.argv[1]!, '--child', kind, dir, outDir], {
          encoding: 'utf8',
          env,
        });
  if (res.status !== 0) throw new Error(`${kind} failed (${res.status}): ${res.stderr || res.error}`);
  const last = res.stdout.trim().split('\n').pop()!;
  const parsed = JSON.parse(last) as ChildResult & { max_rss_mb?: number };
  return { ...parsed, maxRssMb: parsed.maxRssMb ?? parsed.max_rss_mb ?? NaN };
}

function readBin(path: string): Float64Array {
  const buf = readFileSync(path);
  return new Float64Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

/** Number of rows whose three values differ (NaN = null equals NaN). */
function mismatches(a: Float64Array[], b: Float64Array[]): number {
  let bad = 0;
  for (let i = 0; i < a[0]!.length; i++) {
    for (let j = 0; j < a.length; j++) {
      const x = a[j]![i]!;
      const y = b[j]![i]!;
      if (!(x === y || (x !== x && y !== y))) {
        bad++;
        break;
      }
    }
  }
  return bad + Math.abs(a[0]!.length - b[0]!.length);
}

function median(xs: number[]): number {
  const s = [...xs].sort((p, q) => p - q);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') {
    const r = await child(process.argv[3]!, process.argv[4]!, process.argv[5]!);
    console.log(JSON.stringify(r));
    return;
  }
  const nE = Number(process.argv[2] ?? 1_000_000);
  const nF = Number(process.argv[3] ?? 10_000_000);
  const nK = Number(process.argv[4] ?? 100_000);
  const repeats = Number(process.env.BENCH_REPEATS ?? 3);
  const dir = mkdtempSync(join(tmpdir(), 'cellar-pit-bench-'));
  try {
    console.log(
      `point-in-time join: ${nE} entity rows × ${nF} feature rows, ${nK} entities, 3 features, unsorted`,
    );
    // Both modes by default; BENCH_WARMUP=0 (cold) or =N (warm, N joins) picks one.
    const modes =
      process.env.BENCH_WARMUP === undefined
        ? [0, WARM_JOINS]
        : [Math.max(0, Number(process.env.BENCH_WARMUP) || 0)];
    let t = performance.now();
    generate(dir, nE, nF, nK);
    if (modes.some((m) => m > 0)) {
      const quarter = (x: number) => Math.max(1, Math.round(x / 4));
      mkdirSync(join(dir, WARMUP_DIR));
      generate(join(dir, WARMUP_DIR), quarter(nE), quarter(nF), quarter(nK), 7);
    }
    console.log(`data generated and written in ${((performance.now() - t) / 1000).toFixed(1)} s (${dir})`);
    const hasPandas = spawnSync(PYTHON, ['-c', 'import pandas'], { encoding: 'utf8' }).status === 0;
    const kinds = hasPandas ? ['cellar', 'duckdb', 'pandas'] : ['cellar', 'duckdb'];
    if (!hasPandas) console.log('pandas: not installed (apt-get install python3-pandas) — skipped');
    const inputMb = (nE * 16 + nF * 40) / 1e6;
    for (const warmup of modes) {
      console.log(
        warmup > 0
          ? `\n== warm: each contender first joins a separate quarter-size data set ${warmup}× untimed`
          : '\n== cold: each timed run is the first join of a new process',
      );
      const results: Record<string, ChildResult[]> = Object.fromEntries(kinds.map((k) => [k, []]));
      for (let r = 0; r < repeats; r++) {
        for (const kind of kinds) {
          t = performance.now();
          const res = spawnChild(kind, dir, dir, nE, nF, warmup);
          results[kind]!.push(res);
          console.log(
            `  run ${r + 1} ${kind.padEnd(6)} ${res.seconds.toFixed(3)} s  (peak RSS ${res.maxRssMb.toFixed(0)} MB)`,
          );
        }
      }
      const med = (k: string) => median(results[k]!.map((x) => x.seconds));
      const best = (k: string) => Math.min(...results[k]!.map((x) => x.seconds));
      const mode = warmup > 0 ? 'warm' : 'cold';
      console.log(`results, ${mode} (median of runs; best in brackets), each including reading the files:`);
      for (const k of kinds)
        console.log(`  ${k.padEnd(6)} ${med(k).toFixed(3)} s  [${best(k).toFixed(3)} s]`);
      console.log(
        `  ratio cellar/DuckDB, ${mode}: ${(med('cellar') / med('duckdb')).toFixed(2)}×  (goal ≤ 1.0×)`,
      );
      if (hasPandas)
        console.log(
          `  ratio cellar/pandas, ${mode}: ${(med('cellar') / med('pandas')).toFixed(2)}×  (goal ≤ 1.0×)`,
        );
      const cellarPeak = Math.max(...results.cellar!.map((x) => x.maxRssMb));
      const base = Math.max(...results.cellar!.map((x) => x.baseRssMb ?? 0));
      console.log(
        `  cellar peak RSS ${cellarPeak.toFixed(0)} MB vs input columns ${inputMb.toFixed(0)} MB = ` +
          `${(cellarPeak / inputMb).toFixed(2)}×  (goal at 1M × 10M: ≤ 3×; the process before the timed run: ${base.toFixed(0)} MB)`,
      );
      const cellar = FEATURES.map((f) => readBin(join(dir, `cellar_${f}.bin`)));
      const duck = readParquet(join(dir, 'duckdb.parquet'));
      const duckCols = FEATURES.map((f) =>
        Float64Array.from(duck.getColumn(f).toArray(), (v) => (v === null ? NaN : Number(v))),
      );
      const bad = mismatches(cellar, duckCols);
      console.log(`  identical to DuckDB: ${bad === 0 ? 'yes' : `NO (${bad} rows differ)`}`);
      if (hasPandas) {
        const pandas = FEATURES.map((f) => readBin(join(dir, `pandas_${f}.bin`)));
        const badP = mismatches(cellar, pandas);
        console.log(`  identical to pandas: ${badP === 0 ? 'yes' : `NO (${badP} rows differ)`}`);
      }
    }
  } finally {
    if (process.env.BENCH_KEEP) console.log(`data kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
