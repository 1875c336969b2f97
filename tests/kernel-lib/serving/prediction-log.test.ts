/** The prediction log: batched writes in one transaction, sampling, reading by model and time, serving specs as tags. */
import { openEmbedded, closeAllEmbedded } from '../../../kernel-lib/store/open.js';
import {
  PredictionLogger,
  SqlitePredictionLogStore,
  readPredictionLog,
  type PredictionRecord,
} from '../../../kernel-lib/serving/prediction-log.js';
import { servingSpecFromTags, servingTags } from '../../../kernel-lib/serving/spec.js';
import { LATEST_SCHEMA_VERSION, schemaVersion } from '../../../kernel-lib/store/sqlite.js';
import { cleanupTmp, makeTmp } from '../../helpers/tmp.js';

afterEach(() => {
  closeAllEmbedded();
  cleanupTmp();
});

function rec(i: number, model = 'driver', ts = 1_000 + i): PredictionRecord {
  return {
    model,
    version: 1,
    modelUri: `models:/${model}@champion`,
    requestId: `r${i}`,
    rowIndex: 0,
    ts,
    latencyMs: 0.5,
    entity: { driver_id: 1000 + i },
    inputs: { conv_rate: i / 10 },
    features: { conv_rate: i / 10 },
    missing: i % 2 ? { acc_rate: 'NOT_FOUND' } : null,
    prediction: i,
    status: 'ok',
    source: 'serve',
  };
}

test('the logger buffers, flushes at maxRows or on close, and the reader filters by model and time', async () => {
  const db = openEmbedded(makeTmp()).db;
  expect(schemaVersion(db)).toBe(LATEST_SCHEMA_VERSION);
  const store = new SqlitePredictionLogStore(db);
  const logger = new PredictionLogger({ store, flushMs: 60_000, maxRows: 5 });
  for (let i = 0; i < 4; i++) logger.push([rec(i)]);
  expect(readPredictionLog(db, { model: 'driver' })).toHaveLength(0); // nothing on the request path
  logger.push([rec(4), rec(5, 'other')]);
  await new Promise((r) => setImmediate(r));
  expect(readPredictionLog(db, { model: 'driver' })).toHaveLength(5);
  logger.push([rec(6)]);
  await logger.close();
  const rows = readPredictionLog(db, { model: 'driver', since: 1_002, until: 1_006 });
  expect(rows.map((r) => r.requestId)).toEqual(['r2', 'r3', 'r4']);
  expect(rows[1]).toMatchObject({
    entity: { driver_id: 1003 },
    missing: { acc_rate: 'NOT_FOUND' },
    prediction: 3,
  });
  expect(readPredictionLog(db, { model: 'other' })).toHaveLength(1);
  expect(() => readPredictionLog(db, { model: '' })).toThrow(/model/);
});

test('sampling 0 logs nothing, 1 logs everything; bad fractions are refused', () => {
  const store = new SqlitePredictionLogStore(openEmbedded(makeTmp()).db);
  expect(new PredictionLogger({ store, sample: 0 }).shouldLog()).toBe(false);
  expect(new PredictionLogger({ store, sample: 1 }).shouldLog()).toBe(true);
  expect(() => new PredictionLogger({ store, sample: 2 })).toThrow(/between 0 and 1/);
});

test('a failed flush keeps the records for the next one', () => {
  let fail = true;
  const got: PredictionRecord[] = [];
  const logger = new PredictionLogger({
    store: {
      append: (r) => {
        if (fail) throw new Error('busy');
        got.push(...r);
      },
      read: () => [],
    },
    onError: () => undefined,
  });
  logger.push([rec(1), rec(2)]);
  logger.flush();
  fail = false;
  logger.flush();
  expect(got.map((r) => r.requestId)).toEqual(['r1', 'r2']);
});

test('serving specs round-trip through model version tags and bad tags are named', () => {
  const tags = servingTags({
    features: [{ column: 'conv_rate', ref: 'driver_stats:conv_rate' }],
    trainingMeans: { conv_rate: 0.5 },
    missing: 'impute',
  });
  expect(servingSpecFromTags(tags)).toEqual({
    features: [{ column: 'conv_rate', ref: 'driver_stats:conv_rate' }],
    trainingMeans: { conv_rate: 0.5 },
    missing: 'impute',
    transform: null,
  });
  expect(servingSpecFromTags({}).missing).toBe('reject');
  expect(() => servingSpecFromTags({ 'cellar.serving.missing': 'maybe' })).toThrow(/reject.*impute/);
  expect(() => servingSpecFromTags({ 'cellar.serving.features': '{' })).toThrow(/cellar.serving.features/);
});
