/**
 * ml/model-json — cellar's model file format (what the registry stores and serving loads): a plain JSON
 * document with coefficients, feature names and an MLflow-style signature. Loading validates every
 * field strictly and never evaluates code.
 */
import { CellarError, listForMessage } from '../errors.js';
import { toMatrix } from '../data/matrix.js';
import { predictColumns } from './linear-core.js';

/** One input or output column of a model signature (MLflow's column types). */
export interface ColumnSpec {
  name: string;
  type: 'double' | 'float' | 'long' | 'integer' | 'boolean' | 'string';
}

/** The columns a model takes and returns. */
export interface ModelSignature {
  inputs: ColumnSpec[];
  outputs: ColumnSpec[];
}

/** Estimator parameters as logged (snake_case keys, scalar values). */
export type ModelParams = Record<string, number | string | boolean | null>;

/** A linear model in cellar's JSON format (format version 1). */
export interface ModelJSON {
  format: 'cellar-model';
  formatVersion: 1;
  flavor: 'linear';
  /** 'ElasticNet' | 'Lasso' | 'Ridge' | 'LinearRegression' | … */
  estimator: string;
  params: ModelParams;
  coef: number[];
  intercept: number;
  featureNames: string[];
  signature: ModelSignature;
  datasetFingerprint?: string;
  createdAt?: string;
}

/** A model loaded from JSON: predicts, and exposes what it was built from. */
export interface LoadedModel {
  /** Predictions for X (rows, row objects, column objects or a DataFrame), columns matched by name. */
  predict(X: unknown): number[];
  readonly estimator: string;
  readonly coef: number[];
  readonly intercept: number;
  readonly featureNames: string[];
  readonly signature: ModelSignature;
  /** The validated JSON the model was loaded from. */
  readonly json: ModelJSON;
}

const COLUMN_TYPES = new Set(['double', 'float', 'long', 'integer', 'boolean', 'string']);
const KEYS = new Set([
  'format',
  'formatVersion',
  'flavor',
  'estimator',
  'params',
  'coef',
  'intercept',
  'featureNames',
  'signature',
  'datasetFingerprint',
  'createdAt',
]);

/** Default most features a model may have (`CELLAR_MAX_MODEL_FEATURES` overrides). */
export const DEFAULT_MAX_MODEL_FEATURES = 100_000;
/** Default largest model JSON document in bytes, 64 MiB (`CELLAR_MAX_MODEL_BYTES` overrides). */
export const DEFAULT_MAX_MODEL_BYTES = 64 * 1024 * 1024;

function limitFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n <= 0) {
    throw new CellarError('INVALID_PARAMETER', `${name} must be a positive integer, got "${raw}".`);
  }
  return n;
}

/** The model size limits in force: `{ features, bytes }` (from the environment or the defaults). */
export function modelLimits(): { features: number; bytes: number } {
  return {
    features: limitFromEnv('CELLAR_MAX_MODEL_FEATURES', DEFAULT_MAX_MODEL_FEATURES),
    bytes: limitFromEnv('CELLAR_MAX_MODEL_BYTES', DEFAULT_MAX_MODEL_BYTES),
  };
}

/**
 * Parses a model JSON document (bytes or text) after checking its size against the limit, then validates it.
 *
 * @throws CellarError RESOURCE_TOO_LARGE over the limit; INVALID_INPUT when it is not a valid model.
 */
