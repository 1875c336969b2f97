/** The course's demo data: deterministic, hourly stats with late/duplicate/out-of-order rows, labels that depend on the stats. */
import { readFileSync } from 'node:fs';
import { readCsv, readParquet } from '../../../kernel-lib/data/io.js';
import { toRows } from '../../../kernel-lib/data/frame.js';
import {
  driverDefinitions,
  generateDriverData,
  writeDemoData,
} from '../../../kernel-lib/features/demo-data.js';
import { normalizeDefinition } from '../../../kernel-lib/features/registry.js';
import { cleanupTmp, makeTmp } from '../../helpers/tmp.js';

afterEach(cleanupTmp);

const HOUR = 3_600_000;

test('the same options give identical rows; another seed gives other rows', () => {
  const a = generateDriverData({ drivers: 4, days: 3, seed: 7 });
  const b = generateDriverData({ drivers: 4, days: 3, seed: 7 });
  expect(JSON.stringify(b)).toBe(JSON.stringify(a));
  const c = generateDriverData({ drivers: 4, days: 3, seed: 8 });
  expect(JSON.stringify(c)).not.toBe(JSON.stringify(a));
});

test('driver_stats: one row per driver and hour, plus corrections; late and out-of-order rows', () => {
  const { driverStats } = generateDriverData({
    drivers: 6,
    days: 10,
    seed: 42,
    start: '2022-09-01T00:00:00Z',
  });
  const start = Date.parse('2022-09-01T00:00:00Z');
  const hours = new Map<string, number>();
  for (const r of driverStats) {
    expect(Object.keys(r)).toEqual([
      'datetime',
      'driver_id',
      'conv_rate',
      'acc_rate',
      'avg_daily_trips',
      'created',
    ]);
    expect(r.driver_id).toBeGreaterThanOrEqual(1001);
    expect(r.driver_id).toBeLessThanOrEqual(1006);
    expect((r.datetime.getTime() - start) % HOUR).toBe(0);
    expect(r.created.getTime()).toBeGreaterThan(r.datetime.getTime());
    for (const v of [r.conv_rate, r.acc_rate]) expect(v >= 0 && v <= 1).toBe(true);
    expect(Number.isInteger(r.avg_daily_trips)).toBe(true);
    const k = `${r.driver_id}@${r.datetime.getTime()}`;
    hours.set(k, (hours.get(k) ?? 0) + 1);
  }
  expect(hours.size).toBe(6 * 10 * 24); // every driver-hour is there
  const duplicates = [...hours.values()].filter((n) => n > 1).length;
  expect(duplicates).toBeGreaterThan(0);
  expect(duplicates).toBeLessThan(hours.size * 0.1);
  const late = driverStats.filter((r) => r.created.getTime() - r.datetime.getTime() >= 24 * HOUR).length;
  expect(late).toBeGreaterThan(0);
  let outOfOrder = 0;
  for (let i = 1; i < driverStats.length; i++)
    if (driverStats[i]!.datetime < driverStats[i - 1]!.datetime) outOfOrder++;
  expect(outOfOrder).toBeGreaterThan(0);
});

test('driver_orders: labels per driver and day, sorted, depending on the point-in-time stats', () => {
  const { driverStats, driverOrders } = generateDriverData({
    drivers: 8,
    days: 20,
    seed: 3,
    ordersPerDriverPerDay: 12,
  });
  expect(driverOrders).toHaveLength(8 * 20 * 12);
  for (let i = 1; i < driverOrders.length; i++) {
    expect(driverOrders[i]!.event_timestamp >= driverOrders[i - 1]!.event_timestamp).toBe(true);
  }
  expect(new Set(driverOrders.map((o) => o.trip_completed))).toEqual(new Set([0, 1]));
  // busy drivers (many daily trips) complete fewer trips: the labels carry signal from the stats
  const tripsOf = new Map<number, number[]>();
  for (const s of driverStats)
    tripsOf.set(s.driver_id, [...(tripsOf.get(s.driver_id) ?? []), s.avg_daily_trips]);
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  const drivers = [...tripsOf.keys()].sort((a, b) => mean(tripsOf.get(a)!) - mean(tripsOf.get(b)!));
  const rate = (id: number): number =>
    mean(driverOrders.filter((o) => o.driver_id === id).map((o) => o.trip_completed));
  const calm = mean(drivers.slice(0, 3).map(rate));
  const busy = mean(drivers.slice(-3).map(rate));
  expect(calm).toBeGreaterThan(busy);
});

test('bad options are INVALID_PARAMETER', () => {
  expect(() => generateDriverData({ drivers: 0 })).toThrow(
    expect.objectContaining({ code: 'INVALID_PARAMETER' }),
  );
  expect(() => generateDriverData({ days: 1.5 })).toThrow(/days must be an integer/);
  expect(() => generateDriverData({ start: '2022-09-01T00:00:00' })).toThrow(/zone/);
  expect(() => generateDriverData({ seed: Number.NaN })).toThrow(/seed/);
});

test('writeDemoData writes Parquet (and CSV) files holding the generated rows, and definitions', () => {
  const dir = makeTmp();
  const files = writeDemoData(dir, { drivers: 3, days: 2, seed: 5, csv: true });
  const { driverStats, driverOrders } = generateDriverData({ drivers: 3, days: 2, seed: 5 });
  expect(files.rows).toEqual({ driverStats: driverStats.length, driverOrders: driverOrders.length });
  const stats = readParquet(files.driverStats);
  expect(stats.dtypes.map(String)).toEqual(
    ['Datetime(ms,)', 'Int64', 'Float64', 'Float64', 'Int64', 'Datetime(ms,)'].map((t) => `DataType(${t})`),
  );
  expect(toRows(stats)).toEqual(driverStats);
  expect(toRows(readParquet(files.driverOrders))).toEqual(driverOrders);
  const csv = readFileSync(files.driverOrdersCsv!, 'utf8').split('\n');
  expect(csv[0]).toBe('event_timestamp,driver_id,trip_completed');
  expect(csv[1]).toMatch(/^2022-09-01T\d\d:\d\d:\d\d\.000Z,10\d\d,[01]$/);
  expect(readCsv(files.driverStatsCsv!).height).toBe(driverStats.length);
  const defs = JSON.parse(readFileSync(files.definitions, 'utf8')) as unknown[];
  expect(defs.map((d, i) => normalizeDefinition(d, i))).toEqual(driverDefinitions(files.driverStats));
  expect(defs.map((d) => (d as { kind: string }).kind)).toEqual(['entity', 'featureView', 'featureService']);
});
