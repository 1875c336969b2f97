/**
 * client — `CellarStore`, the SDK object a user gets from `openStore()`: runs (start, with, get, search),
 * experiments, the model registry (register, alias, load) over one backend. The module-level functions in
 * `sdk.ts` call the same methods on the default store.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CellarError, isCellarError } from './errors.js';
import { modelFromJSON, type LoadedModel } from './ml/model-json.js';
import { recordReferenceStats } from './monitoring/registry-link.js';
import type { ModelRegistryStore, ModelVersion, RegisteredModel } from './registry/types.js';
import { parseModelUri } from './registry/uri.js';
import {
  normalizeBindings,
  parseTrainingServingInfo,
  servingTags,
  validateMissingPolicy,
  SERVING_ARTIFACT,
  type FeatureBinding,
  type MissingPolicy,
  type ServingSpec,
} from './serving/spec.js';
import type { StoreLocation } from './store/locate.js';
import type { EmbeddedBackend } from './store/open.js';
import type { StoreBackend } from './backends.js';
import { currentProcess } from './store/process.js';
import { autologFailure } from './tracking/autolog.js';
import { ActiveRun, activeRun, pushActive } from './tracking/run.js';
import type { Experiment, RunData, RunStatus, TrackingStore } from './tracking/types.js';
import { setOwn } from './tracking/validate.js';

/** Options of {@link CellarStore.startRun}. */
export interface StartRunOptions {
  /** Experiment name (created when missing). Default: `CELLAR_EXPERIMENT`, else "Default". */
  experiment?: string;
  /** Experiment id, instead of a name. */
  experimentId?: string;
  runName?: string;
  tags?: Record<string, string | number | boolean>;
  /** Nest under this run. */
  parentRunId?: string;
  /** Nest under the current active run. */
  nested?: boolean;
}

/** Options of {@link CellarStore.searchRuns}. */
export interface SearchRunsOptions {
  /** Experiment name(s) to search (default: all experiments). */
  experiment?: string | string[];
  experimentIds?: string[];
  /** e.g. `metrics.rmse < 0.5 and params.alpha = '0.5'` (`or` and parentheses allowed). */
  filter?: string;
  /** e.g. `['metrics.rmse ASC']` (default: newest first). */
  orderBy?: string | string[];
  maxResults?: number;
  pageToken?: string;
  viewType?: 'active' | 'deleted' | 'all';
}

/** The runs of a search, with the token of the next page (null on the last page). */
export type RunList = RunData[] & { nextPageToken: string | null };

/** Options of {@link CellarStore.registerModel}. */
export interface RegisterModelOptions {
  name: string;
  runId: string;
  /** Artifact folder of the model in the run (default `model`). */
  artifactPath?: string;
  /** Also point this alias (e.g. `champion`) at the new version. */
  alias?: string;
  description?: string;
  tags?: Record<string, string>;
  /**
   * The online features of the model's input columns (`"view:feature"`, or `{ column, ref }`), for entity
   * requests to `cellar serve`. Default: what autolog recorded when the model was trained from
   * `getHistoricalFeatures` output.
   */
  features?: Array<string | FeatureBinding>;
  /** How `cellar serve` treats a row whose features are missing or outside their TTL (default `reject`). */
  serving?: { missing?: MissingPolicy; transform?: string };
}

/** A model loaded from the store: `predict` plus where it came from. */
export type StoredModel = LoadedModel & {
  uri: string;
  name: string | null;
  version: number | null;
  runId: string | null;
};

/** The cellar SDK over one store. */
export class CellarStore {
  /** Where the store lives. */
  readonly location: StoreLocation;
  /** The tracking backend. */
  readonly tracking: TrackingStore;
  /** The registry backend. */
  readonly registry: ModelRegistryStore;

  /** Wraps an opened backend (use `openStore()` rather than calling this). */
  constructor(
    private readonly backend: StoreBackend,
    location: StoreLocation,
  ) {
    this.location = location;
    this.tracking = backend.tracking;
    this.registry = backend.registry;
  }

  /** Absolute path of the store directory (`…/.cellar`), or the server URL of a REST store. */
  get root(): string {
    return this.backend.root;
  }

