/**
 * errors — the one error type of cellar. Every failure a user can cause or meet is a `CellarError`
 * with a stable `code`; the HTTP status for each code is defined here, in one place, so the REST
 * server and the REST client agree.
 */

/** Stable error codes. Scripts and the REST layer rely on these strings; never rename one. */
export const ERROR_CODES = {
  INVALID_PARAMETER: 400,
  INVALID_FILTER: 400,
  INVALID_PATH: 400,
  INVALID_INPUT: 400,
  INVALID_STATE: 409,
  ALREADY_EXISTS: 409,
  PARAM_CONFLICT: 409,
  NOT_FOUND: 404,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  RESOURCE_TOO_LARGE: 413,
  STORE_BUSY: 503,
  STORE_CORRUPT: 500,
  UNSUPPORTED: 501,
  INTERNAL: 500,
  STORE_UNAVAILABLE: 503,
  RESOURCE_EXHAUSTED: 507,
} as const;

/** One of cellar's stable error codes. */
export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * The `cellar` command's exit code for each error code (0 success, 1 unexpected, 2 bad input, 3 not found,
 * 4 conflict, 5 store unavailable/corrupt/full). Kept beside the HTTP statuses so a new code gets both.
 */
export const EXIT_CODES: Record<ErrorCode, number> = {
  INVALID_PARAMETER: 2,
  INVALID_FILTER: 2,
  INVALID_PATH: 2,
  INVALID_INPUT: 2,
  INVALID_STATE: 4,
  ALREADY_EXISTS: 4,
  PARAM_CONFLICT: 4,
  NOT_FOUND: 3,
  UNAUTHENTICATED: 2,
  PERMISSION_DENIED: 2,
  RESOURCE_TOO_LARGE: 1,
  STORE_BUSY: 5,
  STORE_CORRUPT: 5,
  UNSUPPORTED: 1,
  INTERNAL: 1,
  STORE_UNAVAILABLE: 5,
  RESOURCE_EXHAUSTED: 5,
};

/** Longest error message kept whole; longer ones are cut with a note of how much was left out. */
export const MAX_ERROR_MESSAGE_LENGTH = 2_000;

/** Cuts `message` to {@link MAX_ERROR_MESSAGE_LENGTH} characters, saying how many were left out. */
export function truncateMessage(message: string, max = MAX_ERROR_MESSAGE_LENGTH): string {
  // The slack keeps an already-cut message (e.g. rebuilt by a REST client) from being cut again.
  if (message.length <= max + 50) return message;
  return `${message.slice(0, max)}… (${message.length - max} more characters)`;
}

/**
 * Formats a list for a message: the first `max` items and how many more there are, so a message never grows
 * with its input.
 *
 * @example
 * `expected columns: ${listForMessage(names)}` // "a, b, c, d, e, f, g, h, i, j and 1990 more"
 */
export function listForMessage(items: readonly unknown[], max = 10): string {
  const shown = items.slice(0, max).map((x) => {
    const text = typeof x === 'string' ? x : (JSON.stringify(x) ?? String(x));
    return text.length > 100 ? `${text.slice(0, 100)}…` : text;
  });
  const rest = items.length - shown.length;
  return rest > 0 ? `${shown.join(', ')} and ${rest} more` : shown.join(', ');
}

/**
 * The error every cellar API throws. `code` is stable and machine-readable; `message` says what was
 * wrong and what to do about it; `details` carries structured context (e.g. the offending token).
 *
 * @example
 * try { run.logParam('alpha', 0.7) } catch (e) { if (e instanceof CellarError && e.code === 'PARAM_CONFLICT') … }
 */
export class CellarError extends Error {
  /** Stable machine-readable code, e.g. `NOT_FOUND`. */
  readonly code: ErrorCode;
  /** Structured context for programs (never needed to understand the message). */
  readonly details?: Record<string, unknown>;

  /** Creates an error with a stable code, a message for humans and optional structured details. */
  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(truncateMessage(String(message)));
    this.name = 'CellarError';
    this.code = code;
    if (details !== undefined) this.details = details;
  }

  /** The HTTP status that represents this error's code. */
  get httpStatus(): number {
    return ERROR_CODES[this.code] ?? 500;
  }

  /** A JSON form that `CellarError.fromJSON` turns back into an equal error (used by REST clients). */
  toJSON(): { code: ErrorCode; message: string; details?: Record<string, unknown> } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }

  /** Rebuilds a typed error from its JSON form; unknown codes become `INTERNAL`. */
  static fromJSON(json: { code?: unknown; message?: unknown; details?: unknown }): CellarError {
    const code =
      typeof json.code === 'string' && json.code in ERROR_CODES ? (json.code as ErrorCode) : 'INTERNAL';
    const message = typeof json.message === 'string' ? json.message : 'unknown error';
    const details =
      json.details && typeof json.details === 'object'
        ? (json.details as Record<string, unknown>)
        : undefined;
    return new CellarError(code, message, details);
  }
}

/** Maps an error code to its HTTP status (unknown codes map to 500). */
export function httpStatusFor(code: string): number {
  return (ERROR_CODES as Record<string, number>)[code] ?? 500;
}

/** Maps an error code to the `cellar` command's exit code (unknown codes map to 1). */
export function exitCodeFor(code: string): number {
  return (EXIT_CODES as Record<string, number>)[code] ?? 1;
}

/** True when `e` is a `CellarError`, optionally with the given code. */
export function isCellarError(e: unknown, code?: ErrorCode): e is CellarError {
  return e instanceof CellarError && (code === undefined || e.code === code);
}
