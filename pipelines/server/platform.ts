/**
 * server/platform — starts the whole platform of `cellar up` in one process: the HTTP application (REST API,
 * MLflow routes, web UI) and the scheduler over the same embedded store, and stops both cleanly. Prints
 * nothing itself; the CLI prints the login URL.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { openEmbedded, type EmbeddedBackend } from '../../kernel-lib/store/open.js';
import { Scheduler } from '../scheduler/scheduler.js';
import { buildApp } from './app.js';
import { findPackageRoot } from './web-assets.js';

/** Options of {@link startPlatform}. */
export interface PlatformOptions {
  /** The `.cellar` directory. */
  root: string;
  /** Port (0: any free port). Default 7437. */
  port?: number;
  /** Interface to listen on. Default 127.0.0.1. */
  host?: string;
  /** Login token (default: 24 random bytes, hex). */
  token?: string;
  /** Extra Host header values to accept (`name` or `name:port`), e.g. a DNS name the server is reached by. */
  allowHosts?: string[];
  /** Origins allowed cross-origin (CORS). Default none. */
  allowOrigins?: string[];
  /** Run the scheduler in this process (default true). */
  scheduler?: boolean;
  /** Scheduler pause between ticks (ms). */
  pollIntervalMs?: number;
  /** Most step attempts at once. */
  concurrency?: number;
  /** One line per notable scheduler event. */
  log?: (line: string) => void;
}

/** A running platform. */
export interface RunningPlatform {
  /** `http://host:port` */
  url: string;
  /** The URL to open in a browser (logs in with the token). */
  loginUrl: string;
  token: string;
  port: number;
  app: FastifyInstance;
  backend: EmbeddedBackend;
  /** Stops accepting requests, lets running steps finish (`drain`), closes the store. */
  close(opts?: { drain?: boolean }): Promise<void>;
}

function packageVersion(root: string | null): string {
  if (!root) return '0.0.0';
  try {
    return (
      (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: string }).version ??
      '0.0.0'
    );
  } catch {
    return '0.0.0';
  }
}

const LOOPBACK = ['127.0.0.1', 'localhost', '[::1]'];

/**
 * Opens the store and starts the HTTP server and the scheduler.
 *
 * @throws CellarError STORE_CORRUPT for an unusable store; the listen error when the port is taken.
 */
export async function startPlatform(opts: PlatformOptions): Promise<RunningPlatform> {
  const backend = openEmbedded(opts.root);
  const token = opts.token ?? randomBytes(24).toString('hex');
  const host = opts.host ?? '127.0.0.1';
  const packageRoot = findPackageRoot();
  const allowedHosts = new Set<string>();
  const app = buildApp({
    backend,
    token,
    allowedHosts,
    allowedOrigins: opts.allowOrigins ?? [],
    packageRoot,
    version: packageVersion(packageRoot),
  });
  await app.listen({ port: opts.port ?? 7437, host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : (opts.port ?? 7437);
  const names =
    LOOPBACK.includes(host) || host === '::1' ? LOOPBACK : [host.includes(':') ? `[${host}]` : host];
  for (const n of names) allowedHosts.add(`${n}:${port}`.toLowerCase());
  for (const h of opts.allowHosts ?? []) {
    allowedHosts.add(h.toLowerCase());
    if (!/:\d+$/.test(h)) allowedHosts.add(`${h}:${port}`.toLowerCase());
  }
  let scheduler: Scheduler | null = null;
  if (opts.scheduler !== false) {
    scheduler = new Scheduler({
      store: backend,
      ...(opts.pollIntervalMs === undefined ? {} : { pollIntervalMs: opts.pollIntervalMs }),
      ...(opts.concurrency === undefined ? {} : { concurrency: opts.concurrency }),
      ...(opts.log ? { log: opts.log } : {}),
    });
    scheduler.start();
  }
  // Runs whose process died (on this host) show KILLED, not RUNNING, without waiting for a restart.
  const reaper = setInterval(() => {
    try {
      backend.tracking.reapDeadRunsSync();
    } catch {
      // the store is busy or closing: the next pass (or the next open) reaps
    }
  }, 10_000);
  reaper.unref();
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : names[0]!;
  const url = `http://${shown}:${port}`;
  return {
    url,
    loginUrl: `${url}/?token=${token}`,
    token,
    port,
    app,
    backend,
    async close(closeOpts = {}) {
      clearInterval(reaper);
      await app.close();
      if (scheduler) await scheduler.stop({ drain: closeOpts.drain !== false });
      backend.close();
    },
  };
}
