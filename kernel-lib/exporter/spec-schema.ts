/**
 * exporter/spec-schema — the declared shape of a stored pipeline version (spec.ts) as a zod schema, and the
 * one check every reader uses on a spec read back from disk or from the store (the exporter's store, the
 * runner, the scheduler): types and ranges, plain step names, files inside the version folder, steps in
 * topological order, inputs produced by upstream steps, metrics produced by a step. Errors are
 * `INVALID_INPUT` naming the field (`steps.0.triggerRule: …`). Fields it does not know are kept (a newer
 * cellar may add some), never dropped.
 */
import { isAbsolute, normalize, sep } from 'node:path';
import { z } from 'zod';
import { CellarError } from '../errors.js';
import { NAME_PATTERN, NAME_RULE } from './names.js';
import type { PipelineSpec } from './spec.js';

const name = z.string().regex(NAME_PATTERN, NAME_RULE);
const count = z.number().int().min(0);
const insideVersion = z
  .string()
  .min(1)
  .refine((p) => !isAbsolute(p) && !normalize(p).split(sep).includes('..'), {
    message: 'must be a path inside the version directory',
  });

const stepSchema = z
  .object({
    name,
    upstream: z.array(name),
    inputs: z.record(z.string(), name),
    outputs: z.array(z.string()),
    parameters: z.array(z.string()),
    file: insideVersion,
    sourceFile: z.string().default(''),
    cells: z.array(count).default([]),
    retries: count.default(0),
    timeoutMs: count.default(0),
    triggerRule: z
      .enum(['all_success', 'all_done', 'one_failed'], {
        message: 'triggerRule must be all_success, all_done or one_failed',
      })
      .default('all_success'),
  })
  .loose(); // fields added by later versions of cellar are kept, not dropped

/** The zod schema of a stored pipeline version (`pipeline.json`, `pipeline_versions.spec_json`). */
export const pipelineSpecSchema = z
  .object({
    format: z.literal('cellar-pipeline'),
    formatVersion: z.literal(1),
    name,
    version: z.number().int().min(1),
    hash: z.string(),
    createdAt: z.string(),
    schedule: z.string().nullable(),
    catchup: z.boolean().default(false),
    maxActiveRuns: z.number().int().min(1).default(1),
    parameters: z.array(
      z.object({
        name: z.string().min(1),
        type: z.enum(['number', 'string', 'boolean', 'json'], {
          message: 'parameter type must be number, string, boolean or json',
        }),
        default: z.unknown(),
      }),
    ),
    metrics: z.array(z.object({ name: z.string(), step: name })).default([]),
    steps: z.array(stepSchema).min(1, 'steps must be a non-empty array'),
    lockfileDigest: z.string().nullable().default(null),
    source: z
      .object({ notebookPath: z.string().nullable(), notebookDigest: z.string() })
      .default({ notebookPath: null, notebookDigest: '' }),
  })
  .loose()
  .superRefine((spec, ctx) => {
    const seen = new Set<string>();
    for (const p of spec.parameters) {
      if (seen.has(p.name))
        ctx.addIssue({
          code: 'custom',
          path: ['parameters'],
          message: `parameter "${p.name}" is declared twice`,
        });
      seen.add(p.name);
    }
    const earlier = new Set<string>();
    spec.steps.forEach((s, i) => {
      if (earlier.has(s.name))
        ctx.addIssue({
          code: 'custom',
          path: ['steps', i, 'name'],
          message: `step "${s.name}" appears twice`,
        });
      for (const u of s.upstream) {
        if (!earlier.has(u)) {
          ctx.addIssue({
            code: 'custom',
            path: ['steps', i, 'upstream'],
            message: `upstream step "${u}" is not an earlier step (steps must be in topological order)`,
          });
        }
      }
      for (const [v, from] of Object.entries(s.inputs)) {
        if (!s.upstream.includes(from)) {
          ctx.addIssue({
            code: 'custom',
            path: ['steps', i, 'inputs', v],
            message: `input "${v}" comes from "${from}", which is not one of its upstream steps`,
          });
        }
      }
      earlier.add(s.name);
    });
    spec.metrics.forEach((m, i) => {
      if (!earlier.has(m.step)) {
        ctx.addIssue({
          code: 'custom',
          path: ['metrics', i, 'step'],
          message: `metric "${m.name}" names no step`,
        });
      }
    });
  });

/**
 * Checks a stored pipeline spec (parsed JSON) and returns it with defaults applied.
 *
 * @param where what is being read, for the message (e.g. `driver-training@3`).
 * @throws CellarError INVALID_INPUT naming each wrong field (at most 5) and saying to re-export.
 */
export function parsePipelineSpec(raw: unknown, where = 'spec'): PipelineSpec {
  const result = pipelineSpecSchema.safeParse(raw);
  if (result.success) return result.data as PipelineSpec;
  const issues = result.error.issues.slice(0, 5).map((i) => {
    const path = i.path.map(String).join('.');
    return path === '' ? i.message : `${path}: ${i.message}`;
  });
  const more = result.error.issues.length > 5 ? ` (and ${result.error.issues.length - 5} more)` : '';
  throw new CellarError(
    'INVALID_INPUT',
    `Pipeline ${where} is not a valid pipeline version: ${issues.join('; ')}${more}. Re-export the pipeline.`,
    {
      where,
      issues: result.error.issues.slice(0, 20).map((i) => ({ path: i.path.map(String), message: i.message })),
    },
  );
}
