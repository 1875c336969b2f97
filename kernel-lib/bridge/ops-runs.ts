/**
 * bridge/ops-runs — the run operations of the kernel bridge: `status`, `logRun` (the toolbar's "Log run":
 * snapshot the notebook into its current run and end it, or create a run for it) and `listRuns` (the
 * sidebar's runs of this notebook's experiment).
 */
import { getLastFit } from '../tracking/autolog.js';
import { ActiveRun, activeRun, activeRuns } from '../tracking/run.js';
import { optBool, optInt, optString, reqNotebook } from './args.js';
import {
  ExperimentNames,
  lastFitSummary,
  notebookActiveRun,
  notebookExperiment,
  storeFor,
  summarizeRun,
  TAG_GIT_COMMIT,
  TAG_NOTEBOOK_PATH,
  TAG_SNAPSHOT,
  tryGetRun,
  type OpCall,
} from './context.js';
import { exporterAvailable, schedulerAvailable } from './ops-pipelines.js';
import {
  BRIDGE_PROTOCOL_VERSION,
  type LogRunResult,
  type RunsResult,
  type StatusResult,
} from './protocol.js';
import { gitCommit, notebookSnapshot } from './snapshot.js';

/** `status`: the store, the active run, the last fit, the notebook's experiment and what is available. */
export async function status(call: OpCall): Promise<StatusResult> {
  const store = storeFor(call);
  const names = new ExperimentNames(store);
  const active = notebookActiveRun();
  const activeData = active ? await tryGetRun(store, active.id) : null;
  return {
    protocol: BRIDGE_PROTOCOL_VERSION,
    storeRoot: store.root,
    activeRun: activeData ? await summarizeRun(activeData, names) : null,
    lastFit: lastFitSummary(),
    experiment: (await notebookExperiment(store, call))?.name ?? null,
    capabilities: { export: await exporterAvailable(), scheduler: schedulerAvailable(call.cwd) },
  };
}

/** The artifact file name of a snapshot: the notebook's file name, made safe for an artifact path. */
function snapshotName(notebookPath: string | undefined): string {
  const base = (notebookPath ?? '').split('/').pop() ?? '';
  const safe = base.replace(/[^\w.-]+/g, '_').replace(/^\.+/, '');
  if (safe === '' || safe === '.ipynb') return 'notebook.ipynb';
  return safe.endsWith('.ipynb') ? safe : `${safe}.ipynb`;
}

/** The default name of a run created by "Log run": the notebook's name. */
function defaultRunName(notebookPath: string | undefined): string | undefined {
  const base = (notebookPath ?? '').split('/').pop();
  return base ? base.replace(/\.ipynb$/, '') : undefined;
}

/**
 * `logRun`: stores the notebook snapshot (`notebook` arg; outputs unless `includeOutputs` is false) and the
 * git commit of the notebook's folder with the notebook's current run, which is, in order:
 * 1. the active run of this kernel — it is then ended FINISHED (with its nested runs) unless `end` is false;
 * 2. the run the last model was logged to (a `withRun` block that has already ended);
 * 3. a new run in `experiment` (else the notebook's experiment, else `defaultExperiment`), which also records
 *    the last model when it was fitted outside a run, so that "Register model" can find it.
 *
 * @throws CellarError INVALID_INPUT when `notebook` is not an nbformat 4 document
 */
export async function logRun(call: OpCall): Promise<LogRunResult> {
  const { args, op } = call;
  const notebook = reqNotebook(args, op);
  const includeOutputs = optBool(args, op, 'includeOutputs', true);
  const end = optBool(args, op, 'end', true);
  const notebookPath = optString(args, op, 'notebookPath');
  const runName = optString(args, op, 'runName');
  const experiment = optString(args, op, 'experiment');
  const store = storeFor(call);
  const snapshot = notebookSnapshot(notebook, includeOutputs);
  const commit = await gitCommit(call.cwd);

  let run: ActiveRun;
  let created = false;
  const active = notebookActiveRun();
  const fit = getLastFit();
  const fitRun = !active && fit?.runId ? await tryGetRun(store, fit.runId) : null;
  if (active) {
    run = active;
  } else if (fitRun) {
    run = new ActiveRun(store.tracking, fitRun);
  } else {
    const expName =
      experiment ??
      (await notebookExperiment(store, call))?.name ??
      process.env.CELLAR_EXPERIMENT ??
      'Default';
    const name = runName ?? defaultRunName(notebookPath);
    run = await store.startRun({ experiment: expName, ...(name === undefined ? {} : { runName: name }) });
    created = true;
  }

  let snapshotInfo;
  try {
    if (created && fit && fit.runId === null) {
      // A model fitted outside any run: keep it with the new run so it can be registered.
      await run.logParams(fit.model.params ?? {});
      await run.setTags({ estimator_name: fit.className, estimator_class: `cellar.ml.${fit.className}` });
      await run.logModel(fit.model);
      fit.runId = run.id;
    }
    if (runName !== undefined && !created) await store.tracking.setRunName(run.id, runName);
    snapshotInfo = await run.logNotebook(snapshot, snapshotName(notebookPath));
    const tags: Record<string, string> = { [TAG_SNAPSHOT]: snapshotInfo.path };
    if (notebookPath !== undefined) tags[TAG_NOTEBOOK_PATH] = notebookPath;
    if (commit !== null) tags[TAG_GIT_COMMIT] = commit;
    await run.setTags(tags);
  } catch (e) {
    if (created) await run.end('FAILED');
    throw e;
  }

  let ended = false;
  if (created || (active && end)) {
    // End nested runs first, then the notebook's run itself.
    for (const r of [...activeRuns()].reverse()) {
      if (r.isEnded) continue;
      await r.end('FINISHED');
      if (r === run) break;
    }
    ended = true;
  }
  const data = await run.info();
  return {
    run: await summarizeRun(data, new ExperimentNames(store)),
    created,
    ended,
    snapshot: {
      path: snapshotInfo.path,
      digest: snapshotInfo.digest,
      size: snapshotInfo.size,
      cells: snapshot.cells.length,
      outputs: includeOutputs,
    },
    gitCommit: commit,
    storeRoot: store.root,
  };
}

/**
 * `listRuns`: the newest runs (`maxResults`, default 50) of `experiment`, else of the notebook's experiment,
 * with their latest metrics. Waits for the active run's background logging first, so metrics logged by the
 * last cell are included.
 */
export async function listRuns(call: OpCall): Promise<RunsResult> {
  const { args, op } = call;
  const store = storeFor(call);
  const maxResults = optInt(args, op, 'maxResults', 50, 1, 1000);
  const named = optString(args, op, 'experiment');
  const target = named !== undefined ? { name: named } : await notebookExperiment(store, call);
  const activeId = notebookActiveRun()?.id ?? null;
  if (!target) return { experiment: null, activeRunId: activeId, runs: [] };
  const exp = await store.tracking.getExperimentByName(target.name);
  if (!exp) return { experiment: { id: null, name: target.name }, activeRunId: activeId, runs: [] };
  await activeRun()?.flush();
  const page = await store.tracking.searchRuns({ experimentIds: [exp.id], maxResults });
  const names = new ExperimentNames(store);
  const runs = [];
  for (const r of page.runs) runs.push(await summarizeRun(r, names));
  return { experiment: { id: exp.id, name: exp.name }, activeRunId: activeId, runs };
}
