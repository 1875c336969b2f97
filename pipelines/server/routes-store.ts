/**
 * server/routes-store — cellar's JSON routes over the tracking and registry stores (experiments, runs,
 * search, metric history, artifacts, inputs, registered models, versions, aliases). Each route is one
 * call of the store interface: the same code the SDK runs, so the REST client store behaves identically.
 */
import { extname } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { EmbeddedBackend } from '../../kernel-lib/store/open.js';
import { validateArtifactPath } from '../../kernel-lib/store/artifacts.js';
import { addRoute } from './contract-routes.js';

const OK = { ok: true } as const;

const PREVIEW_TYPES: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.json': 'application/json; charset=utf-8',
  '.ipynb': 'application/json; charset=utf-8',
};

/**
 * The content type an artifact is served with. Never HTML or SVG (user content must not run as a page):
 * text is text/plain, known images their type, the rest octet-stream.
 */
export function artifactContentType(path: string, bytes: Buffer): string {
  const known = PREVIEW_TYPES[extname(path).toLowerCase()];
  if (known) return known;
  const sample = bytes.subarray(0, 4096);
  return sample.includes(0) ? 'application/octet-stream' : 'text/plain; charset=utf-8';
}

/** Mounts the tracking routes. */
export function trackingRoutes(app: FastifyInstance, backend: EmbeddedBackend): void {
  const t = backend.tracking;
  addRoute(app, 'listExperiments', async ({ query }) => ({
    experiments: await t.listExperiments(query.viewType ? { viewType: query.viewType } : {}),
  }));
  addRoute(app, 'createExperiment', async ({ body }) => ({
    experiment: await t.createExperiment(body.name, body.tags ? { tags: body.tags } : {}),
  }));
  addRoute(app, 'getOrCreateExperiment', async ({ body }) => ({
    experiment: await t.getOrCreateExperiment(body.name),
  }));
  addRoute(app, 'getExperimentByName', async ({ query }) => ({
    experiment: await t.getExperimentByName(query.name),
  }));
  addRoute(app, 'getExperiment', async ({ params }) => ({
    experiment: await t.getExperiment(params.experimentId),
  }));
  addRoute(app, 'deleteExperiment', async ({ params }) => {
    await t.deleteExperiment(params.experimentId);
    return OK;
  });
  addRoute(app, 'setExperimentTag', async ({ params, body }) => {
    await t.setExperimentTag(params.experimentId, params.key, body.value);
    return OK;
  });
  addRoute(app, 'createRun', async ({ body }) => ({ run: await t.createRun(body) }));
  addRoute(app, 'searchRuns', async ({ body }) => t.searchRuns(body));
  addRoute(app, 'reapDeadRuns', async () => ({ runIds: await t.reapDeadRuns() }));
  addRoute(app, 'getRun', async ({ params }) => ({ run: await t.getRun(params.runId) }));
  addRoute(app, 'endRun', async ({ params, body }) => ({
    run: await t.endRun(params.runId, body.status, body.endTime),
  }));
  addRoute(app, 'setRunName', async ({ params, body }) => {
    await t.setRunName(params.runId, body.runName);
    return OK;
  });
  addRoute(app, 'deleteRun', async ({ params }) => {
    await t.deleteRun(params.runId);
    return OK;
  });
  addRoute(app, 'restoreRun', async ({ params }) => {
    await t.restoreRun(params.runId);
    return OK;
  });
  addRoute(app, 'logBatch', async ({ params, body }) => {
    await t.logBatch(params.runId, body);
    return OK;
  });
  addRoute(app, 'deleteTag', async ({ params }) => {
    await t.deleteTag(params.runId, params.key);
    return OK;
  });
  addRoute(app, 'getMetricHistory', async ({ params }) => ({
    metrics: await t.getMetricHistory(params.runId, params.key),
  }));
  addRoute(app, 'listArtifacts', async ({ params, query }) => ({
    artifacts: await t.listArtifacts(params.runId, query.prefix),
  }));
  addRoute(app, 'readArtifact', async ({ params, query, reply }) => {
    const path = validateArtifactPath(params['*']);
    const bytes = await t.readArtifact(params.runId, path);
    const type = artifactContentType(path, bytes);
    reply.type(type);
    reply.header('content-security-policy', "default-src 'none'; sandbox");
    if (!query.preview) {
      const file = path.split('/').pop() ?? 'artifact';
      reply.header('content-disposition', `attachment; filename="${file.replace(/[^\w.-]/g, '_')}"`);
    }
    return bytes;
  });
  addRoute(app, 'logArtifact', async ({ params, query, body }) => ({
    artifact: await t.logArtifactBytes(params.runId, validateArtifactPath(params['*']), body, query.kind),
  }));
  addRoute(app, 'logInput', async ({ params, body }) => {
    await t.logInput(params.runId, { ...body, schema: body.schema ?? null });
    return OK;
  });
  addRoute(app, 'listInputs', async ({ params }) => ({ inputs: await t.listInputs(params.runId) }));
}

/** Mounts the registry routes. */
export function registryRoutes(app: FastifyInstance, backend: EmbeddedBackend): void {
  const r = backend.registry;
  addRoute(app, 'listModels', async ({ query }) => ({
    models: await r.listRegisteredModels(query.includeDeleted ? { includeDeleted: true } : {}),
  }));
  addRoute(app, 'createModel', async ({ body }) => {
    const { name, ...opts } = body;
    return { model: await r.createRegisteredModel(name, opts) };
  });
  addRoute(app, 'getModel', async ({ params }) => ({ model: await r.getRegisteredModel(params.name) }));
  addRoute(app, 'updateModel', async ({ params, body }) => ({
    model: await r.updateRegisteredModel(params.name, body),
  }));
  addRoute(app, 'deleteModel', async ({ params }) => {
    await r.deleteRegisteredModel(params.name);
    return OK;
  });
  addRoute(app, 'setModelTag', async ({ params, body }) => {
    await r.setRegisteredModelTag(params.name, params.key, body.value);
    return OK;
  });
  addRoute(app, 'createModelVersion', async ({ params, body }) => ({
    version: await r.createModelVersion({ name: params.name, ...body }),
  }));
  addRoute(app, 'listModelVersions', async ({ params, query }) => ({
    versions: await r.listModelVersions(params.name, query.includeDeleted ? { includeDeleted: true } : {}),
  }));
  addRoute(app, 'getModelVersion', async ({ params }) => ({
    version: await r.getModelVersion(params.name, params.version),
  }));
  addRoute(app, 'updateModelVersion', async ({ params, body }) => ({
    version: await r.updateModelVersion(params.name, params.version, body),
  }));
  addRoute(app, 'deleteModelVersion', async ({ params }) => {
    await r.deleteModelVersion(params.name, params.version);
    return OK;
  });
  addRoute(app, 'setModelVersionTag', async ({ params, body }) => {
    await r.setModelVersionTag(params.name, params.version, params.key, body.value);
    return OK;
  });
  addRoute(app, 'readModelVersionArtifact', async ({ params, reply }) => {
    reply.type('application/json; charset=utf-8');
    return r.readModelVersionArtifact(params.name, params.version);
  });
  addRoute(app, 'setAlias', async ({ params, body }) => {
    await r.setAlias(params.name, params.alias, body.version);
    return OK;
  });
  addRoute(app, 'deleteAlias', async ({ params }) => {
    await r.deleteAlias(params.name, params.alias);
    return OK;
  });
  addRoute(app, 'getModelVersionByAlias', async ({ params }) => ({
    version: await r.getModelVersionByAlias(params.name, params.alias),
  }));
}
