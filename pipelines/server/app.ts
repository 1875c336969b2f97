/**
 * server/app — builds the fastify application of `cellar up` over one embedded store: security hooks first,
 * then cellar's JSON routes, the MLflow-compatible routes, `/health`, `/api/info`, `/api/openapi.json` and
 * the web UI. Every error leaves as `{error_code, message}` through server/errors.ts.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { EmbeddedBackend } from '../../kernel-lib/store/open.js';
import { CellarError } from '../../kernel-lib/errors.js';
import { addRoute } from './contract-routes.js';
import { sendError } from './errors.js';
import { mlflowRegistryRoutes } from './mlflow-registry.js';
import { mlflowTrackingRoutes } from './mlflow-tracking.js';
import { openApiDocument } from './openapi.js';
import { featureRoutes, pipelineRoutes } from './routes-platform.js';
import { registryRoutes, trackingRoutes } from './routes-store.js';
import { csrfForRequest, installSecurity } from './security.js';
import { webRoutes } from './web-assets.js';

/** Options of {@link buildApp}. */
export interface AppOptions {
  backend: EmbeddedBackend;
  token: string;
  /** `host:port` values (lower case) accepted in the Host header (may grow after listen). */
  allowedHosts: Set<string>;
  /** Origins allowed cross-origin (CORS); default none. */
  allowedOrigins?: string[];
  /** Root of the built cellar package (for the web UI), or null. */
  packageRoot: string | null;
  /** Reported by /api/info and the OpenAPI document. */
  version: string;
}

/** Builds (does not start) the platform's HTTP application. */
export function buildApp(opts: AppOptions): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: 16 * 1024 * 1024, return503OnClosing: true });
  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (_req, body, done) =>
    done(null, body),
  );
  installSecurity(app, {
    token: opts.token,
    allowedHosts: opts.allowedHosts,
    allowedOrigins: opts.allowedOrigins ?? [],
  });
  app.setErrorHandler((err, req, reply) => {
    void sendError(reply, err, req.url.startsWith('/api/2.0/') ? 'mlflow' : 'cellar');
  });
  app.setNotFoundHandler((req, reply) => {
    void sendError(
      reply,
      new CellarError('NOT_FOUND', `No route ${req.method} ${req.url.split('?')[0]}; see /api/openapi.json.`),
      req.url.startsWith('/api/2.0/') ? 'mlflow' : 'cellar',
    );
  });
  addRoute(app, 'health', async () => ({ status: 'ok' }) as const);
  addRoute(app, 'serverInfo', async ({ req }) => ({
    version: opts.version,
    store: opts.backend.root,
    csrfToken: csrfForRequest(req, opts.token),
  }));
  app.get('/api/openapi.json', async (_req, reply) => reply.send(openApiDocument(opts.version)));
  trackingRoutes(app, opts.backend);
  registryRoutes(app, opts.backend);
  pipelineRoutes(app, opts.backend);
  featureRoutes(app, opts.backend);
  mlflowTrackingRoutes(app, opts.backend);
  mlflowRegistryRoutes(app, opts.backend);
  webRoutes(app, opts.packageRoot);
  return app;
}
