// Test helpers for running notebooks headlessly on a real tslab kernel: detects Debian's Jupyter, registers
// the tslab kernel spec in isolated JUPYTER_* directories, executes a notebook with nbclient (the engine of
// `jupyter nbconvert --execute`) and reads each cell's outputs and status back. Kernel output goes to a log
// file (never to jest's pipes) and no kernel process outlives a call.
import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  closeSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';

/** The repository root: the nearest folder above the working directory whose package.json is cellar's. */
export const REPO_ROOT = findRepoRoot(process.cwd());

function findRepoRoot(start: string): string {
  for (let dir = resolve(start); ; dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (pkg.name === 'cellar') return dir;
    } catch {
      // No package.json here: keep walking up.
    }
    if (dirname(dir) === dir) return resolve(start);
  }
}

/** Debian's Python, which has jupyter_client, nbclient and nbconvert (the `python3` on PATH may be a pyenv shim). */
export const SYSTEM_PYTHON = '/usr/bin/python3';

/** Name of the kernel spec that `tslab install` registers for TypeScript (`jslab` is the JavaScript one). */
export const TSLAB_KERNEL_NAME = 'tslab';

/** Message for a test that cannot run because Jupyter is missing. */
export const JUPYTER_MISSING_MESSAGE =
  'Jupyter (Debian python3-nbconvert, python3-nbclient, jupyter-client, python3-ipykernel) is not installed: ' +
  'run `sudo bash scripts/install-system.sh` (CI runs it), then re-run the tests.';

let jupyterAvailable: boolean | undefined;

/**
 * Whether Debian's Jupyter stack (nbconvert, nbclient, jupyter_client, ipykernel) is importable by
 * `/usr/bin/python3`. The answer is cached for the process.
 */
export function hasJupyter(): boolean {
  if (jupyterAvailable === undefined) {
    const probe = spawnSync(
      SYSTEM_PYTHON,
      ['-c', 'import nbconvert, nbclient, nbformat, jupyter_client, jupyter_core, IPython'],
      { stdio: 'ignore', timeout: 30_000 },
    );
    jupyterAvailable = probe.status === 0;
  }
  return jupyterAvailable;
}

/** Isolated Jupyter directories under one temp root, and the environment variables that select them. */
export interface JupyterDirs {
  /** Temp root holding everything below; remove it with {@link removeJupyterDirs}. */
  root: string;
  dataDir: string;
  configDir: string;
  runtimeDir: string;
  /** JUPYTER_DATA_DIR, JUPYTER_CONFIG_DIR, JUPYTER_RUNTIME_DIR and IPYTHONDIR pointing at the dirs above. */
  env: Record<string, string>;
}

/** Creates fresh, empty Jupyter data/config/runtime directories under a new temp directory. */
export function createJupyterDirs(prefix = 'cellar-jupyter-'): JupyterDirs {
  const root = mkdtempSync(join(tmpdir(), prefix));
  const dataDir = join(root, 'data');
  const configDir = join(root, 'config');
  const runtimeDir = join(root, 'runtime');
  for (const dir of [dataDir, configDir, runtimeDir]) mkdirSync(dir, { recursive: true });
  return {
    root,
    dataDir,
    configDir,
    runtimeDir,
    env: {
      JUPYTER_DATA_DIR: dataDir,
      JUPYTER_CONFIG_DIR: configDir,
      JUPYTER_RUNTIME_DIR: runtimeDir,
      IPYTHONDIR: join(root, 'ipython'),
    },
  };
}

/** Kills any kernel still running from these dirs, then deletes the temp root. */
export function removeJupyterDirs(dirs: JupyterDirs): void {
  killKernelsOf(dirs);
  rmSync(dirs.root, { recursive: true, force: true });
}

/**
 * Registers the tslab kernel spec (`tslab` for TypeScript, also `jslab`) in `dirs.dataDir/kernels/` with
 * `tslab install --user`, pointing at this repository's `node_modules/.bin/tslab`.
 * @returns the kernel name and the directory holding its kernel.json.
 * @throws Error when tslab is not installed or its installer fails (the message includes its output).
 */
