/**
 * cli/output — how CLI commands print: aligned text tables for people, `--json` for scripts, and the
 * mapping from error codes to exit codes (documented in `cellar --help` and the README).
 */
import { CellarError, exitCodeFor as errorExitCode, type ErrorCode } from '../../kernel-lib/errors.js';

/** Exit codes of the `cellar` command. */
export const EXIT = {
  OK: 0,
  ERROR: 1,
  USAGE: 2,
  NOT_FOUND: 3,
  CONFLICT: 4,
  STORE: 5,
} as const;

/** Where command output goes (tests capture it). */
export interface Io {
  out(text: string): void;
  err(text: string): void;
}

/** Io writing to the process's stdout/stderr. */
export const processIo: Io = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
};

let quietOnClosedPipe = false;

/**
 * Makes the process exit quietly (status 0) when stdout's reader goes away — `cellar pipelines runs | head`
 * — instead of dying on an unhandled EPIPE with a stack trace. Idempotent.
 */
export function exitQuietlyOnClosedStdout(stream: NodeJS.WriteStream = process.stdout): void {
  if (quietOnClosedPipe) return;
  quietOnClosedPipe = true;
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(EXIT.OK);
    throw e;
  });
}

/** Maps a cellar error code to the command's exit code (the mapping lives in kernel-lib/errors.ts). */
export function exitCodeFor(code: ErrorCode): number {
  return errorExitCode(code);
}

/** Prints an error for people (or as JSON with --json) and returns the exit code. */
export function reportError(io: Io, e: unknown, json: boolean): number {
  if (e instanceof CellarError) {
    if (json) io.err(JSON.stringify({ error: e.toJSON() }) + '\n');
    else io.err(`cellar: ${e.message} [${e.code}]\n`);
    return exitCodeFor(e.code);
  }
  const message = e instanceof Error ? e.message : String(e);
  io.err(json ? JSON.stringify({ error: { code: 'INTERNAL', message } }) + '\n' : `cellar: ${message}\n`);
  return EXIT.ERROR;
}

/** Prints a value as pretty JSON. */
export function printJson(io: Io, value: unknown): void {
  io.out(JSON.stringify(value, null, 2) + '\n');
}

// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/g;

function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') {
    if (Number.isInteger(v)) return String(v);
    const text = v.toPrecision(6);
    return text.includes('.') && !text.includes('e') ? text.replace(/\.?0+$/, '') : text;
  }
  // Control characters would let a stored name rewrite the terminal: show them escaped.
  return String(v).replace(CONTROL_CHARS, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Prints rows as an aligned text table with a header. */
export function printTable(io: Io, headers: string[], rows: unknown[][]): void {
  const text = rows.map((r) => r.map(cell));
  const widths = headers.map((h, i) => Math.max(h.length, ...text.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd() + '\n';
  io.out(line(headers));
  for (const r of text) io.out(line(r));
  if (rows.length === 0) io.out('(none)\n');
}

/** Formats epoch milliseconds as an ISO-8601 UTC string ('' for null). */
export function iso(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? '' : new Date(ms).toISOString();
}

/** Prints `key: value` lines (values escaped like table cells). */
export function printFields(io: Io, fields: Array<[string, unknown]>): void {
  const width = Math.max(...fields.map(([k]) => k.length));
  for (const [k, v] of fields) io.out(`${k.padEnd(width)}  ${cell(v)}\n`);
}
