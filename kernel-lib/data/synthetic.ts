/**
 * data/synthetic — the seeded synthetic driver data of the reference course (driver stats joined with
 * trip outcomes), used by the README demo and the example notebook. Same seed → same rows, on every machine.
 */
import { CellarError } from '../errors.js';
import { mulberry32 } from '../ml/random.js';

/** One training row: the driver's stats at order time and whether the trip was completed. */
export interface DriverTrainingRow {
  driver_id: number;
  conv_rate: number;
  acc_rate: number;
  avg_daily_trips: number;
  trip_completed: number;
}

/**
 * Generates `rows` seeded training rows for `drivers` drivers (ids from 1001). A trip is completed with a
 * probability that rises with conversion and acceptance rates and falls with very busy days, so a linear
 * model finds real but noisy signal.
 *
 * @example
 * const rows = driverTrainingData({ rows: 5000, seed: 42 })
 */
export function driverTrainingData(
  opts: { rows?: number; drivers?: number; seed?: number } = {},
): DriverTrainingRow[] {
  const rows = opts.rows ?? 5000;
  const drivers = opts.drivers ?? 100;
  const seed = opts.seed ?? 42;
  if (!Number.isSafeInteger(rows) || rows < 1 || rows > 50_000_000) {
    throw new CellarError(
      'INVALID_PARAMETER',
      `rows must be an integer from 1 to 50,000,000, got ${String(rows)}.`,
    );
  }
  if (!Number.isSafeInteger(drivers) || drivers < 1) {
    throw new CellarError('INVALID_PARAMETER', `drivers must be a positive integer, got ${String(drivers)}.`);
  }
  const rand = mulberry32(seed);
  const base = Array.from({ length: drivers }, () => ({
    conv: rand(),
    acc: rand(),
    trips: Math.floor(rand() * 1000),
  }));
  const out: DriverTrainingRow[] = new Array(rows);
  for (let i = 0; i < rows; i++) {
    const d = Math.floor(rand() * drivers);
    const b = base[d]!;
    const conv = Math.min(1, Math.max(0, b.conv + (rand() - 0.5) * 0.2));
    const acc = Math.min(1, Math.max(0, b.acc + (rand() - 0.5) * 0.2));
    const trips = Math.max(0, Math.round(b.trips + (rand() - 0.5) * 100));
    const logit = 1.0 + 2.5 * conv + 1.5 * acc - 0.005 * trips;
    const p = 1 / (1 + Math.exp(-logit));
    out[i] = {
      driver_id: 1001 + d,
      conv_rate: conv,
      acc_rate: acc,
      avg_daily_trips: trips,
      trip_completed: rand() < p ? 1 : 0,
    };
  }
  return out;
}
