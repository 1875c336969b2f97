/**
 * lazy/spec-schema — `parsePipelineSpec` loaded on its first call: the spec's zod schema (and zod itself, ~0.2 s)
 * is only needed when a pipeline version is read, not when the CLI starts.
 */
import type * as SpecSchema from '../exporter/spec-schema.js';
import { packageRequire } from './load.js';

let loaded: typeof SpecSchema | undefined;

/** {@inheritDoc SpecSchema.parsePipelineSpec} */
export const parsePipelineSpec: typeof SpecSchema.parsePipelineSpec = (...args) => {
  loaded ??= packageRequire()('../exporter/spec-schema.js') as typeof SpecSchema;
  return loaded.parsePipelineSpec(...args);
};
