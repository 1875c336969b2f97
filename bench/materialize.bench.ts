/**
 * bench/materialize — `store.materialize` of N entities × 10 float64 features (two source rows per entity, the
 * newer must win) from a Parquet file into the embedded online store, through the public FeatureStore API, side
 * by side with its floor: a plain 10-column SQLite table (entity key primary key + event ts + 10 REAL columns)
 * built with better-sqlite3 from the same latest rows (reading them from the Parquet file with the same reader
 * is counted too; rows inserted in key order, one transaction). Each round materializes into a fresh store and builds the plain table on a fresh file,
 * interleaved, at two sizes (default 10K and 100K entities) to check linearity.
 * Goals: cellar's rate ≥ 50 % of the plain build's; time per row at the large size ≤ 1.5× the small size's.
 *
 * Run: `npm run bench -- materialize [--small=10000] [--large=100000] [--rounds=5] [--quick]`
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pl from 'nodejs-polars';
import { writeParquet } from '../kernel-lib/data/io.js';
import { entity, featureStore, featureView, fileSource } from '../kernel-lib/features/index.js';
import { encodeEntityKey } from '../kernel-lib/features/stores.js';
import { mulberry32 } from '../kernel-lib/ml/random.js';
import { closeAllEmbedded } from '../kernel-lib/store/open.js';
import { openDatabase } from '../kernel-lib/store/sqlite.js';
import { emitResult, machineLoad, median, medianRange, numArg, type BenchRow } from './lib/report.js';

const FEATURES = Array.from({ length: 10 }, (_, i) => `f${i}`);
const HOUR = 3_600_000;

function writeSource(dir: string, entities: number, now: number): string {
  const rand = mulberry32(entities);
  const ids = new Array<number>(2 * entities);
  const ts = new Array<Date>(2 * entities);
  const cols = FEATURES.map(() => new Float64Array(2 * entities));
  for (let d = 0, i = 0; d < entities; d++) {
    for (let r = 0; r < 2; r++, i++) {
      ids[i] = 1000 + d;
      ts[i] = new Date(now - HOUR - Math.floor(rand() * 24 * HOUR));
      for (const c of cols) c[i] = rand();
    }
  }
  const path = join(dir, `stats-${entities}.parquet`);
  writeParquet(
    pl.DataFrame({
      driver_id: ids,
      datetime: ts,
      ...Object.fromEntries(FEATURES.map((f, i) => [f, cols[i]!])),
    }),
    path,
  );
  return path;
}

async function cellarRound(dir: string, source: string, now: number): Promise<number> {
  const root = mkdtempSync(join(dir, 'store-'));
  const store = featureStore(join(root, '.cellar'));
  const driver = entity({ name: 'driver', joinKeys: ['driver_id'] });
  const stats = featureView({
    name: 'stats',
    entities: [driver],
    ttl: '2d',
    source: fileSource({ path: source, timestampField: 'datetime' }),
    schema: Object.fromEntries(FEATURES.map((f) => [f, 'float64' as const])),
  });
  await store.apply([driver, stats]);
  const t0 = performance.now();
  const [res] = await store.materialize({ start: new Date(now - 2 * 24 * HOUR), end: new Date(now) });
  const ms = performance.now() - t0;
  await store.close();
  closeAllEmbedded();
  rmSync(root, { recursive: true, force: true });
  if (!res || res.rows === 0) throw new Error('materialize wrote nothing');
  return ms;
}

/** The floor: the same latest rows (picked by polars from the same file) into a plain 10-column table. */
function plainRound(dir: string, source: string): number {
  const root = mkdtempSync(join(dir, 'plain-'));
  const db = openDatabase(join(root, '.cellar'));
  const t0 = performance.now();
  const df = pl
    .readParquet(source)
    .sort('datetime', true)
    .unique({ subset: ['driver_id'], keep: 'first', maintainOrder: false })
    .sort('driver_id'); // key order: the plain build gets the same B-tree locality cellar's write uses
  const ids = df.getColumn('driver_id').toArray() as number[];
  const ts = df.getColumn('datetime').toArray() as unknown as Date[];
  const cols = FEATURES.map((f) => df.getColumn(f).toArray() as number[]);
  db.exec(
    `CREATE TABLE plain (entity_key TEXT PRIMARY KEY, event_ts INTEGER NOT NULL, ${FEATURES.map((f) => `${f} REAL`).join(', ')})`,
  );
  const insert = db.prepare(`INSERT INTO plain VALUES (?, ?, ${FEATURES.map(() => '?').join(', ')})`);
  db.transaction(() => {
    const args: unknown[] = new Array(2 + FEATURES.length);
    for (let i = 0; i < ids.length; i++) {
      args[0] = encodeEntityKey(['driver_id'], [ids[i]!]);
      args[1] = ts[i]!.getTime();
      for (let j = 0; j < cols.length; j++) args[2 + j] = cols[j]![i]!;
      insert.run(args);
    }
  }).immediate();
  const ms = performance.now() - t0;
  db.close();
  rmSync(root, { recursive: true, force: true });
  return ms;
}

