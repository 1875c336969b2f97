/** Fit events: what tracking's autolog receives, and that listeners can never break a fit. */
import pl from 'nodejs-polars';
import {
  ElasticNet,
  LinearRegression,
  addFitListener,
  hasFitListeners,
  mae,
  r2,
  rmse,
  validateModelJSON,
  type FitEvent,
} from '../../../kernel-lib/ml/index.js';

const X = [
  [1, 2],
  [2, 1],
  [3, 4],
  [4, 3],
  [5, 7],
];
const y = [3.1, 2.9, 7.2, 6.8, 12.1];

afterEach(() => expect(hasFitListeners()).toBe(false));

test('without listeners no fingerprint is computed', () => {
  const m = new ElasticNet({ alpha: 0.1 }).fit(X, y);
  expect(m.datasetFingerprint).toBeUndefined();
  expect(m.toJSON().datasetFingerprint).toBeUndefined();
});

test('one event per successful fit with params, shape, model, fingerprint and training metrics', () => {
  const events: FitEvent[] = [];
  const stop = addFitListener((e) => events.push(e));
  try {
    const m = new ElasticNet({ alpha: 0.1, l1Ratio: 0.3 }).fit(X, y);
    expect(events).toHaveLength(1);
    const e = events[0];
    expect(e.className).toBe('ElasticNet');
    expect(e.params).toEqual(m.getParams());
    expect(e.featureNames).toEqual(['x0', 'x1']);
    expect(e.nRows).toBe(5);
    expect(e.nCols).toBe(2);
    expect(validateModelJSON(e.model)).toEqual(e.model);
    expect(e.model.datasetFingerprint).toBe(e.datasetFingerprint);
    expect(e.datasetFingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(m.datasetFingerprint).toBe(e.datasetFingerprint);
    const pred = m.predict(X);
    expect(e.trainingMetrics.rmse).toBeCloseTo(rmse(y, pred), 12);
    expect(e.trainingMetrics.mae).toBeCloseTo(mae(y, pred), 12);
    expect(e.trainingMetrics.r2).toBeCloseTo(r2(y, pred), 12);
  } finally {
    stop();
  }
});

test('a failed fit emits nothing', () => {
  const events: FitEvent[] = [];
  const stop = addFitListener((e) => events.push(e));
  try {
    expect(() => new ElasticNet().fit(X, [1, 2])).toThrow();
    expect(events).toHaveLength(0);
  } finally {
    stop();
  }
});

test('the fingerprint depends on the data, not on its shape', () => {
  const prints: string[] = [];
  const stop = addFitListener((e) => prints.push(e.datasetFingerprint));
  try {
    const named = X.map(([a, b]) => ({ a, b }));
    new LinearRegression().fit(named, y);
    new LinearRegression().fit({ a: X.map((r) => r[0]), b: X.map((r) => r[1]) }, Float64Array.from(y));
    new LinearRegression().fit(pl.DataFrame({ a: X.map((r) => r[0]), b: X.map((r) => r[1]) }), y);
    new LinearRegression().fit(
      named,
      y.map((v) => v + 1),
    );
    expect(prints[1]).toBe(prints[0]);
    expect(prints[2]).toBe(prints[0]);
    expect(prints[3]).not.toBe(prints[0]);
  } finally {
    stop();
  }
});

test('unsubscribe stops delivery; the same function can be added twice', () => {
  const calls: string[] = [];
  const fn = (e: FitEvent) => calls.push(e.className);
  const stop1 = addFitListener(fn);
  const stop2 = addFitListener(fn);
  new ElasticNet().fit(X, y);
  expect(calls).toHaveLength(2);
  stop1();
  new ElasticNet().fit(X, y);
  expect(calls).toHaveLength(3);
  stop2();
  new ElasticNet().fit(X, y);
  expect(calls).toHaveLength(3);
});

test('a throwing listener is reported with console.warn and does not break fit or other listeners', () => {
  const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  const seen: string[] = [];
  const stopBad = addFitListener(() => {
    throw new Error('tracking store is down');
  });
  const stopGood = addFitListener((e) => seen.push(e.className));
  try {
    const m = new ElasticNet({ alpha: 0.1 }).fit(X, y);
    expect(m.coef).toHaveLength(2);
    expect(seen).toEqual(['ElasticNet']);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0][0])).toMatch(
      /fit listener failed for ElasticNet \(tracking store is down\)/,
    );
  } finally {
    stopBad();
    stopGood();
    warn.mockRestore();
  }
});
