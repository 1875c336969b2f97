/**
 * web/data-source — what the web UI's pages read and change, as one interface. `RestDataSource` implements it
 * over the REST routes of `cellar up` (same-origin fetch with the session cookie and the CSRF header); a
 * kernel-bridge implementation can later serve the same pages inside JupyterLab.
 */

/** A run as the pages show it. */
export interface RunView {
  id: string;
  experimentId: string;
  runName: string | null;
  status: string;
  startTime: number;
  endTime: number | null;
  params: Record<string, string>;
  metrics: Record<string, number>;
  tags: Record<string, string>;
}

/** One metric value of a history. */
export interface MetricPointView {
  key: string;
  value: number;
  step: number;
  timestamp: number;
}

/** A registered model. */
export interface ModelView {
  name: string;
  description: string;
  aliases: Record<string, number>;
  tags: Record<string, string>;
  latestVersion: number | null;
}

/** A model version. */
export interface VersionView {
  name: string;
  version: number;
  runId: string | null;
  source: string;
  description: string;
  aliases: string[];
  createdAt: number;
}

/** A pipeline run. */
export interface PipelineRunView {
  runId: string;
  pipeline: string;
  version: number;
  runType: string;
  state: string;
  logicalDate: number;
  createdAt: number;
  startedAt: number | null;
  endedAt: number | null;
  error: string | null;
  params: Record<string, unknown>;
}

/** Everything the pages need. */
export interface CellarDataSource {
  listExperiments(): Promise<Array<{ id: string; name: string }>>;
  searchRuns(q: {
    experimentIds?: string[];
    filter?: string;
    orderBy?: string[];
    maxResults?: number;
    pageToken?: string | null;
  }): Promise<{ runs: RunView[]; nextPageToken: string | null }>;
  getRun(id: string): Promise<RunView>;
  metricHistory(runId: string, key: string): Promise<MetricPointView[]>;
  listArtifacts(runId: string): Promise<Array<{ path: string; size: number }>>;
  artifactUrl(runId: string, path: string, preview?: boolean): string;
  listModels(): Promise<ModelView[]>;
  listVersions(name: string): Promise<VersionView[]>;
  setAlias(name: string, alias: string, version: number): Promise<void>;
  updateModelDescription(name: string, description: string): Promise<void>;
  listPipelines(): Promise<Array<Record<string, unknown>>>;
  pipelineVersions(name: string): Promise<Array<Record<string, unknown>>>;
  setPaused(name: string, paused: boolean): Promise<void>;
  triggerPipeline(name: string, params: Record<string, unknown>): Promise<PipelineRunView>;
  listPipelineRuns(pipeline?: string): Promise<PipelineRunView[]>;
  describePipelineRun(runId: string): Promise<{
    run: PipelineRunView;
    tasks: Array<Record<string, unknown>>;
    attempts: Array<Record<string, unknown>>;
  }>;
  pipelineLogs(runId: string): Promise<Array<{ step: string; tryNumber: number; text: string }>>;
  listFeatures(): Promise<Array<Record<string, unknown>>>;
  onlineFeatures(
    features: string[],
    entityRows: Array<Record<string, string | number>>,
  ): Promise<Record<string, unknown>>;
}

/** An error answered by the server: its stable code and message. */
export class ApiError extends Error {
  /** Creates the error of one response. */
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

function enc(s: string | number): string {
  return encodeURIComponent(String(s));
}

/** The data source of the `cellar up` web app: same-origin REST. */
export class RestDataSource implements CellarDataSource {
  private csrf: string | null = null;

  private async req<T>(method: string, path: string, body?: unknown): Promise<T> {
    if (method !== 'GET' && this.csrf === null) {
      this.csrf = (await this.req<{ csrfToken: string | null }>('GET', '/api/info')).csrfToken;
    }
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (method !== 'GET' && this.csrf) headers['x-cellar-csrf'] = this.csrf;
    const res = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const json = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    if (!res.ok) {
      throw new ApiError(
        String(json.error_code ?? 'INTERNAL'),
        String(json.message ?? `HTTP ${res.status}`),
        res.status,
      );
    }
    return json as T;
  }

