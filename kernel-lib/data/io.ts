/**
 * data/io — reads CSV and Parquet files into nodejs-polars DataFrames and writes them back.
 *
 * Reads check the file first so a missing file is a `NOT_FOUND` naming the path and a malformed one
 * an `INVALID_INPUT` (polars' own errors are wrapped). Writes are atomic: the data goes to a temp
 * file in the target's directory, is fsynced and then renamed over the target, so a crash or a
 * failed write never leaves a half-written file and never touches an existing target.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { pl } from './polars.js';
import type { DataFrame, DataType } from 'nodejs-polars';
import { CellarError } from '../errors.js';
import { toDataFrame, type DataFrameLike } from './frame.js';

/** Options of `readCsv` (a subset of polars' `readCSV` options, with cellar's defaults). */
export interface ReadCsvOptions {
  /** Field separator; default `,` (`\t` for `.tsv` files). */
  sep?: string;
  /** Whether the first line holds the column names; default true. */
  hasHeader?: boolean;
  /** Parse ISO-8601 date/datetime strings into Date/Datetime columns; default true. */
  tryParseDates?: boolean;
  /** Strings read as null: one for all columns, one per column (array), or by column name. */
  nullValues?: string | string[] | Record<string, string>;
  /** Column types that override inference, e.g. `{ driver_id: pl.Int64 }`. */
  dtypes?: Record<string, DataType>;
  /** Only read these columns. */
  columns?: string[];
  /**
   * Rows used to infer column types; default 10 000. When a later value does not fit the inferred
   * type and this option was not given, the whole file is scanned once more.
   */
  inferSchemaLength?: number;
  /** Stop after this many rows. */
  nRows?: number;
  /** Quote character; default `"`. */
  quoteChar?: string;
  /** Lines starting with this prefix are skipped. */
  commentPrefix?: string;
  /** Lines to skip before the header. */
  skipRows?: number;
  /** `utf8` (default; invalid bytes are an error) or `utf8-lossy` (invalid bytes become `�`). */
  encoding?: 'utf8' | 'utf8-lossy';
}

/** Options of `readParquet`. */
export interface ReadParquetOptions {
  /** Only read these columns. */
  columns?: string[];
  /** Stop after this many rows. */
  nRows?: number;
}

/** Options of `writeCsv`. */
export interface WriteCsvOptions {
  /** Field separator; default `,`. */
  sep?: string;
  /** Write a header line; default true. */
  includeHeader?: boolean;
  /** How nulls are written; default the empty string. */
  nullValue?: string;
}

/** Options of `writeParquet`. */
export interface WriteParquetOptions {
  /** Compression codec; default `zstd` (read by polars, DuckDB and pyarrow alike). */
  compression?: 'uncompressed' | 'snappy' | 'gzip' | 'lz4' | 'zstd' | 'brotli';
}

const DEFAULT_INFER_ROWS = 10_000;

/**
 * Reads a CSV file into a polars DataFrame. Numbers become Int64/Float64 columns and ISO dates
 * Datetime columns (read as UTC); empty fields are nulls.
 *
 * @throws CellarError NOT_FOUND when the file does not exist; INVALID_INPUT when it is a directory,
 *   cannot be read, or is not valid CSV (the message carries polars' reason).
 * @example
 * const orders = readCsv('data/driver_orders.csv');
 * const stats = readCsv('stats.tsv', { nullValues: 'NA' });
 */
export function readCsv(file: string, opts: ReadCsvOptions = {}): DataFrame {
  const abs = checkReadable(file, 'CSV');
  const ext = path.extname(abs).toLowerCase();
  const options: Record<string, unknown> = {
    sep: ext === '.tsv' ? '\t' : ',',
    tryParseDates: true,
    inferSchemaLength: DEFAULT_INFER_ROWS,
    ...withoutUndefined(opts),
  };
  // polars treats a string without a .csv/.tsv extension as inline CSV text, so other files are
  // handed over as bytes.
  const source = nativePathOk(abs, ['.csv', '.tsv']) ? abs : fs.readFileSync(abs);
  try {
    return pl.readCSV(source, options);
  } catch (first) {
    if (opts.inferSchemaLength === undefined && /could not parse/i.test(errorText(first))) {
      try {
        return pl.readCSV(source, { ...options, inferSchemaLength: countLines(abs) + 1 });
      } catch (second) {
        throw readError(file, 'CSV', second);
      }
    }
    throw readError(file, 'CSV', first);
  }
}

/**
 * Reads a Parquet file into a polars DataFrame (types come from the file's schema).
 *
 * @throws CellarError NOT_FOUND when the file does not exist; INVALID_INPUT when it is a directory,
 *   cannot be read, or is not a valid Parquet file.
 * @example
 * const stats = readParquet('data/driver_stats.parquet');
 */
export function readParquet(file: string, opts: ReadParquetOptions = {}): DataFrame {
  const abs = checkReadable(file, 'Parquet');
  const source = nativePathOk(abs, ['.parquet']) ? abs : fs.readFileSync(abs);
  try {
    return pl.readParquet(source, withoutUndefined(opts));
  } catch (e) {
    throw readError(file, 'Parquet', e);
  }
}

