/**
 * serving/protocols — the wire formats of the serving runtime: MLflow's scoring protocol (`dataframe_split`,
 * `dataframe_records`, `instances`, `inputs`, `text/csv`, plus cellar's `entities`) and KServe's Open Inference
 * Protocol v2 (`inputs` tensors), parsed into a `ScoreRequest`, and their responses. Also the JSON nesting
 * guard that runs on the raw body before `JSON.parse`.
 */
import { CellarError } from '../../kernel-lib/errors.js';
import type { ColumnSpec } from '../../kernel-lib/ml/model-json.js';
import type { RowFeatureStatus } from '../../kernel-lib/serving/lookup.js';
import type { ScoreRequest } from '../../kernel-lib/serving/model.js';
import { inputError } from '../../kernel-lib/serving/validate.js';

/** Deepest JSON nesting accepted (MLflow payloads need 3). */
export const MAX_JSON_DEPTH = 32;

/**
 * Throws when the JSON text nests deeper than `max` (checked on the raw text, before parsing, so a hostile
 * body cannot make the parser recurse).
 */
export function checkJsonDepth(text: string, max = MAX_JSON_DEPTH): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92)
        i++; // backslash: skip the escaped char
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 || c === 123) {
      if (++depth > max)
        throw inputError(null, null, `The JSON body nests deeper than ${max} levels; send flat rows.`);
    } else if (c === 93 || c === 125) depth--;
  }
}

/** Parses a JSON body (after the depth guard). */
export function parseJsonBody(text: string): unknown {
  checkJsonDepth(text);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw inputError(null, null, `The body is not valid JSON: ${(e as Error).message}.`);
  }
}

const MLFLOW_KEYS = ['dataframe_split', 'dataframe_records', 'instances', 'inputs', 'entities'] as const;

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** A list of rows: objects, or arrays in signature order. */
function rowsRequest(field: string, v: unknown, inputs: readonly ColumnSpec[]): ScoreRequest {
  if (!Array.isArray(v)) {
    if (isRecord(v)) return columnsRequest(field, v);
    throw inputError(field, null, `"${field}" must be a list of rows.`);
  }
  if (v.length > 0 && Array.isArray(v[0]))
    return { kind: 'split', columns: inputs.map((c) => c.name), data: v as unknown[][] };
  return { kind: 'records', rows: v as Array<Record<string, unknown>> };
}

/** Column-oriented input `{ col: [v1, v2], … }` (MLflow's `inputs` dict form). */
function columnsRequest(field: string, v: Record<string, unknown>): ScoreRequest {
  const columns = Object.keys(v);
  let n = -1;
  for (const c of columns) {
    const col = v[c];
    if (!Array.isArray(col)) throw inputError(c, null, `"${field}.${c}" must be a list of values.`);
    if (n >= 0 && col.length !== n)
      throw inputError(
        c,
        null,
        `"${field}" columns must have equal lengths (${c} has ${col.length}, not ${n}).`,
      );
    n = col.length;
  }
  const data = Array.from({ length: Math.max(n, 0) }, (_, i) => columns.map((c) => (v[c] as unknown[])[i]));
  return { kind: 'split', columns, data };
}

/**
 * Parses an MLflow scoring body (already JSON-parsed) into a request.
 *
 * @throws CellarError INVALID_INPUT naming what is wrong
 */
export function parseMlflowJson(body: unknown, inputs: readonly ColumnSpec[]): ScoreRequest {
  if (!isRecord(body))
    throw inputError(null, null, `The body must be a JSON object with one of ${MLFLOW_KEYS.join(', ')}.`);
  const present = MLFLOW_KEYS.filter((k) => k in body);
  if (present.length !== 1)
    throw inputError(
      null,
      null,
      present.length === 0
        ? `The body must have one of ${MLFLOW_KEYS.join(', ')}; it has ${Object.keys(body).join(', ') || 'no keys'}.`
        : `The body must have only one of ${present.join(', ')}.`,
    );
  const key = present[0]!;
  const v = body[key];
  switch (key) {
    case 'dataframe_split': {
      if (!isRecord(v) || !Array.isArray(v.data))
        throw inputError(
          'dataframe_split',
          null,
          '"dataframe_split" must be {"columns": [...], "data": [[...]]}.',
        );
      const columns = Array.isArray(v.columns) ? v.columns.map(String) : inputs.map((c) => c.name);
      return { kind: 'split', columns, data: v.data as unknown[][] };
    }
    case 'dataframe_records':
      if (!Array.isArray(v))
        throw inputError(key, null, '"dataframe_records" must be a list of row objects.');
      return { kind: 'records', rows: v as Array<Record<string, unknown>> };
    case 'entities':
      if (!Array.isArray(v))
        throw inputError(
          key,
          null,
          '"entities" must be a list of join-key objects, e.g. [{"driver_id": 1001}].',
        );
      return { kind: 'entities', entities: v as Array<Record<string, unknown>> };
    default:
      return rowsRequest(key, v, inputs);
  }
}

