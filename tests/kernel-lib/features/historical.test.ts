/**
 * getHistoricalFeatures / RetrievalJob: feature resolution, entity input parsing, output shapes and errors. The
 * join itself runs on a naive in-memory offline store written here (the reference semantics), so these tests pin
 * the API independently of the file offline store's engine.
 */
import pl from 'nodejs-polars';
import { readParquet } from '../../../kernel-lib/data/io.js';
import { toRows as frameRows } from '../../../kernel-lib/data/frame.js';
import { readEntityInput } from '../../../kernel-lib/features/entity-input.js';
import { getHistoricalFeatures } from '../../../kernel-lib/features/historical.js';
import { apply } from '../../../kernel-lib/features/registry.js';
import type {
  HistoricalJoinRequest,
  HistoricalJoinResult,
  KeyValue,
  OfflineStore,
  ValueColumn,
} from '../../../kernel-lib/features/stores.js';
import { entity, featureService, featureView, fileSource } from '../../../kernel-lib/features/types.js';
import { closeAllEmbedded, openEmbedded } from '../../../kernel-lib/store/open.js';
import type { SqliteDb } from '../../../kernel-lib/store/sqlite.js';
import { cleanupTmp, makeTmp } from '../../helpers/tmp.js';

interface FeatureRow {
  keys: Record<string, KeyValue>;
  ts: number;
  created: number;
  values: Record<string, number | string | null>;
}

/** A naive offline store over in-memory rows: for each entity row, scan every feature row (DESIGN.md semantics). */
class NaiveOfflineStore implements OfflineStore {
  calls: HistoricalJoinRequest[] = [];
  constructor(private readonly data: Record<string, FeatureRow[]>) {}
  async historicalJoin(req: HistoricalJoinRequest): Promise<HistoricalJoinResult> {
    this.calls.push(req);
    const out: HistoricalJoinResult = {};
    for (const v of req.views) {
      const rows = this.data[v.view.name] ?? [];
      out[v.view.name] = {};
      const cols: Record<string, ValueColumn> = {};
      for (const f of v.features) {
        const numeric = v.view.schema[f] !== 'string' && v.view.schema[f] !== 'bool';
        cols[f] = {
          dtype: v.view.schema[f]!,
          data: numeric ? new Float64Array(req.entity.nRows) : [],
          nulls: new Uint8Array(req.entity.nRows),
        };
      }
      for (let i = 0; i < req.entity.nRows; i++) {
        const ts = req.entity.ts[i]!;
        let best: FeatureRow | null = null;
        for (const r of rows) {
          if (!v.joinKeys.every((k) => String(r.keys[k]) === String(req.entity.keys[k]![i]))) continue;
          if (r.ts > ts || (v.view.ttlMs > 0 && r.ts < ts - v.view.ttlMs)) continue;
          if (req.filterByCreatedTimestamp && r.created > ts) continue;
          if (!best || r.ts > best.ts || (r.ts === best.ts && r.created > best.created)) best = r;
        }
        for (const f of v.features) {
          const value = best ? best.values[f] : null;
          const col = cols[f]!;
          if (value === null || value === undefined) {
            col.nulls[i] = 1;
            if (Array.isArray(col.data)) col.data[i] = null;
            else col.data[i] = NaN;
          } else col.data[i] = value as never;
        }
      }
      out[v.view.name] = cols;
    }
    return out;
  }
  async pullLatest(): Promise<never> {
    throw new Error('not used');
  }
  async close(): Promise<void> {}
}

const T = (iso: string): number => Date.parse(iso);
let db: SqliteDb;
let offline: NaiveOfflineStore;

const driver = entity({ name: 'driver', joinKeys: ['driver_id'] });
const customer = entity({ name: 'customer', joinKeys: ['customer_id'] });
const src = fileSource({
  path: '/nowhere/stats.parquet',
  timestampField: 'datetime',
  createdTimestampColumn: 'created',
});
const stats = featureView({
  name: 'driver_stats',
  entities: [driver],
  schema: { conv_rate: 'float64', acc_rate: 'float64', avg_daily_trips: 'int64' },
  source: src,
});
const quality = featureView({
  name: 'driver_quality',
  entities: [driver],
  schema: { conv_rate: 'float64', tier: 'string' },
  ttl: '10d',
  source: src,
});
const profile = featureView({
  name: 'customer_profile',
  entities: [customer],
  schema: { age: 'int64', last_seen: 'timestamp' },
  source: src,
});

