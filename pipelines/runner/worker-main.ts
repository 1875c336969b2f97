/**
 * runner/worker-main — the body of a step worker process. The pool forks the worker ahead of time; it loads
 * this module, says "ready" and waits for a task over IPC. For each task:
 *   1. stdout/stderr go to the attempt's log file (created at the first byte printed, capped: runner/log-cap);
 *   2. inputs are read from the upstream steps' committed output directories and deserialized;
 *   3. the compiled CommonJS step module's `run(ctx)` is awaited;
 *   4. each output is serialized into a temporary directory, which is renamed to `try-<n>` when complete;
 *   5. the result file (created empty when the step arrived) is written, then the result is also sent over IPC.
 * A failed step always ends its process. After a successful one the worker runs another step of the same
 * pipeline version only when the runner allows it (`reuse`) and the step left nothing behind (see
 * runner/worker-hygiene: timers, sockets, listeners and globals retire the worker; environment, working
 * directory and module cache are restored, so each step gets fresh module state); otherwise it exits.
 * The worker keeps going when its parent dies after a task arrived (a restarted scheduler adopts it via the
 * result file) and exits after it; an idle worker whose parent is gone exits at once.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import Module from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import type { OutputManifest, StepResult, TaskMessage, WorkerTask } from './protocol.js';
import { CappedLog, resolveMaxLogBytes } from './log-cap.js';
import { decodeValue, encodeValue } from './serialize.js';
import { WorkerBaseline } from './worker-hygiene.js';

type StepModule = { run?: unknown };

/** The current attempt's log: created at the first byte the step prints, not before; capped (runner/log-cap). */
let logFile: CappedLog | null = null;
const originalWrites = { stdout: process.stdout.write, stderr: process.stderr.write };

function writeLog(data: string | Uint8Array): void {
  logFile?.write(data);
}

function log(text: string): void {
  writeLog(text);
}

/** Ends the redirection of the current step's output (closing its log). */
function endRedirect(): void {
  process.stdout.write = originalWrites.stdout;
  process.stderr.write = originalWrites.stderr;
  logFile?.close();
  logFile = null;
}

/** Sends stdout and stderr of this process (console, process.stdout.write) to the attempt's log file. */
function redirectOutput(file: string, maxBytes: number | undefined): void {
  logFile = new CappedLog(file, maxBytes ?? resolveMaxLogBytes());
  const write = (chunk: unknown, encoding?: unknown, cb?: unknown): boolean => {
    const done = typeof encoding === 'function' ? encoding : cb;
    const data =
      typeof chunk === 'string'
        ? Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8')
        : (chunk as Uint8Array);
    writeLog(data);
    if (typeof done === 'function') (done as () => void)();
    return true;
  };
  process.stdout.write = write as typeof process.stdout.write;
  process.stderr.write = write as typeof process.stderr.write;
}

/**
 * Creates the attempt's (empty) result file: the mark that this process received the step, which a
 * scheduler adopting the attempt relies on. It is the only file a step without outputs or printed lines
 * creates (creating files is most of what a short step costs).
 */
function markStarted(task: WorkerTask): void {
  mkdirSync(dirname(task.resultFile), { recursive: true });
  writeFileSync(task.resultFile, '');
}

/** node_modules folders of the cellar package running this worker (`<root>/dist/cjs/pipelines/runner/worker.js`). */
function fallbackModulePaths(): string[] {
  const script = process.argv[1];
  if (!script) return [];
  const root = resolve(dirname(script), '..', '..', '..', '..');
  const paths = [join(root, 'node_modules')];
  if (basename(dirname(root)) === 'node_modules') paths.push(dirname(root)); // cellar installed as a dependency
  return paths;
}

/**
 * Loads a compiled step as the CommonJS module it is. Plain `require` would go by the nearest package.json,
 * and a store inside a `"type": "module"` project would make Node read the `.js` file as ESM.
 */
