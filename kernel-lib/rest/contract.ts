/**
 * rest/contract — the REST contract of `cellar up`, defined once: every route's method, path, request
 * schemas (path params, query, body) and response schema. The server (pipelines/server) validates with it
 * and generates `/api/openapi.json` from it; the REST client store (rest/client-store.ts) calls through it;
 * the web UI reads the same routes. Errors are always `{error_code, message}` (see `ErrorBody`), with the
 * HTTP status of `httpStatusFor` in errors.ts.
 */
import { z } from 'zod';
import {
  ArtifactInfoSchema,
  ExperimentSchema,
  MetricPointSchema,
  ModelVersionSchema,
  Ok,
  PipelineRunSchema,
  RegisteredModelSchema,
  RunDataSchema,
  RunInputSchema,
  RunsPageSchema,
  RunStatusSchema,
  SearchRunsBody,
  StringMap,
  ViewTypeSchema,
} from './schemas.js';

/** HTTP methods of the contract. */
export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** One route of the contract. */
export interface RouteDef {
  method: Method;
  /** Fastify-style path, e.g. `/api/runs/:runId`; `*` is a trailing wildcard (artifact paths). */
  path: string;
  summary: string;
  /** OpenAPI tag (page/domain). */
  tag: string;
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
  response: z.ZodType;
  /** The request body is raw bytes (application/octet-stream), not JSON. */
  rawBody?: boolean;
  /** The response is raw bytes, not JSON. */
  rawResponse?: boolean;
}

function route<const T extends RouteDef>(def: T): T {
  return def;
}

const RunId = z.object({ runId: z.string() });
const ExpId = z.object({ experimentId: z.string() });
const ModelName = z.object({ name: z.string() });
const VersionParams = z.object({ name: z.string(), version: z.coerce.number().int().positive() });
const Wildcard = z.object({ runId: z.string(), '*': z.string() });
const Value = z.object({ value: z.string() });
const Bool = z
  .union([z.boolean(), z.enum(['true', 'false', '1', '0'])])
  .transform((v) => v === true || v === 'true' || v === '1');

