/**
 * monitoring/skew — training/serving skew: re-joins a sample of logged requests with the offline store
 * point-in-time at each request's time (`getHistoricalFeatures`) and reports, per feature, the share of rows
 * where the value the model was served differs from the point-in-time value, and by how much.
 */
import type { CellarStore } from '../client.js';
import { CellarError } from '../errors.js';
import { list as listDefinitions } from '../features/registry.js';
import type { FeatureViewDef } from '../features/types.js';
import { getStore, openStore } from '../sdk.js';
import { monitoringStoreOf } from './registry-link.js';
import { resolveModelVersion } from './resolve.js';
import { sinceMs } from './time.js';
import type { FeatureValue, PredictionRow } from './types.js';

/** Skew of one feature. */
export interface FeatureSkew {
  feature: string;
  /** The `view:feature` reference it was re-joined from. */
  reference: string;
  /** Rows compared. */
  rows: number;
  /** Rows where served and point-in-time values differ (a null on one side only counts). */
  mismatched: number;
  /** mismatched / rows. */
  share: number;
  /** Mean and max |served − point-in-time| over rows where both are numbers and differ. */
  meanAbsDiff: number | null;
  maxAbsDiff: number | null;
  /** Rows served a value where the offline store has none at that time, and the reverse. */
  servedOnly: number;
  offlineOnly: number;
}

/** The skew report. */
export interface SkewReport {
  model: string;
  version: number;
  /** Logged requests re-joined (those with entity keys, newest first up to `sample`). */
  rows: number;
  features: FeatureSkew[];
}

/** Options of {@link skewReport}. */
export interface SkewOptions {
  /** `driver@champion`, `driver/3`, … */
  model: string;
  since?: string | number | Date;
  /** Requests to re-join (default 1000, the newest). */
  sample?: number;
  /** `view:feature` references; default: the registered view that has each of the model's features. */
  features?: string[];
  /** Values closer than this (relative to max(1, |v|)) count as equal (default 1e-9). */
  tolerance?: number;
  store?: string | CellarStore;
}

function featureRefs(store: CellarStore, names: string[], given: string[] | undefined): Map<string, string> {
  const refs = new Map<string, string>();
  if (given) {
    for (const ref of given) {
      const [, feature] = ref.split(':');
      if (!feature)
        throw new CellarError(
          'INVALID_PARAMETER',
          `Feature references look like view:feature; got "${ref}".`,
        );
      refs.set(feature, ref);
    }
    return refs;
  }
  const views = listDefinitions(store.embedded.db, 'featureView').map((d) => d.spec as FeatureViewDef);
  for (const n of names) {
    const owners = views.filter((v) => n in v.schema);
    if (owners.length === 1) refs.set(n, `${owners[0]!.name}:${n}`);
    else if (owners.length > 1) {
      throw new CellarError(
        'INVALID_PARAMETER',
        `Feature "${n}" is in several views (${owners.map((v) => v.name).join(', ')}); pass --features view:feature.`,
      );
    }
  }
  if (refs.size === 0) {
    throw new CellarError(
      'INVALID_STATE',
      `No registered feature view has the model's features (${names.join(', ')}).`,
    );
  }
  return refs;
}

function differs(a: FeatureValue | undefined, b: unknown, tol: number): boolean {
  const an = a === undefined || a === null;
  const bn = b === undefined || b === null;
  if (an || bn) return an !== bn;
  if (typeof a === 'number' && typeof b === 'number') return Math.abs(a - b) > tol * Math.max(1, Math.abs(b));
  return String(a) !== String(b);
}

/**
 * Training/serving skew of a served model: logged requests re-joined point-in-time with the offline store.
 *
 * @example
 * const skew = await skewReport({ model: 'driver@champion', since: '24h' })
 * @throws CellarError NOT_FOUND for an unknown model; INVALID_STATE when no feature view has the model's features
 */
export async function skewReport(opts: SkewOptions): Promise<SkewReport> {
  const store =
    opts.store === undefined
      ? getStore()
      : typeof opts.store === 'string'
        ? openStore(opts.store)
        : opts.store;
  const mv = await resolveModelVersion(store, opts.model);
  const model = await store.loadModel(`models:/${mv.name}/${mv.version}`);
  const refs = featureRefs(store, model.featureNames, opts.features);
  const sample = opts.sample ?? 1000;
  if (!Number.isInteger(sample) || sample < 1)
    throw new CellarError('INVALID_PARAMETER', 'sample must be a positive integer.');
  const since = sinceMs(opts.since, Date.now());
  const logged = await monitoringStoreOf(store).read({
    model: mv.name,
    version: mv.version,
    ...(since === undefined ? {} : { since }),
    limit: sample,
  });
  const rows: PredictionRow[] = logged.filter((r) => r.entityKeys !== null);
  const tol = opts.tolerance ?? 1e-9;
  const features: FeatureSkew[] = [];
  if (rows.length > 0) {
    const { featureStore } = await import('../features/feature-store.js');
    const entityRows = rows.map((r) => ({ ...r.entityKeys, event_timestamp: r.ts }));
    const joined = (await featureStore({ embedded: store.embedded })
      .getHistoricalFeatures({ entityRows, features: [...refs.values()] })
      .toRows()) as Array<Record<string, unknown>>;
    for (const [feature, reference] of refs) {
      let mismatched = 0;
      let servedOnly = 0;
      let offlineOnly = 0;
      let sum = 0;
      let nDiff = 0;
      let max: number | null = null;
      rows.forEach((r, i) => {
        const served = r.features[feature];
        const pit = joined[i]![feature];
        if (!differs(served, pit, tol)) return;
        mismatched++;
        if (served === null || served === undefined) offlineOnly++;
        else if (pit === null || pit === undefined) servedOnly++;
        else if (typeof served === 'number' && typeof pit === 'number') {
          const d = Math.abs(served - pit);
          sum += d;
          nDiff++;
          max = max === null ? d : Math.max(max, d);
        }
      });
      features.push({
        feature,
        reference,
        rows: rows.length,
        mismatched,
        share: mismatched / rows.length,
        meanAbsDiff: nDiff ? sum / nDiff : null,
        maxAbsDiff: max,
        servedOnly,
        offlineOnly,
      });
    }
  }
  return { model: mv.name, version: mv.version, rows: rows.length, features };
}
