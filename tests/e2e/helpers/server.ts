// Starts and stops the test JupyterLab server (tests/e2e/app/server.py on Debian's jupyter_server) for browser
// tests: a free port on 127.0.0.1, a random token, isolated JUPYTER_* directories with the tslab kernel spec,
// cellar's prebuilt labextension. Server output goes to a log file, never to jest's pipes, and stop() leaves
// no server or kernel process behind.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import {
  REPO_ROOT,
  SYSTEM_PYTHON,
  createJupyterDirs,
  installTslabKernel,
  killKernelsOf,
  removeJupyterDirs,
  type JupyterDirs,
} from '../../helpers/jupyter.js';

/** Directory of the test JupyterLab application (sources, lockfile, server.py; build/ once built). */
export const E2E_APP_DIR = join(REPO_ROOT, 'tests', 'e2e', 'app');

/** Directory holding cellar's prebuilt labextension (`cellar-jupyterlab/`), written by scripts/build-extension.sh. */
export const LABEXTENSIONS_DIR = join(REPO_ROOT, 'dist', 'labextensions');

/** Where browser tests keep screenshots and server logs (gitignored). */
export const ARTIFACTS_DIR = join(REPO_ROOT, 'tests', 'artifacts', 'e2e');

/** Name of cellar's labextension (the `name` of extension/package.json). */
export const CELLAR_LABEXTENSION = 'cellar-jupyterlab';

/**
 * Core plugins disabled in the test lab: the news prompt would cover the page, and the debugger fails with
 * "No active debugger session" on kernels without debugging support (tslab has none).
 */
export const DEFAULT_DISABLED_EXTENSIONS = [
  '@jupyterlab/apputils-extension:announcements',
  '@jupyterlab/debugger-extension',
];

/** Options of {@link startLab}. */
export interface StartLabOptions {
  /** The server's root directory: notebooks are opened relative to it. */
  notebookDir: string;
  /** Extra environment for the server and its kernels (e.g. `CELLAR_URI`). */
  env?: Record<string, string>;
  /** Plugin ids or extension names to disable (default {@link DEFAULT_DISABLED_EXTENSIONS}). */
  disabledExtensions?: string[];
  /** Directory of prebuilt labextensions to load (default {@link LABEXTENSIONS_DIR}). */
  labextensionsDir?: string;
  /** Deadline for the server to answer, in ms (default 60 000). */
  startTimeoutMs?: number;
  /** When set, stop() keeps the server log (kernels included) as tests/artifacts/e2e/<name>-server.log. */
  artifactName?: string;
}

/** A running test JupyterLab. */
export interface Lab {
  /** Base URL, e.g. `http://127.0.0.1:40123` (no trailing slash). */
  url: string;
  /** The server's token (every request must carry it). */
  token: string;
  port: number;
  notebookDir: string;
  /** The isolated Jupyter directories (the tslab kernel spec is in `dirs.dataDir`). */
  dirs: JupyterDirs;
  /** Path of the server's log file (kept until stop()). */
  logPath: string;
  /** The server log so far (for assertion messages). */
  log(): string;
  /** `url` + path + the token as query parameter, e.g. `lab.urlFor('/lab/tree/x.ipynb')`. */
  urlFor(path: string): string;
  /** Shuts the server down (kernels first), kills whatever is left, removes the temp directories. Idempotent. */
  stop(): Promise<void>;
}

/** Message for a test that finds the frontend or the labextension missing. */
export const E2E_NOT_BUILT_MESSAGE =
  'The browser tests need the built JupyterLab frontend and cellar labextension: run ' +
  '`bash scripts/build-extension.sh && bash scripts/build-e2e-app.sh` (npm test does), then re-run.';

/**
 * Starts the test JupyterLab on 127.0.0.1 (a free port, a random token) serving `notebookDir`, with the tslab
 * kernel registered in fresh JUPYTER_* directories and cellar's labextension loaded. Resolves once the server
 * answers authenticated API requests.
 * @throws Error when the frontend or the labextension is not built, Jupyter is missing, or the server does not
 * answer before the deadline (the message includes the server log).
 * @example
 * const lab = await startLab({ notebookDir: tmp });
 * try { … } finally { await lab.stop(); }
 */