  /** False once the store was closed. */
  get isOpen(): boolean {
    return this.backend.kind === 'rest' || this.backend.db.open;
  }

  /**
   * The embedded backend (SQLite connection, blob store) for lower layers such as pipelines.
   *
   * @throws CellarError UNSUPPORTED when the store is a remote `cellar up` (those layers run on the server).
   */
  get embedded(): EmbeddedBackend {
    if (this.backend.kind !== 'sqlite') {
      throw new CellarError(
        'UNSUPPORTED',
        `This needs the embedded store, but the store is the cellar server at ${this.backend.root}. ` +
          'Run it on the server (or open the project directory instead of the URL).',
      );
    }
    return this.backend;
  }

  /** Closes the store's connection. */
  close(): void {
    this.backend.close();
  }

  private async resolveExperiment(opts: { experiment?: string; experimentId?: string }): Promise<Experiment> {
    if (opts.experimentId !== undefined) return this.tracking.getExperiment(opts.experimentId);
    const name = opts.experiment ?? process.env.CELLAR_EXPERIMENT ?? 'Default';
    return this.tracking.getOrCreateExperiment(name);
  }

  /** Gets an experiment by name, or null. */
  async getExperiment(name: string): Promise<Experiment | null> {
    return this.tracking.getExperimentByName(name);
  }

  /** Creates an experiment (ALREADY_EXISTS if the name is taken). */
  async createExperiment(name: string, tags?: Record<string, string>): Promise<Experiment> {
    return this.tracking.createExperiment(name, tags ? { tags } : {});
  }

  /** Lists experiments. */
  async listExperiments(): Promise<Experiment[]> {
    return this.tracking.listExperiments();
  }

  /**
   * Starts a run and makes it this process's active run. With `parentRunId` or `nested: true` it is
   * nested under another run; otherwise an already active run is an error (end it first).
   *
   * @example
   * const run = await startRun({ experiment: 'driver-training', runName: 'baseline' })
   * @throws CellarError INVALID_STATE when another run is active, NOT_FOUND for an unknown parent
   */
  async startRun(opts: StartRunOptions = {}): Promise<ActiveRun> {
    if (opts === null || typeof opts !== 'object') {
      throw new CellarError(
        'INVALID_PARAMETER',
        'startRun takes an options object such as { experiment: "demo" }.',
      );
    }
    const current = activeRun();
    let parentRunId = opts.parentRunId ?? null;
    if (opts.nested && parentRunId === null) {
      if (!current)
        throw new CellarError(
          'INVALID_STATE',
          'startRun({ nested: true }) needs an active run to nest under.',
        );
      parentRunId = current.id;
    }
    if (current && parentRunId === null) {
      throw new CellarError(
        'INVALID_STATE',
        `Run ${current.id} is still active. End it with run.end() (or endRun()), or pass { nested: true } to nest the new run.`,
        { activeRunId: current.id },
      );
    }
    const experiment = await this.resolveExperiment(opts);
    const tags: Record<string, string> = {};
    for (const [k, v] of Object.entries(opts.tags ?? {})) setOwn(tags, k, String(v));
    const data = await this.tracking.createRun({
      experimentId: experiment.id,
      runName: opts.runName ?? null,
      tags,
      parentRunId,
      owner: currentProcess(),
    });
    const backend = this.backend;
    const endSync =
      backend.kind === 'sqlite'
        ? (status: RunStatus) => backend.tracking.endRunSync(data.id, status)
        : undefined;
    const run = new ActiveRun(this.tracking, data, endSync);
    run.spawnChild = (runName: string) =>
      this.startRun({ experimentId: experiment.id, runName, parentRunId: data.id });
    pushActive(run);
    return run;
  }

  /**
   * Runs `fn` inside a new run and ends it FINISHED, or FAILED (re-throwing) when `fn` throws.
   *
   * @example
   * await withRun({ experiment: 'driver-training' }, async (run) => { new ElasticNet({ alpha: 0.5, l1Ratio: 0.1 }).fit(X, y) })
   */
  async withRun<T>(opts: StartRunOptions, fn: (run: ActiveRun) => T | Promise<T>): Promise<T> {
    if (typeof fn !== 'function')
      throw new CellarError('INVALID_PARAMETER', 'withRun(opts, fn) needs a function.');
    const run = await this.startRun(opts);
    let result: T;
    try {
      result = await fn(run);
    } catch (e) {
      if (!run.isEnded) await run.end('FAILED');
      throw e;
    }
    if (!run.isEnded) await run.end('FINISHED');
    return result;
  }

