/**
 * bridge/ops-pipelines — the pipeline operations of the kernel bridge: checking and exporting the tagged
 * cells (`planExport`, `exportPipeline`, delegated to kernel-lib/exporter), the sidebar's pipeline list
 * (`listPipelines`, read from the stored versions' `pipeline.json` files, the exporter/runner contract) and
 * scheduler actions (`triggerPipeline`, `pausePipeline`, available once a scheduler API is plugged in with
 * `setBridgeScheduler`).
 *
 * The exporter is loaded on first use, not when `cellar` is imported: it brings in the TypeScript compiler,
 * which a notebook that never exports should not pay for.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { CellarStore } from '../client.js';
import { CellarError } from '../errors.js';
import type { PipelineSpec } from '../exporter/spec.js';
import { optInt, optString, reqNotebook, reqString } from './args.js';
import { cliScheduler, findCellarBin } from './cli-scheduler.js';
import { storeFor, type OpCall } from './context.js';
import type {
  ExportPlan,
  ExportResult,
  PipelineRunSummary,
  PipelineSummary,
  PipelinesResult,
  PlanStep,
  SchedulerActionResult,
} from './protocol.js';
import { withoutOutputs } from './snapshot.js';

/** The part of kernel-lib/exporter the bridge calls. */
export interface ExporterApi {
  planExport(opts: { notebook: unknown; name: string; notebookPath?: string }): unknown;
  exportNotebook(opts: {
    notebook: unknown;
    name: string;
    schedule?: string | null;
    store?: CellarStore;
    notebookPath?: string;
  }): unknown;
  /** The stored pipelines with their latest version (SQLite, the source of truth), when available. */
  listPipelines?(store: CellarStore): Array<{ name: string; latestVersion: number; versions: number }>;
  /** One stored version with its spec, when available. */
  getPipelineVersion?(store: CellarStore, name: string, version: number): { spec: PipelineSpec };
}

/** What a scheduler offers the bridge (plugged in with {@link setBridgeScheduler}). */
export interface BridgeSchedulerApi {
  trigger(pipeline: string, params: Record<string, unknown>): Promise<{ runId: string }>;
  setPaused(pipeline: string, paused: boolean): Promise<void>;
  isPaused?(pipeline: string): Promise<boolean>;
  lastRuns?(pipeline: string, limit: number): Promise<PipelineRunSummary[]>;
}

// Held in a variable so the compiler neither resolves it at build time nor requires the module to exist.
const EXPORTER_MODULE = '../exporter/index.js';
let exporterLoad: Promise<ExporterApi | null> | null = null;
let exporterOverride: ExporterApi | null | undefined;
let scheduler: BridgeSchedulerApi | null = null;

/** Replaces the exporter (tests), or `undefined` to load the real one again. */
export function setBridgeExporter(api: ExporterApi | null | undefined): void {
  exporterOverride = api;
}

/**
 * Plugs a scheduler into the bridge so the sidebar can trigger and pause pipelines and show their last
 * runs; `null` unplugs it.
 *
 * @example
 * setBridgeScheduler({ trigger: async (name) => ({ runId: await myScheduler.trigger(name) }), setPaused: … })
 */
export function setBridgeScheduler(api: BridgeSchedulerApi | null): void {
  scheduler = api;
}

async function loadExporter(): Promise<ExporterApi | null> {
  if (exporterOverride !== undefined) return exporterOverride;
  exporterLoad ??= (async () => {
    try {
      const mod = (await import(EXPORTER_MODULE)) as Partial<ExporterApi>;
      return typeof mod.planExport === 'function' && typeof mod.exportNotebook === 'function'
        ? (mod as ExporterApi)
        : null;
    } catch {
      return null;
    }
  })();
  return exporterLoad;
}

/** True when the notebook exporter is available in this build. */
export async function exporterAvailable(): Promise<boolean> {
  return (await loadExporter()) !== null;
}

/** True when a scheduler is plugged in. */
export function schedulerAvailable(cwd: string = process.cwd()): boolean {
  return scheduler !== null || findCellarBin(cwd) !== null;
}

async function exporter(): Promise<ExporterApi> {
  const api = await loadExporter();
  if (!api) {
    throw new CellarError(
      'UNSUPPORTED',
      'This version of cellar has no notebook exporter yet, so pipelines cannot be exported from the notebook.',
    );
  }
  return api;
}

function strings(x: unknown): string[] {
  return Array.isArray(x) ? x.filter((v): v is string => typeof v === 'string') : [];
}

