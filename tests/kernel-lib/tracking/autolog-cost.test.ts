/**
 * A fit outside an autologged run costs what the estimator alone costs: with the SDK loaded (autolog
 * installed), no fit event — dataset fingerprint, predictions, training metrics — is built unless a run is
 * active and autolog is on. The last fit is still remembered (the extension's "Log run" needs it).
 */
import { autolog, ElasticNet, startRun, useStore, withRun } from '../../../kernel-lib/index.js';
import { hasFitListeners } from '../../../kernel-lib/ml/hooks.js';
import { getLastFit } from '../../../kernel-lib/tracking/autolog.js';
import { closeAllEmbedded } from '../../../kernel-lib/store/open.js';
import { cleanupTmp, makeTmp } from '../../helpers/tmp.js';

const X = [
  [1, 2],
  [2, 1],
  [3, 4],
  [4, 3],
  [5, 7],
];
const y = [3.1, 2.9, 7.2, 6.8, 12.1];

beforeEach(() => useStore(makeTmp()));
afterEach(() => {
  autolog({ disable: false });
  closeAllEmbedded();
  cleanupTmp();
});

test('outside a run no event is built: no fingerprint, and the last fit is remembered without a run', () => {
  expect(hasFitListeners()).toBe(false);
  const m = new ElasticNet({ alpha: 0.1 }).fit(X, y);
  expect(m.datasetFingerprint).toBeUndefined();
  expect(getLastFit()).toMatchObject({ className: 'ElasticNet', runId: null });
  expect(getLastFit()!.model.coef).toEqual(m.toJSON().coef);
});

test('inside a run the event is built and logged; with autolog disabled it is not', async () => {
  const runId = await withRun({ experiment: 'cost' }, async (run) => {
    expect(hasFitListeners()).toBe(true);
    const m = new ElasticNet({ alpha: 0.1 }).fit(X, y);
    expect(m.datasetFingerprint).toMatch(/^[0-9a-f]{64}$/);
    return run.id;
  });
  expect(getLastFit()).toMatchObject({ className: 'ElasticNet', runId });

  autolog({ disable: true });
  const run = await startRun({ experiment: 'cost' });
  expect(hasFitListeners()).toBe(false);
  const m = new ElasticNet({ alpha: 0.1 }).fit(X, y);
  expect(m.datasetFingerprint).toBeUndefined();
  await run.end();
  expect((await run.info()).params).toEqual({});
});
