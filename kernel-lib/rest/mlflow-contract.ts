/**
 * rest/mlflow-contract — the MLflow REST routes (`/api/2.0/mlflow/…`) that `cellar up` answers, with the
 * request schemas MLflow clients send (MLflow's field names; numbers may arrive as strings in GET queries).
 * The server validates with these and lists them in `/api/openapi.json` next to cellar's own routes.
 */
import { z } from 'zod';
import type { RouteDef } from './contract.js';

const num = z.coerce.number();
const KV = z.object({ key: z.string(), value: z.coerce.string() });
const KVs = z.array(KV).optional();
const RunRef = z.object({ run_id: z.string().optional(), run_uuid: z.string().optional() });
const Metric = z.object({ key: z.string(), value: num, timestamp: num.optional(), step: num.optional() });
const Paging = {
  max_results: num.optional(),
  page_token: z.string().optional(),
  order_by: z.union([z.string(), z.array(z.string())]).optional(),
};
const Any = z.record(z.string(), z.unknown());
const NameVersion = z.object({ name: z.string(), version: z.coerce.string() });

function route<const D extends Omit<RouteDef, 'tag' | 'response'>>(
  def: D,
): D & { tag: 'mlflow'; response: typeof Any } {
  return { tag: 'mlflow', response: Any, ...def };
}

const P = '/api/2.0/mlflow';

