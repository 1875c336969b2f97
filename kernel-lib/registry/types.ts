/**
 * registry/types — the model registry's data model (MLflow's: registered models, immutable numbered
 * versions, aliases, tags) and the `ModelRegistryStore` interface every backend implements.
 */

/** A registered model: a name that numbered versions hang under. */
export interface RegisteredModel {
  name: string;
  description: string;
  createdAt: number;
  updatedAt: number;
  /** alias → version number. */
  aliases: Record<string, number>;
  tags: Record<string, string>;
  latestVersion: number | null;
  deleted: boolean;
}

/** One immutable version of a registered model. */
export interface ModelVersion {
  name: string;
  version: number;
  runId: string | null;
  /** Where the model came from, e.g. `runs:/<id>/model`. */
  source: string;
  /** SHA-256 of the stored model JSON: the version's content never changes. */
  artifactDigest: string;
  description: string;
  createdAt: number;
  updatedAt: number;
  aliases: string[];
  tags: Record<string, string>;
  deleted: boolean;
}

/** Options of {@link ModelRegistryStore.createModelVersion}. */
export interface CreateModelVersionOptions {
  name: string;
  runId: string;
  /** Artifact folder of the model inside the run (default `model`). */
  artifactPath?: string;
  description?: string;
  tags?: Record<string, string>;
}

/**
 * The registry backend. Async so that remote implementations fit; every method throws `CellarError`
 * (NOT_FOUND, INVALID_PARAMETER, INVALID_INPUT, …).
 */
export interface ModelRegistryStore {
  createRegisteredModel(
    name: string,
    opts?: { description?: string; tags?: Record<string, string> },
  ): Promise<RegisteredModel>;
  getRegisteredModel(name: string): Promise<RegisteredModel>;
  listRegisteredModels(opts?: { includeDeleted?: boolean }): Promise<RegisteredModel[]>;
  updateRegisteredModel(name: string, opts: { description: string }): Promise<RegisteredModel>;
  /** Soft delete: the model and its versions are hidden, nothing is erased. */
  deleteRegisteredModel(name: string): Promise<void>;
  setRegisteredModelTag(name: string, key: string, value: string): Promise<void>;

  /** Creates the next version from a run's model artifact (validated as cellar model JSON). */
  createModelVersion(opts: CreateModelVersionOptions): Promise<ModelVersion>;
  getModelVersion(name: string, version: number): Promise<ModelVersion>;
  listModelVersions(name: string, opts?: { includeDeleted?: boolean }): Promise<ModelVersion[]>;
  updateModelVersion(name: string, version: number, opts: { description: string }): Promise<ModelVersion>;
  /** Soft delete of one version; its aliases are removed. */
  deleteModelVersion(name: string, version: number): Promise<void>;
  setModelVersionTag(name: string, version: number, key: string, value: string): Promise<void>;

  setAlias(name: string, alias: string, version: number): Promise<void>;
  deleteAlias(name: string, alias: string): Promise<void>;
  getModelVersionByAlias(name: string, alias: string): Promise<ModelVersion>;
  /** The stored model JSON of a version (bytes as stored). */
  readModelVersionArtifact(name: string, version: number): Promise<Buffer>;
}
