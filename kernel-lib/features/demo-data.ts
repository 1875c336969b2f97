/**
 * features/demo-data — a deterministic generator of the reference course's data: hourly `driver_stats` rows
 * (with created timestamps, some late backfills, corrected duplicates and out-of-order arrival) and
 * `driver_orders` labels whose `trip_completed` depends on the driver's point-in-time stats, so a model
 * trained on joined features learns something. Also writes the files and matching feature definitions.
 * Same options → identical rows on every machine (seeded mulberry32 and plain arithmetic only).
 */
import { join, resolve } from 'node:path';
import { pl } from '../data/polars.js';
import type { DataFrame } from 'nodejs-polars';
import { CellarError } from '../errors.js';
import { writeCsv, writeFileAtomic, writeParquet } from '../data/io.js';
import { mulberry32 } from '../ml/random.js';
import { toEpochMs } from './timestamps.js';
import { entity, featureService, featureView, fileSource, type FeatureDefinition } from './types.js';

/** One hourly stats row of a driver. */
export interface DriverStatsRow {
  datetime: Date;
  driver_id: number;
  conv_rate: number;
  acc_rate: number;
  avg_daily_trips: number;
  /** When the row was written (after `datetime`; much later for backfilled rows). */
  created: Date;
}

/** One order (label row). */
export interface DriverOrderRow {
  event_timestamp: Date;
  driver_id: number;
  trip_completed: number;
}

/** Options of {@link generateDriverData}. */
export interface DriverDataOptions {
  /** Number of drivers (ids from 1001); default 10. */
  drivers?: number;
  /** Days of hourly stats; default 14. */
  days?: number;
  /** Random seed; default 42. */
  seed?: number;
  /** First stats hour: Date, epoch ms or ISO-8601 with a zone; default 2022-09-01T00:00:00Z (or from `end`). */
  start?: Date | number | string;
  /**
   * Last stats hour instead of `start` (rounded down to the hour): e.g. `new Date()` for data that ends now,
   * so online features are fresh. The same `end` (and other options) gives the same rows.
   */
  end?: Date | number | string;
  /** Orders per driver and day; default 10. */
  ordersPerDriverPerDay?: number;
}

/** The generated tables. */
export interface DriverData {
  /** In arrival order (by `created`), so not sorted by `datetime`. */
  driverStats: DriverStatsRow[];
  /** Sorted by `event_timestamp`. */
  driverOrders: DriverOrderRow[];
}

const HOUR = 3_600_000;
const DAY = 86_400_000;
/** Share of stats rows written late (a backfill 1–3 days after their hour). */
const LATE_SHARE = 0.03;
/** Share of stats rows corrected later by a second row for the same hour. */
const DUPLICATE_SHARE = 0.02;

function positiveInt(name: string, value: unknown, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > max) {
    throw new CellarError(
      'INVALID_PARAMETER',
      `${name} must be an integer from 1 to ${max}, got ${String(value)}.`,
    );
  }
  return value;
}

const round = (x: number, digits: number): number => Math.round(x * 10 ** digits) / 10 ** digits;
const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));

/** The first stats hour (epoch ms) from `start`, or from `end` and `days`. */
function demoStartMs(opts: DriverDataOptions, days: number): number {
  if (opts.start !== undefined && opts.end !== undefined) {
    throw new CellarError('INVALID_PARAMETER', 'Give the demo data a start or an end, not both.');
  }
  try {
    if (opts.end !== undefined) {
      const endHour = Math.floor(toEpochMs(opts.end, { column: 'end' }) / HOUR) * HOUR;
      return endHour - (days * 24 - 1) * HOUR;
    }
    return Math.floor(toEpochMs(opts.start ?? '2022-09-01T00:00:00Z', { column: 'start' }) / HOUR) * HOUR;
  } catch (e) {
    throw new CellarError('INVALID_PARAMETER', (e as Error).message);
  }
}