export function installTslabKernel(dirs: JupyterDirs): { kernelName: string; specDir: string } {
  const tslabBin = join(REPO_ROOT, 'node_modules', '.bin', 'tslab');
  if (!existsSync(tslabBin)) throw new Error(`${tslabBin} is missing: run \`npm ci\` first.`);
  const result = spawnSync(
    tslabBin,
    ['install', `--python=${SYSTEM_PYTHON}`, `--binary=${tslabBin}`, '--user'],
    { env: { ...process.env, ...dirs.env }, encoding: 'utf8', timeout: 60_000 },
  );
  const specDir = join(dirs.dataDir, 'kernels', TSLAB_KERNEL_NAME);
  if (result.status !== 0 || !existsSync(join(specDir, 'kernel.json'))) {
    throw new Error(
      `tslab install failed (status ${result.status}):\n${result.stdout ?? ''}\n${result.stderr ?? ''}`,
    );
  }
  return { kernelName: TSLAB_KERNEL_NAME, specDir };
}

/**
 * Makes `dir` resolve `cellar` (this repository, i.e. its built `dist/`) and the repository's installed
 * packages (`tslab`, `@types/node`, …) the way an installed package would: `dir/node_modules/` gets a link
 * to each entry of the repository's `node_modules/`, and `cellar` links to the repository root. This does
 * not rely on the `node_modules/cellar` link that `npm run build` makes (an `npm install` removes it).
 * No-op when `dir/node_modules` already exists.
 */
export function linkNodeModules(dir: string): void {
  const target = join(dir, 'node_modules');
  if (existsSync(target)) return;
  mkdirSync(target);
  const source = join(REPO_ROOT, 'node_modules');
  for (const entry of readdirSync(source)) {
    if (entry === 'cellar' || entry === '.bin' || entry.startsWith('.package-lock')) continue;
    symlinkSync(join(source, entry), join(target, entry));
  }
  symlinkSync(REPO_ROOT, join(target, 'cellar'), 'dir');
}

/** One output of a code cell, as nbformat stores it. */
export interface CellOutput {
  output_type: 'stream' | 'display_data' | 'execute_result' | 'error' | string;
  name?: string;
  text?: string | string[];
  data?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  ename?: string;
  evalue?: string;
  traceback?: string[];
  execution_count?: number | null;
}

/** A notebook cell as nbformat stores it. */
export interface NotebookCell {
  cell_type: 'code' | 'markdown' | 'raw';
  id?: string;
  source: string | string[];
  metadata: Record<string, unknown>;
  outputs?: CellOutput[];
  execution_count?: number | null;
}

/** A notebook document (nbformat 4). */
export interface NotebookJson {
  nbformat: number;
  nbformat_minor: number;
  metadata: Record<string, unknown>;
  cells: NotebookCell[];
}

/** A cell's error output, flattened for assertion messages. */
export interface CellError {
  cellIndex: number;
  source: string;
  ename: string;
  evalue: string;
  traceback: string;
}

/** The executed notebook with accessors for its outputs. */
export interface ExecutedNotebook {
  notebook: NotebookJson;
  /**
   * Path of the executed copy when `outputDir` was given, else null (it was written to a temp dir that is
   * removed after the run).
   */
  outputPath: string | null;
  /** The driver's and the kernel's combined stdout/stderr (kernel messages, tracebacks). */
  log: string;
  /**
   * Why execution stopped early (first failing cell, timeout, dead kernel), or null when every cell ran.
   * Cells after the failing one have no outputs.
   */
  failure: string | null;
  /** Code cells in order (markdown cells skipped), each with its index in `notebook.cells`. */
  codeCells(): Array<NotebookCell & { index: number }>;
  /** Concatenated stdout of a cell (index into `notebook.cells`) or, without an index, of every cell. */
  stdout(cellIndex?: number): string;
  /** Concatenated stderr, like {@link ExecutedNotebook.stdout}. */
  stderr(cellIndex?: number): string;
  /** MIME bundles of display_data and execute_result outputs, of one cell or all cells. */
  displays(cellIndex?: number): Array<Record<string, unknown>>;
  /**
   * Every failure: `error` outputs (runtime exceptions), cells whose execute reply was not `ok` (tslab
   * reports type errors only as stderr text plus an error reply; the stderr text becomes `evalue`), and a
   * run-level failure such as a timeout (cellIndex -1). Empty when the notebook ran cleanly.
   */
  errors(): CellError[];
  /** The first code cell whose source contains `text`; throws when none does. */
  cellContaining(text: string): NotebookCell & { index: number };
}