/** cellar's own routes, by operation id. */
export const ROUTES = {
  // ---- tracking: experiments
  listExperiments: route({
    method: 'GET',
    path: '/api/experiments',
    summary: 'List experiments',
    tag: 'experiments',
    query: z.object({ viewType: ViewTypeSchema.optional() }),
    response: z.object({ experiments: z.array(ExperimentSchema) }),
  }),
  createExperiment: route({
    method: 'POST',
    path: '/api/experiments',
    summary: 'Create an experiment (ALREADY_EXISTS when the name is taken)',
    tag: 'experiments',
    body: z.object({ name: z.string(), tags: StringMap.optional() }),
    response: z.object({ experiment: ExperimentSchema }),
  }),
  getOrCreateExperiment: route({
    method: 'POST',
    path: '/api/experiments/get-or-create',
    summary: 'Get an experiment by name, creating it when absent',
    tag: 'experiments',
    body: z.object({ name: z.string() }),
    response: z.object({ experiment: ExperimentSchema }),
  }),
  getExperimentByName: route({
    method: 'GET',
    path: '/api/experiments/by-name',
    summary: 'Get an experiment by name (null when absent)',
    tag: 'experiments',
    query: z.object({ name: z.string() }),
    response: z.object({ experiment: ExperimentSchema.nullable() }),
  }),
  getExperiment: route({
    method: 'GET',
    path: '/api/experiments/:experimentId',
    summary: 'Get an experiment',
    tag: 'experiments',
    params: ExpId,
    response: z.object({ experiment: ExperimentSchema }),
  }),
  deleteExperiment: route({
    method: 'DELETE',
    path: '/api/experiments/:experimentId',
    summary: 'Delete an experiment (soft)',
    tag: 'experiments',
    params: ExpId,
    response: Ok,
  }),
  setExperimentTag: route({
    method: 'PUT',
    path: '/api/experiments/:experimentId/tags/:key',
    summary: 'Set an experiment tag',
    tag: 'experiments',
    params: z.object({ experimentId: z.string(), key: z.string() }),
    body: Value,
    response: Ok,
  }),
  // ---- tracking: runs
  createRun: route({
    method: 'POST',
    path: '/api/runs',
    summary: 'Create a run',
    tag: 'runs',
    body: z.object({
      experimentId: z.string(),
      runName: z.string().nullable().optional(),
      tags: StringMap.optional(),
      parentRunId: z.string().nullable().optional(),
      startTime: z.number().optional(),
      /** The client process (host, pid, start time): the server marks the run KILLED when it dies on its host. */
      owner: z.object({ host: z.string(), pid: z.number().int(), started: z.string() }).nullable().optional(),
    }),
    response: z.object({ run: RunDataSchema }),
  }),
  searchRuns: route({
    method: 'POST',
    path: '/api/runs/search',
    summary: 'Search runs (filter language with and/or/parentheses, order, paging)',
    tag: 'runs',
    body: SearchRunsBody,
    response: RunsPageSchema,
  }),
  reapDeadRuns: route({
    method: 'POST',
    path: '/api/runs/reap',
    summary: 'Mark RUNNING runs whose process died as KILLED',
    tag: 'runs',
    response: z.object({ runIds: z.array(z.string()) }),
  }),
  getRun: route({
    method: 'GET',
    path: '/api/runs/:runId',
    summary: 'Get a run with params, latest metrics and tags',
    tag: 'runs',
    params: RunId,
    response: z.object({ run: RunDataSchema }),
  }),
  endRun: route({
    method: 'POST',
    path: '/api/runs/:runId/end',
    summary: 'End a run with a terminal status',
    tag: 'runs',
    params: RunId,
    body: z.object({ status: RunStatusSchema, endTime: z.number().optional() }),
    response: z.object({ run: RunDataSchema }),
  }),
  setRunName: route({
    method: 'PATCH',
    path: '/api/runs/:runId',
    summary: 'Rename a run',
    tag: 'runs',
    params: RunId,
    body: z.object({ runName: z.string() }),
    response: Ok,
  }),
  deleteRun: route({
    method: 'DELETE',
    path: '/api/runs/:runId',
    summary: 'Delete a run (soft)',
    tag: 'runs',
    params: RunId,
    response: Ok,
  }),
  restoreRun: route({
    method: 'POST',
    path: '/api/runs/:runId/restore',
    summary: 'Restore a deleted run',
    tag: 'runs',
    params: RunId,
    response: Ok,
  }),
  logBatch: route({
    method: 'POST',
    path: '/api/runs/:runId/log-batch',
    summary: 'Log params, metrics and tags atomically',
    tag: 'runs',
    params: RunId,
    body: z.object({
      params: StringMap.optional(),
      metrics: z.array(MetricPointSchema).optional(),
      tags: StringMap.optional(),
    }),
    response: Ok,
  }),
  deleteTag: route({
    method: 'DELETE',
    path: '/api/runs/:runId/tags/:key',
    summary: 'Delete a run tag',
    tag: 'runs',
    params: z.object({ runId: z.string(), key: z.string() }),
    response: Ok,
  }),
  getMetricHistory: route({
    method: 'GET',
    path: '/api/runs/:runId/metrics/:key',
    summary: 'Full history of one metric',
    tag: 'runs',
    params: z.object({ runId: z.string(), key: z.string() }),
    response: z.object({ metrics: z.array(MetricPointSchema) }),
  }),
  listArtifacts: route({
    method: 'GET',
    path: '/api/runs/:runId/artifacts',
    summary: 'List the artifacts of a run',
    tag: 'artifacts',
    params: RunId,
    query: z.object({ prefix: z.string().optional() }),
    response: z.object({ artifacts: z.array(ArtifactInfoSchema) }),
  }),
  readArtifact: route({
    method: 'GET',
    path: '/api/runs/:runId/artifacts/*',
    summary: 'Download an artifact (raw bytes; ?preview=1 serves it inline as text when it is text)',
    tag: 'artifacts',
    params: Wildcard,
    query: z.object({ preview: Bool.optional() }),
    response: z.unknown(),
    rawResponse: true,
  }),
  logArtifact: route({
    method: 'PUT',
    path: '/api/runs/:runId/artifacts/*',
    summary: 'Upload an artifact (raw bytes)',
    tag: 'artifacts',
    params: Wildcard,
    query: z.object({ kind: z.string().optional() }),
    response: z.object({ artifact: ArtifactInfoSchema }),
    rawBody: true,
  }),
  logInput: route({
    method: 'POST',
    path: '/api/runs/:runId/inputs',
    summary: 'Record a dataset a run consumed',
    tag: 'runs',
    params: RunId,
    body: RunInputSchema,
    response: Ok,
  }),
  listInputs: route({
    method: 'GET',
    path: '/api/runs/:runId/inputs',
    summary: 'Datasets a run consumed',
    tag: 'runs',
    params: RunId,
    response: z.object({ inputs: z.array(RunInputSchema) }),
  }),
  // ---- registry
  listModels: route({
    method: 'GET',
    path: '/api/models',
    summary: 'List registered models',
    tag: 'models',
    query: z.object({ includeDeleted: Bool.optional() }),
    response: z.object({ models: z.array(RegisteredModelSchema) }),
  }),
  createModel: route({
    method: 'POST',
    path: '/api/models',
    summary: 'Create a registered model',
    tag: 'models',
    body: z.object({ name: z.string(), description: z.string().optional(), tags: StringMap.optional() }),
    response: z.object({ model: RegisteredModelSchema }),
  }),
  getModel: route({
    method: 'GET',
    path: '/api/models/:name',
    summary: 'Get a registered model',
    tag: 'models',
    params: ModelName,
    response: z.object({ model: RegisteredModelSchema }),
  }),
  updateModel: route({
    method: 'PATCH',
    path: '/api/models/:name',
    summary: "Change a model's description",
    tag: 'models',
    params: ModelName,
    body: z.object({ description: z.string() }),
    response: z.object({ model: RegisteredModelSchema }),
  }),
  deleteModel: route({
    method: 'DELETE',
    path: '/api/models/:name',
    summary: 'Delete a registered model (soft)',
    tag: 'models',
    params: ModelName,
    response: Ok,
  }),
  setModelTag: route({
    method: 'PUT',
    path: '/api/models/:name/tags/:key',
    summary: 'Set a model tag',
    tag: 'models',
    params: z.object({ name: z.string(), key: z.string() }),
    body: Value,
    response: Ok,
  }),
  createModelVersion: route({
    method: 'POST',
    path: '/api/models/:name/versions',
    summary: "Register the next version from a run's model artifact",
    tag: 'models',
    params: ModelName,
    body: z.object({
      runId: z.string(),
      artifactPath: z.string().optional(),
      description: z.string().optional(),
      tags: StringMap.optional(),
    }),
    response: z.object({ version: ModelVersionSchema }),
  }),
  listModelVersions: route({
    method: 'GET',
    path: '/api/models/:name/versions',
    summary: 'List the versions of a model',
    tag: 'models',
    params: ModelName,
    query: z.object({ includeDeleted: Bool.optional() }),
    response: z.object({ versions: z.array(ModelVersionSchema) }),
  }),
  getModelVersion: route({
    method: 'GET',
    path: '/api/models/:name/versions/:version',
    summary: 'Get a model version',
    tag: 'models',
    params: VersionParams,
    response: z.object({ version: ModelVersionSchema }),
  }),
  updateModelVersion: route({
    method: 'PATCH',
    path: '/api/models/:name/versions/:version',
    summary: "Change a version's description",
    tag: 'models',
    params: VersionParams,
    body: z.object({ description: z.string() }),
    response: z.object({ version: ModelVersionSchema }),
  }),
  deleteModelVersion: route({
    method: 'DELETE',
    path: '/api/models/:name/versions/:version',
    summary: 'Delete a model version (soft; its aliases are removed)',
    tag: 'models',
    params: VersionParams,
    response: Ok,
  }),
  setModelVersionTag: route({
    method: 'PUT',
    path: '/api/models/:name/versions/:version/tags/:key',
    summary: 'Set a model version tag',
    tag: 'models',
    params: z.object({
      name: z.string(),
      version: z.coerce.number().int().positive(),
      key: z.string(),
    }),
    body: Value,
    response: Ok,
  }),
  readModelVersionArtifact: route({
    method: 'GET',
    path: '/api/models/:name/versions/:version/artifact',
    summary: 'The stored model JSON of a version',
    tag: 'models',
    params: VersionParams,
    response: z.unknown(),
    rawResponse: true,
  }),
  setAlias: route({
    method: 'PUT',
    path: '/api/models/:name/aliases/:alias',
    summary: 'Point (or move) an alias at a version',
    tag: 'models',
    params: z.object({ name: z.string(), alias: z.string() }),
    body: z.object({ version: z.number().int().positive() }),
    response: Ok,
  }),
  deleteAlias: route({
    method: 'DELETE',
    path: '/api/models/:name/aliases/:alias',
    summary: 'Remove an alias',
    tag: 'models',
    params: z.object({ name: z.string(), alias: z.string() }),
    response: Ok,
  }),
  getModelVersionByAlias: route({
    method: 'GET',
    path: '/api/models/:name/aliases/:alias',
    summary: 'The version an alias points at',
    tag: 'models',
    params: z.object({ name: z.string(), alias: z.string() }),
    response: z.object({ version: ModelVersionSchema }),
  }),
  // ---- pipelines
  listPipelines: route({
    method: 'GET',
    path: '/api/pipelines',
    summary: 'Exported pipelines with their latest version, schedule and paused state',
    tag: 'pipelines',
    response: z.object({ pipelines: z.array(z.record(z.string(), z.unknown())) }),
  }),
  listPipelineVersions: route({
    method: 'GET',
    path: '/api/pipelines/:name/versions',
    summary: 'Versions of a pipeline with their specs (steps and edges)',
    tag: 'pipelines',
    params: ModelName,
    response: z.object({ versions: z.array(z.record(z.string(), z.unknown())) }),
  }),
  setPipelinePaused: route({
    method: 'POST',
    path: '/api/pipelines/:name/paused',
    summary: 'Pause or unpause a pipeline',
    tag: 'pipelines',
    params: ModelName,
    body: z.object({ paused: z.boolean() }),
    response: Ok,
  }),
  triggerPipeline: route({
    method: 'POST',
    path: '/api/pipelines/:name/trigger',
    summary: 'Queue a manual run (parameters validated before anything is stored)',
    tag: 'pipelines',
    params: ModelName,
    body: z.object({
      params: z.record(z.string(), z.unknown()).optional(),
      version: z.number().int().positive().optional(),
    }),
    response: z.object({ run: PipelineRunSchema }),
  }),
  backfillPipeline: route({
    method: 'POST',
    path: '/api/pipelines/:name/backfill',
    summary: 'Queue one run per scheduled interval in [from, to] (ISO-8601 with zone)',
    tag: 'pipelines',
    params: ModelName,
    body: z.object({
      from: z.string(),
      to: z.string(),
      params: z.record(z.string(), z.unknown()).optional(),
    }),
    response: z.object({ runs: z.array(PipelineRunSchema), existing: z.array(PipelineRunSchema) }),
  }),
  listPipelineRuns: route({
    method: 'GET',
    path: '/api/pipeline-runs',
    summary: 'Pipeline runs, newest first',
    tag: 'pipelines',
    query: z.object({
      pipeline: z.string().optional(),
      limit: z.coerce.number().int().positive().max(1000).optional(),
    }),
    response: z.object({ runs: z.array(PipelineRunSchema) }),
  }),
  describePipelineRun: route({
    method: 'GET',
    path: '/api/pipeline-runs/:runId',
    summary: 'A pipeline run with per-step state, attempts, durations and metrics',
    tag: 'pipelines',
    params: RunId,
    response: z.object({
      run: PipelineRunSchema,
      tasks: z.array(z.record(z.string(), z.unknown())),
      attempts: z.array(z.record(z.string(), z.unknown())),
      metrics: z.record(z.string(), z.number()),
    }),
  }),
  pipelineRunLogs: route({
    method: 'GET',
    path: '/api/pipeline-runs/:runId/logs',
    summary: "Logs of a run's attempts (optionally one step)",
    tag: 'pipelines',
    params: RunId,
    query: z.object({ step: z.string().optional() }),
    response: z.object({
      logs: z.array(z.object({ step: z.string(), tryNumber: z.number(), text: z.string() })),
    }),
  }),
  // ---- features
  listFeatures: route({
    method: 'GET',
    path: '/api/features',
    summary: 'Entities, feature views (schema, TTL, source) and services, with materialization watermarks',
    tag: 'features',
    response: z.object({ definitions: z.array(z.record(z.string(), z.unknown())) }),
  }),
  getOnlineFeatures: route({
    method: 'POST',
    path: '/api/features/online',
    summary: 'Online feature values (with a status per value) for entity keys',
    tag: 'features',
    body: z.object({
      features: z.array(z.string()).min(1),
      entityRows: z
        .array(z.record(z.string(), z.union([z.string(), z.number()])))
        .min(1)
        .max(1000),
    }),
    response: z.record(z.string(), z.unknown()),
  }),
  // ---- server
  health: route({
    method: 'GET',
    path: '/health',
    summary: 'Liveness (no token needed)',
    tag: 'server',
    response: z.object({ status: z.literal('ok') }),
  }),
  serverInfo: route({
    method: 'GET',
    path: '/api/info',
    summary: 'Server version, store directory and the CSRF token of this session',
    tag: 'server',
    response: z.object({ version: z.string(), store: z.string(), csrfToken: z.string().nullable() }),
  }),
} as const;

/** Operation ids of the contract. */
export type RouteName = keyof typeof ROUTES;

type InputOf<T> = T extends z.ZodType ? z.input<T> : undefined;
/** What a caller passes to a route (path params, query, body). */
export type RouteInput<K extends RouteName> = {
  params?: InputOf<(typeof ROUTES)[K] extends { params: infer P } ? P : undefined>;
  query?: InputOf<(typeof ROUTES)[K] extends { query: infer Q } ? Q : undefined>;
  body?: InputOf<(typeof ROUTES)[K] extends { body: infer B } ? B : undefined>;
};
/** What a route answers with. */
export type RouteOutput<K extends RouteName> = z.output<(typeof ROUTES)[K]['response']>;

/**
 * Builds the URL path of a route from its path params (each percent-encoded; the `*` wildcard keeps
 * its `/` separators).
 */
export function buildPath(path: string, params: Record<string, unknown> = {}): string {
  return path
    .replace(/:([A-Za-z]+)/g, (_m, name: string) => encodeURIComponent(String(params[name])))
    .replace(/\*$/, () =>
      String(params['*'] ?? '')
        .split('/')
        .map((s) => encodeURIComponent(s))
        .join('/'),
    );
}
