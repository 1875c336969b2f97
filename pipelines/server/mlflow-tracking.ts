/**
 * server/mlflow-tracking — MLflow's tracking routes (`/api/2.0/mlflow/experiments/*`, `runs/*`,
 * `metrics/get-history`, `artifacts/list`) over cellar's tracking store, answering in MLflow's JSON shapes
 * with MLflow's error codes, so MLflow clients log into `cellar up`.
 */
import type { FastifyInstance } from 'fastify';
import { CellarError } from '../../kernel-lib/errors.js';
import { MLFLOW_ROUTES, type MlflowRouteName } from '../../kernel-lib/rest/mlflow-contract.js';
import type { EmbeddedBackend } from '../../kernel-lib/store/open.js';
import { TERMINAL_STATUSES, type RunStatus } from '../../kernel-lib/tracking/types.js';
import { mountRoute, type HandlerInput } from './contract-routes.js';
import {
  fromKVs,
  matchesFilter,
  mlflowExperiment,
  mlflowRun,
  mlflowRunInfo,
  pageOf,
  parseRegistryFilter,
  viewType,
} from './mlflow-map.js';

type R = typeof MLFLOW_ROUTES;

/** Mounts one MLflow route (errors in MLflow's vocabulary). */
export function addMlflowRoute<K extends MlflowRouteName>(
  app: FastifyInstance,
  name: K,
  handler: (input: HandlerInput<R[K]>) => Promise<unknown>,
): void {
  mountRoute(app, MLFLOW_ROUTES[name], 'mlflow', handler);
}

/** The run id of a request (`run_id`, or the older `run_uuid`). */
export function runIdOf(ref: { run_id?: string | undefined; run_uuid?: string | undefined }): string {
  const id = ref.run_id ?? ref.run_uuid;
  if (!id) throw new CellarError('INVALID_PARAMETER', 'Missing value for required parameter "run_id".');
  return id;
}

