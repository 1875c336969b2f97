/**
 * A naive in-memory OfflineStore for the online tests: rows per view as plain objects, `pullLatest` by a
 * straightforward scan (the reference semantics), `historicalJoin` unsupported. Also the shared fixtures:
 * the seed's driver example and feature-view builders.
 */
import { CellarError } from '../../../../kernel-lib/errors.js';
import type {
  HistoricalJoinResult,
  KeyValue,
  LatestRows,
  OfflineStore,
  ValueColumn,
} from '../../../../kernel-lib/features/stores.js';
import {
  entity,
  featureView,
  fileSource,
  type FeatureDtype,
  type FeatureViewDef,
} from '../../../../kernel-lib/features/types.js';

/** A source row: join keys, `ts` (event, ms), optional `created` (ms), feature values. */
export type MemRow = Record<string, unknown> & { ts: number; created?: number | null };

/** Picks the newer of two rows: larger ts, then larger created (missing < any). */
export function newer(a: MemRow, b: MemRow): boolean {
  if (a.ts !== b.ts) return a.ts > b.ts;
  return (a.created ?? -Infinity) > (b.created ?? -Infinity);
}

/** The in-memory offline store. `rows[view]` may be changed by tests between calls (appending new data). */
export class MemoryOfflineStore implements OfflineStore {
  pulls = 0;
  failFor = new Set<string>();
  constructor(public rows: Record<string, MemRow[]>) {}

  async historicalJoin(): Promise<HistoricalJoinResult> {
    throw new CellarError('UNSUPPORTED', 'memory store: no historical join');
  }

  async pullLatest(req: {
    view: FeatureViewDef;
    joinKeys: string[];
    features: string[];
    startMs: number;
    endMs: number;
  }): Promise<LatestRows> {
    this.pulls++;
    if (this.failFor.has(req.view.name)) {
      throw new CellarError('NOT_FOUND', `source of view "${req.view.name}" is missing`);
    }
    const best = new Map<string, MemRow>();
    for (const r of this.rows[req.view.name] ?? []) {
      if (!(r.ts >= req.startMs && r.ts < req.endMs)) continue;
      const k = JSON.stringify(req.joinKeys.map((j) => r[j]));
      const cur = best.get(k);
      if (!cur || newer(r, cur)) best.set(k, r);
    }
    const list = [...best.values()];
    const keys: Record<string, KeyValue[]> = {};
    for (const j of req.joinKeys) keys[j] = list.map((r) => r[j] as KeyValue);
    const values: Record<string, ValueColumn> = {};
    for (const f of req.features) {
      const dtype = req.view.schema[f]!;
      const numeric = dtype !== 'string' && dtype !== 'bool';
      const nulls = Uint8Array.from(list, (r) => (r[f] === null || r[f] === undefined ? 1 : 0));
      values[f] = {
        dtype,
        data: numeric
          ? Float64Array.from(list, (r) => (r[f] === null || r[f] === undefined ? NaN : Number(r[f])))
          : list.map((r) => (r[f] ?? null) as string | boolean | null),
        nulls,
      };
    }
    return {
      nRows: list.length,
      keys,
      ts: Float64Array.from(list, (r) => r.ts),
      created: Float64Array.from(list, (r) =>
        r.created === null || r.created === undefined ? NaN : r.created,
      ),
      values,
    };
  }

  async close(): Promise<void> {}
}

/** Epoch ms of an ISO date-time in UTC. */
export const T = (iso: string): number => Date.parse(iso.length === 10 ? `${iso}T00:00:00Z` : iso);

/** The driver entity and a driver_stats view (conv_rate, acc_rate, avg_daily_trips). */
export function driverStatsView(
  opts: { ttl?: number | string; online?: boolean; name?: string } = {},
): FeatureViewDef {
  const driver = entity({ name: 'driver', joinKeys: ['driver_id'] });
  return featureView({
    name: opts.name ?? 'driver_stats',
    entities: [driver],
    ttl: opts.ttl ?? 0,
    online: opts.online ?? true,
    source: fileSource({
      path: 'driver_stats.parquet',
      timestampField: 'datetime',
      createdTimestampColumn: 'created',
    }),
    schema: { conv_rate: 'float64', acc_rate: 'float64', avg_daily_trips: 'int64' },
  });
}

/** A view with a composite key (driver_id, city) and string / bool / timestamp features. */
export function tripsView(opts: { ttl?: number | string } = {}): FeatureViewDef {
  const schema: Record<string, FeatureDtype> = {
    last_city: 'string',
    active: 'bool',
    last_trip: 'timestamp',
    n: 'int64',
  };
  return featureView({
    name: 'driver_city',
    entities: [entity({ name: 'driver_city', joinKeys: ['driver_id', 'city'] })],
    ttl: opts.ttl ?? 0,
    source: fileSource({ path: 'driver_city.parquet', timestampField: 'event_timestamp' }),
    schema,
  });
}

/** Join keys of the test views. */
export function joinKeysOf(view: FeatureViewDef): string[] {
  return view.name === 'driver_city' ? ['driver_id', 'city'] : ['driver_id'];
}

/** The seed example (issue 3, item 2): driver 1001's stats on the first of Dec/Nov/Oct/Sep 2022. */
export function seedStats(): MemRow[] {
  return [
    {
      driver_id: 1001,
      ts: T('2022-12-01'),
      created: T('2022-12-01'),
      conv_rate: 0.1,
      acc_rate: 0.1,
      avg_daily_trips: 100,
    },
    {
      driver_id: 1001,
      ts: T('2022-11-01'),
      created: T('2022-11-01'),
      conv_rate: 0.2,
      acc_rate: 0.2,
      avg_daily_trips: 200,
    },
    {
      driver_id: 1001,
      ts: T('2022-10-01'),
      created: T('2022-10-01'),
      conv_rate: 0.3,
      acc_rate: 0.3,
      avg_daily_trips: 300,
    },
    {
      driver_id: 1001,
      ts: T('2022-09-01'),
      created: T('2022-09-01'),
      conv_rate: 0.4,
      acc_rate: 0.4,
      avg_daily_trips: 400,
    },
  ];
}

/** A small deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
