/**
 * runner/serialize — how a value crosses a step boundary. The runner, not the step, decides:
 * - plain JSON values (null, booleans, finite numbers, strings, plain objects and arrays) → JSON;
 * - other structured-clone values (Date, Map, Set, typed arrays, BigInt, undefined, NaN, cycles, …) → v8.serialize;
 * - polars DataFrames → Arrow IPC (nodejs-polars, loaded only when one is met);
 * - cellar models (`toJSON()` giving `format: 'cellar-model'`) → their JSON, revived with `modelFromJSON`.
 * Anything else (functions, class instances, promises, symbols; DataFrames or models nested inside another
 * value) is refused with an error naming the variable, the step and where in the value the problem is.
 */
import { deserialize, serialize } from 'node:v8';
import { CellarError } from '../../kernel-lib/errors.js';

/** How a value is stored on disk. */
export type ValueKind = 'json' | 'v8' | 'arrow-ipc' | 'cellar-model';

/** A serialized value. */
export interface EncodedValue {
  kind: ValueKind;
  /** File extension for this kind. */
  ext: string;
  data: Buffer;
}

const EXT: Record<ValueKind, string> = {
  json: 'json',
  v8: 'v8',
  'arrow-ipc': 'arrow',
  'cellar-model': 'model.json',
};

const CLONEABLE_PROTOS = new Set<unknown>([
  Date.prototype,
  RegExp.prototype,
  Map.prototype,
  Set.prototype,
  ArrayBuffer.prototype,
  DataView.prototype,
  Error.prototype,
  TypeError.prototype,
  RangeError.prototype,
  SyntaxError.prototype,
  Boolean.prototype,
  Number.prototype,
  String.prototype,
  Buffer.prototype,
  Object.getPrototypeOf(Uint8Array.prototype) as unknown, // %TypedArray%.prototype (checked via ArrayBuffer.isView)
]);

/** True for a nodejs-polars DataFrame (duck-typed, so that polars is loaded only when needed). */
export function isDataFrame(v: unknown): v is { writeIPC(): Buffer } {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return (
    typeof o.writeIPC === 'function' && typeof o.toRecords === 'function' && typeof o.select === 'function'
  );
}

/** The cellar model JSON of `v` when it is a model (an estimator or a loaded model), else null. */
export function modelJsonOf(v: unknown): Record<string, unknown> | null {
  if (typeof v !== 'object' || v === null) return null;
  const o = v as { toJSON?: unknown; json?: unknown; predict?: unknown };
  if (typeof o.toJSON === 'function' && !(v instanceof Date)) {
    const j = (o.toJSON as () => unknown).call(v);
    if (typeof j === 'object' && j !== null && (j as { format?: unknown }).format === 'cellar-model') {
      return j as Record<string, unknown>;
    }
  }
  if (typeof o.predict === 'function' && typeof o.json === 'object' && o.json !== null) {
    if ((o.json as { format?: unknown }).format === 'cellar-model') return o.json as Record<string, unknown>;
  }
  return null;
}

class Unserializable extends Error {
  constructor(
    readonly path: string,
    readonly what: string,
  ) {
    super(what);
  }
}

function describe(v: object): string {
  const ctor = (v as { constructor?: { name?: unknown } }).constructor;
  return typeof ctor?.name === 'string' && ctor.name !== ''
    ? `an instance of ${ctor.name}`
    : 'an object with a custom prototype';
}

/**
 * Walks a value and decides between JSON and v8; throws Unserializable for what neither can carry faithfully.
 * `seen` holds the objects on the way down, plus every object visited (a repeat means a cycle or a shared
 * reference, which JSON would not preserve).
 */
