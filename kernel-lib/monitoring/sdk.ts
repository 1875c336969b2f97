/**
 * monitoring/sdk — the monitoring functions a notebook calls besides `monitorReport`: `logPredictions`
 * (write the prediction log, e.g. for tests or batch scoring), `logLabels` (ground truth that arrives later)
 * and `getReferenceStats`. They use the SDK's default store unless `store` is given.
 */
import type { CellarStore } from '../client.js';
import { getStore, openStore } from '../sdk.js';
import { monitoringStoreOf, referenceStatsOf } from './registry-link.js';
import { resolveModelVersion } from './resolve.js';
import type { LabelRow, PredictionRow, ReferenceStats } from './types.js';

function storeOf(s: string | CellarStore | undefined): CellarStore {
  if (s === undefined) return getStore();
  return typeof s === 'string' ? openStore(s) : s;
}

/**
 * Appends predictions to the store's prediction log (the table `cellar serve` writes), creating it when the
 * store has none. Returns how many rows were written.
 *
 * @example
 * await logPredictions([{ ts: Date.now(), model: 'driver', version: 3, requestId: 'r1',
 *   features: { conv_rate: 0.5, acc_rate: 0.9, avg_daily_trips: 120 }, entityKeys: { driver_id: 1001 }, prediction: 0.71 }])
 * @throws CellarError INVALID_INPUT naming the first bad row
 */
export async function logPredictions(
  rows: PredictionRow[],
  opts: { store?: string | CellarStore } = {},
): Promise<number> {
  return monitoringStoreOf(storeOf(opts.store)).logPredictions(rows);
}

/**
 * Records labels (ground truth) for logged predictions: by `requestId`, or by `entityKeys` and `ts` (the label
 * then belongs to the latest prediction of that entity at or before `ts`). Returns how many were written.
 *
 * @example
 * await logLabels([{ requestId: 'r1', label: 1 }, { entityKeys: { driver_id: 1002 }, ts: '2026-12-01T10:00:00Z', label: 0 }])
 * @throws CellarError INVALID_INPUT naming the first bad label
 */
export async function logLabels(
  rows: LabelRow[],
  opts: { store?: string | CellarStore } = {},
): Promise<number> {
  return monitoringStoreOf(storeOf(opts.store)).logLabels(rows);
}

/**
 * The reference statistics recorded for a model version (`driver@champion`, `driver/3`), or null.
 *
 * @example
 * const ref = await getReferenceStats('driver@champion'); ref?.features.conv_rate
 * @throws CellarError NOT_FOUND for an unknown model, alias or version
 */
export async function getReferenceStats(
  model: string,
  opts: { store?: string | CellarStore } = {},
): Promise<ReferenceStats | null> {
  const store = storeOf(opts.store);
  return referenceStatsOf(store, await resolveModelVersion(store, model));
}