function loadStepModule(file: string): StepModule {
  type CjsModule = {
    filename: string;
    paths: string[];
    exports: StepModule;
    _compile(c: string, f: string): void;
  };
  const M = Module as unknown as { new (id: string): CjsModule; _nodeModulePaths(dir: string): string[] };
  const m = new M(file);
  m.filename = file;
  // Packages resolve from the step's folder first (a project's own node_modules), then from the cellar
  // installation running this worker, so `import … from 'cellar'` works wherever the store lives.
  m.paths = [...M._nodeModulePaths(dirname(file)), ...fallbackModulePaths()];
  m._compile(readFileSync(file, 'utf8'), file);
  return m.exports;
}

async function loadInputs(task: WorkerTask): Promise<Record<string, unknown>> {
  const inputs: Record<string, unknown> = {};
  const manifests = new Map<string, OutputManifest>();
  for (const input of task.inputs) {
    let manifest = manifests.get(input.dir);
    if (!manifest) {
      manifest = JSON.parse(readFileSync(join(input.dir, 'manifest.json'), 'utf8')) as OutputManifest;
      manifests.set(input.dir, manifest);
    }
    const entry = manifest.outputs[input.name];
    if (!entry) {
      throw new Error(
        `upstream step "${input.step}" did not produce "${input.name}" (outputs: ${Object.keys(manifest.outputs).join(', ') || 'none'})`,
      );
    }
    inputs[input.name] = await decodeValue(
      entry.kind,
      readFileSync(join(input.dir, entry.file)),
      input.name,
      input.step,
    );
  }
  return inputs;
}

function writeOutputs(task: WorkerTask, values: Record<string, unknown>): StepResult['outputs'] {
  if (task.outputs.length === 0) return []; // nothing a downstream step could read: no directory
  const tmp = `${task.tmpDir}-${process.pid}`;
  mkdirSync(tmp, { recursive: true });
  const manifest: OutputManifest = {
    format: 'cellar-step-outputs',
    step: task.step,
    tryNumber: task.context.tryNumber,
    outputs: {},
  };
  const written: StepResult['outputs'] = [];
  task.outputs.forEach((name, i) => {
    const encoded = encodeValue(values[name], name, task.step);
    const file = `${i}.${encoded.ext}`;
    writeFileSync(join(tmp, file), encoded.data);
    manifest.outputs[name] = { file, kind: encoded.kind, bytes: encoded.data.length };
    written.push({ name, kind: encoded.kind, bytes: encoded.data.length });
  });
  writeFileSync(join(tmp, 'manifest.json'), JSON.stringify(manifest));
  renameSync(tmp, task.outputDir); // the outputs appear all at once, or not at all
  return written;
}

/** The values of the step's pipeline metrics; a value that is not a finite number is reported and left out. */
function pickMetrics(task: WorkerTask, values: Record<string, unknown>): Record<string, number> {
  const metrics: Record<string, number> = {};
  for (const name of task.metrics) {
    const v = values[name];
    if (typeof v === 'number' && Number.isFinite(v)) metrics[name] = v;
    else {
      const got = typeof v === 'number' ? String(v) : typeof v;
      log(`[cellar] pipeline metric "${name}" is ${got}, not a finite number: it is not logged\n`);
    }
  }
  return metrics;
}

function errorInfo(e: unknown): NonNullable<StepResult['error']> {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return {
      message: e.message,
      ...(typeof code === 'string' ? { code } : {}),
      ...(e.stack ? { stack: e.stack } : {}),
    };
  }
  return { message: String(e) };
}

/** The task being run; `reported` once its result is written; `stray` when it threw after that. */
let current: { task: WorkerTask; reported: boolean; stray: boolean; onError: (e: unknown) => void } | null =
  null;
let baseline: WorkerBaseline | null = null;

/**
 * Records how the step ended (the result file, then IPC), then either exits or, after a clean success the
 * runner allows to reuse this process, waits for the next task.
 */
function finish(task: WorkerTask, result: StepResult): void {
  if (!current || current.task !== task) return;
  if (current.reported) {
    current.stray = true; // an error after the step reported success: this process is not reused
    return;
  }
  current.reported = true;
  if (!result.ok && result.error)
    log(`\n[cellar] step "${task.step}" failed: ${result.error.stack ?? result.error.message}\n`);
  // One write of a few hundred bytes into the file markStarted created: a reader sees it empty (the attempt has
  // not ended) or whole; a process killed before it leaves it empty.
  writeFileSync(task.resultFile, JSON.stringify(result));
  if (result.ok && task.reuse === true && baseline !== null && process.connected) {
    // Let what the step left in the microtask queue run before looking for leftovers.
    setImmediate(() => settleReusable(result));
    return;
  }
  report(result, false);
}

