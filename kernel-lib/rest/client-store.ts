/**
 * rest/client-store — `TrackingStore` and `ModelRegistryStore` over the REST API of a remote `cellar up`
 * (chosen by an `http(s):` CELLAR_URI). Each method is one call of the contract; the server runs the same
 * embedded store code, so behaviour (validation, error codes) is the embedded store's.
 */
import { readFile } from 'node:fs/promises';
import type {
  CreateModelVersionOptions,
  ModelRegistryStore,
  ModelVersion,
  RegisteredModel,
} from '../registry/types.js';
import type {
  ArtifactInfo,
  CreateRunOptions,
  Experiment,
  LogBatch,
  MetricPoint,
  RunData,
  RunInput,
  RunsPage,
  RunStatus,
  SearchRunsQuery,
  TrackingStore,
} from '../tracking/types.js';
import { validateArtifactPath } from '../store/artifacts.js';
import type { RestClient } from './http-client.js';

/** Tracking over HTTP. */
export class RestTrackingStore implements TrackingStore {
  /** Wraps a client of one server. */
  constructor(private readonly http: RestClient) {}

  /** {@inheritDoc TrackingStore.createExperiment} */
  async createExperiment(name: string, opts: { tags?: Record<string, string> } = {}): Promise<Experiment> {
    return (await this.http.call('createExperiment', { body: { name, ...opts } })).experiment;
  }
  /** {@inheritDoc TrackingStore.getExperiment} */
  async getExperiment(id: string): Promise<Experiment> {
    return (await this.http.call('getExperiment', { params: { experimentId: id } })).experiment;
  }
  /** {@inheritDoc TrackingStore.getExperimentByName} */
  async getExperimentByName(name: string): Promise<Experiment | null> {
    return (await this.http.call('getExperimentByName', { query: { name } })).experiment;
  }
  /** {@inheritDoc TrackingStore.getOrCreateExperiment} */
  async getOrCreateExperiment(name: string): Promise<Experiment> {
    return (await this.http.call('getOrCreateExperiment', { body: { name } })).experiment;
  }
  /** {@inheritDoc TrackingStore.listExperiments} */
  async listExperiments(opts: { viewType?: 'active' | 'deleted' | 'all' } = {}): Promise<Experiment[]> {
    return (await this.http.call('listExperiments', { query: opts })).experiments;
  }
  /** {@inheritDoc TrackingStore.deleteExperiment} */
  async deleteExperiment(id: string): Promise<void> {
    await this.http.call('deleteExperiment', { params: { experimentId: id } });
  }
  /** {@inheritDoc TrackingStore.setExperimentTag} */
  async setExperimentTag(id: string, key: string, value: string): Promise<void> {
    await this.http.call('setExperimentTag', { params: { experimentId: id, key }, body: { value } });
  }
  /**
   * {@inheritDoc TrackingStore.createRun} The owner travels along: a server on the same host marks the run
   * KILLED once that process is gone (owners on other hosts are never judged dead).
   */
  async createRun(opts: CreateRunOptions): Promise<RunData> {
    return (await this.http.call('createRun', { body: opts })).run;
  }
  /** {@inheritDoc TrackingStore.getRun} */
  async getRun(runId: string): Promise<RunData> {
    return (await this.http.call('getRun', { params: { runId } })).run;
  }
  /** {@inheritDoc TrackingStore.endRun} */
  async endRun(runId: string, status: RunStatus, endTime?: number): Promise<RunData> {
    const body = endTime === undefined ? { status } : { status, endTime };
    return (await this.http.call('endRun', { params: { runId }, body })).run;
  }
  /** {@inheritDoc TrackingStore.setRunName} */
  async setRunName(runId: string, name: string): Promise<void> {
    await this.http.call('setRunName', { params: { runId }, body: { runName: name } });
  }
  /** {@inheritDoc TrackingStore.logBatch} */
  async logBatch(runId: string, batch: LogBatch): Promise<void> {
    await this.http.call('logBatch', { params: { runId }, body: batch });
  }
  /** {@inheritDoc TrackingStore.getMetricHistory} */
  async getMetricHistory(runId: string, key: string): Promise<MetricPoint[]> {
    return (await this.http.call('getMetricHistory', { params: { runId, key } })).metrics;
  }
  /** {@inheritDoc TrackingStore.searchRuns} */
  async searchRuns(query: SearchRunsQuery): Promise<RunsPage> {
    return this.http.call('searchRuns', { body: query });
  }
  /** {@inheritDoc TrackingStore.deleteRun} */
  async deleteRun(runId: string): Promise<void> {
    await this.http.call('deleteRun', { params: { runId } });
  }
  /** {@inheritDoc TrackingStore.restoreRun} */
  async restoreRun(runId: string): Promise<void> {
    await this.http.call('restoreRun', { params: { runId } });
  }
  /** {@inheritDoc TrackingStore.deleteTag} */
  async deleteTag(runId: string, key: string): Promise<void> {
    await this.http.call('deleteTag', { params: { runId, key } });
  }
  /** {@inheritDoc TrackingStore.logArtifactBytes} */
  async logArtifactBytes(
    runId: string,
    path: string,
    data: Uint8Array | string,
    kind?: string,
  ): Promise<ArtifactInfo> {
    // Checked here too: a URL would normalise `..` away before the server could refuse it.
    const checked = validateArtifactPath(path);
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    const res = await this.http.callBytes(
      'logArtifact',
      { params: { runId, '*': checked }, query: kind === undefined ? {} : { kind } },
      bytes,
    );
    return (JSON.parse(res.toString('utf8')) as { artifact: ArtifactInfo }).artifact;
  }
  /** {@inheritDoc TrackingStore.logArtifactFile} */
  async logArtifactFile(
    runId: string,
    path: string,
    localFile: string,
    kind?: string,
  ): Promise<ArtifactInfo> {
    return this.logArtifactBytes(runId, path, await readFile(localFile), kind);
  }
  /**
   * {@inheritDoc TrackingStore.logArtifactFiles} Over HTTP every path is checked and every file read before the
   * first upload, so a bad name or an unreadable file logs nothing; the uploads themselves are one request each
   * (a connection lost midway leaves the files sent so far logged).
   */
  async logArtifactFiles(
    runId: string,
    files: ReadonlyArray<{ path: string; localFile: string }>,
    kind?: string,
  ): Promise<ArtifactInfo[]> {
    const checked = files.map((f) => ({ path: validateArtifactPath(f.path), localFile: f.localFile }));
    const contents = await Promise.all(checked.map((f) => readFile(f.localFile)));
    const out: ArtifactInfo[] = [];
    for (const [i, f] of checked.entries())
      out.push(await this.logArtifactBytes(runId, f.path, contents[i]!, kind));
    return out;
  }
  /** {@inheritDoc TrackingStore.listArtifacts} */
  async listArtifacts(runId: string, prefix?: string): Promise<ArtifactInfo[]> {
    const query = prefix === undefined ? {} : { prefix };
    return (await this.http.call('listArtifacts', { params: { runId }, query })).artifacts;
  }
  /** {@inheritDoc TrackingStore.readArtifact} */
  async readArtifact(runId: string, path: string): Promise<Buffer> {
    return this.http.callBytes('readArtifact', { params: { runId, '*': validateArtifactPath(path) } });
  }
  /** {@inheritDoc TrackingStore.logInput} */
  async logInput(runId: string, input: RunInput): Promise<void> {
    await this.http.call('logInput', { params: { runId }, body: input });
  }
  /** {@inheritDoc TrackingStore.listInputs} */
  async listInputs(runId: string): Promise<RunInput[]> {
    return (await this.http.call('listInputs', { params: { runId } })).inputs;
  }
  /** {@inheritDoc TrackingStore.reapDeadRuns} */
  async reapDeadRuns(): Promise<string[]> {
    return (await this.http.call('reapDeadRuns')).runIds;
  }
}

