/**
 * tracking/types — the data model of run tracking (MLflow's, flattened for TypeScript users) and the
 * `TrackingStore` interface that every backend (embedded SQLite now; REST and PostgreSQL later) implements.
 */

/** Lifecycle status of a run, as in MLflow. */
export type RunStatus = 'RUNNING' | 'SCHEDULED' | 'FINISHED' | 'FAILED' | 'KILLED';
/** The statuses a run can be ended with. */
export const TERMINAL_STATUSES: readonly RunStatus[] = ['FINISHED', 'FAILED', 'KILLED'];
/** All run statuses. */
export const RUN_STATUSES: readonly RunStatus[] = ['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED'];

/** An experiment: a named group of runs. */
export interface Experiment {
  id: string;
  name: string;
  lifecycleStage: 'active' | 'deleted';
  createdAt: number;
  updatedAt: number;
  tags: Record<string, string>;
}

/** One recorded metric value. */
export interface MetricPoint {
  key: string;
  value: number;
  step: number;
  /** Epoch milliseconds. */
  timestamp: number;
}

/** An artifact attached to a run. */
export interface ArtifactInfo {
  path: string;
  digest: string;
  size: number;
  kind: string;
  createdAt: number;
}

/** A dataset a run consumed, identified by its content fingerprint. */
export interface RunInput {
  fingerprint: string;
  context: string;
  nRows: number | null;
  nCols: number | null;
  schema: unknown;
}

/** A run as returned by getRun/searchRuns: its info plus params, latest metrics and tags. */
export interface RunData {
  id: string;
  experimentId: string;
  runName: string | null;
  status: RunStatus;
  /** Epoch milliseconds. */
  startTime: number;
  endTime: number | null;
  parentRunId: string | null;
  lifecycleStage: 'active' | 'deleted';
  params: Record<string, string>;
  /** Latest value per key (highest step, then latest timestamp), as MLflow reports. */
  metrics: Record<string, number>;
  tags: Record<string, string>;
}

/** Options for creating a run. */
export interface CreateRunOptions {
  experimentId: string;
  runName?: string | null;
  tags?: Record<string, string>;
  parentRunId?: string | null;
  startTime?: number;
  /** Process that owns the run (so a dead owner's run is marked KILLED); omit for runs owned by nobody. */
  owner?: { host: string; pid: number; started: string } | null;
}

/** A batch of writes applied atomically. */
export interface LogBatch {
  params?: Record<string, string>;
  metrics?: MetricPoint[];
  tags?: Record<string, string>;
}

/** Search options of {@link TrackingStore.searchRuns}. */
export interface SearchRunsQuery {
  experimentIds?: string[];
  filter?: string | null;
  orderBy?: string | string[];
  maxResults?: number;
  pageToken?: string | null;
  /** `active` (default), `deleted` or `all`. */
  viewType?: 'active' | 'deleted' | 'all';
}

/** A page of runs. */
export interface RunsPage {
  runs: RunData[];
  nextPageToken: string | null;
}

/**
 * The tracking backend. All methods are async so that remote implementations fit the same interface.
 * Every method throws `CellarError` (NOT_FOUND, INVALID_PARAMETER, PARAM_CONFLICT, INVALID_STATE, …).
 */
export interface TrackingStore {
  createExperiment(name: string, opts?: { tags?: Record<string, string> }): Promise<Experiment>;
  getExperiment(id: string): Promise<Experiment>;
  getExperimentByName(name: string): Promise<Experiment | null>;
  /** Returns the experiment with this name, creating it when absent (like `mlflow.set_experiment`). */
  getOrCreateExperiment(name: string): Promise<Experiment>;
  listExperiments(opts?: { viewType?: 'active' | 'deleted' | 'all' }): Promise<Experiment[]>;
  deleteExperiment(id: string): Promise<void>;
  setExperimentTag(id: string, key: string, value: string): Promise<void>;

  createRun(opts: CreateRunOptions): Promise<RunData>;
  getRun(runId: string): Promise<RunData>;
  /** Ends a RUNNING run with a terminal status. Ending an already ended run with the same status is a no-op. */
  endRun(runId: string, status: RunStatus, endTime?: number): Promise<RunData>;
  setRunName(runId: string, name: string): Promise<void>;
  logBatch(runId: string, batch: LogBatch): Promise<void>;
  getMetricHistory(runId: string, key: string): Promise<MetricPoint[]>;
  searchRuns(query: SearchRunsQuery): Promise<RunsPage>;
  deleteRun(runId: string): Promise<void>;
  restoreRun(runId: string): Promise<void>;
  deleteTag(runId: string, key: string): Promise<void>;

  logArtifactBytes(
    runId: string,
    path: string,
    data: Uint8Array | string,
    kind?: string,
  ): Promise<ArtifactInfo>;
  logArtifactFile(runId: string, path: string, localFile: string, kind?: string): Promise<ArtifactInfo>;
  /**
   * Logs many local files as artifacts, all or nothing: every path and file is checked before anything is
   * recorded, and the artifacts are recorded in one transaction.
   */
  logArtifactFiles(
    runId: string,
    files: ReadonlyArray<{ path: string; localFile: string }>,
    kind?: string,
  ): Promise<ArtifactInfo[]>;
  listArtifacts(runId: string, prefix?: string): Promise<ArtifactInfo[]>;
  readArtifact(runId: string, path: string): Promise<Buffer>;
  logInput(runId: string, input: RunInput): Promise<void>;
  listInputs(runId: string): Promise<RunInput[]>;

  /** Marks RUNNING runs whose owning process is gone as KILLED; returns their ids. */
  reapDeadRuns(): Promise<string[]>;
}