beforeEach(() => {
  db = openEmbedded(makeTmp()).db;
  apply(db, [
    driver,
    customer,
    stats,
    quality,
    profile,
    featureService({ name: 'activity', features: ['driver_stats:conv_rate', 'customer_profile:age'] }),
  ]);
  const statRow = (day: string, v: number, created = day): FeatureRow => ({
    keys: { driver_id: 1001 },
    ts: T(`${day}T00:00:00Z`),
    created: T(`${created}T00:00:00Z`),
    values: { conv_rate: v, acc_rate: v, avg_daily_trips: v * 1000 },
  });
  offline = new NaiveOfflineStore({
    // The seed example: stats for driver 1001 on the first of four months.
    driver_stats: [
      statRow('2022-12-01', 0.1),
      statRow('2022-11-01', 0.2),
      statRow('2022-10-01', 0.3),
      statRow('2022-09-01', 0.4, '2022-09-20'),
    ],
    driver_quality: [
      {
        keys: { driver_id: 1001 },
        ts: T('2022-12-10T00:00:00Z'),
        created: 0,
        values: { conv_rate: 0.9, tier: 'gold' },
      },
    ],
    customer_profile: [
      {
        keys: { customer_id: 'c1' },
        ts: T('2022-01-01T00:00:00Z'),
        created: 0,
        values: { age: 41, last_seen: T('2022-01-02T03:04:05Z') },
      },
    ],
  });
});
afterEach(() => {
  closeAllEmbedded();
  cleanupTmp();
});

const orders = [
  { driver_id: 1001, event_timestamp: '2022-12-15T00:00:00Z', trip_completed: 1 },
  { driver_id: 1001, event_timestamp: '2022-09-15T00:00:00Z', trip_completed: 0 },
];
const refs = ['driver_stats:conv_rate', 'driver_stats:acc_rate', 'driver_stats:avg_daily_trips'];

test('the seed example: entity columns as given (timestamp as Date), then features, in the original order', async () => {
  const rows = await getHistoricalFeatures(db, offline, { entityRows: orders, features: refs }).toRows();
  expect(rows).toEqual([
    {
      driver_id: 1001,
      event_timestamp: new Date('2022-12-15T00:00:00Z'),
      trip_completed: 1,
      conv_rate: 0.1,
      acc_rate: 0.1,
      avg_daily_trips: 100,
    },
    {
      driver_id: 1001,
      event_timestamp: new Date('2022-09-15T00:00:00Z'),
      trip_completed: 0,
      conv_rate: 0.4,
      acc_rate: 0.4,
      avg_daily_trips: 400,
    },
  ]);
  expect(rows.map((r) => Object.keys(r))[0]).toEqual([
    'driver_id',
    'event_timestamp',
    'trip_completed',
    'conv_rate',
    'acc_rate',
    'avg_daily_trips',
  ]);
  // filterByCreatedTimestamp: the September row was created on the 20th, after the order
  const filtered = await getHistoricalFeatures(db, offline, {
    entityRows: orders,
    features: refs,
    filterByCreatedTimestamp: true,
  }).toRows();
  expect(filtered[1]).toMatchObject({ conv_rate: null, acc_rate: null, avg_daily_trips: null });
  expect(offline.calls.at(-1)!.filterByCreatedTimestamp).toBe(true);
});

test('several views at once, with different entities; no match gives nulls; service by name', async () => {
  const entityRows = [
    { event_timestamp: new Date('2022-12-20T00:00:00Z'), driver_id: 1001, customer_id: 'c1' },
    { event_timestamp: T('2021-01-01T00:00:00Z'), driver_id: 1002, customer_id: 'c2' },
  ];
  const job = getHistoricalFeatures(db, offline, {
    entityRows,
    features: [
      'driver_quality:tier',
      'customer_profile:age',
      'customer_profile:last_seen',
      'driver_stats:avg_daily_trips',
    ],
  });
  expect(job.featureColumns).toEqual(['tier', 'age', 'last_seen', 'avg_daily_trips']);
  const rows = await job.toRows();
  expect(rows[0]).toEqual({
    event_timestamp: new Date('2022-12-20T00:00:00Z'),
    driver_id: 1001,
    customer_id: 'c1',
    tier: 'gold',
    age: 41,
    last_seen: new Date('2022-01-02T03:04:05Z'),
    avg_daily_trips: 100,
  });
  expect(rows[1]).toMatchObject({
    driver_id: 1002,
    tier: null,
    age: null,
    last_seen: null,
    avg_daily_trips: null,
  });
  const req = offline.calls.at(-1)!;
  expect(req.views.map((v) => [v.view.name, v.joinKeys, v.features])).toEqual([
    ['driver_quality', ['driver_id'], ['tier']],
    ['customer_profile', ['customer_id'], ['age', 'last_seen']],
    ['driver_stats', ['driver_id'], ['avg_daily_trips']],
  ]);
  const svc = await getHistoricalFeatures(db, offline, { entityRows, features: 'activity' }).toRows();
  expect(Object.keys(svc[0]!)).toEqual(['event_timestamp', 'driver_id', 'customer_id', 'conv_rate', 'age']);
});