/** The model registry over HTTP. */
export class RestRegistryStore implements ModelRegistryStore {
  /** Wraps a client of one server. */
  constructor(private readonly http: RestClient) {}

  /** {@inheritDoc ModelRegistryStore.createRegisteredModel} */
  async createRegisteredModel(
    name: string,
    opts: { description?: string; tags?: Record<string, string> } = {},
  ): Promise<RegisteredModel> {
    return (await this.http.call('createModel', { body: { name, ...opts } })).model;
  }
  /** {@inheritDoc ModelRegistryStore.getRegisteredModel} */
  async getRegisteredModel(name: string): Promise<RegisteredModel> {
    return (await this.http.call('getModel', { params: { name } })).model;
  }
  /** {@inheritDoc ModelRegistryStore.listRegisteredModels} */
  async listRegisteredModels(opts: { includeDeleted?: boolean } = {}): Promise<RegisteredModel[]> {
    return (await this.http.call('listModels', { query: opts })).models;
  }
  /** {@inheritDoc ModelRegistryStore.updateRegisteredModel} */
  async updateRegisteredModel(name: string, opts: { description: string }): Promise<RegisteredModel> {
    return (await this.http.call('updateModel', { params: { name }, body: opts })).model;
  }
  /** {@inheritDoc ModelRegistryStore.deleteRegisteredModel} */
  async deleteRegisteredModel(name: string): Promise<void> {
    await this.http.call('deleteModel', { params: { name } });
  }
  /** {@inheritDoc ModelRegistryStore.setRegisteredModelTag} */
  async setRegisteredModelTag(name: string, key: string, value: string): Promise<void> {
    await this.http.call('setModelTag', { params: { name, key }, body: { value } });
  }
  /** {@inheritDoc ModelRegistryStore.createModelVersion} */
  async createModelVersion(opts: CreateModelVersionOptions): Promise<ModelVersion> {
    const { name, ...body } = opts;
    return (await this.http.call('createModelVersion', { params: { name }, body })).version;
  }
  /** {@inheritDoc ModelRegistryStore.getModelVersion} */
  async getModelVersion(name: string, version: number): Promise<ModelVersion> {
    return (await this.http.call('getModelVersion', { params: { name, version } })).version;
  }
  /** {@inheritDoc ModelRegistryStore.listModelVersions} */
  async listModelVersions(name: string, opts: { includeDeleted?: boolean } = {}): Promise<ModelVersion[]> {
    return (await this.http.call('listModelVersions', { params: { name }, query: opts })).versions;
  }
  /** {@inheritDoc ModelRegistryStore.updateModelVersion} */
  async updateModelVersion(
    name: string,
    version: number,
    opts: { description: string },
  ): Promise<ModelVersion> {
    return (await this.http.call('updateModelVersion', { params: { name, version }, body: opts })).version;
  }
  /** {@inheritDoc ModelRegistryStore.deleteModelVersion} */
  async deleteModelVersion(name: string, version: number): Promise<void> {
    await this.http.call('deleteModelVersion', { params: { name, version } });
  }
  /** {@inheritDoc ModelRegistryStore.setModelVersionTag} */
  async setModelVersionTag(name: string, version: number, key: string, value: string): Promise<void> {
    await this.http.call('setModelVersionTag', { params: { name, version, key }, body: { value } });
  }
  /** {@inheritDoc ModelRegistryStore.setAlias} */
  async setAlias(name: string, alias: string, version: number): Promise<void> {
    await this.http.call('setAlias', { params: { name, alias }, body: { version } });
  }
  /** {@inheritDoc ModelRegistryStore.deleteAlias} */
  async deleteAlias(name: string, alias: string): Promise<void> {
    await this.http.call('deleteAlias', { params: { name, alias } });
  }
  /** {@inheritDoc ModelRegistryStore.getModelVersionByAlias} */
  async getModelVersionByAlias(name: string, alias: string): Promise<ModelVersion> {
    return (await this.http.call('getModelVersionByAlias', { params: { name, alias } })).version;
  }
  /** {@inheritDoc ModelRegistryStore.readModelVersionArtifact} */
  async readModelVersionArtifact(name: string, version: number): Promise<Buffer> {
    return this.http.callBytes('readModelVersionArtifact', { params: { name, version } });
  }
}
