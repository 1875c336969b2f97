/**
 * features/lineage — remembers, per process, which feature reference produced each training-data column that
 * `getHistoricalFeatures` returned, so that autolog can record on a fitted model which online features its
 * input columns are (what `cellar serve` looks up for entity requests). The map lives on a global symbol so
 * the ESM and CommonJS builds loaded in one process share it.
 */
import type { FeatureBinding } from '../serving/spec.js';

const KEY = Symbol.for('cellar.features.retrievedColumns');

function columns(): Map<string, string> {
  const g = globalThis as unknown as Record<symbol, Map<string, string> | undefined>;
  let m = g[KEY];
  if (m === undefined) {
    m = new Map();
    g[KEY] = m;
  }
  return m;
}

/** Records that `column` of retrieved training data holds feature `ref` (the latest retrieval wins). */
export function noteRetrievedFeatures(bindings: readonly FeatureBinding[]): void {
  const m = columns();
  for (const b of bindings) m.set(b.column, b.ref);
}

/** The feature bindings of the given model input columns that came from a retrieval in this process. */
export function retrievedBindings(featureNames: readonly string[]): FeatureBinding[] {
  const m = columns();
  const out: FeatureBinding[] = [];
  for (const column of featureNames) {
    const ref = m.get(column);
    if (ref !== undefined) out.push({ column, ref });
  }
  return out;
}