  /** Ends this process's active run (default FINISHED); returns its final state, or null if none was active. */
  async endRun(status: RunStatus = 'FINISHED'): Promise<RunData | null> {
    const run = activeRun();
    return run ? run.end(status) : null;
  }

  /**
   * Fetches a run with its params, latest metrics and tags.
   *
   * @throws CellarError NOT_FOUND
   */
  async getRun(runId: string): Promise<RunData> {
    await activeRun()?.flush();
    return this.tracking.getRun(runId);
  }

  /**
   * Searches runs with MLflow's filter language (plus `or` and parentheses).
   *
   * @example
   * const runs = await searchRuns({ experiment: 'driver-training', filter: "metrics.rmse < 0.5 and params.alpha = '0.5'" })
   * @throws CellarError INVALID_FILTER pointing at the bad token, NOT_FOUND for an unknown experiment
   */
  async searchRuns(opts: SearchRunsOptions = {}): Promise<RunList> {
    await activeRun()?.flush();
    let experimentIds = opts.experimentIds;
    if (opts.experiment !== undefined) {
      const names = Array.isArray(opts.experiment) ? opts.experiment : [opts.experiment];
      experimentIds = [];
      for (const name of names) {
        const exp = await this.tracking.getExperimentByName(name);
        if (!exp) throw new CellarError('NOT_FOUND', `No experiment named "${name}".`, { experiment: name });
        experimentIds.push(exp.id);
      }
    }
    const page = await this.tracking.searchRuns({
      ...(experimentIds === undefined ? {} : { experimentIds }),
      filter: opts.filter ?? null,
      ...(opts.orderBy === undefined ? {} : { orderBy: opts.orderBy }),
      ...(opts.maxResults === undefined ? {} : { maxResults: opts.maxResults }),
      pageToken: opts.pageToken ?? null,
      ...(opts.viewType === undefined ? {} : { viewType: opts.viewType }),
    });
    return Object.assign(page.runs, { nextPageToken: page.nextPageToken });
  }

  /**
   * Registers the model a run logged (at `model/model.json`) as the next version of `name`, optionally
   * pointing `alias` at it.
   *
   * @example
   * const { version } = await registerModel({ name: 'driver', runId: run.id })
   * @throws CellarError NOT_FOUND when the run has no model, INVALID_INPUT when it is not a cellar model
   */
  async registerModel(opts: RegisterModelOptions): Promise<ModelVersion> {
    if (opts === null || typeof opts !== 'object') {
      throw new CellarError('INVALID_PARAMETER', 'registerModel takes { name, runId }.');
    }
    await activeRun()?.flush();
    const serving = await this.servingTagsFor(opts);
    const tags = { ...serving, ...(opts.tags ?? {}) };
    const mv = await this.registry
      .createModelVersion({
        name: opts.name,
        runId: opts.runId,
        ...(opts.artifactPath === undefined ? {} : { artifactPath: opts.artifactPath }),
        ...(opts.description === undefined ? {} : { description: opts.description }),
        ...(Object.keys(tags).length === 0 ? {} : { tags }),
      })
      .catch((e: unknown) => {
        // "No model in the run" because autolog could not write it (a full disk, …): say that instead.
        const cause = isCellarError(e) && e.code === 'NOT_FOUND' ? autologFailure(opts.runId) : undefined;
        throw isCellarError(cause) ? cause : e;
      });
    await recordReferenceStats(this, mv, opts.artifactPath);
    if (opts.alias !== undefined) {
      await this.registry.setAlias(mv.name, opts.alias, mv.version);
      return this.registry.getModelVersion(mv.name, mv.version);
    }
    return mv;
  }

