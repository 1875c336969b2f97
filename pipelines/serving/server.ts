/**
 * serving/server — the HTTP server of `cellar serve` on node:http (fastify's routing and hooks cost more than
 * this handful of fixed routes needs; the bench holds the figures). Routes: MLflow (`POST /invocations`,
 * `GET /ping|/health|/version`), Open Inference Protocol v2 (`/v2/...`), `GET /metrics`. Owns bounded
 * concurrency (fast 503 + Retry-After), the bearer token, request ids and the access log, the prediction log
 * hand-off, and the SIGTERM drain (readiness 503, in-flight requests finish, connections close, then exit).
 */
import { randomUUID } from 'node:crypto';
import {
  createServer,
  type IncomingMessage,
  type Server as HttpServer,
  type ServerResponse,
} from 'node:http';
import { Server, type AddressInfo } from 'node:net';
import { CellarError } from '../../kernel-lib/errors.js';
import type { FeatureStore } from '../../kernel-lib/features/feature-store.js';
import { scoreRequest, type ScoreRequest, type ScoreResult } from '../../kernel-lib/serving/model.js';
import type { PredictionLogger, PredictionRecord } from '../../kernel-lib/serving/prediction-log.js';
import { AccessLog, BodyError, readBody, send } from './http.js';
import type { ServingMetrics } from './metrics.js';
import type { ModelHolder, Serving } from './model-holder.js';
import {
  asCellarError,
  errorBody,
  mlflowResponse,
  oipDatatype,
  oipResponse,
  parseCsv,
  parseJsonBody,
  parseMlflowJson,
  parseOipRequest,
} from './protocols.js';

/** Settings of a serving server. */
export interface ServingServerOptions {
  holder: ModelHolder;
  metrics: ServingMetrics;
  features?: FeatureStore;
  logger?: PredictionLogger | null;
  accessLog?: AccessLog;
  /** Bearer token required on every route except health (null: none). */
  token?: string | null;
  /** Requests processed at once before new ones get a fast 503 (default 256). */
  maxInFlight?: number;
  /** Body size limit in bytes (default 1 MiB). */
  maxBodyBytes?: number;
  /** A body must arrive within this many ms (default 10 000). */
  bodyTimeoutMs?: number;
  /** Rows per request (default 10 000). */
  maxRows?: number;
  /** cellar's version for `/version`. */
  version?: string;
}

type Route =
  | 'invocations'
  | 'ping'
  | 'version'
  | 'metrics'
  | 'v2'
  | 'v2_live'
  | 'v2_ready'
  | 'v2_model'
  | 'v2_model_ready'
  | 'v2_infer'
  | 'not_found';

const HEALTH: ReadonlySet<Route> = new Set(['ping', 'v2_live', 'v2_ready', 'v2_model_ready']);
const MODEL_PATH = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(\/ready|\/infer)?$/;