function classify(v: unknown, path: string, seen: Set<object>): 'json' | 'v8' {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return 'json';
    case 'number':
      return Number.isFinite(v) && !Object.is(v, -0) ? 'json' : 'v8';
    case 'undefined':
    case 'bigint':
      return 'v8';
    case 'function':
      throw new Unserializable(path, 'a function');
    case 'symbol':
      throw new Unserializable(path, 'a symbol');
  }
  if (v === null) return 'json';
  const obj = v as object;
  if (seen.has(obj)) return 'v8';
  seen.add(obj);
  if (isDataFrame(obj)) {
    throw new Unserializable(
      path,
      'a DataFrame inside another value (make it a top-level variable of its own)',
    );
  }
  if (modelJsonOf(obj) !== null) {
    throw new Unserializable(path, 'a model inside another value (make it a top-level variable of its own)');
  }
  if (obj instanceof Promise) throw new Unserializable(path, 'a Promise (await it inside the step)');
  const proto = Object.getPrototypeOf(obj) as unknown;
  if (Array.isArray(obj)) {
    if (proto !== Array.prototype) throw new Unserializable(path, describe(obj));
    let kind: 'json' | 'v8' = 'json';
    for (let i = 0; i < obj.length; i++) {
      if (!(i in obj)) kind = 'v8';
      else if (classify(obj[i], `${path}[${i}]`, seen) === 'v8') kind = 'v8';
    }
    return kind;
  }
  if (proto === Object.prototype || proto === null) {
    let kind: 'json' | 'v8' = 'json';
    for (const [k, x] of Object.entries(obj)) {
      if (classify(x, `${path}.${k}`, seen) === 'v8') kind = 'v8';
    }
    return kind;
  }
  if (ArrayBuffer.isView(obj) || CLONEABLE_PROTOS.has(proto)) {
    if (obj instanceof Map) {
      for (const [k, x] of obj) {
        classify(k, `${path}<key>`, seen);
        classify(x, `${path}.get(${typeof k === 'string' ? JSON.stringify(k) : '…'})`, seen);
      }
    } else if (obj instanceof Set) {
      for (const x of obj) classify(x, `${path}<element>`, seen);
    }
    return 'v8';
  }
  throw new Unserializable(path, describe(obj));
}

/**
 * Serializes the value of output `variable` of step `step`.
 *
 * @throws CellarError INVALID_INPUT naming the variable, the step and the part of the value that cannot cross
 * a step boundary.
 */
export function encodeValue(value: unknown, variable: string, step: string): EncodedValue {
  try {
    if (isDataFrame(value)) return { kind: 'arrow-ipc', ext: EXT['arrow-ipc'], data: value.writeIPC() };
    const model = modelJsonOf(value);
    if (model !== null) {
      return {
        kind: 'cellar-model',
        ext: EXT['cellar-model'],
        data: Buffer.from(JSON.stringify(model), 'utf8'),
      };
    }
    const kind = classify(value, variable, new Set());
    if (kind === 'json') return { kind, ext: EXT.json, data: Buffer.from(JSON.stringify(value), 'utf8') };
    return { kind, ext: EXT.v8, data: serialize(value) };
  } catch (e) {
    if (e instanceof CellarError) throw e;
    const where = e instanceof Unserializable ? `${e.path} is ${e.what}` : (e as Error).message;
    throw new CellarError(
      'INVALID_INPUT',
      `Step "${step}": the value of "${variable}" cannot be passed to the next step: ${where}. ` +
        'Steps exchange JSON and structured-clone values, polars DataFrames and cellar models; ' +
        'convert it (e.g. to plain data) or compute it in the step that uses it.',
      { step, variable },
    );
  }
}

/**
 * Turns a stored value back into a JavaScript value (DataFrames via nodejs-polars, models via
 * `modelFromJSON`, both loaded only when needed).
 *
 * @throws CellarError INVALID_INPUT when the stored bytes are not what `kind` says.
 */
export async function decodeValue(
  kind: ValueKind,
  data: Buffer,
  variable: string,
  step: string,
): Promise<unknown> {
  try {
    switch (kind) {
      case 'json':
        return JSON.parse(data.toString('utf8')) as unknown;
      case 'v8':
        return deserialize(data) as unknown;
      case 'arrow-ipc': {
        const mod = (await import('nodejs-polars')) as unknown as { default?: unknown; readIPC?: unknown };
        const pl = (mod.readIPC ? mod : mod.default) as { readIPC(b: Buffer): unknown };
        return pl.readIPC(data);
      }
      case 'cellar-model': {
        const { modelFromJSON } = await import('../../kernel-lib/ml/model-json.js');
        return modelFromJSON(data.toString('utf8'));
      }
      default:
        throw new Error(`unknown value kind ${JSON.stringify(kind)}`);
    }
  } catch (e) {
    throw new CellarError(
      'INVALID_INPUT',
      `Cannot read "${variable}" produced by step "${step}": ${(e as Error).message}`,
      { step, variable },
    );
  }
}