export async function startLab(options: StartLabOptions): Promise<Lab> {
  const labextensionsDir = options.labextensionsDir ?? LABEXTENSIONS_DIR;
  if (!existsSync(join(E2E_APP_DIR, 'build', 'templates', 'index.html')))
    throw new Error(E2E_NOT_BUILT_MESSAGE);
  if (
    options.labextensionsDir === undefined &&
    !existsSync(join(labextensionsDir, CELLAR_LABEXTENSION, 'package.json'))
  ) {
    throw new Error(E2E_NOT_BUILT_MESSAGE);
  }
  const dirs = createJupyterDirs('cellar-e2e-lab-');
  let child: ChildProcess | undefined;
  try {
    installTslabKernel(dirs);
    writeDisabledExtensions(dirs, options.disabledExtensions ?? DEFAULT_DISABLED_EXTENSIONS);
    const token = randomBytes(24).toString('hex');
    const logPath = join(dirs.root, 'server.log');
    const port = await freePort();
    const args = [
      join(E2E_APP_DIR, 'server.py'),
      `--CellarE2ELabApp.labextensions_dir=${labextensionsDir}`,
      `--ServerApp.token=${token}`,
      '--ServerApp.ip=127.0.0.1',
      `--ServerApp.port=${port}`,
      '--ServerApp.port_retries=0',
      `--ServerApp.root_dir=${options.notebookDir}`,
      '--ServerApp.open_browser=False',
      '--ServerApp.allow_root=True',
      '--ServerApp.shutdown_no_activity_timeout=1800',
    ];
    const fd = openSync(logPath, 'a');
    child = spawn(SYSTEM_PYTHON, args, {
      cwd: options.notebookDir,
      env: { ...process.env, ...dirs.env, ...(options.env ?? {}) },
      stdio: ['ignore', fd, fd],
      detached: true,
    });
    closeSync(fd);
    const url = `http://127.0.0.1:${port}`;
    const server = child;
    const lab: Lab = {
      url,
      token,
      port,
      notebookDir: options.notebookDir,
      dirs,
      logPath,
      log: () => (existsSync(logPath) ? readFileSync(logPath, 'utf8') : ''),
      urlFor: (path) => `${url}${path}${path.includes('?') ? '&' : '?'}token=${token}`,
      stop: once(() => stopServer(server, lab, options.artifactName)),
    };
    await waitUntilReady(lab, server, options.startTimeoutMs ?? 60_000);
    return lab;
  } catch (error) {
    if (child?.pid !== undefined) killGroup(child.pid, 'SIGKILL');
    removeJupyterDirs(dirs);
    throw error;
  }
}

// jupyterlab_server reads page_config.json from every Jupyter config dir; the isolated one is first.
function writeDisabledExtensions(dirs: JupyterDirs, disabled: string[]): void {
  const dir = join(dirs.configDir, 'labconfig');
  mkdirSync(dir, { recursive: true });
  const disabledExtensions = Object.fromEntries(disabled.map((id) => [id, true]));
  writeFileSync(join(dir, 'page_config.json'), JSON.stringify({ disabledExtensions }, null, 2));
}

/** A TCP port that was free on 127.0.0.1 a moment ago (the server is started with port_retries=0). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => resolvePort(port));
    });
  });
}

async function waitUntilReady(lab: Lab, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited: string | null = null;
  child.once('exit', (code, signal) => {
    exited = `exit ${code ?? signal}`;
  });
  while (Date.now() < deadline) {
    if (exited !== null) throw new Error(`the JupyterLab server stopped (${exited}). Log:\n${lab.log()}`);
    try {
      const response = await fetch(`${lab.url}/api/status`, {
        headers: { Authorization: `token ${lab.token}` },
        signal: AbortSignal.timeout(2_000),
      });
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await sleep(200);
  }
  throw new Error(`the JupyterLab server did not answer within ${timeoutMs} ms. Log:\n${lab.log()}`);
}

async function stopServer(child: ChildProcess, lab: Lab, artifactName: string | undefined): Promise<void> {
  const exited = new Promise<void>((resolveExit) => {
    if (child.exitCode !== null || child.signalCode !== null) resolveExit();
    else child.once('exit', () => resolveExit());
  });
  try {
    // A clean shutdown stops the kernels through their kernel managers first.
    await fetch(`${lab.url}/api/shutdown`, {
      method: 'POST',
      headers: { Authorization: `token ${lab.token}` },
      signal: AbortSignal.timeout(5_000),
    });
  } catch {
    // Already down, or not answering: killed below.
  }
  if (!(await settlesWithin(exited, 10_000)) && child.pid !== undefined) {
    killGroup(child.pid, 'SIGTERM');
    if (!(await settlesWithin(exited, 5_000))) killGroup(child.pid, 'SIGKILL');
    await settlesWithin(exited, 5_000);
  }
  // Kernels run in their own sessions: find them by the runtime dir they inherited.
  killKernelsOf(lab.dirs);
  if (artifactName !== undefined && existsSync(lab.logPath)) {
    mkdirSync(ARTIFACTS_DIR, { recursive: true });
    copyFileSync(lab.logPath, join(ARTIFACTS_DIR, `${artifactName}-server.log`));
  }
  removeJupyterDirs(lab.dirs);
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

function settlesWithin(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolveTimeout) => {
    timer = setTimeout(() => resolveTimeout(false), ms);
  });
  return Promise.race([promise.then(() => true), timeout]).finally(() => clearTimeout(timer));
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => (running ??= fn());
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolveSleep) => setTimeout(resolveSleep, ms));
}
