/**
 * server/security — who may talk to `cellar up` and how: the Host allow list (DNS rebinding), the login
 * token (bearer header, or the cookie set when the printed `/?token=…` URL is opened), the CSRF check of
 * cookie sessions (double-submit header + same-origin `Origin`), CORS only for allowed origins, and the
 * security headers (strict Content-Security-Policy) on every response.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CellarError } from '../../kernel-lib/errors.js';
import { sendError, type ErrorFlavor } from './errors.js';

/** Security settings of one server. */
export interface SecurityOptions {
  token: string;
  /** `host[:port]` values (lower case) the Host header may carry; read on every request, so it may grow. */
  allowedHosts: Set<string>;
  /** Origins allowed to call the API cross-origin (CORS); empty: CORS off. */
  allowedOrigins: string[];
}

/** Name of the session cookie. */
export const TOKEN_COOKIE = 'cellar_token';
/** Name of the CSRF cookie (readable by the page, echoed in the `x-cellar-csrf` header). */
export const CSRF_COOKIE = 'cellar_csrf';
/** Header that carries the CSRF token on state-changing cookie requests. */
export const CSRF_HEADER = 'x-cellar-csrf';

/** The Content-Security-Policy of every response (Plotly needs inline styles; scripts stay 'self'). */
export const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
  "font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** The CSRF token that belongs to a login token (derived, so the server keeps no session state). */
export function csrfTokenFor(token: string): string {
  return createHmac('sha256', token).update('cellar-csrf').digest('hex');
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Parses a Cookie header. */
export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const k = part.slice(0, eq).trim();
    try {
      out[k] = decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      out[k] = part.slice(eq + 1).trim();
    }
  }
  return out;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function flavorOf(url: string): ErrorFlavor {
  return url.startsWith('/api/2.0/') ? 'mlflow' : 'cellar';
}

function deny(reply: FastifyReply, url: string, code: 'UNAUTHENTICATED' | 'PERMISSION_DENIED', msg: string) {
  return sendError(reply, new CellarError(code, msg), flavorOf(url));
}

function setSecurityHeaders(reply: FastifyReply): void {
  reply.header('content-security-policy', CSP);
  reply.header('x-content-type-options', 'nosniff');
  reply.header('x-frame-options', 'DENY');
  reply.header('referrer-policy', 'no-referrer');
  reply.header('cross-origin-opener-policy', 'same-origin');
}

/** Logs in from `/?token=…`: sets the session and CSRF cookies and redirects to the URL without the token. */
function loginRedirect(req: FastifyRequest, reply: FastifyReply, token: string): FastifyReply {
  const url = new URL(req.url, 'http://x');
  url.searchParams.delete('token');
  const cookie = `Path=/; SameSite=Strict`;
  reply.header('set-cookie', [
    `${TOKEN_COOKIE}=${encodeURIComponent(token)}; HttpOnly; ${cookie}`,
    `${CSRF_COOKIE}=${csrfTokenFor(token)}; ${cookie}`,
  ]);
  return reply.redirect(url.pathname + url.search, 303);
}

/** How a request proved who it is. */
type Session = 'bearer' | 'cookie' | null;

function sessionOf(req: FastifyRequest, token: string): Session {
  const auth = req.headers.authorization;
  if (typeof auth === 'string' && /^bearer\s+/i.test(auth) && same(auth.replace(/^bearer\s+/i, ''), token))
    return 'bearer';
  const cookie = parseCookies(req.headers.cookie)[TOKEN_COOKIE];
  if (cookie !== undefined && same(cookie, token)) return 'cookie';
  return null;
}

function csrfOk(req: FastifyRequest, token: string): boolean {
  const header = req.headers[CSRF_HEADER];
  const cookie = parseCookies(req.headers.cookie)[CSRF_COOKIE];
  const expected = csrfTokenFor(token);
  if (typeof header !== 'string' || cookie === undefined) return false;
  if (!same(header, expected) || !same(cookie, expected)) return false;
  const origin = req.headers.origin;
  if (
    origin !== undefined &&
    origin !== `http://${req.headers.host}` &&
    origin !== `https://${req.headers.host}`
  )
    return false;
  return true;
}

/** Installs the checks as the first hook of every request. */
export function installSecurity(app: FastifyInstance, opts: SecurityOptions): void {
  const hosts = opts.allowedHosts;
  const origins = new Set(opts.allowedOrigins);
  app.addHook('onRequest', async (req, reply) => {
    setSecurityHeaders(reply);
    const path = req.url.split('?')[0] ?? '/';
    const host = (req.headers.host ?? '').toLowerCase();
    if (!hosts.has(host)) {
      return deny(
        reply,
        path,
        'PERMISSION_DENIED',
        `Host "${host}" is not allowed; start cellar up with --allow-host ${host} to serve it.`,
      );
    }
    const origin = req.headers.origin;
    if (origin !== undefined && origins.has(origin)) {
      reply.header('access-control-allow-origin', origin);
      reply.header('vary', 'Origin');
      reply.header('access-control-allow-headers', 'authorization, content-type');
      reply.header('access-control-allow-methods', 'GET, POST, PUT, PATCH, DELETE');
      if (req.method === 'OPTIONS') return reply.code(204).send();
    }
    if (path === '/health') return;
    const query = (req.query ?? {}) as Record<string, unknown>;
    if (req.method === 'GET' && !path.startsWith('/api/') && typeof query.token === 'string') {
      if (same(query.token, opts.token)) return loginRedirect(req, reply, opts.token);
      return deny(
        reply,
        path,
        'UNAUTHENTICATED',
        'The token in the URL is wrong; copy the URL cellar up printed.',
      );
    }
    const session = sessionOf(req, opts.token);
    if (session === null) {
      return deny(
        reply,
        path,
        'UNAUTHENTICATED',
        'Log in: open the URL that cellar up printed, or send "Authorization: Bearer <token>".',
      );
    }
    if (session === 'cookie' && !SAFE_METHODS.has(req.method) && !csrfOk(req, opts.token)) {
      return deny(
        reply,
        path,
        'PERMISSION_DENIED',
        `Missing or wrong ${CSRF_HEADER} header (cross-site request refused).`,
      );
    }
    (req as FastifyRequest & { session?: Session }).session = session;
    return;
  });
}

/** The CSRF token a request's session should echo (null for bearer sessions). */
export function csrfForRequest(req: FastifyRequest, token: string): string | null {
  return (req as FastifyRequest & { session?: Session }).session === 'cookie' ? csrfTokenFor(token) : null;
}