/** Options of {@link executeNotebook}. */
export interface ExecuteOptions {
  /** Directory the kernel runs in (default: the notebook's directory). */
  cwd?: string;
  /** Extra environment for the kernel (e.g. `CELLAR_URI`). */
  env?: Record<string, string>;
  /** Whole-run deadline in ms (default 240 000); the process tree is killed when it passes. */
  timeoutMs?: number;
  /** Per-cell timeout in seconds (default: the whole deadline, at least 30 s). */
  cellTimeoutSeconds?: number;
  /**
   * Keep executing after a failing cell (default false). tslab discards requests that arrive within
   * 200 ms of a failure, so cells after an error usually produce nothing either way.
   */
  allowErrors?: boolean;
  /** Jupyter directories with the tslab kernel installed; created (and removed afterwards) when omitted. */
  jupyterDirs?: JupyterDirs;
  /** Kernel spec name (default `tslab`). */
  kernelName?: string;
  /** Keep the executed notebook (same file name) and `execute.log` in this directory. */
  outputDir?: string;
}

// nbclient is the engine behind `jupyter nbconvert --execute` (its ExecutePreprocessor subclasses
// NotebookClient). Driving it directly lets us set the kernel's cwd, record each execute reply's status
// (tslab's type errors produce no `error` output) and write the notebook even when a cell fails, which
// nbconvert does not. The kernel is shut down by nbclient's context manager, also on failure.
const DRIVER = `
import json, sys, traceback
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
src, out, kernel, cwd, timeout, allow = sys.argv[1:7]
nb = nbformat.read(src, as_version=4)
def on_executed(cell, cell_index, execute_reply):
    content = execute_reply.get('content', {})
    cell.metadata['cellar_test'] = {'status': content.get('status')}
    if content.get('execution_count') is not None:
        cell['execution_count'] = content['execution_count']
client = NotebookClient(nb, kernel_name=kernel, timeout=int(timeout), startup_timeout=120,
    allow_errors=(allow == '1'), on_cell_executed=on_executed, record_timing=False)
failure = None
try:
    client.execute(cwd=cwd)
except CellExecutionError as error:
    failure = str(error)
except Exception as error:
    traceback.print_exc()
    failure = type(error).__name__ + ': ' + str(error)
nb.metadata['cellar_test'] = {'failure': failure}
nbformat.write(nb, out)
print('driver: wrote', out, 'failure' if failure else 'ok', flush=True)
`;

/**
 * Executes a notebook on the tslab kernel (through nbclient, the engine of `jupyter nbconvert --execute`)
 * and returns the executed notebook. Execution stops at the first failing cell unless `allowErrors`.
 * Outputs of the driver and the kernel go to a log file; a kernel still running afterwards (e.g. after the
 * deadline) is killed.
 * @throws Error when Jupyter is missing, the driver crashes or the deadline passes (the message includes
 * the log). A failing cell is not thrown: it is reported by `errors()` and `failure`.
 * @example
 * const run = await executeNotebook('notebooks/quickstart.ipynb', { cwd: tmp, env: { CELLAR_URI: store } });
 * expect(run.errors()).toEqual([]);
 */
export async function executeNotebook(
  notebookPath: string,
  options: ExecuteOptions = {},
): Promise<ExecutedNotebook> {
  if (!hasJupyter()) throw new Error(JUPYTER_MISSING_MESSAGE);
  const timeoutMs = options.timeoutMs ?? 240_000;
  const ownDirs = options.jupyterDirs === undefined;
  const dirs = options.jupyterDirs ?? createJupyterDirs();
  try {
    if (ownDirs) installTslabKernel(dirs);
    const source = resolve(notebookPath);
    const cwd = resolve(options.cwd ?? dirname(source));
    const outDir =
      options.outputDir !== undefined ? resolve(options.outputDir) : mkdtempSync(join(dirs.root, 'out-'));
    mkdirSync(outDir, { recursive: true });
    const outputPath = join(outDir, basename(source));
    const logPath = join(outDir, 'execute.log');
    const cellTimeout = options.cellTimeoutSeconds ?? Math.max(30, Math.floor(timeoutMs / 1000));
    const args = [
      '-c',
      DRIVER,
      source,
      outputPath,
      options.kernelName ?? TSLAB_KERNEL_NAME,
      cwd,
      String(cellTimeout),
      options.allowErrors === true ? '1' : '0',
    ];
    const status = await runLogged(SYSTEM_PYTHON, args, {
      cwd,
      env: { ...process.env, ...dirs.env, ...(options.env ?? {}) },
      logPath,
      timeoutMs,
    });
    killKernelsOf(dirs);
    const log = readFileSync(logPath, 'utf8');
    if (status.timedOut) throw new Error(`notebook did not finish within ${timeoutMs} ms. Log:\n${log}`);
    if (status.code !== 0 || !existsSync(outputPath)) {
      throw new Error(`notebook driver failed (exit ${status.code ?? status.signal}). Log:\n${log}`);
    }
    const notebook = JSON.parse(readFileSync(outputPath, 'utf8')) as NotebookJson;
    return wrapNotebook(notebook, options.outputDir !== undefined ? outputPath : null, log);
  } finally {
    if (ownDirs) removeJupyterDirs(dirs);
    else killKernelsOf(dirs);
  }
}

