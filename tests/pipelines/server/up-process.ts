/**
 * tests/pipelines/server/up-process — starts the real `cellar up` (bin/cellar.cjs, built) in a child process on
 * 127.0.0.1 with a free port, reads the login URL it prints, and stops it. Fails (throws) when the server does
 * not come up.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../helpers/tmp.js';

/** A running `cellar up`. */
export interface UpProcess {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** The printed login URL (`…/?token=…`). */
  loginUrl: string;
  token: string;
  child: ChildProcess;
  /** Everything the process printed so far. */
  output(): string;
  /** SIGTERM, then waits for exit. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `cellar up --port 0` on the store `dir`. */
export async function startUp(
  dir: string,
  extraArgs: string[] = [],
  env: NodeJS.ProcessEnv = {},
): Promise<UpProcess> {
  const bin = join(REPO_ROOT, 'bin', 'cellar.cjs');
  if (!existsSync(join(REPO_ROOT, 'dist', 'cjs', 'pipelines', 'server', 'platform.js')))
    throw new Error('dist/ is not built: run `npm run build` first.');
  const child = spawn(
    process.execPath,
    [bin, '--store', dir, 'up', '--port', '0', '--poll', '200', ...extraArgs],
    {
      env: { ...process.env, CELLAR_TOKEN: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const loginUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`cellar up did not print its URL in 30 s:\n${out}`)),
      30_000,
    );
    const check = (): void => {
      const m = /open (http:\/\/\S+\/\?token=\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', check);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`cellar up exited with ${code}:\n${out}`));
    });
  });
  const u = new URL(loginUrl);
  return {
    url: `${u.protocol}//${u.host}`,
    loginUrl,
    token: u.searchParams.get('token')!,
    child,
    output: () => out,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
