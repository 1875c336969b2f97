/**
 * serving/start — runs `cellar serve`: opens the store, loads the model (following its alias), wires metrics,
 * the prediction log and the access log into the server, listens, and drains on SIGTERM/SIGINT (exit 0). With
 * `workers > 1` the primary forks that many workers with node:cluster (they share the port) and forwards
 * signals; it exits 0 when every worker drained cleanly.
 *
 * Request-time transforms: a model version tagged `cellar.serving.transform = <pipeline>/<version>` runs the
 * module `pipelines/<pipeline>/<version>/serving-transform.cjs` of the store in the serving process (same
 * trust as the pipeline's own steps: it is the user's exported code), before validation.
 */
import cluster from 'node:cluster';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { CellarStore } from '../../kernel-lib/client.js';
import { CellarError } from '../../kernel-lib/errors.js';
import { featureStore } from '../../kernel-lib/features/feature-store.js';
import type { RowTransform, ServableModel } from '../../kernel-lib/serving/model.js';
import { PredictionLogger, SqlitePredictionLogStore } from '../../kernel-lib/serving/prediction-log.js';
import { AccessLog } from './http.js';
import { ServingMetrics } from './metrics.js';
import { ModelHolder } from './model-holder.js';
import { ServingServer } from './server.js';

/** Options of {@link startServing}. */
export interface StartServingOptions {
  store: CellarStore;
  model: string;
  port: number;
  host: string;
  workers?: number;
  token?: string | null;
  /** Fraction of requests written to the prediction log (default 1; 0 turns it off). */
  logSample?: number;
  /** Registry poll interval for alias moves, ms (default 1000; 0: never). */
  pollMs?: number;
  maxInFlight?: number;
  maxBodyBytes?: number;
  bodyTimeoutMs?: number;
  maxRows?: number;
  /** One JSON line per request on stdout (default true). */
  accessLog?: boolean;
  version?: string;
  /** Called once listening, with the URL and the routes (the CLI prints them). */
  onListening(info: {
    url: string;
    model: string;
    version: number | null;
    routes: string[];
    pid: number;
  }): void;
  /** Where to report events (swaps, failed loads, prediction-log errors). */
  onEvent?(record: Record<string, unknown>): void;
}

/** The routes, for the start-up message. */
export const ROUTES = [
  'POST /invocations',
  'GET  /ping  /health  /version',
  'POST /v2/models/{name}/infer',
  'GET  /v2/models/{name}  /v2/models/{name}/ready  /v2/health/live  /v2/health/ready',
  'GET  /metrics',
];

/** Loads the attached transform module of a model version (or null). */
export function transformLoader(storeRoot: string): (m: ServableModel) => Promise<RowTransform | null> {
  return async (m) => {
    const ref = m.spec.transform;
    if (ref === null) return null;
    const file = join(storeRoot, 'pipelines', ref, 'serving-transform.cjs');
    if (!existsSync(file))
      throw new CellarError(
        'NOT_FOUND',
        `The serving transform of ${m.name} v${String(m.version)} is missing: ${file}.`,
      );
    const mod = createRequire(file)(file) as { default?: unknown; transform?: unknown };
    const fn = typeof mod.transform === 'function' ? mod.transform : mod.default;
    if (typeof fn !== 'function')
      throw new CellarError('INVALID_INPUT', `${file} must export a function "transform(rows)".`);
    return fn as RowTransform;
  };
}

