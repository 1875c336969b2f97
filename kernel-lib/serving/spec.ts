/**
 * serving/spec — what a model version needs to be served beyond its model JSON: the online feature each input
 * column comes from (recorded when the model was trained from `getHistoricalFeatures` output), the training mean
 * per feature, the explicit policy for missing / stale features (`reject` or `impute`) and the attached
 * request-time transform. Stored as model version tags (`cellar.serving.*`) written with the version, so any
 * registry backend keeps them; `servingSpecFromTags` reads them back strictly.
 */
import { CellarError } from '../errors.js';
import { parseFeatureRef } from '../features/types.js';

/** What to do with a row whose features are missing or outside their TTL. */
export type MissingPolicy = 'reject' | 'impute';

/** One model input column fed from the online store. */
export interface FeatureBinding {
  /** The model's input column, e.g. `conv_rate`. */
  column: string;
  /** The feature reference, e.g. `driver_stats:conv_rate`. */
  ref: string;
}

/** The serving metadata of a model version. */
export interface ServingSpec {
  features: FeatureBinding[];
  /** Training mean of each input column (what `impute` fills in). */
  trainingMeans: Record<string, number>;
  missing: MissingPolicy;
  /** `<pipeline>/<version>` whose `serving:transform` cell runs before the model, or null. */
  transform: string | null;
}

/** The model version tag keys of the serving spec. */
export const SERVING_TAGS = {
  features: 'cellar.serving.features',
  means: 'cellar.serving.means',
  missing: 'cellar.serving.missing',
  transform: 'cellar.serving.transform',
} as const;

/** What autolog records next to the model (`model/serving.json` in the run). */
export interface TrainingServingInfo {
  features: FeatureBinding[];
  trainingMeans: Record<string, number>;
}

/** The artifact path of {@link TrainingServingInfo} in a run. */
export const SERVING_ARTIFACT = 'model/serving.json';

function bad(what: string): CellarError {
  return new CellarError('INVALID_INPUT', what);
}

/**
 * Checks a missing-feature policy.
 *
 * @throws CellarError INVALID_PARAMETER unless it is `reject` or `impute`
 */
export function validateMissingPolicy(v: unknown): MissingPolicy {
  if (v === 'reject' || v === 'impute') return v;
  throw new CellarError(
    'INVALID_PARAMETER',
    `serving.missing must be "reject" or "impute", got ${JSON.stringify(v)}.`,
  );
}

/**
 * Normalises feature bindings: `"view:feature"` strings bind the column named like the feature; objects bind
 * `column` to `ref`.
 *
 * @throws CellarError INVALID_PARAMETER for a malformed reference or a column bound twice
 */
export function normalizeBindings(features: ReadonlyArray<string | FeatureBinding>): FeatureBinding[] {
  if (!Array.isArray(features))
    throw new CellarError('INVALID_PARAMETER', 'features must be an array of "view:feature" references.');
  const seen = new Set<string>();
  return features.map((f) => {
    const b: FeatureBinding =
      typeof f === 'string'
        ? { column: parseFeatureRef(f).feature, ref: f }
        : { column: String(f?.column ?? ''), ref: String(f?.ref ?? '') };
    parseFeatureRef(b.ref);
    if (b.column === '')
      throw new CellarError('INVALID_PARAMETER', `Feature binding for "${b.ref}" has no column.`);
    if (seen.has(b.column))
      throw new CellarError('INVALID_PARAMETER', `Column "${b.column}" is bound to two features.`);
    seen.add(b.column);
    return b;
  });
}

/** The model version tags that record a serving spec (only the parts that are set). */
export function servingTags(spec: Partial<ServingSpec>): Record<string, string> {
  const tags: Record<string, string> = {};
  if (spec.features && spec.features.length > 0) tags[SERVING_TAGS.features] = JSON.stringify(spec.features);
  if (spec.trainingMeans && Object.keys(spec.trainingMeans).length > 0)
    tags[SERVING_TAGS.means] = JSON.stringify(spec.trainingMeans);
  if (spec.missing) tags[SERVING_TAGS.missing] = spec.missing;
  if (spec.transform) tags[SERVING_TAGS.transform] = spec.transform;
  return tags;
}

function parseJsonTag(key: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw bad(`Model version tag ${key} is not valid JSON; re-register the model or fix the tag.`);
  }
}

/**
 * Reads the serving spec of a model version from its tags (defaults: no features, no means, `reject`).
 *
 * @throws CellarError INVALID_INPUT when a tag is malformed (naming it)
 */
export function servingSpecFromTags(tags: Record<string, string>): ServingSpec {
  let features: FeatureBinding[] = [];
  const ft = tags[SERVING_TAGS.features];
  if (ft !== undefined) {
    const raw = parseJsonTag(SERVING_TAGS.features, ft);
    if (!Array.isArray(raw)) throw bad(`Model version tag ${SERVING_TAGS.features} must be a JSON array.`);
    features = normalizeBindings(raw as FeatureBinding[]);
  }
  const trainingMeans: Record<string, number> = {};
  const mt = tags[SERVING_TAGS.means];
  if (mt !== undefined) {
    const raw = parseJsonTag(SERVING_TAGS.means, mt);
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
      throw bad(`Model version tag ${SERVING_TAGS.means} must be a JSON object.`);
    for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
      if (typeof v !== 'number' || !Number.isFinite(v))
        throw bad(`Model version tag ${SERVING_TAGS.means}: the mean of "${k}" is not a finite number.`);
      trainingMeans[k] = v;
    }
  }
  const missingTag = tags[SERVING_TAGS.missing];
  const missing = missingTag === undefined ? 'reject' : validateMissingPolicy(missingTag);
  const transform = tags[SERVING_TAGS.transform] ?? null;
  return { features, trainingMeans, missing, transform };
}

/** Reads `model/serving.json` as autolog wrote it (lenient about absent parts, strict about types). */
export function parseTrainingServingInfo(text: string): TrainingServingInfo {
  const raw = parseJsonTag(SERVING_ARTIFACT, text) as Partial<TrainingServingInfo> | null;
  if (raw === null || typeof raw !== 'object') throw bad(`${SERVING_ARTIFACT} must be a JSON object.`);
  const spec = servingSpecFromTags({
    ...(raw.features ? { [SERVING_TAGS.features]: JSON.stringify(raw.features) } : {}),
    ...(raw.trainingMeans ? { [SERVING_TAGS.means]: JSON.stringify(raw.trainingMeans) } : {}),
  });
  return { features: spec.features, trainingMeans: spec.trainingMeans };
}