/** Parses a `text/csv` body (header row, then values; numbers, true/false and empty cells as null). */
export function parseCsv(text: string): ScoreRequest {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length === 0) throw inputError(null, null, 'The CSV body is empty: send a header row and rows.');
  const split = (l: string): string[] => l.split(',').map((c) => c.trim().replace(/^"(.*)"$/, '$1'));
  const columns = split(lines[0]!);
  const data = lines.slice(1).map((l) =>
    split(l).map((c): unknown => {
      if (c === '') return null;
      if (c === 'true' || c === 'false') return c === 'true';
      const n = Number(c);
      return Number.isNaN(n) && c !== 'NaN' ? c : n;
    }),
  );
  return { kind: 'split', columns, data };
}

/** The MLflow response body. */
export function mlflowResponse(predictions: Array<number | null>, status: RowFeatureStatus[] | null): string {
  return status === null
    ? JSON.stringify({ predictions })
    : JSON.stringify({ predictions, feature_status: status });
}

interface OipTensor {
  name: string;
  shape: number[];
  datatype: string;
  data: unknown[];
}

function flatten(x: unknown[]): unknown[] {
  return x.some(Array.isArray) ? (x.flat(Infinity) as unknown[]) : x;
}

function tensors(body: unknown): OipTensor[] {
  if (!isRecord(body) || !Array.isArray(body.inputs) || body.inputs.length === 0)
    throw inputError(
      'inputs',
      null,
      'An inference request needs "inputs": [{"name", "shape", "datatype", "data"}].',
    );
  return body.inputs.map((t, i) => {
    if (!isRecord(t) || typeof t.name !== 'string' || !Array.isArray(t.shape) || !Array.isArray(t.data))
      throw inputError(`inputs[${i}]`, null, `inputs[${i}] must be {"name", "shape", "datatype", "data"}.`);
    return {
      name: t.name,
      shape: t.shape.map(Number),
      datatype: String(t.datatype ?? ''),
      data: flatten(t.data),
    };
  });
}

/**
 * Parses an Open Inference Protocol v2 infer body: one tensor per input column (shape `[n]` or `[n, 1]`), or
 * one `[n, k]` tensor with the signature's columns in order; tensors named after entity join keys (and none
 * after a model input) make an entity request.
 *
 * @throws CellarError INVALID_INPUT naming the tensor
 */
export function parseOipRequest(
  body: unknown,
  inputs: readonly ColumnSpec[],
  entityRequest: boolean,
): ScoreRequest {
  const ts = tensors(body);
  const names = new Set(inputs.map((c) => c.name));
  const k = inputs.length;
  if (ts.length === 1 && !names.has(ts[0]!.name) && ts[0]!.shape.length === 2 && ts[0]!.shape[1] === k) {
    const t = ts[0]!;
    const n = t.shape[0]!;
    if (t.data.length !== n * k)
      throw inputError(
        t.name,
        null,
        `Tensor "${t.name}" has ${t.data.length} values; shape [${n}, ${k}] needs ${n * k}.`,
      );
    const data = Array.from({ length: n }, (_, i) => t.data.slice(i * k, i * k + k));
    return { kind: 'split', columns: inputs.map((c) => c.name), data };
  }
  const n = ts[0]!.data.length;
  for (const t of ts)
    if (t.data.length !== n)
      throw inputError(
        t.name,
        null,
        `Tensor "${t.name}" has ${t.data.length} values; "${ts[0]!.name}" has ${n}.`,
      );
  const columns = ts.map((t) => t.name);
  const data = Array.from({ length: n }, (_, i) => ts.map((t) => t.data[i]));
  if (entityRequest && !columns.some((c) => names.has(c)))
    return {
      kind: 'entities',
      entities: data.map((r) => Object.fromEntries(columns.map((c, j) => [c, r[j]]))),
    };
  return { kind: 'split', columns, data };
}

/** The Open Inference Protocol v2 response body. */
export function oipResponse(
  model: { name: string; version: number | null },
  id: string,
  predictions: Array<number | null>,
  status: RowFeatureStatus[] | null,
): string {
  const out: Record<string, unknown> = {
    model_name: model.name,
    model_version: model.version === null ? '' : String(model.version),
    id,
    outputs: [{ name: 'prediction', shape: [predictions.length], datatype: 'FP64', data: predictions }],
  };
  if (status !== null) out.parameters = { feature_status: status };
  return JSON.stringify(out);
}

/** OIP datatypes of the signature's column types. */
export function oipDatatype(type: ColumnSpec['type']): string {
  switch (type) {
    case 'double':
      return 'FP64';
    case 'float':
      return 'FP32';
    case 'long':
      return 'INT64';
    case 'integer':
      return 'INT32';
    case 'boolean':
      return 'BOOL';
    default:
      return 'BYTES';
  }
}

/** The body of an error response: MLflow's `error_code` + `message`, plus `field` and `row` when known. */
export function errorBody(e: CellarError): string {
  const out: Record<string, unknown> = { error_code: e.code, message: e.message };
  if (e.details?.field !== undefined) out.field = e.details.field;
  if (e.details?.row !== undefined) out.row = e.details.row;
  return JSON.stringify(out);
}

/** Turns anything thrown into a CellarError (unknown errors become INTERNAL). */
export function asCellarError(e: unknown): CellarError {
  if (e instanceof CellarError) return e;
  return new CellarError('INTERNAL', e instanceof Error ? e.message : String(e));
}
