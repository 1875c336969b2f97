/**
 * lazy/exporter — the package root's notebook → pipeline functions as thin wrappers that load the exporter
 * (the TypeScript compiler, cron-parser) on their first call, so `import 'cellar'` does not pay ~0.5 s for a
 * compiler most sessions never use. Signatures and documentation are the exporter's own (`exporter/`).
 */
import type * as Exporter from '../exporter/index.js';
import { packageRequire } from './load.js';

let loaded: typeof Exporter | undefined;

function exporter(): typeof Exporter {
  loaded ??= packageRequire()('../exporter/index.js') as typeof Exporter;
  return loaded;
}

/**
 * Exports a tagged notebook as a new (or the identical existing) pipeline version. See `exporter/index.ts`.
 *
 * @throws CellarError INVALID_INPUT naming the offending cells when the tags or the step graph are wrong.
 * @example
 * const { name, version } = await exportNotebook({ notebook: 'notebooks/driver-training.ipynb', name: 'driver-training' })
 */
export const exportNotebook: typeof Exporter.exportNotebook = (...args) => exporter().exportNotebook(...args);

/**
 * Plans an export without writing anything: steps, edges, parameters and problems per cell.
 *
 * @example
 * const plan = planExport({ notebook: 'notebooks/driver-training.ipynb', name: 'driver-training' })
 */
export const planExport: typeof Exporter.planExport = (...args) => exporter().planExport(...args);

/**
 * The pipelines of a store with their latest version.
 *
 * @example
 * listPipelines() // [{ name: 'driver-training', latestVersion: 3, … }]
 */
export const listPipelines: typeof Exporter.listPipelines = (...args) => exporter().listPipelines(...args);

/**
 * Every stored version of one pipeline, oldest first.
 *
 * @example
 * listPipelineVersions(undefined, 'driver-training')
 */
export const listPipelineVersions: typeof Exporter.listPipelineVersions = (...args) =>
  exporter().listPipelineVersions(...args);

/**
 * One stored pipeline version (a number, `latest`, or `v<N>`).
 *
 * @example
 * getPipelineVersion(undefined, 'driver-training', 'latest').spec.steps
 */
export const getPipelineVersion: typeof Exporter.getPipelineVersion = (...args) =>
  exporter().getPipelineVersion(...args);

/**
 * What changed between two versions of a pipeline (steps, parameters, settings, unified source diffs).
 *
 * @example
 * diffPipelineVersions(undefined, 'driver-training', 1, 'latest')
 */
export const diffPipelineVersions: typeof Exporter.diffPipelineVersions = (...args) =>
  exporter().diffPipelineVersions(...args);

/**
 * Parses `name`, `name@3`, `name@latest` or `name@v3` into a name and a version.
 *
 * @example
 * parsePipelineRef('driver-training@2') // { name: 'driver-training', version: 2 }
 */
export const parsePipelineRef: typeof Exporter.parsePipelineRef = (...args) =>
  exporter().parsePipelineRef(...args);
