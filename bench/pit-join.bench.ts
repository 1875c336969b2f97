/**
 * bench/pit-join — cellar's point-in-time join through the public API (`featureStore().getHistoricalFeatures`
 * on a registered view whose source is a Parquet file, entity rows read with cellar's `readParquet`), side by
 * side with peers doing the same work on the same seeded files:
 *   duckdb-rules — DuckDB (@duckdb/node-api) with the same rules: feature rows reduced to the latest created per
 *                  (driver, ts) (`arg_max(…, created)`), `ASOF LEFT JOIN`, values older than the ttl nulled;
 *   duckdb-asof  — plain DuckDB `ASOF LEFT JOIN` (no ttl, no created tie-break: less work, different answers);
 *   pandas       — `merge_asof(by, tolerance=ttl)` on frames sorted by (ts, created) (Debian pandas has no
 *                  Parquet engine: it reads raw numpy arrays, a faster read than Parquet; the read is timed and
 *                  counted, and also printed on its own).
 * The data has ttl edges (entity times exactly at feature ts + ttl, and 1 ms past it), exact-time matches and
 * duplicate (driver, ts) feature rows told apart by their created timestamp; 5 % of the drivers are unknown.
 * cellar, duckdb-rules and pandas must give identical values (checked row by row).
 *
 * Each contender runs in a fresh child process per round: its first join there ("cold", what a notebook pays),
 * then the same join again ("warm": cellar's file cache emptied, DuckDB's table dropped, pandas re-reads).
 * Rounds are interleaved (contender order rotates); medians with their range are printed, never the best.
 * Peak RSS (VmHWM of the cold run, process included) is compared with the input columns' size.
 * Goals (issue 9, at 1M × 10M): ≤ 0.5× duckdb-rules, ≤ 1.0× duckdb-asof, ≤ 0.7× pandas, peak RSS ≤ 2× input.
 *
 * Run: `npm run bench -- pit-join [--labels=200000] [--features=2000000] [--entities=20000] [--rounds=5]
 * [--quick]`; the issue's size: `--labels=1000000 --features=10000000 --entities=100000`. BENCH_KEEP=1 keeps
 * the data.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pl from 'nodejs-polars';
import { readParquet, writeParquet } from '../kernel-lib/data/io.js';
import { clearSourceColumnCache } from '../kernel-lib/features/columns.js';
import { entity, featureStore, featureView, fileSource } from '../kernel-lib/features/index.js';
import { mulberry32 } from '../kernel-lib/ml/random.js';
import { closeAllEmbedded } from '../kernel-lib/store/open.js';
import { emitResult, machineLoad, median, medianRange, numArg, type BenchRow } from './lib/report.js';

const FEATURES = ['conv_rate', 'acc_rate', 'avg_daily_trips'];
const PYTHON = '/usr/bin/python3';
const HOUR = 3_600_000;
const TTL_MS = 90 * 60_000;
const T0 = Date.UTC(2022, 0, 1);
const CONTENDERS = ['cellar', 'duckdb-rules', 'duckdb-asof', 'pandas'] as const;
type Contender = (typeof CONTENDERS)[number];
const PANDAS_SCRIPT = join(
  dirname(process.argv[1] ?? '.'),
  '..',
  '..',
  '..',
  'bench',
  'pandas_merge_asof.py',
);

interface ChildResult {
  cold: number;
  warm: number;
  maxRssMb: number;
  baseRssMb: number;
  coldLoad?: number;
}

function rssMb(field: 'VmHWM' | 'VmRSS'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Writes a column as raw little-endian int64 (from integral doubles) or float64. */
function dump(path: string, values: Float64Array, asInt: boolean): void {
  if (!asInt) {
    writeFileSync(path, new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
    return;
  }
  const big = new BigInt64Array(values.length);
  for (let i = 0; i < values.length; i++) big[i] = BigInt(values[i]!);
  writeFileSync(path, new Uint8Array(big.buffer));
}

/** Seeded data with ttl edges, exact matches and duplicate (driver, ts) rows; written unsorted. */
function generate(dir: string, nE: number, nF: number, nK: number): void {
  const rand = mulberry32(20261202);
  // Feature row i: driver i % nK, hour slot ⌊i / nK⌋ (+ jitter); 10 % repeat the ts of the driver's previous slot.
  const tsOf = new Float64Array(nF);
  for (let i = 0; i < nF; i++) {
    tsOf[i] =
      i >= nK && rand() < 0.1
        ? tsOf[i - nK]!
        : T0 + Math.floor(i / nK) * HOUR + Math.floor(rand() * 0.9 * HOUR);
  }
  const order = new Int32Array(nF);
  for (let i = 0; i < nF; i++) order[i] = i;
  for (let i = nF - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  const fKey = new Float64Array(nF);
  const fTs = new Float64Array(nF);
  const fCreated = new Float64Array(nF);
  const values = FEATURES.map(() => new Float64Array(nF));
  for (let r = 0; r < nF; r++) {
    const i = order[r]!;
    fKey[r] = 1000 + (i % nK);
    fTs[r] = tsOf[i]!;
    fCreated[r] = T0 + 240 * HOUR + r; // unique, unrelated to the row's slot
    values[0]![r] = rand();
    values[1]![r] = rand();
    values[2]![r] = Math.floor(rand() * 1000);
  }
  const eKey = new Float64Array(nE);
  const eTs = new Float64Array(nE);
  const span = (Math.ceil(nF / nK) + 4) * HOUR;
  for (let r = 0; r < nE; r++) {
    const u = rand();
    if (u < 0.7) {
      eKey[r] = 1000 + Math.floor(rand() * nK * 1.05); // 5 % unknown drivers
      eTs[r] = T0 - 2 * HOUR + Math.floor(rand() * span);
    } else {
      // Edges: exactly a feature row's ts, exactly ts + ttl (inside), ts + ttl + 1 ms (outside unless newer).
      const i = Math.floor(rand() * nF);
      eKey[r] = 1000 + (i % nK);
      eTs[r] = tsOf[i]! + (u < 0.8 ? 0 : u < 0.9 ? TTL_MS : TTL_MS + 1);
    }
  }
  const time = (name: string, v: Float64Array) => pl.Series(name, v).cast(pl.Int64).cast(pl.Datetime('ms'));
  writeParquet(
    pl.DataFrame([
      pl.Series('driver_id', fKey).cast(pl.Int64),
      time('ts', fTs),
      time('created', fCreated),
      ...FEATURES.map((f, j) => pl.Series(f, values[j]!)),
    ]),
    join(dir, 'features.parquet'),
  );
  writeParquet(
    pl.DataFrame([
      pl.Series(
        'rid',
        Int32Array.from({ length: nE }, (_, i) => i),
      ),
      pl.Series('driver_id', eKey).cast(pl.Int64),
      time('event_timestamp', eTs),
    ]),
    join(dir, 'entities.parquet'),
  );
  dump(join(dir, 'f_driver_id.bin'), fKey, true);
  dump(join(dir, 'f_ts.bin'), fTs, true);
  dump(join(dir, 'f_created.bin'), fCreated, true);
  FEATURES.forEach((f, j) => dump(join(dir, `f_${f}.bin`), values[j]!, false));
  dump(join(dir, 'e_driver_id.bin'), eKey, true);
  dump(join(dir, 'e_ts.bin'), eTs, true);
}

/** Child: cellar through the public API, from the files; writes the joined columns (entity order). */
async function runCellar(dir: string, outDir: string): Promise<ChildResult> {
  const project = mkdtempSync(join(outDir, 'store-'));
  const store = featureStore(join(project, '.cellar'));
  const driver = entity({ name: 'driver', joinKeys: ['driver_id'] });
  const stats = featureView({
    name: 'driver_stats',
    entities: [driver],
    ttl: TTL_MS,
    source: fileSource({
      path: join(dir, 'features.parquet'),
      timestampField: 'ts',
      createdTimestampColumn: 'created',
    }),
    schema: { conv_rate: 'float64', acc_rate: 'float64', avg_daily_trips: 'float64' },
  });
  await store.apply([driver, stats]);
  const refs = FEATURES.map((f) => `driver_stats:${f}`);
  const join1 = async (): Promise<pl.DataFrame> => {
    const entityDf = readParquet(join(dir, 'entities.parquet'));
    return store.getHistoricalFeatures({ entityDf, features: refs }).toDataFrame();
  };
  const baseRssMb = rssMb('VmRSS');
  let t = performance.now();
  const out = await join1();
  const cold = (performance.now() - t) / 1000;
  const maxRssMb = rssMb('VmHWM');
  for (const f of FEATURES) {
    const col = Float64Array.from(out.getColumn(f).toArray() as Array<number | null>, (v) => v ?? NaN);
    dump(join(outDir, `cellar_${f}.bin`), col, false);
  }
  clearSourceColumnCache();
  t = performance.now();
  await join1();
  const warm = (performance.now() - t) / 1000;
  await store.close();
  closeAllEmbedded();
  rmSync(project, { recursive: true, force: true });
  return { cold, warm, maxRssMb, baseRssMb };
}

/** Child: DuckDB, with the same rules or plain ASOF; the rules result written ordered by entity row. */
async function runDuckdb(
  kind: 'duckdb-rules' | 'duckdb-asof',
  dir: string,
  outDir: string,
): Promise<ChildResult> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const instance = await DuckDBInstance.create(':memory:');
  const con = await instance.connect();
  const e = `read_parquet('${join(dir, 'entities.parquet')}')`;
  const f = `read_parquet('${join(dir, 'features.parquet')}')`;
  const sql =
    kind === 'duckdb-asof'
      ? `CREATE TABLE joined AS SELECT e.rid, ${FEATURES.map((c) => `f.${c}`).join(', ')} FROM ${e} e ` +
        `ASOF LEFT JOIN ${f} f ON e.driver_id = f.driver_id AND e.event_timestamp >= f.ts`
      : `CREATE TABLE joined AS WITH latest AS (SELECT driver_id, ts, ` +
        `${FEATURES.map((c) => `arg_max(${c}, created) AS ${c}`).join(', ')} FROM ${f} GROUP BY driver_id, ts) ` +
        `SELECT e.rid, ${FEATURES.map((c) => `CASE WHEN f.ts >= e.event_timestamp - INTERVAL '${TTL_MS} milliseconds' THEN f.${c} END AS ${c}`).join(', ')} ` +
        `FROM ${e} e ASOF LEFT JOIN latest f ON e.driver_id = f.driver_id AND e.event_timestamp >= f.ts`;
  const baseRssMb = rssMb('VmRSS');
  let t = performance.now();
  await con.run(sql);
  const cold = (performance.now() - t) / 1000;
  const maxRssMb = rssMb('VmHWM');
  if (kind === 'duckdb-rules') {
    await con.run(
      `COPY (SELECT ${FEATURES.join(', ')} FROM joined ORDER BY rid) TO '${join(outDir, 'duckdb.parquet')}' (FORMAT parquet)`,
    );
  }
  await con.run('DROP TABLE joined');
  t = performance.now();
  await con.run(sql);
  const warm = (performance.now() - t) / 1000;
  con.closeSync();
  return { cold, warm, maxRssMb, baseRssMb };
}

function spawnChild(kind: Contender, dir: string, nE: number, nF: number): ChildResult {
  const res =
    kind === 'pandas'
      ? spawnSync(PYTHON, [PANDAS_SCRIPT, dir, String(nE), String(nF), String(TTL_MS), dir], {
          encoding: 'utf8',
        })
      : spawnSync(process.execPath, [process.argv[1]!, '--child', kind, dir], { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`${kind} failed (${res.status}): ${res.stderr || String(res.error)}`);
  const p = JSON.parse(res.stdout.trim().split('\n').pop()!) as ChildResult & {
    max_rss_mb?: number;
    base_rss_mb?: number;
    cold_load?: number;
  };
  return {
    cold: p.cold,
    warm: p.warm,
    maxRssMb: p.maxRssMb ?? p.max_rss_mb ?? NaN,
    baseRssMb: p.baseRssMb ?? p.base_rss_mb ?? NaN,
    ...(p.cold_load === undefined ? {} : { coldLoad: p.cold_load }),
  };
}

function readBin(path: string): Float64Array {
  const buf = readFileSync(path);
  return new Float64Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

/** Rows whose values differ (NaN = null equals NaN). */
function mismatches(a: Float64Array[], b: Float64Array[]): number {
  let bad = Math.abs(a[0]!.length - b[0]!.length);
  const n = Math.min(a[0]!.length, b[0]!.length);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < a.length; j++) {
      const x = a[j]![i]!;
      const y = b[j]![i]!;
      if (!(x === y || (x !== x && y !== y))) {
        bad++;
        break;
      }
    }
  }
  return bad;
}

function check(dir: string): void {
  const cellar = FEATURES.map((f) => readBin(join(dir, `cellar_${f}.bin`)));
  const duck = readParquet(join(dir, 'duckdb.parquet'));
  const duckCols = FEATURES.map((f) =>
    Float64Array.from(duck.getColumn(f).toArray() as Array<number | null>, (v) =>
      v === null ? NaN : Number(v),
    ),
  );
  const pandas = FEATURES.map((f) => readBin(join(dir, `pandas_${f}.bin`)));
  const matched = cellar[0]!.reduce((n, v) => n + (v === v ? 1 : 0), 0);
  const bd = mismatches(cellar, duckCols);
  const bp = mismatches(cellar, pandas);
  console.log(
    `values: ${matched} of ${cellar[0]!.length} entity rows matched; identical to duckdb-rules: ${bd === 0 ? 'yes' : `NO (${bd} rows differ)`}; ` +
      `to pandas: ${bp === 0 ? 'yes' : `NO (${bp} rows differ)`}`,
  );
  if (bd !== 0 || bp !== 0) process.exitCode = 1;
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') {
    const kind = process.argv[3] as Contender;
    const dir = process.argv[4]!;
    const r =
      kind === 'cellar' ? await runCellar(dir, dir) : await runDuckdb(kind as 'duckdb-rules', dir, dir);
    console.log(JSON.stringify(r));
    return;
  }
  const nE = numArg('labels', 200_000, 50_000);
  const nF = numArg('features', 2_000_000, 500_000);
  const nK = numArg('entities', 20_000, 5_000);
  const rounds = numArg('rounds', 5, 3);
  const dir = mkdtempSync(join(tmpdir(), 'cellar-pit-bench-'));
  mkdirSync(dir, { recursive: true });
  try {
    const size = `${nE.toLocaleString('en')} entity rows × ${nF.toLocaleString('en')} feature rows, ${nK.toLocaleString('en')} drivers, 3 features, ttl 90 min`;
    console.log(`point-in-time join: ${size}, unsorted Parquet; ${rounds} interleaved rounds`);
    let t = performance.now();
    generate(dir, nE, nF, nK);
    console.log(`data written in ${((performance.now() - t) / 1000).toFixed(1)} s (${dir})`);
    const results = Object.fromEntries(CONTENDERS.map((k) => [k, [] as ChildResult[]])) as Record<
      Contender,
      ChildResult[]
    >;
    for (let r = 0; r < rounds; r++) {
      for (let j = 0; j < CONTENDERS.length; j++) {
        const kind = CONTENDERS[(j + r) % CONTENDERS.length]!;
        t = performance.now();
        const res = spawnChild(kind, dir, nE, nF);
        results[kind].push(res);
        console.log(
          `  round ${r + 1} ${kind.padEnd(12)} cold ${res.cold.toFixed(3)} s, warm ${res.warm.toFixed(3)} s` +
            `${res.coldLoad === undefined ? '' : ` (of which reading the arrays ${res.coldLoad.toFixed(3)} s)`}, peak RSS ${res.maxRssMb.toFixed(0)} MB`,
        );
      }
      if (r === 0) check(dir);
    }
    console.log(`\n== ${size}; medians (range) of ${rounds} fresh processes; ${machineLoad()}`);
    const med = (k: Contender, m: 'cold' | 'warm'): number => median(results[k].map((x) => x[m]));
    for (const k of CONTENDERS) {
      console.log(
        `  ${k.padEnd(12)} cold ${medianRange(
          results[k].map((x) => x.cold),
          3,
          ' s',
        )}, warm ${medianRange(
          results[k].map((x) => x.warm),
          3,
          ' s',
        )}`,
      );
    }
    const loads = results.pandas.map((x) => x.coldLoad ?? NaN);
    console.log(`  (pandas' array read, counted above: ${medianRange(loads, 3, ' s')})`);
    const rows: BenchRow[] = [];
    const goals: Array<[Contender, number, string]> = [
      ['duckdb-rules', 0.5, 'DuckDB, same ttl + created rules'],
      ['duckdb-asof', 1.0, 'DuckDB plain ASOF (less work)'],
      ['pandas', 0.7, 'pandas merge_asof + tolerance, read counted'],
    ];
    for (const m of ['warm', 'cold'] as const) {
      const c = med('cellar', m);
      for (const [k, goal, peer] of goals) {
        const ratio = c / med(k, m);
        console.log(`  ratio cellar / ${k}, ${m}: ${ratio.toFixed(2)}×  (goal ≤ ${goal}×)`);
        rows.push({
          figure: `join ${nE / 1e6}M×${nF / 1e6}M, ${m === 'warm' ? 'warm median' : 'first join in a fresh process'}`,
          value: c * 1000,
          unit: 'ms',
          peer,
          ratio,
          goal: `≤ ${goal}×`,
          met: ratio <= goal,
        });
      }
    }
    const inputMb = (nE * 16 + nF * 48) / 1048576;
    const peak = median(results.cellar.map((x) => x.maxRssMb));
    const base = median(results.cellar.map((x) => x.baseRssMb));
    const duckPeak = median(results['duckdb-rules'].map((x) => x.maxRssMb));
    const pandasPeak = median(results.pandas.map((x) => x.maxRssMb));
    console.log(
      `  peak RSS: cellar ${peak.toFixed(0)} MB (process before the join ${base.toFixed(0)} MB), duckdb-rules ${duckPeak.toFixed(0)} MB, ` +
        `pandas ${pandasPeak.toFixed(0)} MB; input columns ${inputMb.toFixed(0)} MB; cellar / input ${(peak / inputMb).toFixed(2)}× (goal ≤ 2×)`,
    );
    rows.push({
      figure: `join peak RSS / input columns (${inputMb.toFixed(0)} MB)`,
      value: peak,
      unit: 'MB',
      peer: 'input columns',
      ratio: peak / inputMb,
      goal: '≤ 2×',
      met: peak / inputMb <= 2,
    });
    rows.push({
      figure: 'join RSS growth (peak − process before the join) / input columns',
      value: peak - base,
      unit: 'MB',
      peer: 'input columns',
      ratio: (peak - base) / inputMb,
    });
    emitResult('pit-join', rows, { size });
  } finally {
    if (process.env.BENCH_KEEP) console.log(`data kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
