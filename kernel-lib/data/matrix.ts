/**
 * data/matrix — turns the tabular shapes a notebook holds (rows, row objects, column objects, typed
 * arrays, nodejs-polars DataFrames/Series, duck-typed danfo DataFrames/Series) into Float64 columns
 * for cellar's algorithms, with one clear error for every bad cell. Owns `toMatrix` and `toVector`.
 */
import { CellarError, listForMessage } from '../errors.js';

/** Column types a matrix reports (MLflow signature vocabulary, numeric subset). */
export type MatrixColumnType = 'double' | 'float' | 'long' | 'integer' | 'boolean';

/** Column-major Float64 view of a table. Columns may share memory with the input: treat them as read-only. */
export interface Matrix {
  /** One Float64Array of length `nRows` per feature. */
  columns: Float64Array[];
  nRows: number;
  nCols: number;
  /** Column names: from the input when it has names, else `featureNames` option, else `x0, x1, …`. */
  featureNames: string[];
  /** Per-column type of the input values (e.g. 'double' for JS numbers, 'long' for a polars Int64). */
  types: MatrixColumnType[];
}

/** Options of `toMatrix`. */
export interface ToMatrixOptions {
  /**
   * For unnamed input (rows of numbers, a 1-D array): names of the columns (length must match).
   * For named input (row objects, column objects, DataFrames): the columns to take, in this order;
   * other columns are ignored and a missing one is an error naming it.
   */
  featureNames?: string[];
  /** Accept NaN and ±Infinity values (default false: they are an INVALID_INPUT error). */
  allowNonFinite?: boolean;
  /** What to call the input in error messages (default 'X'). */
  label?: string;
}

/** Options of `toVector`. */
export interface ToVectorOptions {
  /** Accept NaN and ±Infinity values (default false). */
  allowNonFinite?: boolean;
  /** What to call the input in error messages (default 'y'). */
  label?: string;
}

/** Any typed array (numbers or bigints). */
type AnyTypedArray = ArrayBufferView & ArrayLike<number | bigint>;

function invalid(message: string, details?: Record<string, unknown>): CellarError {
  return new CellarError('INVALID_INPUT', message, details);
}

interface RawColumn {
  name: string;
  values: Float64Array;
  type: MatrixColumnType;
}

/** Duck type of a nodejs-polars Series (only what cellar reads). */
export interface PolarsSeriesLike {
  name: string;
  dtype: { variant?: string; toString(): string };
  length: number;
  nullCount(): number;
  toTypedArray(): ArrayLike<number | bigint>;
  toArray(): unknown[];
}

/** Duck type of a nodejs-polars DataFrame (only what cellar reads). */
export interface PolarsDataFrameLike {
  columns: string[];
  height: number;
  width: number;
  getColumn(name: string): PolarsSeriesLike;
}

/** Duck type of a danfo DataFrame or Series (`columns`, and `values` or `$data`). */
export interface DanfoLike {
  columns: string[];
  values?: unknown[];
  $data?: unknown[];
  dtypes?: string[];
  $isSeries?: boolean;
}

/** True for a nodejs-polars DataFrame (duck-typed, so no import of polars is needed). */
export function isPolarsDataFrame(x: unknown): x is PolarsDataFrameLike {
  const o = x as PolarsDataFrameLike | null;
  return (
    typeof o === 'object' &&
    o !== null &&
    typeof o.getColumn === 'function' &&
    Array.isArray(o.columns) &&
    typeof o.height === 'number'
  );
}

/** True for a nodejs-polars Series (duck-typed). */
export function isPolarsSeries(x: unknown): x is PolarsSeriesLike {
  const o = x as PolarsSeriesLike | null;
  return (
    typeof o === 'object' &&
    o !== null &&
    typeof o.toTypedArray === 'function' &&
    typeof o.nullCount === 'function' &&
    o.dtype !== undefined
  );
}

