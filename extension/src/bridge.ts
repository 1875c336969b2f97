/**
 * bridge — the extension's request layer to the cellar kernel bridge. A request becomes one silent execute
 * request on the notebook's kernel:
 *
 *   try { await require("cellar").bridge.handle("<request JSON>"); } catch (e: any) { console.error(…) }
 *
 * The request JSON is embedded as a string literal made by `JSON.stringify` of the JSON text (never
 * concatenated raw), so no request content can become code. The kernel answers with a `display_data`
 * message whose bundle holds the response under `application/vnd.cellar.bridge+json`; replies are matched
 * to requests by id. A request that gets no reply — cellar is not installed, the kernel died, restarted or
 * skipped the request, or the deadline passed — is rejected with a {@link BridgeError} that says why.
 *
 * This layer never opens dialogs or notifications: callers decide what the user sees. It knows nothing of
 * JupyterLab either: a {@link Transport} (see kernel.ts) runs the code on a kernel. Pure TypeScript.
 */
import { BRIDGE_MIME, type BridgeErrorBody, type BridgeRequest, type BridgeResponse } from './protocol.js';

/** One IOPub message of the execute request, reduced to what the request layer reads. */
export interface IOPubMessage {
  msgType: string;
  content: Record<string, unknown>;
}

/** The end of an execute request: the reply's status (`ok`, `error`, `abort`) and, for errors, its text. */
export interface ExecuteOutcome {
  status: string;
  ename?: string;
  evalue?: string;
}

/** A running execute request. `done` settles after the reply and every IOPub message of the request. */
export interface Execution {
  done: Promise<ExecuteOutcome>;
  /** Stops listening (the kernel may still run the code). */
  dispose(): void;
}

/** Runs code silently on one kernel and streams the request's IOPub messages to `onMessage`. */
export interface Transport {
  execute(code: string, onMessage: (msg: IOPubMessage) => void): Execution;
}

/** Why a request failed on the client side (cellar's own error codes come from the kernel). */
export type ClientErrorCode = 'NO_KERNEL' | 'TIMEOUT' | 'KERNEL_ERROR' | 'ABORTED' | 'BAD_REPLY' | 'NO_REPLY';

/** A failed bridge request: cellar's error (code, message, details) or a client-side failure. */
export class BridgeError extends Error {
  /** A cellar error code (`NOT_FOUND`, `INVALID_INPUT`, …) or a {@link ClientErrorCode}. */
  readonly code: string;
  /** Structured context, e.g. `{ errors: [{ cell, step?, message }] }` for export problems. */
  readonly details: Record<string, unknown> | undefined;
  /** The operation that failed. */
  readonly op: string;

  /** Creates an error for `op`. */
  constructor(op: string, code: string, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'BridgeError';
    this.op = op;
    this.code = code;
    this.details = details;
  }
}

/** Options of {@link BridgeClient}. */
export interface BridgeClientOptions {
  /** Deadline of a request in ms (default 60 000); a request also waits for cells queued before it. */
  timeoutMs?: number;
  /** Makes request ids (default: a counter plus random text). */
  newId?: () => string;
}

/** Options of one request. */
export interface RequestOptions {
  timeoutMs?: number;
}

/**
 * The code sent to the kernel for `request`. The request travels as a JSON string literal built with
 * `JSON.stringify(JSON.stringify(request))`; U+2028/U+2029 are escaped too, so the literal is valid in
 * every JavaScript/TypeScript version. Errors are caught in the kernel so that a failing bridge call never
 * fails the execute request (which would make tslab drop the user's queued cells).
 */
export function bridgeCode(request: BridgeRequest): string {
  const literal = JSON.stringify(JSON.stringify(request))
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
  return (
    `try { await require("cellar").bridge.handle(${literal}); } ` +
    'catch (e: any) { console.error("cellar bridge: " + String((e && e.stack) || e)); }'
  );
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return x !== null && typeof x === 'object' && !Array.isArray(x);
}

/**
 * The bridge response carried by an IOPub message, or null when the message is not one (a stream, a
 * status, another display). A malformed response becomes a `BAD_REPLY` error response.
 */
export function replyOf(msg: IOPubMessage): BridgeResponse | null {
  if (msg.msgType !== 'display_data' && msg.msgType !== 'execute_result') return null;
  const data = msg.content['data'];
  if (!isRecord(data) || !(BRIDGE_MIME in data)) return null;
  let value = data[BRIDGE_MIME];
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      value = null;
    }
  }
  if (!isRecord(value) || typeof value['id'] !== 'string' || typeof value['ok'] !== 'boolean') {
    return {
      id: '',
      ok: false,
      error: { code: 'BAD_REPLY', message: 'The kernel sent a malformed cellar reply.' },
    };
  }
  if (value['ok']) return { id: value['id'], ok: true, result: value['result'] };
  const err = isRecord(value['error']) ? value['error'] : {};
  const body: BridgeErrorBody = {
    code: typeof err['code'] === 'string' ? err['code'] : 'INTERNAL',
    message: typeof err['message'] === 'string' ? err['message'] : 'The kernel reported an unknown error.',
  };
  if (isRecord(err['details'])) body.details = err['details'];
  return { id: value['id'], ok: false, error: body };
}

