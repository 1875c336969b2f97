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
} as const;

/** One of cellar's stable error codes. */
export type ErrorCode = keyof typeof ERROR_CODES;

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
    super(message);
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

/** True when `e` is a `CellarError`, optionally with the given code. */
export function isCellarError(e: unknown, code?: ErrorCode): e is CellarError {
  return e instanceof CellarError && (code === undefined || e.code === code);
}
