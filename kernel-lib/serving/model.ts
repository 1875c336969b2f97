/**
 * serving/model — a model as a server or a batch job holds it: resolved from a URI (`name@alias`, `name/3`,
 * `models:/…`, `runs:/<id>/model`) to one immutable version with its model JSON and serving spec, and
 * `scoreRequest`, the one scoring path both use (entity lookup → transform → signature validation → predict).
 */
import type { CellarStore } from '../client.js';
import { CellarError } from '../errors.js';
import type { FeatureStore } from '../features/feature-store.js';
import { predictColumns } from '../ml/linear-core.js';
import { modelFromJSON, type LoadedModel } from '../ml/model-json.js';
import type { ModelVersion } from '../registry/types.js';
import { parseModelUri, type ModelUri } from '../registry/uri.js';
import { lookupEntityFeatures, type RowFeatureStatus } from './lookup.js';
import { parseTrainingServingInfo, servingSpecFromTags, SERVING_ARTIFACT, type ServingSpec } from './spec.js';
import { inputError, validateInput, type InputRows } from './validate.js';

/** One loaded, immutable model version ready to score. */
export interface ServableModel {
  /** The URI as normalised (`models:/driver@champion`). */
  uri: string;
  /** Registered name, or the URI for a `runs:/` model. */
  name: string;
  /** Version number (null for a `runs:/` model). */
  version: number | null;
  runId: string | null;
  model: LoadedModel;
  spec: ServingSpec;
  /** The version's tags (empty for a `runs:/` model). */
  tags: Record<string, string>;
}

/** A request to score: feature rows, or entity keys whose features come from the online store. */
export type ScoreRequest = InputRows | { kind: 'entities'; entities: ReadonlyArray<Record<string, unknown>> };

/** A request-time transform: request rows in, model input rows out. */
export type RowTransform = (
  rows: Array<Record<string, unknown>>,
) => Array<Record<string, unknown>> | Promise<Array<Record<string, unknown>>>;

/** Options of {@link scoreRequest}. */
export interface ScoreOptions {
  /** The feature store to read online features from (needed for entity requests). */
  features?: FeatureStore;
  transform?: RowTransform | null;
  maxRows?: number;
}

/** The answer of {@link scoreRequest}. */
export interface ScoreResult {
  /** One per request row; null for a rejected row. */
  predictions: Array<number | null>;
  /** Per row feature status (entity requests only). */
  featureStatus: RowFeatureStatus[] | null;
  /** The rows the model saw, for the prediction log (records; built only when asked for). */
  modelRows(): Array<Record<string, unknown>>;
  /** Entity keys, fetched feature values and missing statuses per row (entity requests only). */
  entities: ReadonlyArray<Record<string, unknown>> | null;
  fetched: Array<Record<string, unknown>> | null;
  missing: Array<Record<string, string> | null> | null;
}

/**
 * Turns what a user types into a model URI: `driver@champion` → `models:/driver@champion`, `driver/3` →
 * `models:/driver/3`, `driver` → `models:/driver/latest`; `models:/…` and `runs:/…` are kept.
 *
 * @throws CellarError INVALID_PARAMETER for an empty or malformed reference
 */
export function normalizeModelRef(ref: string): { uri: string; parsed: ModelUri } {
  const text = typeof ref === 'string' ? ref.trim() : '';
  let uri = text;
  if (!text.startsWith('models:/') && !text.startsWith('runs:/')) {
    uri = text.includes('@') || text.includes('/') ? `models:/${text}` : `models:/${text}/latest`;
  }
  return { uri, parsed: parseModelUri(uri) };
}

/**
 * Which version a URI points at now (`null` for `runs:/`): cheap, for polling an alias.
 *
 * @throws CellarError NOT_FOUND for an unknown model, alias or version
 */
export async function resolveModelVersion(
  store: CellarStore,
  parsed: ModelUri,
): Promise<ModelVersion | null> {
  switch (parsed.kind) {
    case 'run':
      return null;
    case 'alias':
      return store.registry.getModelVersionByAlias(parsed.name, parsed.alias);
    case 'version':
      return store.registry.getModelVersion(parsed.name, parsed.version);
    default: {
      const m = await store.registry.getRegisteredModel(parsed.name);
      if (m.latestVersion === null)
        throw new CellarError('NOT_FOUND', `Model "${parsed.name}" has no versions.`);
      return store.registry.getModelVersion(parsed.name, m.latestVersion);
    }
  }
}

function parseJson(bytes: Buffer, what: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new CellarError('INVALID_INPUT', `${what} is not valid JSON.`);
  }
}

/**
 * Loads a model version (or a run's model) with its serving spec.
 *
 * @throws CellarError NOT_FOUND, INVALID_PARAMETER, INVALID_INPUT (a malformed model or serving tag)
 * @example
 * const m = await loadServableModel(openStore(), 'driver@champion')
 */