/** The MLflow-compatible routes, by MLflow's operation name. */
export const MLFLOW_ROUTES = {
  createExperiment: route({
    method: 'POST',
    path: `${P}/experiments/create`,
    summary: 'MLflow CreateExperiment',
    body: z.object({ name: z.string(), artifact_location: z.string().optional(), tags: KVs }),
  }),
  getExperiment: route({
    method: 'GET',
    path: `${P}/experiments/get`,
    summary: 'MLflow GetExperiment',
    query: z.object({ experiment_id: z.string() }),
  }),
  getExperimentByName: route({
    method: 'GET',
    path: `${P}/experiments/get-by-name`,
    summary: 'MLflow GetExperimentByName',
    query: z.object({ experiment_name: z.string() }),
  }),
  searchExperiments: route({
    method: 'POST',
    path: `${P}/experiments/search`,
    summary: 'MLflow SearchExperiments',
    body: z.object({ filter: z.string().optional(), view_type: z.string().optional(), ...Paging }),
  }),
  searchExperimentsGet: route({
    method: 'GET',
    path: `${P}/experiments/search`,
    summary: 'MLflow SearchExperiments (GET)',
    query: z.object({ filter: z.string().optional(), view_type: z.string().optional(), ...Paging }),
  }),
  listExperiments: route({
    method: 'GET',
    path: `${P}/experiments/list`,
    summary: 'MLflow ListExperiments (MLflow 1.x clients)',
    query: z.object({ view_type: z.string().optional() }),
  }),
  deleteExperiment: route({
    method: 'POST',
    path: `${P}/experiments/delete`,
    summary: 'MLflow DeleteExperiment',
    body: z.object({ experiment_id: z.string() }),
  }),
  updateExperiment: route({
    method: 'POST',
    path: `${P}/experiments/update`,
    summary: 'MLflow UpdateExperiment (rename: not supported, answers NOT_IMPLEMENTED)',
    body: z.object({ experiment_id: z.string(), new_name: z.string().optional() }),
  }),
  setExperimentTag: route({
    method: 'POST',
    path: `${P}/experiments/set-experiment-tag`,
    summary: 'MLflow SetExperimentTag',
    body: z.object({ experiment_id: z.string(), key: z.string(), value: z.coerce.string() }),
  }),
  createRun: route({
    method: 'POST',
    path: `${P}/runs/create`,
    summary: 'MLflow CreateRun',
    body: z.object({
      experiment_id: z.string().optional(),
      user_id: z.string().optional(),
      run_name: z.string().optional(),
      start_time: num.optional(),
      tags: KVs,
    }),
  }),
  getRun: route({ method: 'GET', path: `${P}/runs/get`, summary: 'MLflow GetRun', query: RunRef }),
  updateRun: route({
    method: 'POST',
    path: `${P}/runs/update`,
    summary: 'MLflow UpdateRun',
    body: RunRef.extend({
      status: z.string().optional(),
      end_time: num.optional(),
      run_name: z.string().optional(),
    }),
  }),
  deleteRun: route({ method: 'POST', path: `${P}/runs/delete`, summary: 'MLflow DeleteRun', body: RunRef }),
  restoreRun: route({
    method: 'POST',
    path: `${P}/runs/restore`,
    summary: 'MLflow RestoreRun',
    body: RunRef,
  }),
  logMetric: route({
    method: 'POST',
    path: `${P}/runs/log-metric`,
    summary: 'MLflow LogMetric',
    body: RunRef.extend({ key: z.string(), value: num, timestamp: num.optional(), step: num.optional() }),
  }),
  logParam: route({
    method: 'POST',
    path: `${P}/runs/log-parameter`,
    summary: 'MLflow LogParam',
    body: RunRef.extend({ key: z.string(), value: z.coerce.string() }),
  }),
  setTag: route({
    method: 'POST',
    path: `${P}/runs/set-tag`,
    summary: 'MLflow SetTag',
    body: RunRef.extend({ key: z.string(), value: z.coerce.string() }),
  }),
  deleteTag: route({
    method: 'POST',
    path: `${P}/runs/delete-tag`,
    summary: 'MLflow DeleteTag',
    body: RunRef.extend({ key: z.string() }),
  }),
  logBatch: route({
    method: 'POST',
    path: `${P}/runs/log-batch`,
    summary: 'MLflow LogBatch',
    body: RunRef.extend({ metrics: z.array(Metric).optional(), params: KVs, tags: KVs }),
  }),
  logInputs: route({
    method: 'POST',
    path: `${P}/runs/log-inputs`,
    summary: 'MLflow LogInputs (dataset digests become cellar run inputs)',
    body: RunRef.extend({
      datasets: z
        .array(
          z.object({
            tags: KVs,
            dataset: z.object({
              name: z.string().optional(),
              digest: z.string(),
              source_type: z.string().optional(),
              source: z.string().optional(),
              schema: z.string().optional(),
              profile: z.string().optional(),
            }),
          }),
        )
        .optional(),
    }),
  }),
  searchRuns: route({
    method: 'POST',
    path: `${P}/runs/search`,
    summary: 'MLflow SearchRuns (cellar filter language, a superset with or/parentheses)',
    body: z.object({
      experiment_ids: z.array(z.coerce.string()).optional(),
      filter: z.string().optional(),
      run_view_type: z.string().optional(),
      ...Paging,
    }),
  }),
  getMetricHistory: route({
    method: 'GET',
    path: `${P}/metrics/get-history`,
    summary: 'MLflow GetMetricHistory',
    query: RunRef.extend({ metric_key: z.string() }),
  }),
  listArtifacts: route({
    method: 'GET',
    path: `${P}/artifacts/list`,
    summary: 'MLflow ListArtifacts',
    query: RunRef.extend({ path: z.string().optional() }),
  }),
  createRegisteredModel: route({
    method: 'POST',
    path: `${P}/registered-models/create`,
    summary: 'MLflow CreateRegisteredModel',
    body: z.object({ name: z.string(), tags: KVs, description: z.string().optional() }),
  }),
  getRegisteredModel: route({
    method: 'GET',
    path: `${P}/registered-models/get`,
    summary: 'MLflow GetRegisteredModel',
    query: z.object({ name: z.string() }),
  }),
  searchRegisteredModels: route({
    method: 'GET',
    path: `${P}/registered-models/search`,
    summary: "MLflow SearchRegisteredModels (filter: name = '…' or name LIKE '…')",
    query: z.object({ filter: z.string().optional(), ...Paging }),
  }),
  updateRegisteredModel: route({
    method: 'PATCH',
    path: `${P}/registered-models/update`,
    summary: 'MLflow UpdateRegisteredModel',
    body: z.object({ name: z.string(), description: z.string().optional() }),
  }),
  deleteRegisteredModel: route({
    method: 'DELETE',
    path: `${P}/registered-models/delete`,
    summary: 'MLflow DeleteRegisteredModel',
    body: z.object({ name: z.string() }),
  }),
  setRegisteredModelTag: route({
    method: 'POST',
    path: `${P}/registered-models/set-tag`,
    summary: 'MLflow SetRegisteredModelTag',
    body: z.object({ name: z.string(), key: z.string(), value: z.coerce.string() }),
  }),
  getLatestVersions: route({
    method: 'POST',
    path: `${P}/registered-models/get-latest-versions`,
    summary: 'MLflow GetLatestVersions',
    body: z.object({ name: z.string(), stages: z.array(z.string()).optional() }),
  }),
  setAlias: route({
    method: 'POST',
    path: `${P}/registered-models/alias`,
    summary: 'MLflow SetRegisteredModelAlias',
    body: z.object({ name: z.string(), alias: z.string(), version: z.coerce.string() }),
  }),
  deleteAlias: route({
    method: 'DELETE',
    path: `${P}/registered-models/alias`,
    summary: 'MLflow DeleteRegisteredModelAlias',
    body: z.object({ name: z.string(), alias: z.string() }),
  }),
  getByAlias: route({
    method: 'GET',
    path: `${P}/registered-models/alias`,
    summary: 'MLflow GetModelVersionByAlias',
    query: z.object({ name: z.string(), alias: z.string() }),
  }),
  createModelVersion: route({
    method: 'POST',
    path: `${P}/model-versions/create`,
    summary:
      'MLflow CreateModelVersion (source runs:/<run>/<path> or run_id; the run must hold a cellar model)',
    body: z.object({
      name: z.string(),
      source: z.string().optional(),
      run_id: z.string().optional(),
      tags: KVs,
      description: z.string().optional(),
    }),
  }),
  getModelVersion: route({
    method: 'GET',
    path: `${P}/model-versions/get`,
    summary: 'MLflow GetModelVersion',
    query: NameVersion,
  }),
  searchModelVersions: route({
    method: 'GET',
    path: `${P}/model-versions/search`,
    summary: "MLflow SearchModelVersions (filter: name = '…' and/or run_id = '…')",
    query: z.object({ filter: z.string().optional(), ...Paging }),
  }),
  updateModelVersion: route({
    method: 'PATCH',
    path: `${P}/model-versions/update`,
    summary: 'MLflow UpdateModelVersion',
    body: NameVersion.extend({ description: z.string().optional() }),
  }),
  deleteModelVersion: route({
    method: 'DELETE',
    path: `${P}/model-versions/delete`,
    summary: 'MLflow DeleteModelVersion',
    body: NameVersion,
  }),
  setModelVersionTag: route({
    method: 'POST',
    path: `${P}/model-versions/set-tag`,
    summary: 'MLflow SetModelVersionTag',
    body: NameVersion.extend({ key: z.string(), value: z.coerce.string() }),
  }),
  getDownloadUri: route({
    method: 'GET',
    path: `${P}/model-versions/get-download-uri`,
    summary: 'MLflow GetModelVersionDownloadUri',
    query: NameVersion,
  }),
} as const;

/** MLflow operation names. */
export type MlflowRouteName = keyof typeof MLFLOW_ROUTES;
