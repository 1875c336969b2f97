/**
 * serving/http — the small HTTP pieces of the serving runtime on node:http: reading a body under a size limit
 * (413 as soon as `content-length` or the bytes received pass it, before anything is parsed) and a deadline
 * (408 for a body that arrives too slowly), sending JSON, and the access log that writes one JSON line per
 * request in batches (one write per event-loop turn, not one per request).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CellarError } from '../../kernel-lib/errors.js';

/** A body that could not be read, with the status to answer. */
export class BodyError extends Error {
  /** Creates an error for status 408 or 413. */
  constructor(
    readonly status: 408 | 413,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Reads a request body as UTF-8 text, refusing more than `limit` bytes (413) and bodies not complete within
 * `timeoutMs` (408).
 *
 * @throws BodyError 413 / 408; CellarError INVALID_INPUT when the client aborts
 */
export function readBody(req: IncomingMessage, limit: number, timeoutMs: number): Promise<string> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit)
    return Promise.reject(new BodyError(413, `The body is ${declared} bytes; the limit is ${limit}.`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (err: Error | null, text?: string): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.removeListener('data', onData);
      if (err) {
        req.pause();
        reject(err);
      } else resolve(text!);
    };
    const timer = setTimeout(
      () => finish(new BodyError(408, `The body did not arrive within ${timeoutMs} ms.`)),
      timeoutMs,
    );
    const onData = (c: Buffer): void => {
      size += c.length;
      if (size > limit) finish(new BodyError(413, `The body is over the limit of ${limit} bytes.`));
      else chunks.push(c);
    };
    req.on('data', onData);
    req.on('end', () =>
      finish(
        null,
        chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8'),
      ),
    );
    req.on('error', (e) => finish(new CellarError('INVALID_INPUT', `The request was aborted: ${e.message}`)));
    req.on('aborted', () => finish(new CellarError('INVALID_INPUT', 'The client aborted the request.')));
  });
}

/** Sends a response with a body and content type; `close` asks the client to close the connection. */
export function send(
  res: ServerResponse,
  status: number,
  body: string,
  type = 'application/json',
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}

/** One JSON line per request, written in batches. */
export class AccessLog {
  private lines: string[] = [];
  private scheduled = false;

  /** Writes lines with `write` (default: stdout); `enabled: false` drops them. */
  constructor(
    private readonly write: (text: string) => void = (t) => process.stdout.write(t),
    readonly enabled = true,
  ) {}

  /** Queues one record. */
  log(record: Record<string, unknown>): void {
    if (!this.enabled) return;
    this.logLine(JSON.stringify(record));
  }

  /** Queues one line that is already a JSON object (no trailing newline); callers check `enabled` first. */
  logLine(line: string): void {
    if (!this.enabled) return;
    this.lines.push(line);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Writes what is queued. */
  flush(): void {
    this.scheduled = false;
    if (this.lines.length === 0) return;
    const text = this.lines.join('\n') + '\n';
    this.lines = [];
    this.write(text);
  }
}