  /** The serving tags of a new version: what autolog recorded in the run, overridden by explicit options. */
  private async servingTagsFor(opts: RegisterModelOptions): Promise<Record<string, string>> {
    const spec: Partial<ServingSpec> = {};
    const dir = (opts.artifactPath ?? 'model').replace(/\/+$/, '');
    const path = dir === 'model' ? SERVING_ARTIFACT : `${dir}/serving.json`;
    try {
      const info = parseTrainingServingInfo(
        (await this.tracking.readArtifact(opts.runId, path)).toString('utf8'),
      );
      spec.features = info.features;
      spec.trainingMeans = info.trainingMeans;
    } catch (e) {
      if (!(e instanceof CellarError && e.code === 'NOT_FOUND')) throw e;
    }
    if (opts.features !== undefined) spec.features = normalizeBindings(opts.features);
    if (opts.serving?.missing !== undefined) spec.missing = validateMissingPolicy(opts.serving.missing);
    if (opts.serving?.transform !== undefined) spec.transform = opts.serving.transform;
    else spec.transform = this.pipelineTransform();
    return servingTags(spec);
  }

  /**
   * Inside a pipeline step (the runner sets CELLAR_PIPELINE / CELLAR_PIPELINE_VERSION), the version's exported
   * `serving:transform` module, as `<pipeline>/<version>`; else null.
   */
  private pipelineTransform(): string | null {
    const name = process.env.CELLAR_PIPELINE;
    const version = process.env.CELLAR_PIPELINE_VERSION;
    if (!name || !version || !/^[a-z0-9][a-z0-9_-]{0,63}$/.test(name) || !/^\d+$/.test(version)) return null;
    const file = join(this.root, 'pipelines', name, version, 'serving-transform.cjs');
    return existsSync(file) ? `${name}/${version}` : null;
  }

  /**
   * Points an alias (e.g. `champion`) at a version; moving an alias is atomic.
   *
   * @example
   * await setAlias('driver', 'champion', 3)
   * @throws CellarError NOT_FOUND for an unknown model/version, INVALID_PARAMETER for a reserved alias
   */
  async setAlias(name: string, alias: string, version: number): Promise<void> {
    await this.registry.setAlias(name, alias, version);
  }

  /** Lists registered models with their aliases and latest version. */
  async listModels(): Promise<RegisteredModel[]> {
    return this.registry.listRegisteredModels();
  }

  /**
   * Loads a model by URI — `models:/driver@champion`, `models:/driver/3`, `models:/driver/latest` or
   * `runs:/<run id>/model` — from its stored JSON (no code is evaluated).
   *
   * @example
   * const model = await loadModel('models:/driver@champion'); model.predict([[0.5, 0.9, 120]])
   * @throws CellarError NOT_FOUND, INVALID_PARAMETER, INVALID_INPUT
   */
  async loadModel(uri: string): Promise<StoredModel> {
    const parsed = parseModelUri(uri);
    let bytes: Buffer;
    let name: string | null = null;
    let version: number | null = null;
    let runId: string | null = null;
    if (parsed.kind === 'run') {
      await activeRun()?.flush();
      runId = parsed.runId;
      bytes = await this.tracking.readArtifact(
        parsed.runId,
        `${parsed.artifactPath.replace(/\/+$/, '')}/model.json`,
      );
    } else {
      let mv: ModelVersion;
      if (parsed.kind === 'alias') mv = await this.registry.getModelVersionByAlias(parsed.name, parsed.alias);
      else if (parsed.kind === 'version')
        mv = await this.registry.getModelVersion(parsed.name, parsed.version);
      else {
        const model = await this.registry.getRegisteredModel(parsed.name);
        if (model.latestVersion === null)
          throw new CellarError('NOT_FOUND', `Model "${parsed.name}" has no versions.`);
        mv = await this.registry.getModelVersion(parsed.name, model.latestVersion);
      }
      name = mv.name;
      version = mv.version;
      runId = mv.runId;
      bytes = await this.registry.readModelVersionArtifact(mv.name, mv.version);
    }
    let json: unknown;
    try {
      json = JSON.parse(bytes.toString('utf8'));
    } catch {
      throw new CellarError('INVALID_INPUT', `The model at ${uri} is not valid JSON.`);
    }
    const model = modelFromJSON(json);
    return Object.assign(model, { uri, name, version, runId });
  }
}