/**
 * Writes a table as CSV, atomically (temp file in the same directory, fsync, rename); missing
 * parent directories are created. Accepts anything `toDataFrame` accepts. Datetime columns are
 * written as ISO-8601 strings without a zone, which `readCsv` reads back as the same UTC instants.
 *
 * @throws CellarError INVALID_INPUT when the data is not a table or cannot be written as CSV
 *   (e.g. nested list columns); INVALID_PATH when the target is a directory or its directory cannot
 *   be created. The target is unchanged when the write fails.
 * @example
 * writeCsv(df, 'out/predictions.csv');
 */
export function writeCsv(data: DataFrameLike, file: string, opts: WriteCsvOptions = {}): void {
  const df = toDataFrame(data);
  const { sep, ...rest } = withoutUndefined(opts);
  atomicWrite(file, 'CSV', (tmp) => df.writeCSV(tmp, sep === undefined ? rest : { ...rest, separator: sep }));
}

/**
 * Writes a table as Parquet, atomically (temp file in the same directory, fsync, rename); missing
 * parent directories are created. Accepts anything `toDataFrame` accepts.
 *
 * @throws CellarError INVALID_INPUT when the data is not a table or cannot be written;
 *   INVALID_PATH when the target is a directory or its directory cannot be created. The target is
 *   unchanged when the write fails.
 * @example
 * writeParquet(features, 'data/features.parquet');
 */
export function writeParquet(data: DataFrameLike, file: string, opts: WriteParquetOptions = {}): void {
  const df = toDataFrame(data);
  const compression = opts.compression ?? 'zstd';
  atomicWrite(file, 'Parquet', (tmp) => df.writeParquet(tmp, { compression }));
}

/**
 * Writes bytes or text to a file atomically: a temp file in the same directory is written, fsynced
 * and renamed over the target, so readers see either the old or the new content, never a half file.
 * Missing parent directories are created.
 *
 * @throws CellarError INVALID_PATH when the target is a directory or its directory cannot be created.
 */
export function writeFileAtomic(file: string, contents: string | Uint8Array): void {
  atomicWrite(file, 'file', (tmp) => fs.writeFileSync(tmp, contents));
}

/** Runs `writer` on a temp path next to `file`, fsyncs the result and renames it over `file`. */
function atomicWrite(file: string, what: string, writer: (tmpPath: string) => void): void {
  const abs = path.resolve(file);
  const dir = path.dirname(abs);
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new CellarError(
      'INVALID_PATH',
      `Cannot write ${what} ${file}: its directory ${dir} cannot be created (${errorText(e)}).`,
      { path: file },
    );
  }
  if (isDirectory(abs)) {
    throw new CellarError(
      'INVALID_PATH',
      `Cannot write ${what} ${file}: it is a directory; pass a file path.`,
      {
        path: file,
      },
    );
  }
  const tmp = path.join(dir, `.${path.basename(abs)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    try {
      writer(tmp);
    } catch (e) {
      throw e instanceof CellarError
        ? e
        : new CellarError('INVALID_INPUT', `Cannot write ${what} ${file}: ${errorText(e)}.`, { path: file });
    }
    fsyncPath(tmp);
    fs.renameSync(tmp, abs);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    if (e instanceof CellarError) throw e;
    throw new CellarError('INVALID_PATH', `Cannot write ${what} ${file}: ${errorText(e)}.`, { path: file });
  }
  // Make the rename itself durable; some file systems refuse to fsync a directory, which is harmless.
  try {
    fsyncPath(dir);
  } catch {
    /* best effort */
  }
}

function fsyncPath(p: string): void {
  const fd = fs.openSync(p, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Resolves `file` and checks it is an existing, readable regular file. */
function checkReadable(file: string, what: string): string {
  if (typeof file !== 'string' || file.length === 0) {
    throw new CellarError('INVALID_PARAMETER', `read${what}: pass the path of a ${what} file as a string.`);
  }
  const abs = path.resolve(file);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(abs);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new CellarError(
        'NOT_FOUND',
        `${what} file not found: ${file}` +
          (abs === file ? '' : ` (resolved to ${abs})`) +
          '. Check the path and the working directory.',
        { path: file },
      );
    }
    throw new CellarError('INVALID_INPUT', `Cannot read ${what} file ${file}: ${errorText(e)}.`, {
      path: file,
    });
  }
  if (stat.isDirectory()) {
    throw new CellarError('INVALID_INPUT', `${file} is a directory, not a ${what} file.`, { path: file });
  }
  try {
    fs.accessSync(abs, fs.constants.R_OK);
  } catch (e) {
    throw new CellarError('INVALID_INPUT', `Cannot read ${what} file ${file}: ${errorText(e)}.`, {
      path: file,
    });
  }
  return abs;
}

/** polars reads a string as a path only when it has one of these extensions (else as inline data). */
function nativePathOk(abs: string, extensions: string[]): boolean {
  const { base, ext, name } = path.parse(abs);
  return Boolean(base && ext && name) && extensions.includes(ext);
}

function readError(file: string, what: string, e: unknown): CellarError {
  return new CellarError(
    'INVALID_INPUT',
    `Cannot read ${file} as ${what}: ${errorText(e)}.` +
      (what === 'CSV' ? ' Check the separator, the encoding (UTF-8) and the column types (`dtypes`).' : ''),
    { path: file },
  );
}

function countLines(abs: string): number {
  const buf = fs.readFileSync(abs);
  let n = 0;
  for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) n++;
  return n;
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function withoutUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

function errorText(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return (text.split('\n')[0] ?? '').replace(/^Error: /, '').replace(/[.\s]+$/, '');
}
