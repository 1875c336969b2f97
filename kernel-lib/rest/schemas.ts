/**
 * rest/schemas — zod schemas of cellar's domain objects as they travel over HTTP (experiments, runs,
 * metrics, artifacts, registered models, versions) and the error body `{error_code, message}`. The
 * contract (contract.ts) builds its routes from these; the server validates with them and the OpenAPI
 * document is generated from them.
 */
import { z } from 'zod';

/** String → string map (params, tags). */
export const StringMap = z.record(z.string(), z.string());

/** The body of every error response. */
export const ErrorBody = z.object({
  error_code: z.string(),
  message: z.string(),
  details: z.record(z.string(), z.unknown()).optional(),
});

/** An experiment. */
export const ExperimentSchema = z.object({
  id: z.string(),
  name: z.string(),
  lifecycleStage: z.enum(['active', 'deleted']),
  createdAt: z.number(),
  updatedAt: z.number(),
  tags: StringMap,
});

/** Run statuses. */
export const RunStatusSchema = z.enum(['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED']);

/** A run with params, latest metrics and tags. */
export const RunDataSchema = z.object({
  id: z.string(),
  experimentId: z.string(),
  runName: z.string().nullable(),
  status: RunStatusSchema,
  startTime: z.number(),
  endTime: z.number().nullable(),
  parentRunId: z.string().nullable(),
  lifecycleStage: z.enum(['active', 'deleted']),
  params: StringMap,
  metrics: z.record(z.string(), z.number()),
  tags: StringMap,
});

/**
 * A metric value on the wire: JSON has no NaN/Infinity, so those travel as the strings "NaN", "Infinity"
 * and "-Infinity" (see `jsonBody` in http-client.ts) and the store refuses them with its own message.
 */
export const MetricValue = z
  .union([z.number(), z.enum(['NaN', 'Infinity', '-Infinity'])])
  .transform((v) => (typeof v === 'number' ? v : Number(v)));

/** One metric value. */
export const MetricPointSchema = z.object({
  key: z.string(),
  value: MetricValue,
  step: z.number(),
  timestamp: z.number(),
});

/** An artifact of a run. */
export const ArtifactInfoSchema = z.object({
  path: z.string(),
  digest: z.string(),
  size: z.number(),
  kind: z.string(),
  createdAt: z.number(),
});

/** A dataset a run consumed. */
export const RunInputSchema = z.object({
  fingerprint: z.string(),
  context: z.string(),
  nRows: z.number().nullable(),
  nCols: z.number().nullable(),
  schema: z.unknown(),
});

/** A registered model. */
export const RegisteredModelSchema = z.object({
  name: z.string(),
  description: z.string(),
  createdAt: z.number(),
  updatedAt: z.number(),
  aliases: z.record(z.string(), z.number()),
  tags: StringMap,
  latestVersion: z.number().nullable(),
  deleted: z.boolean(),
});

/** A model version. */
export const ModelVersionSchema = z.object({
  name: z.string(),
  version: z.number(),
  runId: z.string().nullable(),
  source: z.string(),
  artifactDigest: z.string(),
  description: z.string(),
  createdAt: z.number(),
  updatedAt: z.number(),
  aliases: z.array(z.string()),
  tags: StringMap,
  deleted: z.boolean(),
});

/** `viewType` of listings and searches. */
export const ViewTypeSchema = z.enum(['active', 'deleted', 'all']);

/** A search of runs (the SDK's SearchRunsQuery). */
export const SearchRunsBody = z.object({
  experimentIds: z.array(z.string()).optional(),
  filter: z.string().nullable().optional(),
  orderBy: z.union([z.string(), z.array(z.string())]).optional(),
  maxResults: z.number().int().positive().optional(),
  pageToken: z.string().nullable().optional(),
  viewType: ViewTypeSchema.optional(),
});

/** A page of runs. */
export const RunsPageSchema = z.object({
  runs: z.array(RunDataSchema),
  nextPageToken: z.string().nullable(),
});

/** A pipeline run (scheduler row). */
export const PipelineRunSchema = z.object({
  runId: z.string(),
  pipeline: z.string(),
  version: z.number(),
  runType: z.string(),
  state: z.string(),
  logicalDate: z.number(),
  intervalStart: z.number(),
  intervalEnd: z.number(),
  params: z.record(z.string(), z.unknown()),
  trackingRunId: z.string().nullable(),
  createdAt: z.number(),
  startedAt: z.number().nullable(),
  endedAt: z.number().nullable(),
  error: z.string().nullable(),
});

/** `{ ok: true }` acknowledgement of a state change without a result. */
export const Ok = z.object({ ok: z.literal(true) });
