/**
 * monitoring/registry-link — ties monitoring to the registry: the monitoring store of a `CellarStore`,
 * copying a run's `model/reference_stats.json` to the version when it is registered, and finding a
 * version's reference statistics (falling back to the run's artifact for versions registered before).
 */
import type { CellarStore } from '../client.js';
import { isCellarError } from '../errors.js';
import type { ModelVersion } from '../registry/types.js';
import { parseReferenceStats, REFERENCE_STATS_FILE } from './reference.js';
import { SqliteMonitoringStore } from './sqlite-monitoring-store.js';
import type { ReferenceStats } from './types.js';

const stores = new WeakMap<object, SqliteMonitoringStore>();

/** The monitoring store over a cellar store's database. */
export function monitoringStoreOf(store: CellarStore): SqliteMonitoringStore {
  const db = store.embedded.db;
  let m = stores.get(db);
  if (!m) {
    m = new SqliteMonitoringStore(db);
    stores.set(db, m);
  }
  return m;
}

function artifactDir(mv: ModelVersion, fallback: string): string {
  const m = /^runs:\/[^/]+\/(.+)$/.exec(mv.source);
  return (m ? m[1]! : fallback).replace(/\/+$/, '');
}

async function statsFromRun(
  store: CellarStore,
  mv: ModelVersion,
  artifactPath: string,
): Promise<ReferenceStats | null> {
  if (!mv.runId) return null;
  try {
    const bytes = await store.tracking.readArtifact(
      mv.runId,
      `${artifactDir(mv, artifactPath)}/${REFERENCE_STATS_FILE}`,
    );
    return parseReferenceStats(bytes.toString('utf8'));
  } catch (e) {
    if (isCellarError(e, 'NOT_FOUND')) return null;
    throw e;
  }
}

/**
 * Records the reference statistics of a newly registered version from its run's artifact (a run logged by
 * autolog has them); does nothing when the run has none.
 */
export async function recordReferenceStats(
  store: CellarStore,
  mv: ModelVersion,
  artifactPath = 'model',
): Promise<boolean> {
  const stats = await statsFromRun(store, mv, artifactPath);
  if (!stats) return false;
  await monitoringStoreOf(store).putReferenceStats(mv.name, mv.version, mv.runId, stats);
  return true;
}

/** A version's reference statistics: the recorded ones, else its run's artifact (then recorded), else null. */
export async function referenceStatsOf(store: CellarStore, mv: ModelVersion): Promise<ReferenceStats | null> {
  const m = monitoringStoreOf(store);
  const stored = await m.getReferenceStats(mv.name, mv.version);
  if (stored) return stored;
  const fromRun = await statsFromRun(store, mv, 'model');
  if (fromRun) await m.putReferenceStats(mv.name, mv.version, mv.runId, fromRun);
  return fromRun;
}