export async function loadServableModel(
  store: CellarStore,
  ref: string,
  at?: ModelVersion | null,
): Promise<ServableModel> {
  const { uri, parsed } = normalizeModelRef(ref);
  if (parsed.kind === 'run') {
    const dir = parsed.artifactPath.replace(/\/+$/, '');
    const json = parseJson(await store.tracking.readArtifact(parsed.runId, `${dir}/model.json`), uri);
    let spec = servingSpecFromTags({});
    try {
      const infoPath = dir === 'model' ? SERVING_ARTIFACT : `${dir}/serving.json`;
      const info = parseTrainingServingInfo(
        (await store.tracking.readArtifact(parsed.runId, infoPath)).toString('utf8'),
      );
      spec = { ...spec, ...info };
    } catch (e) {
      if (!(e instanceof CellarError && e.code === 'NOT_FOUND')) throw e;
    }
    return { uri, name: uri, version: null, runId: parsed.runId, model: modelFromJSON(json), spec, tags: {} };
  }
  const mv = at ?? (await resolveModelVersion(store, parsed))!;
  const json = parseJson(await store.registry.readModelVersionArtifact(mv.name, mv.version), uri);
  return {
    uri,
    name: mv.name,
    version: mv.version,
    runId: mv.runId,
    model: modelFromJSON(json),
    spec: servingSpecFromTags(mv.tags),
    tags: { ...mv.tags },
  };
}

function recordsOf(input: InputRows): Array<Record<string, unknown>> {
  if (input.kind === 'records') return input.rows as Array<Record<string, unknown>>;
  return input.data.map((r) => Object.fromEntries(input.columns.map((c, j) => [c, r[j]])));
}

async function scoreRows(
  m: ServableModel,
  input: InputRows,
  opts: ScoreOptions,
): Promise<{ predictions: number[]; rows: () => Array<Record<string, unknown>> }> {
  let rows = input;
  if (opts.transform) {
    const out = await opts.transform(recordsOf(input));
    if (!Array.isArray(out))
      throw new CellarError('INTERNAL', 'The serving transform must return an array of rows.');
    rows = { kind: 'records', rows: out };
  }
  const cols = validateInput(rows, m.model.signature.inputs, { maxRows: opts.maxRows ?? 10_000 });
  const n = cols[0]?.length ?? 0;
  const pred = predictColumns(cols, n, m.model.coef, m.model.intercept);
  return { predictions: Array.from(pred), rows: () => recordsOf(rows) };
}

/**
 * Scores one request: entity keys are looked up in the online store and the missing-feature policy applied;
 * the transform (if any) runs; rows are validated against the signature and scored.
 *
 * @throws CellarError INVALID_INPUT naming field and row; INVALID_STATE for an entity request to a model that
 *   records no features
 * @example
 * const r = await scoreRequest(m, { kind: 'entities', entities: [{ driver_id: 1001 }] }, { features: featureStore() })
 */
export async function scoreRequest(
  m: ServableModel,
  req: ScoreRequest,
  opts: ScoreOptions = {},
): Promise<ScoreResult> {
  if (req.kind !== 'entities') {
    const r = await scoreRows(m, req, opts);
    return {
      predictions: r.predictions,
      featureStatus: null,
      modelRows: r.rows,
      entities: null,
      fetched: null,
      missing: null,
    };
  }
  const maxRows = opts.maxRows ?? 10_000;
  if (req.entities.length === 0)
    throw inputError(null, null, 'The request has no entities: send at least one.');
  if (req.entities.length > maxRows)
    throw inputError(
      null,
      null,
      `The request has ${req.entities.length} entities; at most ${maxRows} are accepted.`,
    );
  if (!opts.features)
    throw new CellarError('INVALID_STATE', 'Entity requests need the online feature store.');
  const looked = await lookupEntityFeatures({
    features: opts.features,
    spec: m.spec,
    entities: req.entities,
  });
  const keep: number[] = [];
  looked.status.forEach((s, i) => {
    if (!s.rejected) keep.push(i);
  });
  const predictions: Array<number | null> = new Array(req.entities.length).fill(null);
  let rows: () => Array<Record<string, unknown>> = () => looked.rows;
  if (keep.length > 0) {
    let scored: Awaited<ReturnType<typeof scoreRows>>;
    try {
      scored = await scoreRows(m, { kind: 'records', rows: keep.map((i) => looked.rows[i]!) }, opts);
    } catch (e) {
      // Errors name the row among the scored ones: report the request's row number instead.
      const details = e instanceof CellarError ? e.details : undefined;
      const row = details?.row;
      if (typeof row === 'number' && keep[row] !== undefined && keep[row] !== row) {
        const field = typeof details?.field === 'string' ? details.field : null;
        throw inputError(field, keep[row]!, `Entity ${keep[row]!}: ${(e as Error).message}`);
      }
      throw e;
    }
    keep.forEach((i, k) => (predictions[i] = scored.predictions[k]!));
    rows = () => {
      const out = looked.rows.slice();
      const seen = scored.rows();
      keep.forEach((i, k) => (out[i] = seen[k]!));
      return out;
    };
  }
  return {
    predictions,
    featureStatus: looked.status,
    modelRows: rows,
    entities: req.entities,
    fetched: looked.fetched,
    missing: looked.missing,
  };
}