function route(method: string, path: string): { route: Route; name?: string; version?: string } {
  if (path === '/invocations') return { route: method === 'POST' ? 'invocations' : 'not_found' };
  if (method !== 'GET' && method !== 'POST') return { route: 'not_found' };
  switch (path) {
    case '/ping':
    case '/health':
      return { route: 'ping' };
    case '/version':
      return { route: 'version' };
    case '/metrics':
      return { route: 'metrics' };
    case '/v2':
      return { route: 'v2' };
    case '/v2/health/live':
      return { route: 'v2_live' };
    case '/v2/health/ready':
      return { route: 'v2_ready' };
    default: {
      const m = MODEL_PATH.exec(path);
      if (!m) return { route: 'not_found' };
      const name = decodeURIComponent(m[1]!);
      const version = m[2];
      if (m[3] === '/infer')
        return method === 'POST'
          ? { route: 'v2_infer', name, ...(version ? { version } : {}) }
          : { route: 'not_found' };
      return {
        route: m[3] === '/ready' ? 'v2_model_ready' : 'v2_model',
        name,
        ...(version ? { version } : {}),
      };
    }
  }
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** What a request needs from its model that does not change while the model is loaded. */
interface PerModel {
  headers: Record<string, string>;
  scoreOptions: Parameters<typeof scoreRequest>[2];
}

let isoMs = 0;
let isoText = '';

/** `new Date().toISOString()`, formatted once per millisecond (many requests share one under load). */
function isoNow(): string {
  const now = Date.now();
  if (now !== isoMs) {
    isoMs = now;
    isoText = new Date(now).toISOString();
  }
  return isoText;
}

/**
 * One access-log line, the same JSON as `JSON.stringify({ts, request_id, method, path, route, status, ms, model,
 * version, ...extra})`, built by concatenation: the request id matches REQUEST_ID or is a UUID, the route is one
 * of ours, so neither needs escaping.
 */
function accessLine(
  requestId: string,
  method: string | undefined,
  path: string,
  route: Route,
  status: number,
  seconds: number,
  serving: Serving,
  extra: Record<string, unknown> | undefined,
): string {
  const m = serving.model;
  let line =
    `{"ts":"${isoNow()}","request_id":"${requestId}"` +
    (method === undefined ? '' : `,"method":${JSON.stringify(method)}`) +
    `,"path":${JSON.stringify(path)},"route":"${route}","status":${status}` +
    `,"ms":${JSON.stringify(Math.round(seconds * 1e6) / 1000)},"model":${JSON.stringify(m.name)}` +
    `,"version":${m.version === null ? 'null' : JSON.stringify(m.version)}`;
  if (extra)
    for (const k in extra) {
      const v = JSON.stringify(extra[k]);
      if (v !== undefined) line += `,${JSON.stringify(k)}:${v}`;
    }
  return line + '}';
}

/** The serving HTTP server. */
export class ServingServer {
  private readonly server: HttpServer;
  private inFlight = 0;
  private draining = false;
  private lastRequestAt = 0;
  private readonly accessLog: AccessLog;
  private readonly maxInFlight: number;
  private readonly maxBodyBytes: number;
  private readonly bodyTimeoutMs: number;
  private readonly maxRows: number;
  private readonly counters = new Map<string, { inc(): void }>();
  private readonly histograms = new Map<string, { observe(v: number): void }>();
  private readonly perModel = new WeakMap<Serving, PerModel>();

  /** Creates the server (call `listen`). */
  constructor(private readonly opts: ServingServerOptions) {
    this.accessLog = opts.accessLog ?? new AccessLog();
    this.maxInFlight = opts.maxInFlight ?? 256;
    this.maxBodyBytes = opts.maxBodyBytes ?? 1024 * 1024;
    this.bodyTimeoutMs = opts.bodyTimeoutMs ?? 10_000;
    this.maxRows = opts.maxRows ?? 10_000;
    this.server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => void this.handle(req, res));
    this.server.headersTimeout = this.bodyTimeoutMs + 1000;
    this.server.requestTimeout = 0; // the body deadline is ours (408 with a JSON body)
  }

  /** Starts listening; resolves with the base URL. */
  listen(port: number, host: string): Promise<string> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        const a = this.server.address() as AddressInfo;
        const h = a.family === 'IPv6' ? `[${a.address}]` : a.address;
        resolve(`http://${h}:${a.port}`);
      });
    });
  }

  /** True once a drain started. */
  get isDraining(): boolean {
    return this.draining;
  }

  /**
   * Drains: readiness turns 503, no new connections are accepted, every response carries `Connection: close`,
   * and the promise resolves once no request is in flight and none arrived for `idleMs` (or after `timeoutMs`).
   */
  async drain(timeoutMs = 30_000, idleMs = 200): Promise<void> {
    this.draining = true;
    // net.Server's close: stop accepting connections. http.Server's own close() would also drop idle keep-alive
    // connections at once, racing a client that is just sending its next request on one (ECONNRESET).
    // Instead every response from now on says `Connection: close`, and what stays idle is closed at the end.
    Server.prototype.close.call(this.server);
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.inFlight === 0 && Date.now() - this.lastRequestAt >= idleMs) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    this.server.closeAllConnections();
    this.accessLog.flush();
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const start = process.hrtime.bigint();
    this.lastRequestAt = Date.now();
    const given = req.headers['x-request-id'];
    const requestId = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const r = route(req.method ?? 'GET', path);
    const serving = this.opts.holder.current;
    res.setHeader('x-request-id', requestId);
    if (this.draining) res.setHeader('connection', 'close');
    const done = (status: number, extra?: Record<string, unknown>): void => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      const model = serving.model.name;
      this.counterFor(model, r.route, status).inc();
      this.histogramFor(model, r.route).observe(seconds);
      if (this.accessLog.enabled)
        this.accessLog.logLine(
          accessLine(requestId, req.method, path, r.route, status, seconds, serving, extra),
        );
    };
    if (
      this.opts.token &&
      !HEALTH.has(r.route) &&
      req.headers.authorization !== `Bearer ${this.opts.token}`
    ) {
      send(
        res,
        401,
        errorBody(new CellarError('INVALID_PARAMETER', 'Send "Authorization: Bearer <token>".')),
        undefined,
        {
          'www-authenticate': 'Bearer',
        },
      );
      req.resume();
      return done(401);
    }
    if (r.route === 'invocations' || r.route === 'v2_infer') {
      if (this.inFlight >= this.maxInFlight) {
        send(
          res,
          503,
          errorBody(new CellarError('STORE_BUSY', 'The server is at its concurrency limit; retry shortly.')),
          undefined,
          {
            'retry-after': '1',
            connection: 'close',
          },
        );
        req.resume();
        return done(503);
      }
      void this.predict(req, res, r, serving, requestId, start, done);
      return;
    }
    req.resume();
    const status = this.simpleRoute(res, r, serving);
    if (status !== -1) done(status);
  }

  /** Health, metadata and metrics routes; returns the status (or -1 when answered asynchronously). */
  private simpleRoute(res: ServerResponse, r: ReturnType<typeof route>, serving: Serving): number {
    const m = serving.model;
    const ready = !this.draining;
    const name = this.servedName(serving);
    switch (r.route) {
      case 'ping': {
        const body = JSON.stringify({
          status: ready ? 'ok' : 'draining',
          model: m.name,
          version: m.version,
          warning: this.opts.holder.lastError,
        });
        send(res, ready ? 200 : 503, body);
        return ready ? 200 : 503;
      }
      case 'version':
        send(res, 200, this.opts.version ?? '0.0.0', 'text/plain');
        return 200;
      case 'v2':
        send(
          res,
          200,
          JSON.stringify({ name: 'cellar', version: this.opts.version ?? '0.0.0', extensions: [] }),
        );
        return 200;
      case 'v2_live':
        send(res, 200, JSON.stringify({ live: true }));
        return 200;
      case 'v2_ready':
        send(
          res,
          ready ? 200 : 503,
          JSON.stringify({ ready, reason: this.draining ? 'draining' : this.opts.holder.lastError }),
        );
        return ready ? 200 : 503;
      case 'v2_model':
      case 'v2_model_ready': {
        if (r.name !== name || (r.version !== undefined && r.version !== String(m.version))) {
          send(
            res,
            404,
            errorBody(
              new CellarError(
                'NOT_FOUND',
                `This server serves model "${name}" version ${String(m.version)}.`,
              ),
            ),
          );
          return 404;
        }
        if (r.route === 'v2_model_ready') {
          send(res, ready ? 200 : 503, JSON.stringify({ name, ready }));
          return ready ? 200 : 503;
        }
        send(
          res,
          200,
          JSON.stringify({
            name,
            versions: m.version === null ? [] : [String(m.version)],
            platform: `cellar-${m.model.json.flavor}`,
            inputs: m.model.signature.inputs.map((c) => ({
              name: c.name,
              datatype: oipDatatype(c.type),
              shape: [-1],
            })),
            outputs: m.model.signature.outputs.map((c) => ({
              name: c.name,
              datatype: oipDatatype(c.type),
              shape: [-1],
            })),
          }),
        );
        return 200;
      }
      case 'metrics':
        this.opts.metrics.registry.metrics().then(
          (text) => {
            send(res, 200, text, this.opts.metrics.registry.contentType);
          },
          (e: unknown) => send(res, 500, errorBody(asCellarError(e))),
        );
        this.opts.metrics.requests.inc({
          model: this.opts.holder.current.model.name,
          route: 'metrics',
          status: '200',
        });
        return -1;
      default:
        send(
          res,
          404,
          errorBody(
            new CellarError(
              'NOT_FOUND',
              `No route ${r.route === 'not_found' ? '' : r.route}; see GET /v2 and POST /invocations.`,
            ),
          ),
        );
        return 404;
    }
  }

  /** The requests counter's child for model/route/status, made once (prom-client's labels() allocates). */
  private counterFor(model: string, route: Route, status: number): { inc(): void } {
    const key = `${model}\u0000${route}\u0000${status}`;
    let c = this.counters.get(key);
    if (!c) {
      c = this.opts.metrics.requests.labels(model, route, String(status));
      this.counters.set(key, c);
    }
    return c;
  }

  /** The latency histogram's child for model/route, made once. */
  private histogramFor(model: string, route: Route): { observe(v: number): void } {
    const key = `${model}\u0000${route}`;
    let h = this.histograms.get(key);
    if (!h) {
      h = this.opts.metrics.latency.labels(model, route);
      this.histograms.set(key, h);
    }
    return h;
  }

  /** Response headers and score options of one loaded model, built once per model (not per request). */
  private perModelOf(serving: Serving): PerModel {
    let p = this.perModel.get(serving);
    if (!p) {
      p = {
        headers: {
          'x-model-name': serving.model.name,
          'x-model-version': serving.model.version === null ? '' : String(serving.model.version),
        },
        scoreOptions: {
          ...(this.opts.features ? { features: this.opts.features } : {}),
          transform: serving.transform,
          maxRows: this.maxRows,
        },
      };
      this.perModel.set(serving, p);
    }
    return p;
  }

  private servedName(serving: Serving): string {
    return serving.model.version === null ? (serving.model.runId ?? 'model') : serving.model.name;
  }

  private parse(
    r: ReturnType<typeof route>,
    req: IncomingMessage,
    text: string,
    serving: Serving,
  ): { request: ScoreRequest; id?: string } {
    const inputs = serving.model.model.signature.inputs;
    if (r.route === 'v2_infer') {
      const name = this.servedName(serving);
      if (r.name !== name || (r.version !== undefined && r.version !== String(serving.model.version)))
        throw new CellarError(
          'NOT_FOUND',
          `This server serves model "${name}" version ${String(serving.model.version)}.`,
        );
      const body = parseJsonBody(text);
      const request = parseOipRequest(body, inputs, serving.model.spec.features.length > 0);
      const id = (body as { id?: unknown }).id;
      return typeof id === 'string' ? { request, id } : { request };
    }
    const type = (req.headers['content-type'] ?? 'application/json').split(';')[0]!.trim().toLowerCase();
    if (type === 'text/csv') return { request: parseCsv(text) };
    if (type !== 'application/json')
      throw new CellarError(
        'INVALID_INPUT',
        `Content-Type ${type} is not supported: use application/json or text/csv.`,
      );
    return { request: parseMlflowJson(parseJsonBody(text), inputs) };
  }

  private async predict(
    req: IncomingMessage,
    res: ServerResponse,
    r: ReturnType<typeof route>,
    serving: Serving,
    requestId: string,
    start: bigint,
    done: (status: number, extra?: Record<string, unknown>) => void,
  ): Promise<void> {
    this.inFlight++;
    this.opts.metrics.inFlight.inc();
    const { headers, scoreOptions } = this.perModelOf(serving);
    try {
      const text = await readBody(req, this.maxBodyBytes, this.bodyTimeoutMs);
      const { request, id } = this.parse(r, req, text, serving);
      const lookupStart = request.kind === 'entities' ? process.hrtime.bigint() : 0n;
      const result = await scoreRequest(serving.model, request, scoreOptions);
      if (request.kind === 'entities') this.observeLookup(result, lookupStart);
      const body =
        r.route === 'v2_infer'
          ? oipResponse(
              { name: this.servedName(serving), version: serving.model.version },
              id ?? requestId,
              result.predictions,
              result.featureStatus,
            )
          : mlflowResponse(result.predictions, result.featureStatus);
      send(res, 200, body, 'application/json', headers);
      done(200, { rows: result.predictions.length });
      this.logPrediction(serving, result, requestId, start);
    } catch (e) {
      if (e instanceof BodyError) {
        send(
          res,
          e.status,
          errorBody(new CellarError(e.status === 413 ? 'RESOURCE_TOO_LARGE' : 'INVALID_INPUT', e.message)),
          undefined,
          {
            connection: 'close',
          },
        );
        done(e.status);
      } else {
        const err = asCellarError(e);
        const status = err.code === 'INVALID_STATE' ? 400 : err.httpStatus;
        send(res, status, errorBody(err), 'application/json', headers);
        done(status, { error: err.code });
      }
    } finally {
      this.inFlight--;
      this.opts.metrics.inFlight.dec();
    }
  }

  private observeLookup(result: ScoreResult, lookupStart: bigint): void {
    const m = this.opts.metrics;
    m.lookupLatency.observe(Number(process.hrtime.bigint() - lookupStart) / 1e9);
    for (const miss of result.missing ?? []) {
      if (miss === null) continue;
      for (const [feature, status] of Object.entries(miss)) m.missingFeatures.inc({ feature, status });
    }
    const rejected = result.featureStatus?.filter((s) => s.rejected).length ?? 0;
    if (rejected > 0) m.rejectedRows.inc(rejected);
  }

  private logPrediction(serving: Serving, result: ScoreResult, requestId: string, start: bigint): void {
    const logger = this.opts.logger;
    if (!logger || !logger.shouldLog()) return;
    const latencyMs = Number(process.hrtime.bigint() - start) / 1e6;
    const ts = Date.now() - Math.round(latencyMs);
    const rows = result.modelRows();
    const m = serving.model;
    const records: PredictionRecord[] = result.predictions.map((p, i) => ({
      model: m.name,
      version: m.version,
      modelUri: m.uri,
      requestId,
      rowIndex: i,
      ts,
      latencyMs,
      entity: result.entities ? (result.entities[i] ?? null) : null,
      inputs: rows[i] ?? {},
      features: result.fetched?.[i] ?? null,
      missing: result.missing?.[i] ?? null,
      prediction: p,
      status: p === null ? 'rejected' : 'ok',
      source: 'serve',
    }));
    logger.push(records);
    this.opts.metrics.logRows.inc({ result: 'buffered' }, records.length);
  }
}
