/**
 * Limits: a model has at most 100,000 features and its JSON at most 64 MiB (both configurable), and no error
 * message grows with its input (CellarError keeps 2,000 characters; lists show their first items and a count).
 */
import { CellarError, MAX_ERROR_MESSAGE_LENGTH } from '../../../kernel-lib/errors.js';
import { modelFromJSON, type ModelJSON } from '../../../kernel-lib/ml/index.js';
import { openStore } from '../../../kernel-lib/sdk.js';
import { cleanupTmp, makeTmp } from '../../helpers/tmp.js';

afterEach(() => {
  delete process.env.CELLAR_MAX_MODEL_BYTES;
  delete process.env.CELLAR_MAX_MODEL_FEATURES;
  cleanupTmp();
});

function wideModel(n: number, nameLength = 8): ModelJSON {
  const featureNames = Array.from({ length: n }, (_, i) => `f${String(i).padStart(nameLength, '0')}`);
  return {
    format: 'cellar-model',
    formatVersion: 1,
    flavor: 'linear',
    estimator: 'ElasticNet',
    params: { alpha: 0.5 },
    coef: featureNames.map(() => 0.5),
    intercept: 1,
    featureNames,
    signature: {
      inputs: featureNames.map((name) => ({ name, type: 'double' as const })),
      outputs: [{ name: 'prediction', type: 'double' }],
    },
    datasetFingerprint: 'ab'.repeat(32),
    createdAt: '2026-11-25T10:00:00.000Z',
  };
}

const LIMIT = MAX_ERROR_MESSAGE_LENGTH + 40;

test('a model with more features than the limit is refused by logModel and by registerModel, briefly', async () => {
  const store = openStore(makeTmp());
  const run = await store.startRun({ experiment: 'limits' });
  const big = wideModel(100_001);
  const e1 = await run.logModel(big).catch((e: unknown) => e);
  expect(e1).toBeInstanceOf(CellarError);
  expect((e1 as CellarError).code).toBe('RESOURCE_TOO_LARGE');
  expect((e1 as CellarError).message).toMatch(
    /100001 features, over the limit of 100000.*CELLAR_MAX_MODEL_FEATURES/,
  );
  expect(await store.tracking.listArtifacts(run.id)).toEqual([]);
  // the same document stored as a plain artifact cannot be registered either
  await run.logArtifact({ name: 'model/model.json', data: JSON.stringify(big) });
  const e2 = await store.registerModel({ name: 'wide', runId: run.id }).catch((e: unknown) => e);
  expect((e2 as CellarError).code).toBe('RESOURCE_TOO_LARGE');
  expect((e2 as CellarError).message.length).toBeLessThan(LIMIT);
  // the limit is configurable
  process.env.CELLAR_MAX_MODEL_FEATURES = '200000';
  expect((await run.logModel(big)).path).toBe('model/model.json');
  await run.end();
  store.close();
}, 120_000);

test('the model JSON size limit is configurable and checked before parsing', () => {
  const text = JSON.stringify(wideModel(2_000));
  expect(modelFromJSON(text).featureNames).toHaveLength(2_000);
  process.env.CELLAR_MAX_MODEL_BYTES = String(text.length - 1);
  expect(() => modelFromJSON(text)).toThrow(expect.objectContaining({ code: 'RESOURCE_TOO_LARGE' }));
});

test('error messages about many features stay short and say how many were left out', () => {
  const model = modelFromJSON(wideModel(50_000, 40));
  let error: unknown;
  try {
    model.predict([{ x: 1 }]);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(Error);
  const message = (error as Error).message;
  expect(message.length).toBeLessThan(LIMIT);
  expect(message).toMatch(/and \d+ more/);
  const broken = wideModel(50_000, 40);
  broken.signature.inputs.reverse();
  const e2 = (() => {
    try {
      modelFromJSON(broken);
    } catch (e) {
      return e as CellarError;
    }
    throw new Error('expected a failure');
  })();
  expect(e2.code).toBe('INVALID_INPUT');
  expect(e2.message.length).toBeLessThan(LIMIT);
  expect(e2.message).toContain('and 49990 more');
});

test('any CellarError message is cut at 2,000 characters, saying how many were left out', () => {
  const e = new CellarError('INVALID_INPUT', 'x'.repeat(10_000));
  expect(e.message).toBe(
    `${'x'.repeat(MAX_ERROR_MESSAGE_LENGTH)}… (${10_000 - MAX_ERROR_MESSAGE_LENGTH} more characters)`,
  );
  expect(CellarError.fromJSON(e.toJSON()).message).toBe(e.message);
  expect(new CellarError('NOT_FOUND', 'short').message).toBe('short');
});