/** True for a danfo-like DataFrame or Series: `columns: string[]` plus `values` or `$data` arrays. */
export function isDanfoLike(x: unknown): x is DanfoLike {
  if (typeof x !== 'object' || x === null || isPolarsDataFrame(x) || isPolarsSeries(x)) return false;
  const o = x as DanfoLike;
  let values: unknown;
  try {
    values = o.values ?? o.$data;
  } catch {
    return false;
  }
  return Array.isArray(o.columns) && Array.isArray(values);
}

/** The typed array's kind, e.g. 'Float64Array'. Not `instanceof`: arrays made by native addons (polars) or in
 * another realm (jest's sandbox, vm contexts) fail `instanceof` checks against this realm's constructors. */
function kindOf(x: unknown): string {
  return Object.prototype.toString.call(x).slice(8, -1);
}

function isTypedArray(x: unknown): x is AnyTypedArray {
  return ArrayBuffer.isView(x) && kindOf(x) !== 'DataView';
}

function isFloat64Array(x: unknown): x is Float64Array {
  return ArrayBuffer.isView(x) && kindOf(x) === 'Float64Array';
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (typeof x !== 'object' || x === null) return false;
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

function typeOfTypedArray(a: AnyTypedArray): MatrixColumnType {
  const kind = kindOf(a);
  if (kind === 'Float64Array') return 'double';
  if (kind === 'Float32Array') return 'float';
  if (kind === 'BigInt64Array' || kind === 'BigUint64Array' || kind === 'Uint32Array') return 'long';
  return 'integer';
}

function describe(v: unknown): string {
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 30 ? v.slice(0, 30) + '…' : v)}`;
  if (v === null) return 'null';
  if (v === undefined) return 'missing (undefined)';
  if (v instanceof Date) return 'a Date';
  if (typeof v === 'number') return String(v);
  return `a ${typeof v}`;
}

function badValue(label: string, column: string, row: number, v: unknown): CellarError {
  const fix =
    typeof v === 'number'
      ? 'drop or impute such rows before fitting'
      : v === null || v === undefined
        ? 'fill or drop missing values first'
        : 'only numeric (or boolean) columns can be used; drop or encode this column';
  return invalid(`${label} column '${column}' row ${row} is ${describe(v)}: ${fix}`, { column, row });
}

/**
 * Checks a Float64 column for NaN/±Infinity.
 *
 * @throws CellarError('INVALID_INPUT') naming the column and row of the first bad value.
 */
export function assertFiniteColumn(label: string, name: string, a: Float64Array): void {
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    // v - v is NaN exactly when v is NaN or ±Infinity; this keeps the loop to one compare.
    if (v - v !== 0) throw badValue(label, name, i, v);
  }
}

/** Converts a list of JS values (numbers, booleans, bigints) into a Float64 column. */
function fromValues(label: string, name: string, values: ArrayLike<unknown>): RawColumn {
  const n = values.length;
  const out = new Float64Array(n);
  let nBool = 0;
  let nBig = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (typeof v === 'number') out[i] = v;
    else if (typeof v === 'boolean') {
      out[i] = v ? 1 : 0;
      nBool++;
    } else if (typeof v === 'bigint') {
      out[i] = Number(v);
      nBig++;
    } else throw badValue(label, name, i, v);
  }
  const type: MatrixColumnType = n > 0 && nBool === n ? 'boolean' : n > 0 && nBig === n ? 'long' : 'double';
  return { name, values: out, type };
}

function fromTyped(a: AnyTypedArray, name: string): RawColumn {
  if (isFloat64Array(a)) return { name, values: a, type: 'double' };
  const out = new Float64Array(a.length);
  const kind = kindOf(a);
  if (kind === 'BigInt64Array' || kind === 'BigUint64Array') {
    for (let i = 0; i < a.length; i++) out[i] = Number(a[i]);
  } else out.set(a as ArrayLike<number>);
  return { name, values: out, type: typeOfTypedArray(a) };
}

function fromArrayLike(label: string, name: string, v: unknown): RawColumn {
  if (isTypedArray(v)) return fromTyped(v, name);
  if (Array.isArray(v)) return fromValues(label, name, v);
  if (isPolarsSeries(v)) return fromPolarsSeries(label, v, name);
  throw invalid(
    `${label} column '${name}' is ${describe(v)}, not an array of numbers: pass arrays or typed arrays as column values`,
    { column: name },
  );
}

const POLARS_TYPES: Record<string, MatrixColumnType> = {
  Float64: 'double',
  Float32: 'float',
  Int64: 'long',
  UInt64: 'long',
  UInt32: 'long',
  Int32: 'integer',
  Int16: 'integer',
  Int8: 'integer',
  UInt16: 'integer',
  UInt8: 'integer',
  Bool: 'boolean',
  Boolean: 'boolean',
};

function polarsVariant(s: PolarsSeriesLike): string {
  const v = s.dtype.variant;
  if (typeof v === 'string') return v;
  const m = /^DataType\((\w+)/.exec(String(s.dtype));
  return m ? m[1] : String(s.dtype);
}

function fromPolarsSeries(label: string, s: PolarsSeriesLike, name: string = s.name): RawColumn {
  const variant = polarsVariant(s);
  const type = POLARS_TYPES[variant];
  if (type === undefined) {
    throw invalid(
      `${label} column '${name}' has dtype ${variant}, which is not numeric: drop it or cast it (e.g. pl.col('${name}').cast(pl.Float64))`,
      { column: name, dtype: variant },
    );
  }
  const nulls = s.nullCount();
  if (nulls > 0) {
    const arr = s.toArray();
    const row = arr.findIndex((v) => v === null || v === undefined);
    throw invalid(
      `${label} column '${name}' has ${nulls} null value(s) (first at row ${row}): fill or drop them first (df.dropNulls() or fillNull)`,
      { column: name, row },
    );
  }
  // Polars cannot turn Bool/UInt64 into a typed array; go through JS values for those.
  if (type === 'boolean' || variant === 'UInt64') return { ...fromValues(label, name, s.toArray()), type };
  const typed = s.toTypedArray() as AnyTypedArray;
  return { ...fromTyped(typed, name), type };
}

function fromRows(label: string, rows: unknown[], names?: string[]): RawColumn[] {
  const first = rows[0];
  const p = (first as ArrayLike<unknown>).length;
  const nameOf = (j: number): string => (names && names.length === p ? names[j] : `x${j}`);
  const n = rows.length;
  const cols: Float64Array[] = [];
  for (let j = 0; j < p; j++) cols.push(new Float64Array(n));
  const kinds = new Array<number>(p).fill(0); // bit 1: saw boolean, bit 2: saw other
  for (let i = 0; i < n; i++) {
    const r = rows[i] as ArrayLike<unknown> | null;
    if (r === null || typeof r !== 'object' || typeof r.length !== 'number') {
      throw invalid(`${label} row ${i} is ${describe(r)}, not an array: every row must be an array`, {
        row: i,
      });
    }
    if (r.length !== p) {
      throw invalid(
        `${label} row ${i} has ${r.length} values but row 0 has ${p}: every row must have the same length`,
        { row: i },
      );
    }
    for (let j = 0; j < p; j++) {
      const v = r[j];
      if (typeof v === 'number') {
        cols[j][i] = v;
        kinds[j] |= 2;
      } else if (typeof v === 'boolean') {
        cols[j][i] = v ? 1 : 0;
        kinds[j] |= 1;
      } else if (typeof v === 'bigint') {
        cols[j][i] = Number(v);
        kinds[j] |= 2;
      } else throw badValue(label, nameOf(j), i, v);
    }
  }
  return cols.map((values, j) => ({ name: nameOf(j), values, type: kinds[j] === 1 ? 'boolean' : 'double' }));
}

function fromRowObjects(label: string, rows: unknown[], names: string[]): RawColumn[] {
  const n = rows.length;
  return names.map((name) => {
    const values = new Array<unknown>(n);
    for (let i = 0; i < n; i++) {
      const r = rows[i] as Record<string, unknown> | null;
      if (!isPlainObject(r)) {
        throw invalid(`${label} row ${i} is ${describe(r)}, not an object like row 0`, {
          row: i,
        });
      }
      if (!(name in r)) {
        throw invalid(`${label} row ${i} has no column '${name}': every row needs it`, {
          column: name,
          row: i,
        });
      }
      values[i] = r[name];
    }
    return fromValues(label, name, values);
  });
}

function danfoColumnType(dtype: string | undefined, fallback: MatrixColumnType): MatrixColumnType {
  if (dtype === 'int32') return 'long';
  if (dtype === 'boolean') return 'boolean';
  return fallback;
}

function fromDanfo(label: string, d: DanfoLike, names: string[] | undefined): RawColumn[] {
  const data = (d.values ?? d.$data) as unknown[];
  if (d.$isSeries === true || (data.length > 0 && !Array.isArray(data[0]))) {
    const name = names?.[0] ?? String(d.columns[0] ?? 'x0');
    const col = fromValues(label, name, data);
    return [{ ...col, type: danfoColumnType(d.dtypes?.[0], col.type) }];
  }
  const columnNames = d.columns.map(String);
  const raw: RawColumn[] =
    data.length === 0
      ? columnNames.map((name) => ({ name, values: new Float64Array(0), type: 'double' }))
      : fromRows(label, data, columnNames);
  return raw.map((c, j) => ({ ...c, type: danfoColumnType(d.dtypes?.[j], c.type) }));
}

/** Picks and orders named columns; a missing name is an error that lists what is there. */
function selectNamed(label: string, available: string[], wanted: string[]): string[] {
  const have = new Set(available);
  for (const name of wanted) {
    if (!have.has(name)) {
      throw invalid(
        `${label} is missing column '${name}' (expected columns: ${listForMessage(wanted)}; got: ${listForMessage(available)})`,
        { column: name },
      );
    }
  }
  return wanted;
}

function checkNames(label: string, names: string[]): void {
  const seen = new Set<string>();
  for (const n of names) {
    if (typeof n !== 'string' || n === '') {
      throw invalid(`${label} has a column without a name: every column needs a non-empty name`);
    }
    if (seen.has(n)) {
      throw invalid(`${label} has two columns named '${n}': column names must be unique`, {
        column: n,
      });
    }
    seen.add(n);
  }
}

function rawColumns(
  X: unknown,
  label: string,
  wanted: string[] | undefined,
): { cols: RawColumn[]; named: boolean } {
  if (isPolarsDataFrame(X)) {
    const names = wanted ? selectNamed(label, X.columns, wanted) : X.columns;
    return { cols: names.map((n) => fromPolarsSeries(label, X.getColumn(n), n)), named: true };
  }
  if (isPolarsSeries(X)) return { cols: [fromPolarsSeries(label, X)], named: true };
  if (isTypedArray(X)) return { cols: [fromTyped(X, 'x0')], named: false };
  if (Array.isArray(X)) {
    if (X.length === 0) {
      const names = wanted ?? [];
      return {
        cols: names.map((name) => ({ name, values: new Float64Array(0), type: 'double' })),
        named: true,
      };
    }
    const first = X[0];
    if (Array.isArray(first) || isTypedArray(first))
      return { cols: fromRows(label, X, wanted), named: false };
    if (isPlainObject(first)) {
      const names = wanted ? selectNamed(label, Object.keys(first), wanted) : Object.keys(first);
      return { cols: fromRowObjects(label, X, names), named: true };
    }
    return { cols: [fromValues(label, 'x0', X)], named: false };
  }
  if (isDanfoLike(X)) {
    const cols = fromDanfo(label, X, wanted);
    if (X.$isSeries === true) return { cols, named: false };
    const byName = new Map(cols.map((c) => [c.name, c]));
    const names = wanted ? selectNamed(label, [...byName.keys()], wanted) : [...byName.keys()];
    return { cols: names.map((n) => byName.get(n) as RawColumn), named: true };
  }
  if (isPlainObject(X)) {
    const keys = Object.keys(X);
    const names = wanted ? selectNamed(label, keys, wanted) : keys;
    return { cols: names.map((n) => fromArrayLike(label, n, X[n])), named: true };
  }
  throw invalid(
    `${label} is ${describe(X)}: pass rows (number[][]), row objects, a column object ({a: number[]}), a typed array or a DataFrame`,
  );
}

/**
 * Converts tabular input into Float64 columns. Accepts `number[][]` rows, a 1-D `number[]` or typed array
 * (one feature), arrays of row objects (`[{a: 1, b: 2}]`), column objects (`{a: number[], b: Float64Array}`),
 * nodejs-polars DataFrames/Series (numeric and boolean dtypes) and danfo-like DataFrames/Series
 * (`columns` plus `values` or `$data`). Booleans become 0/1. Float64Array inputs are used without a copy.
 *
 * @throws CellarError('INVALID_INPUT') naming the column and row of a NaN/Infinity, null, string or other
 *   non-numeric value, a ragged row, columns of different lengths, or a column missing from `featureNames`.
 * @example
 * const m = toMatrix(df, { featureNames: ['conv_rate', 'acc_rate'] }); // m.columns[0] is a Float64Array
 */
export function toMatrix(X: unknown, opts: ToMatrixOptions = {}): Matrix {
  const label = opts.label ?? 'X';
  const wanted = opts.featureNames;
  if (wanted) checkNames(`${label} featureNames`, wanted);
  const { cols, named } = rawColumns(X, label, wanted);
  let names = cols.map((c) => c.name);
  if (!named && wanted) {
    if (wanted.length !== cols.length) {
      throw invalid(
        `${label} has ${cols.length} column(s) but ${wanted.length} are expected (${listForMessage(wanted)}): pass the same features as at fit time`,
        { expected: wanted.length, got: cols.length },
      );
    }
    names = wanted.slice();
  }
  checkNames(label, names);
  const nRows = cols.length > 0 ? cols[0].values.length : 0;
  cols.forEach((c, j) => {
    if (c.values.length !== nRows) {
      throw invalid(
        `${label} column '${names[j]}' has ${c.values.length} values but column '${names[0]}' has ${nRows}: all columns must have the same length`,
        { column: names[j] },
      );
    }
    if (!opts.allowNonFinite) assertFiniteColumn(label, names[j], c.values);
  });
  return {
    columns: cols.map((c) => c.values),
    nRows,
    nCols: cols.length,
    featureNames: names,
    types: cols.map((c) => c.type),
  };
}

/**
 * Converts a target (or any single column) into a Float64Array. Accepts number arrays, typed arrays, a
 * polars Series, a danfo Series (`values`), or a one-column frame (polars, danfo, column object, rows).
 * A Float64Array input is returned as is (no copy).
 *
 * @throws CellarError('INVALID_INPUT') for NaN/Infinity, nulls, non-numeric values or a frame with more than one column.
 * @example
 * const y = toVector(df.getColumn('trip_completed'));
 */
export function toVector(y: unknown, opts: ToVectorOptions = {}): Float64Array {
  const label = opts.label ?? 'y';
  let col: RawColumn;
  if (isFloat64Array(y)) col = { name: label, values: y, type: 'double' };
  else if (isTypedArray(y)) col = fromTyped(y, label);
  else if (
    Array.isArray(y) &&
    (y.length === 0 || !(Array.isArray(y[0]) || isPlainObject(y[0]) || isTypedArray(y[0])))
  )
    col = fromValues(label, label, y);
  else if (isPolarsSeries(y)) col = fromPolarsSeries(label, y);
  else {
    const m = toMatrix(y, { label, allowNonFinite: true });
    if (m.nCols !== 1) {
      throw invalid(
        `${label} must be one column but has ${m.nCols} (${listForMessage(m.featureNames)}): pass a single column or Series`,
      );
    }
    col = { name: m.featureNames[0], values: m.columns[0], type: m.types[0] };
  }
  if (!opts.allowNonFinite) {
    const a = col.values;
    for (let i = 0; i < a.length; i++) {
      const v = a[i];
      if (v - v !== 0) {
        throw invalid(`${label} row ${i} is ${v}: drop or impute such rows before fitting`, {
          row: i,
        });
      }
    }
  }
  return col.values;
}