/**
 * Generates the course's driver data deterministically.
 *
 * Stats: one row per driver and hour (conversion and acceptance rates drift around a per-driver level, average
 * daily trips likewise), created 1–15 minutes after its hour; about 3% are backfilled 1–3 days late and about
 * 2% get a corrected second row (same hour, later `created`). Orders: `ordersPerDriverPerDay` per driver and
 * day at random seconds; `trip_completed` is 1 with a probability that rises with the point-in-time conversion
 * and acceptance rates and falls with the daily trips (the values of the latest stats hour at or before the
 * order, corrections included — what `getHistoricalFeatures` returns).
 *
 * @throws CellarError INVALID_PARAMETER for non-integer or out-of-range counts or a zone-less start
 * @example
 * const { driverStats, driverOrders } = generateDriverData({ drivers: 5, days: 7, seed: 1 })
 */
export function generateDriverData(opts: DriverDataOptions = {}): DriverData {
  const drivers = positiveInt('drivers', opts.drivers ?? 10, 100_000);
  const days = positiveInt('days', opts.days ?? 14, 3_650);
  const perDay = positiveInt('ordersPerDriverPerDay', opts.ordersPerDriverPerDay ?? 10, 10_000);
  const seed = opts.seed ?? 42;
  if (!Number.isSafeInteger(seed))
    throw new CellarError('INVALID_PARAMETER', `seed must be an integer, got ${String(seed)}.`);
  const startMs = demoStartMs(opts, days);
  if (drivers * days * 24 > 50_000_000) {
    throw new CellarError(
      'INVALID_PARAMETER',
      `drivers × days × 24 = ${drivers * days * 24} stats rows is too many (max 50,000,000).`,
    );
  }
  const rand = mulberry32(seed);
  // Roughly normal noise from uniforms (Irwin–Hall), arithmetic only so every platform gives the same numbers.
  const noise = (): number => rand() + rand() + rand() - 1.5;
  const hours = days * 24;
  const stats: DriverStatsRow[] = [];
  // The values the labels see: per driver, per hour (the correction when there is one).
  const truth: Array<{ conv: Float64Array; acc: Float64Array; trips: Float64Array }> = [];
  for (let d = 0; d < drivers; d++) {
    const id = 1001 + d;
    const level = { conv: 0.2 + 0.7 * rand(), acc: 0.3 + 0.65 * rand(), trips: 50 + 950 * rand() };
    let conv = level.conv;
    let acc = level.acc;
    let trips = level.trips;
    const t = { conv: new Float64Array(hours), acc: new Float64Array(hours), trips: new Float64Array(hours) };
    for (let h = 0; h < hours; h++) {
      conv = clamp(conv + 0.2 * (level.conv - conv) + 0.08 * noise(), 0, 1);
      acc = clamp(acc + 0.2 * (level.acc - acc) + 0.08 * noise(), 0, 1);
      trips = clamp(trips + 0.2 * (level.trips - trips) + 60 * noise(), 0, 2000);
      const datetimeMs = startMs + h * HOUR;
      const late = rand() < LATE_SHARE;
      const createdMs =
        datetimeMs + (late ? DAY + Math.floor(rand() * 2 * DAY) : 60_000 + Math.floor(rand() * 14 * 60_000));
      const row: DriverStatsRow = {
        datetime: new Date(datetimeMs),
        driver_id: id,
        conv_rate: round(conv, 4),
        acc_rate: round(acc, 4),
        avg_daily_trips: Math.round(trips),
        created: new Date(Math.floor(createdMs / 1000) * 1000),
      };
      stats.push(row);
      let final = row;
      if (rand() < DUPLICATE_SHARE) {
        final = {
          ...row,
          conv_rate: round(clamp(row.conv_rate + 0.1 * noise(), 0, 1), 4),
          acc_rate: round(clamp(row.acc_rate + 0.1 * noise(), 0, 1), 4),
          avg_daily_trips: Math.max(0, row.avg_daily_trips + Math.round(20 * noise())),
          created: new Date(row.created.getTime() + (10 + Math.floor(rand() * 110)) * 60_000),
        };
        stats.push(final);
      }
      t.conv[h] = final.conv_rate;
      t.acc[h] = final.acc_rate;
      t.trips[h] = final.avg_daily_trips;
    }
    truth.push(t);
  }
  // Arrival order: by created time (late rows land far from their hour), ties by driver then hour.
  stats.sort(
    (a, b) =>
      a.created.getTime() - b.created.getTime() ||
      a.driver_id - b.driver_id ||
      a.datetime.getTime() - b.datetime.getTime(),
  );

  const orders: DriverOrderRow[] = [];
  for (let day = 0; day < days; day++) {
    for (let d = 0; d < drivers; d++) {
      const t = truth[d]!;
      for (let k = 0; k < perDay; k++) {
        const ms = startMs + day * DAY + Math.floor(rand() * 86_400) * 1000;
        const h = Math.floor((ms - startMs) / HOUR);
        const logit = 1.2 + 2.5 * (t.conv[h]! - 0.5) + 2 * (t.acc[h]! - 0.6) - 0.004 * (t.trips[h]! - 500);
        const p = 1 / (1 + Math.exp(-logit));
        orders.push({
          event_timestamp: new Date(ms),
          driver_id: 1001 + d,
          trip_completed: rand() < p ? 1 : 0,
        });
      }
    }
  }
  orders.sort(
    (a, b) => a.event_timestamp.getTime() - b.event_timestamp.getTime() || a.driver_id - b.driver_id,
  );
  return { driverStats: stats, driverOrders: orders };
}