/** Joins an nbformat multiline string. */
export function joinText(text: string | string[] | undefined): string {
  if (text === undefined) return '';
  return Array.isArray(text) ? text.join('') : text;
}

// Terminal colour codes in tracebacks make assertion messages unreadable.
function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-9;]*m/g, '');
}

function wrapNotebook(notebook: NotebookJson, outputPath: string | null, log: string): ExecutedNotebook {
  const cells = notebook.cells;
  const meta = notebook.metadata['cellar_test'] as { failure?: string | null } | undefined;
  const failure = meta?.failure ?? null;
  const pick = (cellIndex: number | undefined): NotebookCell[] =>
    cellIndex === undefined ? cells : cells[cellIndex] ? [cells[cellIndex]] : [];
  const streamText = (name: string, cellIndex?: number): string =>
    pick(cellIndex)
      .flatMap((cell) => cell.outputs ?? [])
      .filter((output) => output.output_type === 'stream' && output.name === name)
      .map((output) => joinText(output.text))
      .join('');
  const codeCells = (): Array<NotebookCell & { index: number }> =>
    cells.map((cell, index) => ({ ...cell, index })).filter((cell) => cell.cell_type === 'code');
  const errors = (): CellError[] => {
    const found: CellError[] = [];
    cells.forEach((cell, cellIndex) => {
      const source = joinText(cell.source);
      const errorOutputs = (cell.outputs ?? []).filter((output) => output.output_type === 'error');
      for (const output of errorOutputs) {
        found.push({
          cellIndex,
          source,
          ename: output.ename ?? '',
          evalue: stripAnsi(output.evalue ?? ''),
          traceback: stripAnsi((output.traceback ?? []).join('\n')),
        });
      }
      const status = (cell.metadata['cellar_test'] as { status?: string } | undefined)?.status;
      if (errorOutputs.length === 0 && status !== undefined && status !== 'ok') {
        found.push({
          cellIndex,
          source,
          ename: `reply:${status}`,
          evalue: streamText('stderr', cellIndex),
          traceback: '',
        });
      }
    });
    if (failure !== null && found.length === 0) {
      found.push({
        cellIndex: -1,
        source: '',
        ename: 'ExecutionFailed',
        evalue: stripAnsi(failure),
        traceback: log,
      });
    }
    return found;
  };
  return {
    notebook,
    outputPath,
    log,
    failure,
    codeCells,
    stdout: (cellIndex) => streamText('stdout', cellIndex),
    stderr: (cellIndex) => streamText('stderr', cellIndex),
    displays: (cellIndex) =>
      pick(cellIndex)
        .flatMap((cell) => cell.outputs ?? [])
        .filter((output) => output.output_type === 'display_data' || output.output_type === 'execute_result')
        .map((output) => output.data ?? {}),
    errors,
    cellContaining: (text) => {
      const cell = codeCells().find((candidate) => joinText(candidate.source).includes(text));
      if (!cell) throw new Error(`no code cell contains ${JSON.stringify(text)}`);
      return cell;
    },
  };
}

interface RunStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
}

// Output goes to a file, not a pipe: a kernel that outlives nbconvert would otherwise hold jest's pipe open.
function runLogged(
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; logPath: string; timeoutMs: number },
): Promise<RunStatus> {
  const fd = openSync(options.logPath, 'a');
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', fd, fd],
      detached: true,
    });
    closeSync(fd);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined) killGroup(child.pid);
    }, options.timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, timedOut });
    });
  });
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/**
 * Kills kernels started with these dirs that are still alive (after a deadline kill, nbclient cannot shut them
 * down). jupyter_client starts each kernel in its own session with a connection file in the system temp dir,
 * so the process is recognised by the JUPYTER_RUNTIME_DIR it inherited, which is unique to `dirs`.
 */
export function killKernelsOf(dirs: JupyterDirs): void {
  if (!existsSync('/proc')) return;
  const marker = `JUPYTER_RUNTIME_DIR=${dirs.runtimeDir}\0`;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let environ: string;
    try {
      environ = readFileSync(`/proc/${entry}/environ`, 'latin1');
    } catch {
      continue;
    }
    if (!environ.includes(marker)) continue;
    try {
      process.kill(Number(entry), 'SIGKILL');
    } catch {
      // Exited in between.
    }
  }
}