async function runWorker(opts: StartServingOptions): Promise<number> {
  const emit = opts.onEvent ?? ((r) => process.stderr.write(JSON.stringify(r) + '\n'));
  const metrics = new ServingMetrics();
  const holder = await ModelHolder.open(opts.store, opts.model, transformLoader(opts.store.root), {
    swapped: (from, to) => {
      metrics.swaps.inc({ result: 'swapped' });
      metrics.setModel(to.name, to.version, to.uri);
      emit({ event: 'model_swapped', model: to.name, from: from.version, to: to.version });
    },
    failed: (version, e) => {
      metrics.swaps.inc({ result: 'failed' });
      emit({ event: 'model_load_failed', version, error: e.message });
    },
  });
  const m = holder.current.model;
  metrics.setModel(m.name, m.version, m.uri);
  // Always opened: a later version may answer entity requests even if this one does not.
  const features = featureStore({ embedded: opts.store.embedded });
  const sample = opts.logSample ?? 1;
  const logger =
    sample > 0
      ? new PredictionLogger({
          store: new SqlitePredictionLogStore(opts.store.embedded.db),
          sample,
          onError: (e) => emit({ event: 'prediction_log_error', error: (e as Error).message }),
        })
      : null;
  const server = new ServingServer({
    holder,
    metrics,
    features,
    logger,
    accessLog: new AccessLog(undefined, opts.accessLog ?? true),
    token: opts.token ?? null,
    ...(opts.maxInFlight === undefined ? {} : { maxInFlight: opts.maxInFlight }),
    ...(opts.maxBodyBytes === undefined ? {} : { maxBodyBytes: opts.maxBodyBytes }),
    ...(opts.bodyTimeoutMs === undefined ? {} : { bodyTimeoutMs: opts.bodyTimeoutMs }),
    ...(opts.maxRows === undefined ? {} : { maxRows: opts.maxRows }),
    ...(opts.version === undefined ? {} : { version: opts.version }),
  });
  const url = await server.listen(opts.port, opts.host);
  holder.startPolling(opts.pollMs ?? 1000);
  if (!cluster.isWorker)
    opts.onListening({ url, model: m.name, version: m.version, routes: ROUTES, pid: process.pid });
  else process.send?.({ cellarServing: 'listening', url });
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.removeListener('SIGTERM', stop);
      process.removeListener('SIGINT', stop);
      resolve();
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  holder.stop();
  await server.drain();
  await logger?.close();
  await features.close();
  return 0;
}

async function runPrimary(opts: StartServingOptions, workers: number): Promise<number> {
  let url = '';
  let listening = 0;
  let failed = 0;
  const exited = new Promise<void>((resolve) => {
    let alive = workers;
    cluster.on('exit', (_w, code) => {
      if (code !== 0) failed++;
      if (--alive === 0) resolve();
    });
  });
  cluster.on('message', (_w, msg: { cellarServing?: string; url?: string }) => {
    if (msg?.cellarServing === 'listening' && ++listening === workers) {
      url = msg.url ?? url;
      opts.onListening({ url, model: opts.model, version: null, routes: ROUTES, pid: process.pid });
    }
  });
  for (let i = 0; i < workers; i++) cluster.fork();
  const forward = (sig: NodeJS.Signals) => () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill(sig);
  };
  process.on('SIGTERM', forward('SIGTERM'));
  process.on('SIGINT', forward('SIGINT'));
  await exited;
  return failed === 0 ? 0 : 1;
}

/**
 * Serves a model until SIGTERM/SIGINT; resolves to the process exit code (0 after a clean drain).
 *
 * @throws CellarError NOT_FOUND / INVALID_INPUT when the model cannot be loaded; INVALID_PARAMETER for bad options
 */
export async function startServing(opts: StartServingOptions): Promise<number> {
  const workers = opts.workers ?? 1;
  if (!Number.isSafeInteger(workers) || workers < 1 || workers > 64)
    throw new CellarError(
      'INVALID_PARAMETER',
      `--workers must be a whole number from 1 to 64, got ${String(workers)}.`,
    );
  if (workers > 1 && cluster.isPrimary) {
    // Load once in the primary so a bad model reference fails fast with its real error.
    await ModelHolder.open(opts.store, opts.model, transformLoader(opts.store.root));
    if (opts.port === 0)
      throw new CellarError(
        'INVALID_PARAMETER',
        'With --workers > 1, pass a fixed --port (workers share it).',
      );
    return runPrimary(opts, workers);
  }
  return runWorker(opts);
}