async function main(): Promise<void> {
  const small = numArg('small', 10_000, 2_000);
  const large = numArg('large', 100_000, 20_000);
  const rounds = numArg('rounds', 5, 3);
  const dir = mkdtempSync(join(tmpdir(), 'cellar-mat-bench-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const now = Date.now();
  const sizes = [small, large];
  const sources = sizes.map((n) => writeSource(dir, n, now));
  const first = await cellarRound(dir, sources[1]!, now); // first call in this process (also warms the readers)
  plainRound(dir, sources[0]!);
  const times = sizes.map(() => ({ cellar: [] as number[], plain: [] as number[] }));
  for (let r = 0; r < rounds; r++) {
    for (let s = 0; s < sizes.length; s++) {
      if (r % 2 === 0) {
        times[s]!.cellar.push(await cellarRound(dir, sources[s]!, now));
        times[s]!.plain.push(plainRound(dir, sources[s]!));
      } else {
        times[s]!.plain.push(plainRound(dir, sources[s]!));
        times[s]!.cellar.push(await cellarRound(dir, sources[s]!, now));
      }
    }
  }
  console.log(
    `== materialize N entities × ${FEATURES.length} features (2 source rows each), ${rounds} interleaved rounds; ${machineLoad()}`,
  );
  console.log(
    `first materialize in a fresh process (${large.toLocaleString('en')} entities): ${first.toFixed(0)} ms`,
  );
  const rows: BenchRow[] = [];
  const perRow: number[] = [];
  sizes.forEach((n, s) => {
    const c = median(times[s]!.cellar);
    const p = median(times[s]!.plain);
    perRow.push(c / n);
    const rateRatio = p / c;
    console.log(
      `${n.toLocaleString('en').padStart(9)} entities: cellar materialize ${medianRange(times[s]!.cellar, 0, ' ms')}, ` +
        `plain 10-column table ${medianRange(times[s]!.plain, 0, ' ms')}; rate cellar/plain ${(rateRatio * 100).toFixed(0)} % (goal ≥ 50 %)`,
    );
    rows.push({
      figure: `materialize ${n.toLocaleString('en')} entities × 10, warm median`,
      value: c,
      unit: 'ms',
      peer: 'plain 10-column table build',
      ratio: c / p,
      goal: 'rate ≥ 50 % of plain (ratio ≤ 2)',
      met: c / p <= 2,
    });
  });
  const growth = perRow[1]! / perRow[0]!;
  console.log(
    `time per row, ${large.toLocaleString('en')} vs ${small.toLocaleString('en')}: ${growth.toFixed(2)}× (linear = 1; goal ≤ 1.5)`,
  );
  rows.push(
    {
      figure: `materialize per-row time ${large} vs ${small}`,
      value: growth,
      unit: '×',
      goal: '≤ 1.5 (linear)',
      met: growth <= 1.5,
    },
    {
      figure: `materialize ${large.toLocaleString('en')}, first call in a fresh process`,
      value: first,
      unit: 'ms',
    },
  );
  emitResult('materialize', rows, { size: `${small} and ${large} entities × 10 features, ${rounds} rounds` });
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
