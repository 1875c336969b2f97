/**
 * server/errors — the one place where a failure becomes an HTTP error response `{error_code, message}`.
 * The status always comes from `httpStatusFor` (kernel-lib/errors.ts); cellar routes answer with cellar's
 * codes, MLflow routes with MLflow's (`RESOURCE_DOES_NOT_EXIST`, `INVALID_PARAMETER_VALUE`, …).
 */
import type { FastifyReply } from 'fastify';
import { ZodError } from 'zod';
import { CellarError, httpStatusFor, type ErrorCode } from '../../kernel-lib/errors.js';

/** Which error vocabulary a route speaks. */
export type ErrorFlavor = 'cellar' | 'mlflow';

const MLFLOW_CODES: Partial<Record<ErrorCode, string>> = {
  NOT_FOUND: 'RESOURCE_DOES_NOT_EXIST',
  ALREADY_EXISTS: 'RESOURCE_ALREADY_EXISTS',
  INVALID_PARAMETER: 'INVALID_PARAMETER_VALUE',
  INVALID_FILTER: 'INVALID_PARAMETER_VALUE',
  INVALID_PATH: 'INVALID_PARAMETER_VALUE',
  INVALID_INPUT: 'INVALID_PARAMETER_VALUE',
  PARAM_CONFLICT: 'INVALID_PARAMETER_VALUE',
  INVALID_STATE: 'INVALID_STATE',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  PERMISSION_DENIED: 'PERMISSION_DENIED',
  RESOURCE_TOO_LARGE: 'RESOURCE_LIMIT_EXCEEDED',
  STORE_BUSY: 'TEMPORARILY_UNAVAILABLE',
  UNSUPPORTED: 'NOT_IMPLEMENTED',
};

/** Turns anything thrown by a handler into a CellarError (zod failures become INVALID_PARAMETER). */
export function toCellarError(e: unknown): CellarError {
  if (e instanceof CellarError) return e;
  if (e instanceof ZodError) {
    const issue = e.issues[0];
    const where = issue && issue.path.length > 0 ? issue.path.join('.') : 'request';
    return new CellarError('INVALID_PARAMETER', `Invalid ${where}: ${issue?.message ?? 'bad value'}.`);
  }
  const fe = e as { statusCode?: number; code?: string; message?: string };
  if (fe && fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
    return new CellarError('RESOURCE_TOO_LARGE', 'The request body is larger than the server accepts.');
  if (fe && typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500)
    return new CellarError('INVALID_PARAMETER', fe.message ?? 'Bad request.');
  return new CellarError('INTERNAL', `Internal error: ${(e as Error)?.message ?? String(e)}`);
}

/** The HTTP status and body of an error for a route flavor. */
export function errorResponse(
  e: unknown,
  flavor: ErrorFlavor = 'cellar',
): { status: number; body: { error_code: string; message: string; details?: Record<string, unknown> } } {
  const err = toCellarError(e);
  const status = httpStatusFor(err.code);
  if (flavor === 'mlflow') {
    return { status, body: { error_code: MLFLOW_CODES[err.code] ?? 'INTERNAL_ERROR', message: err.message } };
  }
  const body: { error_code: string; message: string; details?: Record<string, unknown> } = {
    error_code: err.code,
    message: err.message,
  };
  if (err.details !== undefined) body.details = err.details;
  return { status, body };
}

/** Sends an error response. */
export function sendError(reply: FastifyReply, e: unknown, flavor: ErrorFlavor = 'cellar'): FastifyReply {
  const { status, body } = errorResponse(e, flavor);
  return reply.code(status).type('application/json; charset=utf-8').send(body);
}
