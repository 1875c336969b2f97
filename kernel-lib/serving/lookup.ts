/**
 * serving/lookup — the entity → feature policy of serving: given entity keys (`{ driver_id: 1001 }`), reads the
 * model's features from the online store (TTL enforced there), then applies the model version's recorded policy
 * to every feature that is missing (NOT_FOUND, NULL_VALUE) or stale (OUTSIDE_MAX_AGE): `reject` the row, or
 * `impute` the training mean. Every row reports what was missing, stale, imputed and whether it was rejected.
 */
import { CellarError } from '../errors.js';
import type { FeatureStore } from '../features/feature-store.js';
import type { OnlineResponse } from '../features/online/serve.js';
import type { ServingSpec } from './spec.js';
import { inputError } from './validate.js';

/** What happened to one row's features. */
export interface RowFeatureStatus {
  /** Columns with no value (NOT_FOUND or NULL_VALUE). */
  missing: string[];
  /** Columns whose value is older than the view's TTL. */
  outside_ttl: string[];
  /** Columns filled with the training mean. */
  imputed: string[];
  /** True when the row was not scored (policy `reject`, or nothing to impute with). */
  rejected: boolean;
}

/** The result of {@link lookupEntityFeatures}. */
export interface EntityLookup {
  /** One model input row per entity (entity keys + features; imputed values filled in). */
  rows: Array<Record<string, unknown>>;
  /** Feature values as fetched (null where not PRESENT). */
  fetched: Array<Record<string, unknown>>;
  status: RowFeatureStatus[];
  /** Per row, column → online status, for the columns that were not PRESENT (null when all were). */
  missing: Array<Record<string, string> | null>;
}

/** Options of {@link lookupEntityFeatures}. */
export interface LookupOptions {
  features: FeatureStore;
  spec: ServingSpec;
  entities: ReadonlyArray<Record<string, unknown>>;
}

/**
 * Fetches the model's online features for entity rows and applies the missing-feature policy.
 *
 * @throws CellarError INVALID_STATE when the model version records no features; INVALID_INPUT for an entity
 *   row without a join key (naming it)
 * @example
 * const res = await lookupEntityFeatures({ features: featureStore(), spec, entities: [{ driver_id: 1001 }] })
 * res.status[0] // { missing: [], outside_ttl: [], imputed: [], rejected: false }
 */
export async function lookupEntityFeatures(opts: LookupOptions): Promise<EntityLookup> {
  const { spec, entities } = opts;
  if (spec.features.length === 0) {
    throw new CellarError(
      'INVALID_STATE',
      'This model version records no online features, so it cannot answer entity requests. Train it from ' +
        'getHistoricalFeatures output (autolog records the references) or register it with { features: [...] }.',
    );
  }
  entities.forEach((e, i) => {
    if (e === null || typeof e !== 'object' || Array.isArray(e))
      throw inputError(null, i, `Entity ${i} must be an object of join keys, e.g. {"driver_id": 1001}.`);
  });
  let res: OnlineResponse;
  try {
    res = await opts.features.getOnlineFeatures({
      features: spec.features.map((b) => b.ref),
      entityRows: entities as Array<Record<string, unknown>>,
      fullFeatureNames: true,
    });
  } catch (e) {
    if (e instanceof CellarError && e.code === 'INVALID_INPUT') {
      const d = e.details ?? {};
      throw inputError(
        typeof d.column === 'string' ? d.column : null,
        typeof d.row === 'number' ? d.row : null,
        e.message,
      );
    }
    throw e;
  }
  const fieldIndex = new Map(res.fieldNames.map((n, i) => [n, i]));
  const cols = spec.features.map((b) => {
    const [view, feature] = b.ref.split(':') as [string, string];
    return res.results[fieldIndex.get(`${view}__${feature}`)!]!;
  });
  const n = entities.length;
  const out: EntityLookup = { rows: [], fetched: [], status: [], missing: [] };
  for (let i = 0; i < n; i++) {
    const row: Record<string, unknown> = { ...entities[i] };
    const fetched: Record<string, unknown> = {};
    const st: RowFeatureStatus = { missing: [], outside_ttl: [], imputed: [], rejected: false };
    let missing: Record<string, string> | null = null;
    spec.features.forEach((b, j) => {
      const col = cols[j]!;
      const status = col.statuses[i]!;
      fetched[b.column] = col.values[i] ?? null;
      if (status === 'PRESENT') {
        row[b.column] = col.values[i];
        return;
      }
      (missing ??= {})[b.column] = status;
      (status === 'OUTSIDE_MAX_AGE' ? st.outside_ttl : st.missing).push(b.column);
      const mean = spec.trainingMeans[b.column];
      if (spec.missing === 'impute' && mean !== undefined) {
        row[b.column] = mean;
        st.imputed.push(b.column);
      } else {
        st.rejected = true;
      }
    });
    out.rows.push(row);
    out.fetched.push(fetched);
    out.status.push(st);
    out.missing.push(missing);
  }
  return out;
}
