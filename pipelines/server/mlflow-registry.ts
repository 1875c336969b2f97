/**
 * server/mlflow-registry — MLflow's model registry routes (`registered-models/*`, `model-versions/*`,
 * aliases) over cellar's registry store. A version's source must be a cellar model logged by a run
 * (`runs:/<run id>/<artifact path>`), because cellar validates and stores the model JSON itself.
 */
import type { FastifyInstance } from 'fastify';
import { CellarError } from '../../kernel-lib/errors.js';
import type { ModelVersion } from '../../kernel-lib/registry/types.js';
import type { EmbeddedBackend } from '../../kernel-lib/store/open.js';
import {
  fromKVs,
  matchesFilter,
  mlflowModelVersion,
  mlflowRegisteredModel,
  pageOf,
  parseRegistryFilter,
  parseVersion,
} from './mlflow-map.js';
import { addMlflowRoute } from './mlflow-tracking.js';

/** The run and artifact folder a CreateModelVersion request names. */
export function versionSource(
  source: string | undefined,
  runId: string | undefined,
): { runId: string; artifactPath: string } {
  const m = source ? /^runs:\/([^/]+)\/?(.*)$/.exec(source) : null;
  if (m) {
    if (runId && runId !== m[1])
      throw new CellarError('INVALID_PARAMETER', `source ${source} names another run than run_id ${runId}.`);
    return { runId: m[1]!, artifactPath: m[2] || 'model' };
  }
  if (!runId) {
    throw new CellarError(
      'INVALID_PARAMETER',
      'CreateModelVersion needs run_id (or a source runs:/<run id>/<path>): cellar registers models that a run logged.',
    );
  }
  const artifacts = source ? /\/artifacts\/(.+)$/.exec(source) : null;
  return { runId, artifactPath: artifacts?.[1] ?? 'model' };
}

/** Mounts the MLflow registry routes. */
export function mlflowRegistryRoutes(app: FastifyInstance, backend: EmbeddedBackend): void {
  const r = backend.registry;
  const latestOf = async (name: string, latest: number | null): Promise<ModelVersion | undefined> =>
    latest === null ? undefined : r.getModelVersion(name, latest);
  const full = async (name: string) => {
    const m = await r.getRegisteredModel(name);
    return mlflowRegisteredModel(m, await latestOf(name, m.latestVersion));
  };
  addMlflowRoute(app, 'createRegisteredModel', async ({ body }) => {
    await r.createRegisteredModel(body.name, {
      tags: fromKVs(body.tags),
      ...(body.description === undefined ? {} : { description: body.description }),
    });
    return { registered_model: await full(body.name) };
  });
  addMlflowRoute(app, 'getRegisteredModel', async ({ query }) => ({
    registered_model: await full(query.name),
  }));
  addMlflowRoute(app, 'searchRegisteredModels', async ({ query }) => {
    const clauses = parseRegistryFilter(query.filter, ['name']);
    const models = (await r.listRegisteredModels()).filter((m) => matchesFilter(clauses, { name: m.name }));
    const page = pageOf(models, query.max_results, query.page_token);
    const out = [];
    for (const m of page.items) out.push(mlflowRegisteredModel(m, await latestOf(m.name, m.latestVersion)));
    return { registered_models: out, ...(page.next ? { next_page_token: page.next } : {}) };
  });
  addMlflowRoute(app, 'updateRegisteredModel', async ({ body }) => {
    if (body.description !== undefined)
      await r.updateRegisteredModel(body.name, { description: body.description });
    return { registered_model: await full(body.name) };
  });
  addMlflowRoute(app, 'deleteRegisteredModel', async ({ body }) => {
    await r.deleteRegisteredModel(body.name);
    return {};
  });
  addMlflowRoute(app, 'setRegisteredModelTag', async ({ body }) => {
    await r.setRegisteredModelTag(body.name, body.key, body.value);
    return {};
  });
  addMlflowRoute(app, 'getLatestVersions', async ({ body }) => {
    const m = await r.getRegisteredModel(body.name);
    const latest = await latestOf(m.name, m.latestVersion);
    return { model_versions: latest ? [mlflowModelVersion(latest)] : [] };
  });
  addMlflowRoute(app, 'setAlias', async ({ body }) => {
    await r.setAlias(body.name, body.alias, parseVersion(body.version));
    return {};
  });
  addMlflowRoute(app, 'deleteAlias', async ({ body }) => {
    await r.deleteAlias(body.name, body.alias);
    return {};
  });
  addMlflowRoute(app, 'getByAlias', async ({ query }) => ({
    model_version: mlflowModelVersion(await r.getModelVersionByAlias(query.name, query.alias)),
  }));
  addMlflowRoute(app, 'createModelVersion', async ({ body }) => {
    const src = versionSource(body.source, body.run_id);
    const mv = await r.createModelVersion({
      name: body.name,
      runId: src.runId,
      artifactPath: src.artifactPath,
      tags: fromKVs(body.tags),
      ...(body.description === undefined ? {} : { description: body.description }),
    });
    return { model_version: mlflowModelVersion(mv) };
  });
  addMlflowRoute(app, 'getModelVersion', async ({ query }) => ({
    model_version: mlflowModelVersion(await r.getModelVersion(query.name, parseVersion(query.version))),
  }));
  addMlflowRoute(app, 'searchModelVersions', async ({ query }) => {
    const clauses = parseRegistryFilter(query.filter, ['name', 'run_id', 'source']);
    const nameClause = clauses.find((c) => c.field === 'name' && c.op === '=');
    const names = nameClause ? [nameClause.value] : (await r.listRegisteredModels()).map((m) => m.name);
    const all: ModelVersion[] = [];
    for (const name of names) {
      try {
        all.push(...(await r.listModelVersions(name)));
      } catch (e) {
        if (!(e instanceof CellarError && e.code === 'NOT_FOUND')) throw e;
      }
    }
    const hits = all.filter((v) =>
      matchesFilter(clauses, { name: v.name, run_id: v.runId ?? '', source: v.source }),
    );
    const page = pageOf(hits, query.max_results, query.page_token);
    return {
      model_versions: page.items.map(mlflowModelVersion),
      ...(page.next ? { next_page_token: page.next } : {}),
    };
  });
  addMlflowRoute(app, 'updateModelVersion', async ({ body }) => {
    const v = parseVersion(body.version);
    const mv =
      body.description === undefined
        ? await r.getModelVersion(body.name, v)
        : await r.updateModelVersion(body.name, v, { description: body.description });
    return { model_version: mlflowModelVersion(mv) };
  });
  addMlflowRoute(app, 'deleteModelVersion', async ({ body }) => {
    await r.deleteModelVersion(body.name, parseVersion(body.version));
    return {};
  });
  addMlflowRoute(app, 'setModelVersionTag', async ({ body }) => {
    await r.setModelVersionTag(body.name, parseVersion(body.version), body.key, body.value);
    return {};
  });
  addMlflowRoute(app, 'getDownloadUri', async ({ query }) => {
    const mv = await r.getModelVersion(query.name, parseVersion(query.version));
    return { artifact_uri: mv.source };
  });
}
