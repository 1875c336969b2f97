/**
 * runner/log-cap — the size cap of a step attempt's log. A step printing without end must not fill the disk:
 * the log keeps its first half-cap bytes as they come, then only the last half-cap bytes (in memory), and
 * when the attempt ends it writes a line saying how many bytes were cut, followed by that tail. A process
 * killed before it ends keeps the head and the line saying that the rest is cut. The cap is per attempt:
 * `maxLogBytes` (scheduler / `runPipeline` option, `--max-log-bytes`), else `CELLAR_MAX_STEP_LOG_BYTES`,
 * else 50 MiB.
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { CellarError } from '../../kernel-lib/errors.js';

/** Default cap of one attempt's log, in bytes (50 MiB). */
export const DEFAULT_MAX_STEP_LOG_BYTES = 50 * 1024 * 1024;
/** The environment variable that sets the cap when no option does. */
export const MAX_STEP_LOG_BYTES_ENV = 'CELLAR_MAX_STEP_LOG_BYTES';
/** Smallest cap accepted: room for a useful head and tail. */
const MIN_CAP = 1024;

/**
 * The log cap to use: the option, else the environment variable, else the default.
 *
 * @throws CellarError INVALID_PARAMETER for a cap that is not a whole number of bytes ≥ 1024.
 */
export function resolveMaxLogBytes(option?: number | string, env: NodeJS.ProcessEnv = process.env): number {
  const raw = option ?? env[MAX_STEP_LOG_BYTES_ENV];
  if (raw === undefined || raw === '') return DEFAULT_MAX_STEP_LOG_BYTES;
  const n = typeof raw === 'number' ? raw : /^\d{1,16}$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
  if (!Number.isSafeInteger(n) || n < MIN_CAP) {
    const from = option === undefined ? MAX_STEP_LOG_BYTES_ENV : 'the log cap (--max-log-bytes)';
    throw new CellarError(
      'INVALID_PARAMETER',
      `${from} must be a whole number of bytes, at least ${MIN_CAP}; got ${JSON.stringify(raw)}.`,
    );
  }
  return n;
}

/** An attempt's log file with its cap (created at the first byte written). */
export class CappedLog {
  private fd: number | null = null;
  private written = 0;
  private readonly headCap: number;
  private readonly tailCap: number;
  private tail: Buffer[] = [];
  private tailBytes = 0;
  private cut = 0;

  constructor(
    readonly file: string,
    readonly cap: number = DEFAULT_MAX_STEP_LOG_BYTES,
  ) {
    this.headCap = Math.floor(cap / 2);
    this.tailCap = cap - this.headCap;
  }

  private raw(data: Uint8Array | string): void {
    if (this.fd === null) {
      mkdirSync(dirname(this.file), { recursive: true });
      this.fd = openSync(this.file, 'a');
    }
    if (typeof data === 'string') writeSync(this.fd, data);
    else writeSync(this.fd, data);
  }

  /** Appends output of the step: to the file while the head has room, else to the kept tail. */
  write(data: string | Uint8Array): void {
    let buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
    if (this.written < this.headCap) {
      const room = this.headCap - this.written;
      const head = buf.subarray(0, room);
      this.raw(head);
      this.written += head.length;
      buf = buf.subarray(head.length);
      if (buf.length === 0) return;
      this.raw(
        `\n[cellar] this attempt's log reached half of its cap of ${this.cap} bytes: what follows is cut, ` +
          `except the last ${this.tailCap} bytes, written when the step ends ` +
          `(raise it with --max-log-bytes or ${MAX_STEP_LOG_BYTES_ENV})\n`,
      );
    }
    this.tail.push(Buffer.from(buf)); // a copy: callers may reuse their buffer
    this.tailBytes += buf.length;
    while (this.tail.length > 1 && this.tailBytes - this.tail[0]!.length >= this.tailCap) {
      const dropped = this.tail.shift()!;
      this.tailBytes -= dropped.length;
      this.cut += dropped.length;
    }
  }

  /** Writes the cut notice and the kept tail, and closes the file. */
  close(): void {
    if (this.tailBytes > 0) {
      let tail = Buffer.concat(this.tail);
      if (tail.length > this.tailCap) {
        this.cut += tail.length - this.tailCap;
        tail = tail.subarray(tail.length - this.tailCap);
      }
      if (this.cut > 0)
        this.raw(`[cellar] ${this.cut} bytes of output were cut here; the last ${tail.length} follow\n`);
      this.raw(tail);
    }
    this.tail = [];
    this.tailBytes = 0;
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
