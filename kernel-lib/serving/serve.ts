/**
 * serving/serve — `serve(model)` for a quick try from a notebook: starts `cellar serve` in a child process (the
 * HTTP server lives in pipelines/serving, a layer above kernel-lib, so the kernel reaches it across a process
 * boundary as a user's terminal would) and resolves once it listens, with its URL and a `stop()`.
 */
import { spawn } from 'node:child_process';
import { CellarError } from '../errors.js';
import { findCellarBin } from '../bridge/cli-scheduler.js';
import type { CellarStore } from '../client.js';
import { getStore } from '../sdk.js';
import { loadServableModel } from './model.js';

/** Options of {@link serve}. */
export interface ServeOptions {
  /** Port (default 0: any free port). */
  port?: number;
  host?: string;
  /** Bearer token required on every route except health. */
  token?: string;
  store?: CellarStore;
  /** Give up waiting for the server after this many ms (default 30 000). */
  timeoutMs?: number;
}

/** A server started by {@link serve}. */
export interface ServingHandle {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  url: string;
  pid: number;
  /** A `curl` command that scores one row. */
  curl: string;
  /** SIGTERM: in-flight requests finish, then the process exits. */
  stop(): Promise<void>;
}

/**
 * Serves a registered model from the notebook's kernel (in a child `cellar serve` process).
 *
 * @example
 * const srv = await serve('driver@champion')
 * await fetch(`${srv.url}/invocations`, { method: 'POST', headers: { 'content-type': 'application/json' },
 *   body: JSON.stringify({ dataframe_records: [{ conv_rate: 0.5, acc_rate: 0.9, avg_daily_trips: 12 }] }) })
 * await srv.stop()
 * @throws CellarError INTERNAL when the server cannot start (with its error output), NOT_FOUND for an unknown model
 */
export async function serve(model: string, opts: ServeOptions = {}): Promise<ServingHandle> {
  const store = opts.store ?? getStore();
  const { model: loaded } = await loadServableModel(store, model); // fails fast for an unknown model
  const bin = findCellarBin(process.cwd());
  if (bin === null)
    throw new CellarError(
      'NOT_FOUND',
      'Cannot find the cellar command (bin/cellar.cjs); set CELLAR_PACKAGE_ROOT.',
    );
  const args = [bin, '--store', store.root, 'serve', model, '--port', String(opts.port ?? 0), '--json'];
  if (opts.host) args.push('--host', opts.host);
  const env = { ...process.env };
  if (opts.token) env.CELLAR_SERVE_TOKEN = opts.token;
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-8000)));
  const started = await new Promise<{ url: string }>((resolveStart, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new CellarError('INTERNAL', `cellar serve did not start in time: ${err.trim()}`));
    }, opts.timeoutMs ?? 30_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('{') && l.includes('"url"'));
      if (line) {
        clearTimeout(timer);
        resolveStart(JSON.parse(line) as { url: string });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      const parsed = /^\{.*\}$/m.exec(err);
      if (parsed) {
        try {
          return reject(CellarError.fromJSON((JSON.parse(parsed[0]) as { error: object }).error));
        } catch {
          // fall through to the text
        }
      }
      reject(new CellarError('INTERNAL', `cellar serve exited (${code}): ${err.trim()}`));
    });
  });
  child.stdout.resume();
  const url = started.url;
  const sample = JSON.stringify({
    dataframe_records: [Object.fromEntries(loaded.signature.inputs.map((c) => [c.name, 0]))],
  });
  const auth = opts.token ? ` -H 'authorization: Bearer ${opts.token}'` : '';
  return {
    url,
    pid: child.pid!,
    curl: `curl -s ${url}/invocations -H 'content-type: application/json'${auth} -d '${sample}'`,
    stop: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGTERM');
      }),
  };
}
