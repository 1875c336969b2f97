/**
 * The prediction log is owned by the serving runtime: monitoring finds its columns by name at run time.
 * Checked on a log laid out differently from the one `logPredictions` creates (model_name, model_version,
 * ts_ms, features and prediction as JSON with other shapes), and on labels joined by entity and time.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { SqliteMonitoringStore } from '../../../kernel-lib/monitoring/sqlite-monitoring-store.js';
import { logLayout } from '../../../kernel-lib/monitoring/prediction-log.js';
import { migrate } from '../../../kernel-lib/store/sqlite.js';
import { errorCodeOf as code } from '../../helpers/errors.js';
import { cleanupTmp, makeTmp } from '../../helpers/tmp.js';

afterEach(cleanupTmp);

function db(): Database.Database {
  const file = join(makeTmp(), 'cellar.db');
  const d = new Database(file);
  migrate(d, file);
  return d;
}

test('reads a serving-side log with other column names and prediction shapes', async () => {
  const d = db();
  // Another layout than migration 6's (an older or foreign log): the reader finds its columns by name.
  d.exec('DROP TABLE prediction_log');
  d.exec(`CREATE TABLE prediction_log (id INTEGER PRIMARY KEY, model_name TEXT, model_version INTEGER, request_id TEXT,
    ts_ms INTEGER, inputs_json TEXT, features_json TEXT, prediction_json TEXT, latency_ms REAL)`);
  const ins = d.prepare(
    'INSERT INTO prediction_log (model_name, model_version, request_id, ts_ms, inputs_json, features_json, prediction_json, latency_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  );
  ins.run(
    'driver',
    2,
    'a',
    1000,
    '{"driver_id":1001}',
    '{"conv_rate":0.5,"acc_rate":null}',
    '{"predictions":[0.7]}',
    3.5,
  );
  ins.run('driver', 2, 'b', 2000, '{"driver_id":1002}', '{"conv_rate":0.25,"acc_rate":0.9}', '[0.4]', 2);
  ins.run('driver', 3, 'c', 3000, '{"driver_id":1001}', '{"conv_rate":0.1}', '0.2', 1);
  ins.run('other', 2, 'd', 1500, '{}', '{"conv_rate":9}', '1', 1);
  expect(logLayout(d)).toMatchObject({
    model: 'model_name',
    version: 'model_version',
    ts: 'ts_ms',
    features: 'features_json',
  });
  const m = new SqliteMonitoringStore(d);
  const rows = await m.read({ model: 'driver', version: 2 });
  expect(rows).toEqual([
    expect.objectContaining({
      ts: 1000,
      version: 2,
      requestId: 'a',
      features: { conv_rate: 0.5, acc_rate: null },
      prediction: 0.7,
      latencyMs: 3.5,
    }),
    expect.objectContaining({ ts: 2000, requestId: 'b', prediction: 0.4 }),
  ]);
  expect((await m.read({ model: 'driver', since: 1500 })).map((r) => r.requestId)).toEqual(['b', 'c']);
  expect((await m.read({ model: 'driver', limit: 2 })).map((r) => r.requestId)).toEqual(['b', 'c']);
  const cols = m.readColumns({ model: 'driver' }, ['conv_rate', 'acc_rate'], []);
  expect(cols.n).toBe(3);
  expect(Array.from(cols.numeric.conv_rate!)).toEqual([0.5, 0.25, 0.1]);
  expect(Array.from(cols.numeric.acc_rate!).map((v) => (Number.isNaN(v) ? null : v))).toEqual([
    null,
    0.9,
    null,
  ]);
  expect(Array.from(cols.prediction)).toEqual([0.7, 0.4, 0.2]);
  d.close();
});

test('labels join by request id, or by entity and time to the latest prediction at or before it', async () => {
  const d = db();
  const m = new SqliteMonitoringStore(d);
  expect(await m.read({ model: 'driver' })).toEqual([]); // no log yet
  await m.logPredictions([
    {
      ts: 1000,
      model: 'driver',
      version: 1,
      requestId: 'a',
      features: { x: 1 },
      entityKeys: { driver_id: 1 },
      prediction: 0.5,
    },
    {
      ts: 2000,
      model: 'driver',
      version: 1,
      requestId: 'b',
      features: { x: 2 },
      entityKeys: { driver_id: 1 },
      prediction: 0.6,
    },
    {
      ts: 3000,
      model: 'driver',
      version: 1,
      requestId: null,
      features: { x: 3 },
      entityKeys: { driver_id: 2 },
      prediction: 0.7,
    },
  ]);
  await m.logLabels([
    { requestId: 'a', label: 1 },
    { entityKeys: { driver_id: 1 }, ts: 2500, label: 0 },
    { entityKeys: { driver_id: 2 }, ts: '1970-01-01T00:00:03.500Z', label: 1 },
    { entityKeys: { driver_id: 2 }, ts: 100, label: 5 }, // before any prediction of that entity: no match
  ]);
  expect(await m.labelledPredictions({ model: 'driver' })).toEqual([
    { prediction: 0.5, label: 1 },
    { prediction: 0.6, label: 0 },
    { prediction: 0.7, label: 1 },
  ]);
  expect(await code(m.logLabels([{ requestId: 'x', label: Number.NaN }]))).toBe('INVALID_INPUT');
  expect(
    await code(
      m.logPredictions([
        { ts: 1, model: '', version: 1, requestId: null, features: {}, entityKeys: null, prediction: 1 },
      ]),
    ),
  ).toBe('INVALID_INPUT');
  d.close();
});