/** Explains an execute request that ended without a bridge reply, from its outcome and its output text. */
export function explainMissingReply(op: string, outcome: ExecuteOutcome, output: string): BridgeError {
  const text = output.trim();
  if (outcome.status === 'abort' || outcome.status === 'aborted') {
    return new BridgeError(
      op,
      'ABORTED',
      'The kernel skipped the request because an earlier cell failed. Try again once the kernel is idle.',
    );
  }
  if (/Cannot find module ['"]cellar['"]/.test(text)) {
    return new BridgeError(
      op,
      'KERNEL_ERROR',
      "The notebook's kernel cannot load cellar. Install it where the notebook is (npm install cellar) and restart the kernel.",
      { output: text },
    );
  }
  if (/bridge/.test(text) && /undefined|not a function/.test(text)) {
    return new BridgeError(
      op,
      'KERNEL_ERROR',
      'The cellar package in the kernel is too old for this extension (it has no bridge). Update cellar and restart the kernel.',
      { output: text },
    );
  }
  if (outcome.status === 'error' || text !== '') {
    const detail = text || [outcome.ename, outcome.evalue].filter(Boolean).join(': ');
    return new BridgeError(op, 'KERNEL_ERROR', `The kernel could not answer: ${detail || outcome.status}`, {
      output: text,
    });
  }
  return new BridgeError(
    op,
    'NO_REPLY',
    'The kernel finished the request without a cellar reply. Is this a TypeScript (tslab) kernel with cellar installed?',
  );
}

let idCounter = 0;

function defaultId(): string {
  idCounter += 1;
  const random = Math.random().toString(36).slice(2, 10);
  return `cellar-${Date.now().toString(36)}-${idCounter}-${random}`;
}

/**
 * Sends bridge requests to the kernel that `transport()` returns at call time (null when the notebook has
 * no kernel), one execute request per call.
 *
 * @example
 * const client = new BridgeClient(() => transportOf(panel.sessionContext.session?.kernel));
 * const status = await client.request<StatusResult>('status', { notebookPath });
 */
export class BridgeClient {
  private readonly timeoutMs: number;
  private readonly newId: () => string;

  /** Creates a client over `transport`. */
  constructor(
    private readonly transport: () => Transport | null,
    options: BridgeClientOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.newId = options.newId ?? defaultId;
  }

  /**
   * Sends `op` with `args` and resolves with the result, or rejects with a {@link BridgeError}: the kernel's
   * cellar error (its code, message and details) or NO_KERNEL, TIMEOUT, ABORTED, KERNEL_ERROR, NO_REPLY,
   * BAD_REPLY.
   */
  request<T>(op: string, args: Record<string, unknown> = {}, options: RequestOptions = {}): Promise<T> {
    const transport = this.transport();
    if (!transport) {
      return Promise.reject(
        new BridgeError(
          op,
          'NO_KERNEL',
          'The notebook has no running kernel. Start a TypeScript kernel and try again.',
        ),
      );
    }
    const id = this.newId();
    let code: string;
    try {
      code = bridgeCode({ id, op, args });
    } catch (e) {
      return Promise.reject(new BridgeError(op, 'INVALID_INPUT', `The request cannot be sent: ${String(e)}`));
    }
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      let output = '';
      let execution: Execution | null = null;
      const finish = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        execution?.dispose();
        fn();
      };
      const timer: ReturnType<typeof setTimeout> = setTimeout(() => {
        finish(() =>
          reject(
            new BridgeError(
              op,
              'TIMEOUT',
              `The kernel did not answer within ${Math.round(timeoutMs / 1000)} s (it may still be running cells).`,
            ),
          ),
        );
      }, timeoutMs);
      const onMessage = (msg: IOPubMessage): void => {
        if (settled) return;
        if (msg.msgType === 'stream' && typeof msg.content['text'] === 'string') {
          output += msg.content['text'];
          return;
        }
        if (msg.msgType === 'error') {
          const tb = msg.content['traceback'];
          output += Array.isArray(tb)
            ? tb.join('\n')
            : `${String(msg.content['ename'])}: ${String(msg.content['evalue'])}`;
          return;
        }
        const reply = replyOf(msg);
        if (!reply || (reply.id !== id && reply.id !== '')) return;
        if (reply.ok) finish(() => resolve(reply.result as T));
        else
          finish(() =>
            reject(new BridgeError(op, reply.error.code, reply.error.message, reply.error.details)),
          );
      };
      try {
        execution = transport.execute(code, onMessage);
      } catch (e) {
        finish(() =>
          reject(
            new BridgeError(
              op,
              'NO_KERNEL',
              `The kernel cannot take requests: ${e instanceof Error ? e.message : String(e)}`,
            ),
          ),
        );
        return;
      }
      execution.done.then(
        (outcome) => finish(() => reject(explainMissingReply(op, outcome, output))),
        (e: unknown) =>
          finish(() =>
            reject(
              new BridgeError(
                op,
                'KERNEL_ERROR',
                `The kernel stopped before answering (${e instanceof Error ? e.message : String(e)}).`,
              ),
            ),
          ),
      );
    });
  }
}