/** Decides whether this process may run another step, and reports the result saying so. */
function settleReusable(result: StepResult): void {
  unlisten();
  const leftovers = baseline!.leftovers();
  if (current!.stray) leftovers.push('an error thrown after it had ended');
  if (leftovers.length > 0)
    log(`[cellar] this worker process is not reused: the step left ${leftovers.join(', ')}\n`);
  report(result, leftovers.length === 0 && process.connected);
}

/** Removes this step's error listeners (they were added by runTask). */
function unlisten(): void {
  process.off('uncaughtException', current!.onError);
  process.off('unhandledRejection', current!.onError);
}

function report(result: StepResult, reusable: boolean): void {
  unlisten();
  endRedirect();
  const exit = (): never => process.exit(result.ok ? 0 : 1);
  if (!(process.connected && process.send)) exit();
  if (!reusable) {
    process.send!({ type: 'result', result, reusable: false }, () => exit());
    return;
  }
  baseline!.restore();
  current = null;
  process.send!({ type: 'result', result, reusable: true });
}

async function runTask(task: WorkerTask): Promise<void> {
  try {
    markStarted(task);
  } catch (e) {
    // No result file can be written (permissions, a full disk): say why over IPC, where the runner records it.
    const message = `cannot write the attempt's result file ${task.resultFile}: ${(e as Error).message}`;
    const now = Date.now();
    const result: StepResult = {
      ok: false,
      error: { message },
      metrics: {},
      outputs: [],
      pid: process.pid,
      startedAt: now,
      endedAt: now,
    };
    process.send!({ type: 'result', result, reusable: false }, () => process.exit(1));
    return;
  }
  redirectOutput(task.logFile, task.maxLogBytes);
  Object.assign(process.env, task.env);
  const startedAt = Date.now();
  const base = { pid: process.pid, startedAt, metrics: {}, outputs: [] };
  const fail = (e: unknown): void =>
    finish(task, { ...base, ok: false, error: errorInfo(e), endedAt: Date.now() });
  current = { task, reported: false, stray: false, onError: fail };
  baseline?.beginStep();
  process.on('uncaughtException', fail);
  process.on('unhandledRejection', fail);
  try {
    const inputs = await loadInputs(task);
    const mod = loadStepModule(task.stepFile);
    if (typeof mod.run !== 'function')
      throw new Error(`${task.stepFile} does not export a run(ctx) function`);
    const returned = (await (mod.run as (ctx: unknown) => unknown)({ ...task.context, inputs })) as unknown;
    const values = (returned ?? {}) as Record<string, unknown>;
    if (typeof values !== 'object' || Array.isArray(values))
      throw new Error('run(ctx) must resolve to an object of outputs');
    const missing = task.outputs.filter((n) => !Object.prototype.hasOwnProperty.call(values, n));
    if (missing.length > 0)
      throw new Error(`step "${task.step}" did not return ${missing.map((n) => `"${n}"`).join(', ')}`);
    const metrics = pickMetrics(task, values);
    const outputs = writeOutputs(task, values);
    finish(task, { ...base, ok: true, metrics, outputs, endedAt: Date.now() });
  } catch (e) {
    fail(e);
  }
}

/** Starts the worker protocol (the entry point of worker.ts). */
export function startWorker(): void {
  if (typeof process.send !== 'function') {
    process.stderr.write('cellar worker: this script is started by the pipeline runner, not by hand.\n');
    process.exit(2);
  }
  process.on('disconnect', () => {
    if (!current) process.exit(0); // the runner went away while no step was running here
  });
  process.on('message', (msg: TaskMessage) => {
    if (current || msg?.type !== 'task') return;
    void runTask(msg.task);
  });
  // Taken with this process's own listeners in place, before any step: what "clean" means from now on.
  baseline = new WorkerBaseline();
  process.send({ type: 'ready' });
}