/** Normalizes the steps of a plan or a stored spec to what the extension shows. */
export function planSteps(raw: unknown): PlanStep[] {
  if (!Array.isArray(raw)) return [];
  return raw
    .filter((s): s is Record<string, unknown> => s !== null && typeof s === 'object' && 'name' in s)
    .map((s) => ({
      name: String(s['name']),
      upstream: strings(s['upstream']),
      cells: Array.isArray(s['cells'])
        ? s['cells'].filter((c): c is number => typeof c === 'number' && Number.isInteger(c))
        : [],
      inputs:
        s['inputs'] !== null && typeof s['inputs'] === 'object' && !Array.isArray(s['inputs'])
          ? Object.fromEntries(
              Object.entries(s['inputs'] as Record<string, unknown>).map(([k, v]) => [k, String(v)]),
            )
          : {},
    }));
}

function asRecord(x: unknown): Record<string, unknown> {
  return x !== null && typeof x === 'object' && !Array.isArray(x) ? (x as Record<string, unknown>) : {};
}

/** The plan's (or spec's) parameters and metric names, whatever exact shape the exporter returns. */
function planExtras(raw: Record<string, unknown>): Pick<ExportPlan, 'parameters' | 'metrics'> {
  const params = Array.isArray(raw['parameters']) ? raw['parameters'] : [];
  const metrics = Array.isArray(raw['metrics']) ? raw['metrics'] : [];
  return {
    parameters: params.map((p) => {
      const r = asRecord(p);
      return { name: String(r['name']), type: String(r['type'] ?? 'json'), default: r['default'] ?? null };
    }),
    metrics: metrics.map((m) => (typeof m === 'string' ? m : String(asRecord(m)['name']))),
  };
}

/**
 * The notebook's file for the exporter (provenance, and where it looks for the lockfile): the kernel runs in
 * the notebook's folder, and `notebookPath` is relative to the Jupyter server root, so only its file name
 * is joined to the kernel's folder.
 */
function exporterNotebookPath(call: OpCall): string | undefined {
  const notebookPath = optString(call.args, call.op, 'notebookPath');
  return notebookPath === undefined ? undefined : join(call.cwd, basename(notebookPath));
}

/**
 * `planExport`: validates the notebook's cell tags and infers the step graph without writing anything.
 *
 * @throws CellarError INVALID_INPUT whose `details.errors` lists `{ cell, step?, message }` per problem;
 *   UNSUPPORTED when this build has no exporter
 */
export async function planExport(call: OpCall): Promise<ExportPlan> {
  const { args, op } = call;
  const notebook = withoutOutputs(reqNotebook(args, op));
  const name = reqString(args, op, 'name');
  const notebookPath = exporterNotebookPath(call);
  const api = await exporter();
  const raw = asRecord(
    await api.planExport({ notebook, name, ...(notebookPath === undefined ? {} : { notebookPath }) }),
  );
  const source = raw['spec'] !== undefined ? asRecord(raw['spec']) : raw;
  return { name, steps: planSteps(source['steps']), ...planExtras(source) };
}

/**
 * `exportPipeline`: writes the notebook's tagged cells as a new pipeline version (or finds the identical
 * existing one) with an optional cron `schedule`.
 *
 * @throws CellarError as {@link planExport}, plus INVALID_PARAMETER for a bad name or schedule
 */
export async function exportPipeline(call: OpCall): Promise<ExportResult> {
  const { args, op } = call;
  const notebook = withoutOutputs(reqNotebook(args, op));
  const name = reqString(args, op, 'name');
  const schedule = optString(args, op, 'schedule');
  const notebookPath = exporterNotebookPath(call);
  const store = storeFor(call);
  const api = await exporter();
  const raw = asRecord(
    await api.exportNotebook({
      notebook,
      name,
      store,
      ...(schedule === undefined ? {} : { schedule }),
      ...(notebookPath === undefined ? {} : { notebookPath }),
    }),
  );
  const spec = asRecord(raw['spec']);
  return {
    name: String(raw['name'] ?? name),
    version: Number(raw['version']),
    hash: String(raw['hash'] ?? spec['hash'] ?? ''),
    created: raw['created'] !== false,
    schedule: typeof spec['schedule'] === 'string' ? spec['schedule'] : (schedule ?? null),
    steps: planSteps(spec['steps']),
  };
}

