/**
 * rest/http-client — calls the routes of the REST contract with the global `fetch`: builds the URL from the
 * route's path and query, sends the bearer token, and turns an error body `{error_code, message}` back
 * into the `CellarError` the server threw. No HTTP server code lives in kernel-lib.
 */
import { CellarError } from '../errors.js';
import type { RouteInput, RouteName, RouteOutput } from './contract.js';

/**
 * JSON text of a request body, with non-finite numbers as strings ("NaN", "Infinity", "-Infinity"): JSON
 * has none, and the contract's `MetricValue` turns them back into numbers for the store to refuse.
 */
export function jsonBody(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    typeof v === 'number' && !Number.isFinite(v) ? String(v) : v,
  );
}

/** The contract (zod schemas) loads on the first request: `require('cellar')` must stay lean. */
let contract: Promise<typeof import('./contract.js')> | null = null;

/** Options of {@link RestClient}. */
export interface RestClientOptions {
  /** Base URL of a `cellar up` server, e.g. `http://127.0.0.1:7437`. */
  url: string;
  /** Its login token (default `CELLAR_TOKEN`). */
  token?: string | undefined;
}

function queryString(query: Record<string, unknown> | undefined): string {
  if (!query) return '';
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null) qs.set(k, String(v));
  const text = qs.toString();
  return text === '' ? '' : `?${text}`;
}

/** Rebuilds the typed error from an error response. */
export async function errorFromResponse(res: Response): Promise<CellarError> {
  let body: { error_code?: unknown; message?: unknown; details?: unknown } = {};
  try {
    body = (await res.json()) as typeof body;
  } catch {
    body = {};
  }
  if (typeof body.error_code !== 'string') {
    return new CellarError('INTERNAL', `cellar server answered HTTP ${res.status} without an error body.`);
  }
  return CellarError.fromJSON({ code: body.error_code, message: body.message, details: body.details });
}

type LooseInput = { params?: unknown; query?: unknown; body?: unknown };

/** A client of one `cellar up` server, calling routes of the contract by name. */
export class RestClient {
  /** Base URL without a trailing slash. */
  readonly url: string;
  private readonly token: string | undefined;

  /** Creates a client; nothing is sent until the first call. */
  constructor(opts: RestClientOptions) {
    this.url = opts.url.replace(/\/+$/, '');
    this.token = opts.token ?? process.env.CELLAR_TOKEN;
  }

  private async send(name: RouteName, input: LooseInput, raw?: Uint8Array): Promise<Response> {
    contract ??= import('./contract.js');
    const { ROUTES, buildPath } = await contract;
    const def = ROUTES[name];
    const url =
      this.url +
      buildPath(def.path, input.params as Record<string, unknown> | undefined) +
      queryString(input.query as Record<string, unknown> | undefined);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let body: string | Uint8Array | undefined;
    if (raw !== undefined) {
      headers['content-type'] = 'application/octet-stream';
      body = raw;
    } else if (input.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = jsonBody(input.body);
    }
    let res: Response;
    try {
      res = await fetch(url, { method: def.method, headers, ...(body === undefined ? {} : { body }) });
    } catch (e) {
      throw new CellarError(
        'STORE_UNAVAILABLE',
        `Cannot reach the cellar server at ${this.url} (${(e as Error).message}). Is \`cellar up\` running there?`,
      );
    }
    if (!res.ok) throw await errorFromResponse(res);
    return res;
  }

  /**
   * Calls a JSON route and resolves to its parsed response.
   *
   * @throws CellarError rebuilt from the server's `{error_code, message}`, STORE_UNAVAILABLE when unreachable.
   */
  async call<K extends RouteName>(name: K, input: RouteInput<K> = {}): Promise<RouteOutput<K>> {
    const res = await this.send(name, input as LooseInput);
    return (await res.json()) as RouteOutput<K>;
  }

  /**
   * Calls a route whose request and/or response body is raw bytes.
   *
   * @throws CellarError as {@link RestClient.call}.
   */
  async callBytes<K extends RouteName>(name: K, input: RouteInput<K>, bytes?: Uint8Array): Promise<Buffer> {
    const res = await this.send(name, input as LooseInput, bytes);
    return Buffer.from(await res.arrayBuffer());
  }
}
