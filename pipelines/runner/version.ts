/**
 * runner/version — reads exported pipeline versions from the store's files
 * (`<store>/pipelines/<name>/<version>/pipeline.json`, the layout of kernel-lib/exporter/spec.ts) and checks
 * that a spec is something the runner can execute. The runner and the exporter share only these files.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CellarError } from '../../kernel-lib/errors.js';
import type { PipelineSpec } from '../../kernel-lib/exporter/spec.js';
import { parsePipelineSpec } from '../../kernel-lib/lazy/spec-schema.js';
import { validatePipelineName } from './ids.js';

/** A pipeline version as loaded from disk: its spec and its directory. */
export interface LoadedPipelineVersion {
  spec: PipelineSpec;
  /** Absolute path of `<store>/pipelines/<name>/<version>`. */
  dir: string;
}

export { parsePipelineRef, type PipelineRef } from '../../kernel-lib/exporter/names.js';

/** The directory holding every version of pipeline `name`. */
export function pipelineDir(storeRoot: string, name: string): string {
  return join(storeRoot, 'pipelines', validatePipelineName(name));
}

/** The version numbers of `name` present on disk, ascending (empty when the pipeline does not exist). */
export function listVersionNumbers(storeRoot: string, name: string): number[] {
  const dir = pipelineDir(storeRoot, name);
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && /^[1-9]\d{0,8}$/.test(d.name))
    .filter((d) => existsSync(join(dir, d.name, 'pipeline.json')))
    .map((d) => Number(d.name))
    .sort((a, b) => a - b);
}

/** Names of the pipelines that have at least one version in the store, sorted. */
export function listPipelineNames(storeRoot: string): string[] {
  const dir = join(storeRoot, 'pipelines');
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .filter((n) => {
      try {
        return listVersionNumbers(storeRoot, n).length > 0;
      } catch {
        return false; // a directory whose name is not a pipeline name
      }
    })
    .sort();
}

/**
 * Loads a pipeline version from `<store>/pipelines/<name>/<version>/pipeline.json` ('latest' = the highest
 * number present) and checks it.
 *
 * @throws CellarError NOT_FOUND when the pipeline or version does not exist; INVALID_INPUT when pipeline.json
 * is not a runnable spec.
 * @example
 * const { spec, dir } = loadPipelineVersion(store.root, 'driver-training', 'latest')
 */
export function loadPipelineVersion(
  storeRoot: string,
  name: string,
  version: number | 'latest',
): LoadedPipelineVersion {
  const versions = listVersionNumbers(storeRoot, name);
  if (versions.length === 0) {
    throw new CellarError(
      'NOT_FOUND',
      `No pipeline named "${name}" in the store ${storeRoot}. Export one with \`cellar export\`.`,
      { pipeline: name },
    );
  }
  const v = version === 'latest' ? versions[versions.length - 1]! : version;
  if (!versions.includes(v)) {
    throw new CellarError(
      'NOT_FOUND',
      `Pipeline "${name}" has no version ${v} (versions: ${versions.join(', ')}).`,
      { pipeline: name, version: v },
    );
  }
  const dir = join(pipelineDir(storeRoot, name), String(v));
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(join(dir, 'pipeline.json'), 'utf8'));
  } catch (e) {
    throw new CellarError(
      'INVALID_INPUT',
      `Cannot read ${join(dir, 'pipeline.json')}: ${(e as Error).message}. Re-export the pipeline.`,
    );
  }
  const spec = validatePipelineSpec(raw, `${name}@${v}`);
  if (spec.name !== name || spec.version !== v) {
    throw new CellarError(
      'INVALID_INPUT',
      `${join(dir, 'pipeline.json')} describes ${spec.name}@${spec.version}, not ${name}@${v}.`,
    );
  }
  return { spec, dir };
}

/**
 * Checks that `raw` (a parsed pipeline.json) is a spec the runner can execute: known format, plain step
 * names, steps in topological order, inputs produced by upstream steps, files inside the version
 * directory, known parameter types and trigger rules (the one schema of kernel-lib/exporter/spec-schema).
 *
 * @throws CellarError INVALID_INPUT naming what is wrong.
 */
export function validatePipelineSpec(raw: unknown, where = 'spec'): PipelineSpec {
  return parsePipelineSpec(raw, where);
}
