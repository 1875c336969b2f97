/**
 * bridge/ops-models — the model operations of the kernel bridge: which models a run holds
 * (`listRunModels`, `lastModel`), registering one (`registerModel`, the toolbar's "Register model") and
 * the registry overview of the sidebar (`listModels`).
 */
import type { CellarStore } from '../client.js';
import { CellarError } from '../errors.js';
import { getLastFit } from '../tracking/autolog.js';
import { activeRun } from '../tracking/run.js';
import { optString, reqString } from './args.js';
import { lastFitSummary, notebookActiveRun, storeFor, tryGetRun, type OpCall } from './context.js';
import type {
  LastModelResult,
  ModelSummary,
  RegisterModelResult,
  RunModel,
  RunModelsResult,
} from './protocol.js';

const RUN_ID = /^[0-9a-f]{32}$/;
const MODEL_FILE = /(^|\/)model\.json$/;

/** Reads the estimator and feature names of a stored model JSON (null fields when unreadable). */
async function describeModel(
  store: CellarStore,
  runId: string,
  file: string,
): Promise<{ estimator: string | null; featureNames: string[] }> {
  try {
    const json = JSON.parse((await store.tracking.readArtifact(runId, file)).toString('utf8')) as {
      estimator?: unknown;
      featureNames?: unknown;
    };
    return {
      estimator: typeof json.estimator === 'string' ? json.estimator : null,
      featureNames: Array.isArray(json.featureNames) ? json.featureNames.map(String) : [],
    };
  } catch {
    return { estimator: null, featureNames: [] };
  }
}

/** The model artifacts (`<folder>/model.json`) of one run. */
async function modelsOfRun(store: CellarStore, runId: string, runName: string | null): Promise<RunModel[]> {
  const fit = getLastFit();
  const out: RunModel[] = [];
  for (const a of await store.tracking.listArtifacts(runId)) {
    if (!MODEL_FILE.test(a.path) || a.path === 'model.json') continue;
    const artifactPath = a.path.slice(0, -'/model.json'.length);
    const described = await describeModel(store, runId, a.path);
    out.push({
      runId,
      runName,
      artifactPath,
      ...described,
      isLastFit: fit?.runId === runId && artifactPath === 'model',
    });
  }
  return out;
}

/**
 * `listRunModels`: the models stored with `runId` (default: the active run, else the run of the last fit)
 * and with its nested runs (autolog puts a refit with other params in a child run), the last fit first.
 *
 * @throws CellarError NOT_FOUND for an unknown run
 */
export async function listRunModels(call: OpCall): Promise<RunModelsResult> {
  const store = storeFor(call);
  const runId =
    optString(call.args, call.op, 'runId') ?? notebookActiveRun()?.id ?? getLastFit()?.runId ?? null;
  if (runId === null) return { runId: null, lastFit: lastFitSummary(), models: [] };
  await activeRun()?.flush();
  const run = await store.tracking.getRun(runId);
  const models = await modelsOfRun(store, run.id, run.runName);
  if (RUN_ID.test(run.id)) {
    const children = await store.tracking.searchRuns({
      experimentIds: [run.experimentId],
      filter: `attributes.parent_run_id = '${run.id}'`,
      maxResults: 100,
    });
    for (const child of children.runs) models.push(...(await modelsOfRun(store, child.id, child.runName)));
  }
  models.sort((a, b) => Number(b.isLastFit) - Number(a.isLastFit));
  return { runId: run.id, lastFit: lastFitSummary(), models };
}

/** `lastModel`: the last model fitted in this kernel and, when it was logged to a run, its stored form. */
export async function lastModel(call: OpCall): Promise<LastModelResult> {
  const store = storeFor(call);
  const fit = lastFitSummary();
  if (!fit || fit.runId === null) return { lastFit: fit, model: null };
  await activeRun()?.flush();
  const run = await tryGetRun(store, fit.runId);
  if (!run) return { lastFit: fit, model: null };
  const model = (await modelsOfRun(store, run.id, run.runName)).find((m) => m.isLastFit) ?? null;
  return { lastFit: fit, model };
}

/**
 * `registerModel`: registers the model at `artifactPath` (default `model`) of `runId` — by default the run
 * the last fit was logged to — as the next version of `name`, optionally pointing `alias` at it.
 *
 * @throws CellarError NOT_FOUND when nothing was trained and no run is given, INVALID_STATE when the last
 *   model was fitted outside a run (log the run first), and the registry's errors (bad name or alias, …)
 */
export async function registerModel(call: OpCall): Promise<RegisterModelResult> {
  const { args, op } = call;
  const name = reqString(args, op, 'name');
  const alias = optString(args, op, 'alias');
  const artifactPath = optString(args, op, 'artifactPath');
  const description = optString(args, op, 'description');
  let runId = optString(args, op, 'runId');
  if (runId === undefined) {
    const fit = getLastFit();
    if (!fit) {
      throw new CellarError(
        'NOT_FOUND',
        'No model has been trained in this kernel yet: run the training cells first, or pick a run that holds a model.',
      );
    }
    if (fit.runId === null) {
      throw new CellarError(
        'INVALID_STATE',
        `The last model (${fit.className}) was fitted outside a run, so it is not stored yet. ` +
          'Click "Log run" first (it stores the model with the notebook snapshot), then register it.',
      );
    }
    runId = fit.runId;
  }
  const store = storeFor(call);
  const mv = await store.registerModel({
    name,
    runId,
    ...(artifactPath === undefined ? {} : { artifactPath }),
    ...(alias === undefined ? {} : { alias }),
    ...(description === undefined ? {} : { description }),
  });
  return {
    name: mv.name,
    version: mv.version,
    aliases: [...mv.aliases],
    runId: mv.runId,
    source: mv.source,
    uri: `models:/${mv.name}/${mv.version}`,
  };
}

/** `listModels`: registered models with their latest version and aliases, most recently updated first. */
export async function listModels(call: OpCall): Promise<ModelSummary[]> {
  const store = storeFor(call);
  const models = await store.listModels();
  return models
    .map((m) => ({
      name: m.name,
      description: m.description,
      latestVersion: m.latestVersion,
      aliases: { ...m.aliases },
      updatedAt: m.updatedAt,
    }))
    .sort((a, b) => b.updatedAt - a.updatedAt || a.name.localeCompare(b.name));
}