/** The stats rows as a polars DataFrame (Datetime(ms) UTC times, Int64 ids and trips, Float64 rates). */
export function driverStatsFrame(rows: readonly DriverStatsRow[]): DataFrame {
  return pl.DataFrame([
    pl.Series(
      'datetime',
      rows.map((r) => r.datetime),
      pl.Datetime('ms'),
    ),
    pl.Series(
      'driver_id',
      rows.map((r) => r.driver_id),
      pl.Int64,
    ),
    pl.Series(
      'conv_rate',
      Float64Array.from(rows, (r) => r.conv_rate),
      pl.Float64,
    ),
    pl.Series(
      'acc_rate',
      Float64Array.from(rows, (r) => r.acc_rate),
      pl.Float64,
    ),
    pl.Series(
      'avg_daily_trips',
      rows.map((r) => r.avg_daily_trips),
      pl.Int64,
    ),
    pl.Series(
      'created',
      rows.map((r) => r.created),
      pl.Datetime('ms'),
    ),
  ]);
}

/** The order rows as a polars DataFrame. */
export function driverOrdersFrame(rows: readonly DriverOrderRow[]): DataFrame {
  return pl.DataFrame([
    pl.Series(
      'event_timestamp',
      rows.map((r) => r.event_timestamp),
      pl.Datetime('ms'),
    ),
    pl.Series(
      'driver_id',
      rows.map((r) => r.driver_id),
      pl.Int64,
    ),
    pl.Series(
      'trip_completed',
      rows.map((r) => r.trip_completed),
      pl.Int64,
    ),
  ]);
}

/**
 * The course's feature definitions over a driver_stats file: entity `driver` (join key `driver_id`), feature
 * view `driver_stats` (conv_rate, acc_rate, avg_daily_trips; timestamp `datetime`, created `created`) and
 * feature service `driver_activity` with all three features.
 *
 * @example
 * await store.apply(driverDefinitions('data/driver_stats.parquet'))
 */
export function driverDefinitions(
  statsPath: string,
  opts: { ttl?: number | string } = {},
): FeatureDefinition[] {
  const driver = entity({
    name: 'driver',
    joinKeys: ['driver_id'],
    description: 'A driver of the ride-hailing course data',
  });
  const stats = featureView({
    name: 'driver_stats',
    entities: [driver],
    schema: { conv_rate: 'float64', acc_rate: 'float64', avg_daily_trips: 'int64' },
    ttl: opts.ttl ?? '1d',
    source: fileSource({ path: statsPath, timestampField: 'datetime', createdTimestampColumn: 'created' }),
  });
  return [driver, stats, featureService({ name: 'driver_activity', features: [stats] })];
}