/** Mounts the MLflow tracking routes. */
export function mlflowTrackingRoutes(app: FastifyInstance, backend: EmbeddedBackend): void {
  const t = backend.tracking;
  addMlflowRoute(app, 'createExperiment', async ({ body }) => {
    const e = await t.createExperiment(body.name, { tags: fromKVs(body.tags) });
    return { experiment_id: e.id };
  });
  addMlflowRoute(app, 'getExperiment', async ({ query }) => ({
    experiment: mlflowExperiment(await t.getExperiment(query.experiment_id)),
  }));
  addMlflowRoute(app, 'getExperimentByName', async ({ query }) => {
    const e = await t.getExperimentByName(query.experiment_name);
    if (!e)
      throw new CellarError('NOT_FOUND', `Could not find experiment with name '${query.experiment_name}'`);
    return { experiment: mlflowExperiment(e) };
  });
  const search = async (q: {
    filter?: string | undefined;
    view_type?: string | undefined;
    max_results?: number | undefined;
    page_token?: string | undefined;
  }) => {
    const clauses = parseRegistryFilter(q.filter, ['name']);
    const all = (await t.listExperiments({ viewType: viewType(q.view_type) })).filter((e) =>
      matchesFilter(clauses, { name: e.name }),
    );
    const page = pageOf(all, q.max_results, q.page_token);
    return {
      experiments: page.items.map(mlflowExperiment),
      ...(page.next ? { next_page_token: page.next } : {}),
    };
  };
  addMlflowRoute(app, 'searchExperiments', async ({ body }) => search(body));
  addMlflowRoute(app, 'searchExperimentsGet', async ({ query }) => search(query));
  addMlflowRoute(app, 'listExperiments', async ({ query }) => search(query));
  addMlflowRoute(app, 'deleteExperiment', async ({ body }) => {
    await t.deleteExperiment(body.experiment_id);
    return {};
  });
  addMlflowRoute(app, 'updateExperiment', async ({ body }) => {
    await t.getExperiment(body.experiment_id);
    throw new CellarError(
      'UNSUPPORTED',
      'cellar does not rename experiments (their name is their identity).',
    );
  });
  addMlflowRoute(app, 'setExperimentTag', async ({ body }) => {
    await t.setExperimentTag(body.experiment_id, body.key, body.value);
    return {};
  });
  addMlflowRoute(app, 'createRun', async ({ body }) => {
    const tags = fromKVs(body.tags);
    if (body.user_id) tags['mlflow.user'] ??= body.user_id;
    const runName = body.run_name ?? tags['mlflow.runName'] ?? null;
    const run = await t.createRun({
      experimentId: body.experiment_id ?? '0',
      runName,
      tags,
      parentRunId: tags['mlflow.parentRunId'] ?? null,
      ...(body.start_time === undefined ? {} : { startTime: body.start_time }),
    });
    return { run: mlflowRun(run) };
  });
  addMlflowRoute(app, 'getRun', async ({ query }) => ({ run: mlflowRun(await t.getRun(runIdOf(query))) }));
  addMlflowRoute(app, 'updateRun', async ({ body }) => {
    const id = runIdOf(body);
    if (body.run_name !== undefined) await t.setRunName(id, body.run_name);
    let run = await t.getRun(id);
    const status = body.status?.toUpperCase() as RunStatus | undefined;
    if (status !== undefined && TERMINAL_STATUSES.includes(status) && run.status !== status) {
      run = await t.endRun(id, status, body.end_time);
    } else if (status !== undefined && status !== run.status && !TERMINAL_STATUSES.includes(status)) {
      throw new CellarError('INVALID_STATE', `Run ${id} is ${run.status}; it cannot go back to ${status}.`);
    }
    return { run_info: mlflowRunInfo(run) };
  });
  addMlflowRoute(app, 'deleteRun', async ({ body }) => {
    await t.deleteRun(runIdOf(body));
    return {};
  });
  addMlflowRoute(app, 'restoreRun', async ({ body }) => {
    await t.restoreRun(runIdOf(body));
    return {};
  });
  addMlflowRoute(app, 'logMetric', async ({ body }) => {
    await t.logBatch(runIdOf(body), {
      metrics: [
        { key: body.key, value: body.value, step: body.step ?? 0, timestamp: body.timestamp ?? Date.now() },
      ],
    });
    return {};
  });
  addMlflowRoute(app, 'logParam', async ({ body }) => {
    await t.logBatch(runIdOf(body), { params: { [body.key]: body.value } });
    return {};
  });
  addMlflowRoute(app, 'setTag', async ({ body }) => {
    const id = runIdOf(body);
    if (body.key === 'mlflow.runName') await t.setRunName(id, body.value);
    await t.logBatch(id, { tags: { [body.key]: body.value } });
    return {};
  });
  addMlflowRoute(app, 'deleteTag', async ({ body }) => {
    await t.deleteTag(runIdOf(body), body.key);
    return {};
  });
  addMlflowRoute(app, 'logBatch', async ({ body }) => {
    const now = Date.now();
    await t.logBatch(runIdOf(body), {
      params: fromKVs(body.params),
      tags: fromKVs(body.tags),
      metrics: (body.metrics ?? []).map((m) => ({
        key: m.key,
        value: m.value,
        step: m.step ?? 0,
        timestamp: m.timestamp ?? now,
      })),
    });
    return {};
  });
  addMlflowRoute(app, 'logInputs', async ({ body }) => {
    const id = runIdOf(body);
    for (const d of body.datasets ?? []) {
      let schema: unknown = null;
      try {
        schema = d.dataset.schema ? JSON.parse(d.dataset.schema) : null;
      } catch {
        schema = d.dataset.schema ?? null;
      }
      const context = fromKVs(d.tags)['mlflow.data.context'] ?? 'training';
      await t.logInput(id, { fingerprint: d.dataset.digest, context, nRows: null, nCols: null, schema });
    }
    return {};
  });
  addMlflowRoute(app, 'searchRuns', async ({ body }) => {
    const page = await t.searchRuns({
      ...(body.experiment_ids === undefined ? {} : { experimentIds: body.experiment_ids }),
      filter: body.filter ?? null,
      ...(body.order_by === undefined ? {} : { orderBy: body.order_by }),
      ...(body.max_results === undefined ? {} : { maxResults: body.max_results }),
      pageToken: body.page_token ?? null,
      viewType: viewType(body.run_view_type),
    });
    return {
      runs: page.runs.map(mlflowRun),
      ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}),
    };
  });
  addMlflowRoute(app, 'getMetricHistory', async ({ query }) => ({
    metrics: (await t.getMetricHistory(runIdOf(query), query.metric_key)).map((m) => ({
      key: m.key,
      value: m.value,
      timestamp: m.timestamp,
      step: m.step,
    })),
  }));
  addMlflowRoute(app, 'listArtifacts', async ({ query }) => {
    const id = runIdOf(query);
    const prefix = query.path ? query.path.replace(/\/+$/, '') + '/' : '';
    const seen = new Map<string, { path: string; is_dir: boolean; file_size?: number }>();
    for (const a of await t.listArtifacts(id, prefix === '' ? undefined : prefix)) {
      const rest = a.path.slice(prefix.length);
      const slash = rest.indexOf('/');
      if (slash === -1) seen.set(a.path, { path: a.path, is_dir: false, file_size: a.size });
      else seen.set(prefix + rest.slice(0, slash), { path: prefix + rest.slice(0, slash), is_dir: true });
    }
    return { root_uri: `runs:/${id}`, files: [...seen.values()] };
  });
}