export function parseModelJSON(text: string | Uint8Array, what = 'The model JSON'): ModelJSON {
  const size = typeof text === 'string' ? Buffer.byteLength(text, 'utf8') : text.byteLength;
  const { bytes } = modelLimits();
  if (size > bytes) {
    throw new CellarError(
      'RESOURCE_TOO_LARGE',
      `${what} is ${size} bytes, over the model limit of ${bytes} bytes. cellar models are linear models ` +
        'with named features; raise CELLAR_MAX_MODEL_BYTES if this one is really meant to be this big.',
      { size, limit: bytes },
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(typeof text === 'string' ? text : Buffer.from(text).toString('utf8'));
  } catch (err) {
    throw new CellarError('INVALID_INPUT', `${what} is not valid JSON: ${(err as Error).message}`);
  }
  return validateModelJSON(raw);
}

function bad(field: string, what: string): CellarError {
  return new CellarError('INVALID_INPUT', `model JSON field '${field}' ${what}`, { field });
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function finite(field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw bad(
      field,
      `must be a finite number, got ${v === null ? 'null' : typeof v === 'number' ? v : typeof v}`,
    );
  }
  return v;
}

function nonEmptyString(field: string, v: unknown): string {
  if (typeof v !== 'string' || v === '') throw bad(field, 'must be a non-empty string');
  return v;
}

function columnSpecs(field: string, v: unknown): ColumnSpec[] {
  if (!Array.isArray(v)) throw bad(field, 'must be an array of {name, type}');
  return v.map((c, i) => {
    const f = `${field}[${i}]`;
    if (!isRecord(c)) throw bad(f, 'must be an object {name, type}');
    for (const k of Object.keys(c))
      if (k !== 'name' && k !== 'type') throw bad(`${f}.${k}`, 'is not a known field');
    const name = nonEmptyString(`${f}.name`, c.name);
    if (typeof c.type !== 'string' || !COLUMN_TYPES.has(c.type)) {
      throw bad(`${f}.type`, `must be one of ${[...COLUMN_TYPES].join(', ')}, got ${JSON.stringify(c.type)}`);
    }
    return { name, type: c.type as ColumnSpec['type'] };
  });
}

/**
 * Checks that `x` is a well-formed cellar model JSON document and returns a clean copy of it. Strict:
 * unknown fields, wrong types, non-finite numbers, duplicate feature names or a signature that does not
 * match the feature names are all rejected.
 *
 * @throws CellarError('INVALID_INPUT') naming the offending field.
 * @example
 * const json = validateModelJSON(JSON.parse(text));
 */
export function validateModelJSON(x: unknown): ModelJSON {
  if (!isRecord(x)) throw new CellarError('INVALID_INPUT', 'model JSON must be an object');
  for (const k of Object.keys(x)) if (!KEYS.has(k)) throw bad(k, 'is not a known field');
  if (x.format !== 'cellar-model')
    throw bad('format', `must be 'cellar-model', got ${JSON.stringify(x.format)}`);
  if (x.formatVersion !== 1) {
    throw bad(
      'formatVersion',
      `must be 1 (this cellar reads version 1), got ${JSON.stringify(x.formatVersion)}`,
    );
  }
  if (x.flavor !== 'linear') throw bad('flavor', `must be 'linear', got ${JSON.stringify(x.flavor)}`);
  const estimator = nonEmptyString('estimator', x.estimator);

  if (!isRecord(x.params)) throw bad('params', 'must be an object');
  const params: ModelParams = {};
  for (const [k, v] of Object.entries(x.params)) {
    if (typeof v === 'number') params[k] = finite(`params.${k}`, v);
    else if (typeof v === 'string' || typeof v === 'boolean' || v === null) params[k] = v;
    else throw bad(`params.${k}`, 'must be a number, string, boolean or null');
  }

  if (!Array.isArray(x.featureNames)) throw bad('featureNames', 'must be an array of strings');
  const maxFeatures = modelLimits().features;
  if (x.featureNames.length > maxFeatures) {
    throw new CellarError(
      'RESOURCE_TOO_LARGE',
      `The model has ${x.featureNames.length} features, over the limit of ${maxFeatures}. ` +
        'Select features first, or raise CELLAR_MAX_MODEL_FEATURES.',
      { features: x.featureNames.length, limit: maxFeatures },
    );
  }
  const featureNames = x.featureNames.map((n, i) => nonEmptyString(`featureNames[${i}]`, n));
  const seen = new Set<string>();
  featureNames.forEach((n, i) => {
    if (seen.has(n)) throw bad(`featureNames[${i}]`, `repeats the name '${n.slice(0, 200)}'`);
    seen.add(n);
  });

  if (!Array.isArray(x.coef)) throw bad('coef', 'must be an array of numbers');
  const coef = x.coef.map((c, i) => finite(`coef[${i}]`, c));
  if (coef.length !== featureNames.length) {
    throw bad('coef', `has ${coef.length} values but there are ${featureNames.length} featureNames`);
  }
  const intercept = finite('intercept', x.intercept);

  if (!isRecord(x.signature)) throw bad('signature', 'must be an object {inputs, outputs}');
  for (const k of Object.keys(x.signature)) {
    if (k !== 'inputs' && k !== 'outputs') throw bad(`signature.${k}`, 'is not a known field');
  }
  const inputs = columnSpecs('signature.inputs', x.signature.inputs);
  const outputs = columnSpecs('signature.outputs', x.signature.outputs);
  if (inputs.length !== featureNames.length || inputs.some((c, i) => c.name !== featureNames[i])) {
    throw bad('signature.inputs', `must list the featureNames in order (${listForMessage(featureNames)})`);
  }
  inputs.forEach((c, i) => {
    if (c.type === 'string')
      throw bad(`signature.inputs[${i}].type`, "cannot be 'string' for a linear model");
  });
  if (outputs.length === 0) throw bad('signature.outputs', 'must have at least one column');

  const out: ModelJSON = {
    format: 'cellar-model',
    formatVersion: 1,
    flavor: 'linear',
    estimator,
    params,
    coef,
    intercept,
    featureNames,
    signature: { inputs, outputs },
  };
  if (x.datasetFingerprint !== undefined) {
    out.datasetFingerprint = nonEmptyString('datasetFingerprint', x.datasetFingerprint);
  }
  if (x.createdAt !== undefined) {
    const s = nonEmptyString('createdAt', x.createdAt);
    if (Number.isNaN(Date.parse(s)))
      throw bad('createdAt', `must be an ISO 8601 timestamp, got ${JSON.stringify(s)}`);
    out.createdAt = s;
  }
  return out;
}

/**
 * Loads a model from its JSON (an object, or a JSON string) after validating it. The loaded model's
 * `predict` matches input columns to the signature by name (extra columns are ignored; a missing one is an
 * error naming it); unnamed input such as `number[][]` must have the signature's columns in order.
 *
 * @throws CellarError('INVALID_INPUT') when the JSON is malformed (naming the field).
 * @example
 * const model = modelFromJSON(await fs.readFile('model.json', 'utf8'));
 * model.predict([{ conv_rate: 0.5, acc_rate: 0.9, avg_daily_trips: 120 }]);
 */
export function modelFromJSON(json: ModelJSON | unknown): LoadedModel {
  const valid = typeof json === 'string' ? parseModelJSON(json) : validateModelJSON(json);
  const coef = Float64Array.from(valid.coef);
  return {
    estimator: valid.estimator,
    coef: valid.coef.slice(),
    intercept: valid.intercept,
    featureNames: valid.featureNames.slice(),
    signature: valid.signature,
    json: valid,
    predict(X: unknown): number[] {
      const m = toMatrix(X, { featureNames: valid.featureNames });
      return Array.from(predictColumns(m.columns, m.nRows, coef, valid.intercept));
    },
  };
}