test('name clashes are errors unless fullFeatureNames, which names columns view__feature', async () => {
  const both = ['driver_stats:conv_rate', 'driver_quality:conv_rate'];
  await expect(
    getHistoricalFeatures(db, offline, { entityRows: orders, features: both }).toRows(),
  ).rejects.toMatchObject({
    code: 'INVALID_PARAMETER',
    message: expect.stringContaining('"conv_rate" comes from both "driver_stats" and "driver_quality"'),
  });
  const rows = await getHistoricalFeatures(db, offline, {
    entityRows: orders,
    features: both,
    fullFeatureNames: true,
  }).toRows();
  expect(rows[0]).toMatchObject({ driver_stats__conv_rate: 0.1, driver_quality__conv_rate: 0.9 });
  // a feature named like an entity column
  const withRate = orders.map((o) => ({ ...o, conv_rate: 0 }));
  await expect(
    getHistoricalFeatures(db, offline, {
      entityRows: withRate,
      features: ['driver_stats:conv_rate'],
    }).toRows(),
  ).rejects.toThrow(/already a column of the entity rows/);
});

test('unknown references and services are errors naming them', async () => {
  await expect(
    getHistoricalFeatures(db, offline, {
      entityRows: orders,
      features: ['driver_stats:conv_rate', 'driver_stats:speed', 'trips:n'],
    }).toRows(),
  ).rejects.toMatchObject({
    code: 'INVALID_PARAMETER',
    message: expect.stringMatching(
      /"driver_stats:speed" \(view "driver_stats" has conv_rate.*"trips:n" \(no feature view "trips"\)/,
    ),
  });
  await expect(
    getHistoricalFeatures(db, offline, { entityRows: orders, features: 'nope' }).toDataFrame(),
  ).rejects.toMatchObject({
    code: 'NOT_FOUND',
  });
  await expect(
    getHistoricalFeatures(db, offline, { entityRows: orders, features: ['conv_rate'] }).toRows(),
  ).rejects.toThrow(/view:feature/);
  await expect(
    getHistoricalFeatures(db, offline, { entityRows: orders, features: [] }).toRows(),
  ).rejects.toThrow(/at least one feature/);
  expect(offline.calls).toHaveLength(0);
});

test('entity input errors name the column', async () => {
  const job = (entityRows: Array<Record<string, unknown>>, extra = {}) =>
    getHistoricalFeatures(db, offline, { entityRows, features: refs, ...extra }).toRows();
  await expect(job([{ driver_id: 1001, ts: '2022-12-15T00:00:00Z' }])).rejects.toMatchObject({
    code: 'INVALID_INPUT',
    message: expect.stringContaining('timestamp column "event_timestamp"'),
  });
  await expect(job([{ event_timestamp: '2022-12-15T00:00:00Z' }])).rejects.toMatchObject({
    code: 'INVALID_INPUT',
    message: expect.stringContaining('join-key column "driver_id"'),
  });
  await expect(job([{ driver_id: 1001, event_timestamp: '2022-12-15T00:00:00' }])).rejects.toMatchObject({
    code: 'INVALID_INPUT',
    message: expect.stringMatching(/event_timestamp.*zone/),
  });
  await expect(job([{ driver_id: 1001, event_timestamp: 'yesterday' }])).rejects.toMatchObject({
    code: 'INVALID_INPUT',
  });
  await expect(job([{ driver_id: 1001, event_timestamp: null }])).rejects.toThrow(
    /row 0 has no timestamp in column "event_timestamp"/,
  );
  await expect(job([{ driver_id: null, event_timestamp: 0 }])).rejects.toThrow(/join-key column "driver_id"/);
  await expect(job([{ driver_id: true, event_timestamp: 0 }])).rejects.toThrow(
    /join keys must be strings or numbers/,
  );
  // timestampColumn picks another column; epoch ms and Dates are accepted
  const rows = await job([{ driver_id: 1001, ts: T('2022-12-15T00:00:00Z') }], { timestampColumn: 'ts' });
  expect(rows[0]).toEqual({
    driver_id: 1001,
    ts: new Date('2022-12-15T00:00:00Z'),
    conv_rate: 0.1,
    acc_rate: 0.1,
    avg_daily_trips: 100,
  });
  expect(() => readEntityInput({}, [])).toThrow(/Pass the entity rows/);
  expect(() => readEntityInput({ entityRows: [], entityDf: [] }, [])).toThrow(/not both/);
  expect(offline.calls).toHaveLength(1);
});

test('a polars entityDf: DataFrame output with typed feature columns; Parquet and CSV files', async () => {
  const entityDf = pl.DataFrame([
    pl.Series('driver_id', [1001, 1001, 1003], pl.Int64),
    pl.Series(
      'event_timestamp',
      [new Date('2022-12-15T00:00:00Z'), new Date('2022-09-15T00:00:00Z'), new Date('2022-09-15T00:00:00Z')],
      pl.Datetime('us'),
    ),
    pl.Series('label', [1.5, 2.5, 3.5], pl.Float64),
  ]);
  const job = getHistoricalFeatures(db, offline, { entityDf, features: refs });
  const df = await job.toDataFrame();
  expect(df.columns).toEqual([
    'driver_id',
    'event_timestamp',
    'label',
    'conv_rate',
    'acc_rate',
    'avg_daily_trips',
  ]);
  expect(df.dtypes.map(String)).toEqual(
    ['Int64', 'Datetime(ms,)', 'Float64', 'Float64', 'Float64', 'Int64'].map((t) => `DataType(${t})`),
  );
  expect(frameRows(df)).toEqual([
    {
      driver_id: 1001,
      event_timestamp: new Date('2022-12-15T00:00:00Z'),
      label: 1.5,
      conv_rate: 0.1,
      acc_rate: 0.1,
      avg_daily_trips: 100,
    },
    {
      driver_id: 1001,
      event_timestamp: new Date('2022-09-15T00:00:00Z'),
      label: 2.5,
      conv_rate: 0.4,
      acc_rate: 0.4,
      avg_daily_trips: 400,
    },
    {
      driver_id: 1003,
      event_timestamp: new Date('2022-09-15T00:00:00Z'),
      label: 3.5,
      conv_rate: null,
      acc_rate: null,
      avg_daily_trips: null,
    },
  ]);
  const dir = makeTmp();
  const file = await job.toParquet(`${dir}/train.parquet`);
  expect(frameRows(readParquet(file))).toEqual(frameRows(df));
  const csv = await job.toCsv(`${dir}/train.csv`);
  expect(csv).toBe(`${dir}/train.csv`);
  expect(offline.calls).toHaveLength(1); // the join ran once for all three outputs
  // rows given as entityDf keep their values; column objects go through toDataFrame
  const fromColumns = await getHistoricalFeatures(db, offline, {
    entityDf: { driver_id: [1001], event_timestamp: ['2022-12-15T00:00:00+01:00'] },
    features: ['driver_stats:conv_rate'],
  }).toRows();
  expect(fromColumns).toEqual([
    { driver_id: 1001, event_timestamp: new Date('2022-12-14T23:00:00Z'), conv_rate: 0.1 },
  ]);
  // missing columns in a DataFrame
  await expect(
    getHistoricalFeatures(db, offline, {
      entityDf: entityDf.drop('event_timestamp'),
      features: refs,
    }).toRows(),
  ).rejects.toThrow(/no timestamp column "event_timestamp"/);
});

test('rows input to a DataFrame, empty input, and string join keys', async () => {
  const df = await getHistoricalFeatures(db, offline, {
    entityRows: orders,
    features: ['driver_stats:avg_daily_trips'],
  }).toDataFrame();
  expect(df.columns).toEqual(['driver_id', 'event_timestamp', 'trip_completed', 'avg_daily_trips']);
  expect(String(df.getColumn('event_timestamp').dtype)).toBe('DataType(Datetime(ms,))');
  expect(df.getColumn('avg_daily_trips').toArray()).toEqual([100, 400]);
  expect(await getHistoricalFeatures(db, offline, { entityRows: [], features: refs }).toRows()).toEqual([]);
  const empty = await getHistoricalFeatures(db, offline, { entityRows: [], features: refs }).toDataFrame();
  expect(empty.columns).toEqual(['conv_rate', 'acc_rate', 'avg_daily_trips']);
  const rows = await getHistoricalFeatures(db, offline, {
    entityRows: [{ customer_id: 'c1', event_timestamp: '2022-06-01T00:00:00Z' }],
    features: ['customer_profile:age'],
  }).toRows();
  expect(rows).toEqual([{ customer_id: 'c1', event_timestamp: new Date('2022-06-01T00:00:00Z'), age: 41 }]);
});
