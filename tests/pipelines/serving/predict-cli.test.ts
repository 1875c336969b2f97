/**
 * `cellar predict` and `predictBatch`: full feature rows and entity keys (online lookup under the version's policy)
 * from Parquet/CSV files, written atomically, optionally logged to the prediction log (source `batch`).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  openStore,
  predictBatch,
  readCsv,
  readParquet,
  readPredictionLog,
  writeParquet,
} from '../../../kernel-lib/index.js';
import { closeAllEmbedded } from '../../../kernel-lib/store/open.js';
import { main } from '../../../pipelines/cli/main.js';
import { EXIT } from '../../../pipelines/cli/output.js';
import { cleanupTmp, makeTmp } from '../../helpers/tmp.js';
import { buildServingStore, type ServingFixture } from './fixture.js';

let fx: ServingFixture;
beforeAll(async () => {
  fx = await buildServingStore(makeTmp('cellar-predict-'));
}, 120_000);
afterAll(() => {
  closeAllEmbedded();
  cleanupTmp();
});

async function cellar(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

test('cellar predict: entity keys from Parquet → predictions with per-row status, policy reject', async () => {
  const input = join(fx.dir, 'entities.parquet');
  writeParquet({ driver_id: [1001, 1003, 9999] }, input);
  const output = join(fx.dir, 'preds.parquet');
  const r = await cellar(
    '--store',
    fx.dir,
    'predict',
    'driver/2',
    '--input',
    input,
    '--output',
    output,
    '--log',
    '--json',
  );
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  expect(JSON.parse(r.out)).toMatchObject({
    model: { name: 'driver', version: 2 },
    rows: 3,
    rejected: 1,
    mode: 'entities',
  });
  const rows = readParquet(output).toRecords() as Array<Record<string, unknown>>;
  expect(rows.map((x) => x.driver_id)).toEqual([1001, 1003, 9999]);
  expect(typeof rows[0]!.prediction).toBe('number');
  expect(rows[2]).toMatchObject({
    prediction: null,
    rejected: true,
    missing_features: 'conv_rate,acc_rate,avg_daily_trips',
  });
  const logged = readPredictionLog(openStore(fx.dir).embedded.db, { model: 'driver', version: 2 });
  expect(logged.filter((l) => l.source === 'batch')).toHaveLength(3);
  expect(logged.find((l) => l.rowIndex === 2)).toMatchObject({ status: 'rejected', prediction: null });
});

test('cellar predict: full feature rows from CSV equal loadModel().predict', async () => {
  const input = join(fx.dir, 'features.csv');
  writeFileSync(input, 'conv_rate,acc_rate,avg_daily_trips\n0.5,0.9,10\n0.1,0.2,300\n');
  const output = join(fx.dir, 'preds.csv');
  const r = await cellar(
    '--store',
    fx.dir,
    'predict',
    'driver@champion',
    '--input',
    input,
    '--output',
    output,
  );
  expect(r.code).toBe(0);
  expect(r.out).toMatch(/2 rows scored with driver v1 \(features\)/);
  const got = readCsv(output).getColumn('prediction').toArray() as number[];
  const want = (await openStore(fx.dir).loadModel('models:/driver/1')).predict([
    { conv_rate: 0.5, acc_rate: 0.9, avg_daily_trips: 10 },
    { conv_rate: 0.1, acc_rate: 0.2, avg_daily_trips: 300 },
  ]);
  got.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 9));
  const bad = await cellar(
    '--store',
    fx.dir,
    'predict',
    'driver@champion',
    '--input',
    input,
    '--output',
    join(fx.dir, 'x.txt'),
  );
  expect(bad.code).toBe(EXIT.USAGE);
  const missing = await cellar(
    '--store',
    fx.dir,
    'predict',
    'nope@champion',
    '--input',
    input,
    '--output',
    output,
  );
  expect(missing.code).toBe(EXIT.NOT_FOUND);
});

test('predictBatch in a pipeline step: rows in, DataFrame out, runs:/ models too', async () => {
  const res = await predictBatch({
    model: `runs:/${fx.runId}/model`,
    input: [{ driver_id: 1002 }],
    store: openStore(fx.dir),
  });
  expect(res.mode).toBe('entities');
  expect(res.model).toEqual({ name: `runs:/${fx.runId}/model`, version: null });
  expect(res.frame.getColumn('prediction').toArray()[0]).toEqual(expect.any(Number));
});
