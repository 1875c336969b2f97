/**
 * server/routes-platform — cellar's JSON routes for the pipelines and features pages: pipelines with their
 * schedule, paused state and next run, versions with their step graph, runs with per-step state and
 * attempts, logs, trigger (parameters validated), backfill, pause/unpause; feature definitions with
 * watermarks and online values. Every route calls the scheduler API or kernel-lib; nothing is re-implemented.
 */
import type { FastifyInstance } from 'fastify';
import { listPipelines, listPipelineVersions } from '../../kernel-lib/exporter/store.js';
import { featureStore } from '../../kernel-lib/features/feature-store.js';
import { readWatermarks } from '../../kernel-lib/features/online/materialize.js';
import { list as listDefinitions } from '../../kernel-lib/features/registry.js';
import type { EmbeddedBackend } from '../../kernel-lib/store/open.js';
import {
  backfillPipeline,
  describeRun,
  listPipelineRuns,
  parseInstant,
  runLogs,
  setPipelinePaused,
  triggerPipeline,
} from '../scheduler/api.js';
import { nextFireAfter } from '../scheduler/cron.js';
import { SchedulerState, type PipelineRunRow } from '../scheduler/state.js';
import { addRoute } from './contract-routes.js';

function publicRun(r: PipelineRunRow): Omit<PipelineRunRow, 'owner'> {
  const { owner: _owner, ...rest } = r;
  return rest;
}

/** Mounts the pipeline routes. */
export function pipelineRoutes(app: FastifyInstance, backend: EmbeddedBackend): void {
  const state = new SchedulerState(backend.db);
  addRoute(app, 'listPipelines', async () => ({
    pipelines: listPipelines(backend).map((p) => {
      const s = state.pipelineState(p.name);
      let nextRunAt: number | null = null;
      if (p.schedule !== null && !s.paused) {
        try {
          nextRunAt = nextFireAfter(p.schedule, Date.now());
        } catch {
          nextRunAt = null;
        }
      }
      return { ...p, paused: s.paused, nextRunAt };
    }),
  }));
  addRoute(app, 'listPipelineVersions', async ({ params }) => ({
    versions: listPipelineVersions(backend, params.name).map((v) => ({ ...v })),
  }));
  addRoute(app, 'setPipelinePaused', async ({ params, body }) => {
    setPipelinePaused(backend, params.name, body.paused);
    return { ok: true } as const;
  });
  addRoute(app, 'triggerPipeline', async ({ params, body }) => ({
    run: publicRun(
      triggerPipeline({
        store: backend,
        name: params.name,
        ...(body.version === undefined ? {} : { version: body.version }),
        ...(body.params === undefined ? {} : { params: body.params }),
      }),
    ),
  }));
  addRoute(app, 'backfillPipeline', async ({ params, body }) => {
    const res = await backfillPipeline({
      store: backend,
      name: params.name,
      from: parseInstant(body.from, 'from'),
      to: parseInstant(body.to, 'to'),
      ...(body.params === undefined ? {} : { params: body.params }),
      wait: false,
    });
    return { runs: res.runs.map(publicRun), existing: res.existing.map(publicRun) };
  });
  addRoute(app, 'listPipelineRuns', async ({ query }) => ({
    runs: listPipelineRuns(backend, query).map(publicRun),
  }));
  addRoute(app, 'describePipelineRun', async ({ params }) => {
    const d = await describeRun(backend, params.runId);
    return {
      run: publicRun(d.run),
      tasks: d.tasks.map((t) => ({ ...t })),
      attempts: d.attempts.map((a) => {
        const { logPath: _logPath, ...rest } = a as typeof a & { logPath?: string };
        return { ...rest };
      }),
      metrics: d.metrics,
    };
  });
  addRoute(app, 'pipelineRunLogs', async ({ params, query }) => ({
    logs: runLogs(backend, params.runId, query.step === undefined ? {} : { step: query.step }).map((l) => ({
      step: l.step,
      tryNumber: l.tryNumber,
      text: l.text,
    })),
  }));
}

/** Mounts the feature routes. */
export function featureRoutes(app: FastifyInstance, backend: EmbeddedBackend): void {
  addRoute(app, 'listFeatures', async () => {
    const watermarks = readWatermarks(backend.db);
    return {
      definitions: listDefinitions(backend.db).map((d) => ({
        ...d,
        watermark: d.kind === 'featureView' ? (watermarks[d.name] ?? null) : null,
      })),
    };
  });
  addRoute(app, 'getOnlineFeatures', async ({ body }) => {
    const fs = featureStore({ embedded: backend });
    const res = await fs.getOnlineFeatures({ features: body.features, entityRows: body.entityRows });
    return { ...res } as Record<string, unknown>;
  });
}