/** Options of {@link writeDemoData}. */
export interface WriteDemoDataOptions extends DriverDataOptions {
  /** Also write driver_stats.csv and driver_orders.csv. */
  csv?: boolean;
}

/** What {@link writeDemoData} wrote (absolute paths). */
export interface DemoDataFiles {
  driverStats: string;
  driverOrders: string;
  driverStatsCsv?: string;
  driverOrdersCsv?: string;
  /** `features.json`: the definitions of {@link driverDefinitions} over `driverStats`, for `cellar features apply`. */
  definitions: string;
  /** `demo-data.json`: the options the data was generated with, including its first and last stats hour. */
  manifest: string;
  rows: { driverStats: number; driverOrders: number };
}

/**
 * Generates the demo data and writes `driver_stats.parquet`, `driver_orders.parquet` (and CSVs with `csv`) and
 * `features.json` into `dir` (created if needed), each atomically. Returns the paths.
 *
 * @throws CellarError INVALID_PARAMETER for bad options; INVALID_PATH when `dir` cannot be written
 * @example
 * const files = writeDemoData('data', { drivers: 5, days: 30, seed: 42 })
 */
export function writeDemoData(dir: string, opts: WriteDemoDataOptions = {}): DemoDataFiles {
  if (typeof dir !== 'string' || dir === '')
    throw new CellarError('INVALID_PARAMETER', 'writeDemoData needs a directory to write to.');
  const { driverStats, driverOrders } = generateDriverData(opts);
  const root = resolve(dir);
  const stats = driverStatsFrame(driverStats);
  const orders = driverOrdersFrame(driverOrders);
  const files: DemoDataFiles = {
    driverStats: join(root, 'driver_stats.parquet'),
    driverOrders: join(root, 'driver_orders.parquet'),
    definitions: join(root, 'features.json'),
    manifest: join(root, 'demo-data.json'),
    rows: { driverStats: driverStats.length, driverOrders: driverOrders.length },
  };
  const days = opts.days ?? 14;
  const firstHour = demoStartMs(opts, days);
  writeParquet(stats, files.driverStats);
  writeParquet(orders, files.driverOrders);
  if (opts.csv) {
    files.driverStatsCsv = join(root, 'driver_stats.csv');
    files.driverOrdersCsv = join(root, 'driver_orders.csv');
    // Zoned ISO strings, so the files mean the same instants wherever they are read.
    writeCsv(stats.withColumns(...isoColumns(stats, ['datetime', 'created'])), files.driverStatsCsv);
    writeCsv(orders.withColumns(...isoColumns(orders, ['event_timestamp'])), files.driverOrdersCsv);
  }
  writeFileAtomic(files.definitions, JSON.stringify(driverDefinitions(files.driverStats), null, 2) + '\n');
  // The anchor is stamped beside the data: the same manifest regenerates the same rows.
  const manifest = {
    seed: opts.seed ?? 42,
    drivers: opts.drivers ?? 10,
    days,
    ordersPerDriverPerDay: opts.ordersPerDriverPerDay ?? 10,
    firstStatsHour: new Date(firstHour).toISOString(),
    lastStatsHour: new Date(firstHour + (days * 24 - 1) * HOUR).toISOString(),
    rows: files.rows,
  };
  writeFileAtomic(files.manifest, JSON.stringify(manifest, null, 2) + '\n');
  return files;
}

function isoColumns(df: DataFrame, names: string[]): ReturnType<typeof pl.Series>[] {
  return names.map((n) =>
    pl.Series(
      n,
      (df.getColumn(n).toArray() as unknown as Date[]).map((d) => new Date(d.getTime()).toISOString()),
      pl.Utf8,
    ),
  );
}