  async listExperiments() {
    return (await this.req<{ experiments: Array<{ id: string; name: string }> }>('GET', '/api/experiments'))
      .experiments;
  }
  async searchRuns(q: Parameters<CellarDataSource['searchRuns']>[0]) {
    return this.req<{ runs: RunView[]; nextPageToken: string | null }>('POST', '/api/runs/search', q);
  }
  async getRun(id: string) {
    return (await this.req<{ run: RunView }>('GET', `/api/runs/${enc(id)}`)).run;
  }
  async metricHistory(runId: string, key: string) {
    return (
      await this.req<{ metrics: MetricPointView[] }>('GET', `/api/runs/${enc(runId)}/metrics/${enc(key)}`)
    ).metrics;
  }
  async listArtifacts(runId: string) {
    return (
      await this.req<{ artifacts: Array<{ path: string; size: number }> }>(
        'GET',
        `/api/runs/${enc(runId)}/artifacts`,
      )
    ).artifacts;
  }
  artifactUrl(runId: string, path: string, preview = false): string {
    const p = path.split('/').map(enc).join('/');
    return `/api/runs/${enc(runId)}/artifacts/${p}${preview ? '?preview=1' : ''}`;
  }
  async listModels() {
    return (await this.req<{ models: ModelView[] }>('GET', '/api/models')).models;
  }
  async listVersions(name: string) {
    return (await this.req<{ versions: VersionView[] }>('GET', `/api/models/${enc(name)}/versions`)).versions;
  }
  async setAlias(name: string, alias: string, version: number) {
    await this.req('PUT', `/api/models/${enc(name)}/aliases/${enc(alias)}`, { version });
  }
  async updateModelDescription(name: string, description: string) {
    await this.req('PATCH', `/api/models/${enc(name)}`, { description });
  }
  async listPipelines() {
    return (await this.req<{ pipelines: Array<Record<string, unknown>> }>('GET', '/api/pipelines')).pipelines;
  }
  async pipelineVersions(name: string) {
    return (
      await this.req<{ versions: Array<Record<string, unknown>> }>(
        'GET',
        `/api/pipelines/${enc(name)}/versions`,
      )
    ).versions;
  }
  async setPaused(name: string, paused: boolean) {
    await this.req('POST', `/api/pipelines/${enc(name)}/paused`, { paused });
  }
  async triggerPipeline(name: string, params: Record<string, unknown>) {
    return (
      await this.req<{ run: PipelineRunView }>('POST', `/api/pipelines/${enc(name)}/trigger`, { params })
    ).run;
  }
  async listPipelineRuns(pipeline?: string) {
    const q = pipeline ? `?pipeline=${enc(pipeline)}&limit=50` : '?limit=50';
    return (await this.req<{ runs: PipelineRunView[] }>('GET', `/api/pipeline-runs${q}`)).runs;
  }
  async describePipelineRun(runId: string) {
    return this.req<{
      run: PipelineRunView;
      tasks: Array<Record<string, unknown>>;
      attempts: Array<Record<string, unknown>>;
    }>('GET', `/api/pipeline-runs/${enc(runId)}`);
  }
  async pipelineLogs(runId: string) {
    return (
      await this.req<{ logs: Array<{ step: string; tryNumber: number; text: string }> }>(
        'GET',
        `/api/pipeline-runs/${enc(runId)}/logs`,
      )
    ).logs;
  }
  async listFeatures() {
    return (await this.req<{ definitions: Array<Record<string, unknown>> }>('GET', '/api/features'))
      .definitions;
  }
  async onlineFeatures(features: string[], entityRows: Array<Record<string, string | number>>) {
    return this.req<Record<string, unknown>>('POST', '/api/features/online', { features, entityRows });
  }
}