/** Latest version of each stored pipeline: from the exporter's store API, else from the version folders. */
async function latestPipelines(
  store: CellarStore,
): Promise<Array<{ name: string; latestVersion: number; versions: number; spec: PipelineSpec }>> {
  const api = await loadExporter();
  if (api?.listPipelines && api.getPipelineVersion) {
    const out = [];
    for (const p of api.listPipelines(store)) {
      out.push({ ...p, spec: api.getPipelineVersion(store, p.name, p.latestVersion).spec });
    }
    return out;
  }
  return [...storedPipelines(store.root)].map(([name, versions]) => {
    const latestVersion = Math.max(...versions.keys());
    return { name, latestVersion, versions: versions.size, spec: versions.get(latestVersion)! };
  });
}

/** The stored versions of every pipeline: name → version number → spec, read from `pipelines/`. */
function storedPipelines(root: string): Map<string, Map<number, PipelineSpec>> {
  const out = new Map<string, Map<number, PipelineSpec>>();
  const dir = join(root, 'pipelines');
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir, { withFileTypes: true })) {
    if (!name.isDirectory()) continue;
    const versions = new Map<number, PipelineSpec>();
    for (const v of readdirSync(join(dir, name.name), { withFileTypes: true })) {
      if (!v.isDirectory() || !/^\d+$/.test(v.name)) continue;
      try {
        const spec = JSON.parse(
          readFileSync(join(dir, name.name, v.name, 'pipeline.json'), 'utf8'),
        ) as PipelineSpec;
        if (spec && spec.format === 'cellar-pipeline') versions.set(Number(v.name), spec);
      } catch {
        // a version being written or a damaged file: leave it out of the overview
      }
    }
    if (versions.size > 0) out.set(name.name, versions);
  }
  return out;
}

/**
 * `listPipelines`: each pipeline's latest version, its schedule and steps, and (with a scheduler) its runs.
 * Uses the exporter's store API when this build has it, else reads the versions' `pipeline.json` files.
 */
export async function listPipelines(call: OpCall): Promise<PipelinesResult> {
  const store = storeFor(call);
  const limit = optInt(call.args, call.op, 'lastRuns', 5, 0, 100);
  const pipelines: PipelineSummary[] = [];
  const api = schedulerFor(call);
  for (const { name, latestVersion, versions, spec } of await latestPipelines(store)) {
    let paused: boolean | null = null;
    let lastRuns: PipelineRunSummary[] = [];
    if (api) {
      paused = api.isPaused ? await api.isPaused(name) : null;
      lastRuns = api.lastRuns && limit > 0 ? await api.lastRuns(name, limit) : [];
    }
    pipelines.push({
      name,
      latestVersion,
      versions,
      hash: String(spec.hash ?? ''),
      createdAt: String(spec.createdAt ?? ''),
      schedule: spec.schedule ?? null,
      steps: planSteps(spec.steps),
      paused,
      lastRuns,
    });
  }
  pipelines.sort((a, b) => a.name.localeCompare(b.name));
  return { scheduler: api !== null, pipelines };
}

/** The plugged-in scheduler, else the `cellar` command on the call's store (null when neither exists). */
function schedulerFor(call: OpCall): BridgeSchedulerApi | null {
  return scheduler ?? cliScheduler(storeFor(call).root, call.cwd);
}

function needScheduler(call: OpCall, what: string): BridgeSchedulerApi {
  const api = schedulerFor(call);
  if (!api) {
    throw new CellarError(
      'UNSUPPORTED',
      `No scheduler is available to this kernel, so pipelines cannot be ${what} from the notebook.`,
    );
  }
  return api;
}

/**
 * `triggerPipeline`: starts a manual run of pipeline `name` with `params`.
 *
 * @throws CellarError UNSUPPORTED without a scheduler
 */
export async function triggerPipeline(call: OpCall): Promise<SchedulerActionResult> {
  const name = reqString(call.args, call.op, 'name');
  const params = asRecord(call.args['params']);
  const api = needScheduler(call, 'triggered');
  const { runId } = await api.trigger(name, params);
  return { name, runId };
}

/**
 * `pausePipeline`: pauses (`paused: true`, the default) or resumes the schedule of pipeline `name`.
 *
 * @throws CellarError UNSUPPORTED without a scheduler
 */
export async function pausePipeline(call: OpCall): Promise<SchedulerActionResult> {
  const name = reqString(call.args, call.op, 'name');
  const paused = call.args['paused'] !== false;
  const api = needScheduler(call, paused ? 'paused' : 'resumed');
  await api.setPaused(name, paused);
  return { name, paused };
}
