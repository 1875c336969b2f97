/**
 * runner/version — reads exported pipeline versions from the store's files
 * (`<store>/pipelines/<name>/<version>/pipeline.json`, the layout of kernel-lib/exporter/spec.ts) and checks
 * that a spec is something the runner can execute. The runner and the exporter share only these files.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { isAbsolute, join, normalize, sep } from 'node:path';
import { CellarError } from '../../kernel-lib/errors.js';
import type { PipelineSpec, StepSpec } from '../../kernel-lib/exporter/spec.js';
import { validatePipelineName, validateStepName } from './ids.js';

/** A pipeline version as loaded from disk: its spec and its directory. */
export interface LoadedPipelineVersion {
  spec: PipelineSpec;
  /** Absolute path of `<store>/pipelines/<name>/<version>`. */
  dir: string;
}

/** A `name[@version]` reference as typed on the command line. */
export interface PipelineRef {
  name: string;
  version: number | 'latest';
}

const PARAM_TYPES = new Set(['number', 'string', 'boolean', 'json']);
const TRIGGER_RULES = new Set(['all_success', 'all_done', 'one_failed']);

/**
 * Parses `name`, `name@3`, `name@v3` or `name@latest`.
 *
 * @throws CellarError INVALID_PARAMETER for a malformed reference.
 * @example
 * parsePipelineRef('driver-training@2') // { name: 'driver-training', version: 2 }
 */
export function parsePipelineRef(ref: string): PipelineRef {
  const at = ref.lastIndexOf('@');
  const name = validatePipelineName(at < 0 ? ref : ref.slice(0, at));
  if (at < 0) return { name, version: 'latest' };
  const v = ref.slice(at + 1);
  if (v === 'latest') return { name, version: 'latest' };
  const m = /^v?([1-9]\d{0,8})$/.exec(v);
  if (!m) {
    throw new CellarError(
      'INVALID_PARAMETER',
      `Invalid pipeline version "${v}" in "${ref}": use a number (name@3) or name@latest.`,
    );
  }
  return { name, version: Number(m[1]) };
}

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

function fail(where: string, what: string): never {
  throw new CellarError('INVALID_INPUT', `Pipeline ${where}: ${what}. Re-export the pipeline.`);
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function relativeFile(where: string, field: string, v: unknown): string {
  if (typeof v !== 'string' || v === '' || isAbsolute(v) || normalize(v).split(sep).includes('..')) {
    fail(where, `${field} must be a path inside the version directory, got ${JSON.stringify(v)}`);
  }
  return v;
}

function nonNegInt(where: string, field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    fail(where, `${field} must be a whole number ≥ 0, got ${JSON.stringify(v)}`);
  }
  return v;
}

function checkStep(where: string, s: unknown, earlier: Set<string>): StepSpec {
  if (!isRecord(s)) fail(where, 'every step must be an object');
  const name = validateStepName(s.name);
  const at = `${where} step "${name}"`;
  if (earlier.has(name)) fail(where, `step "${name}" appears twice`);
  if (!Array.isArray(s.upstream) || !s.upstream.every((u) => typeof u === 'string')) {
    fail(at, 'upstream must be an array of step names');
  }
  for (const u of s.upstream as string[]) {
    if (!earlier.has(u))
      fail(at, `upstream step "${u}" is not an earlier step (steps must be in topological order)`);
  }
  if (!isRecord(s.inputs)) fail(at, 'inputs must be an object { name: producing step }');
  for (const [v, from] of Object.entries(s.inputs)) {
    if (typeof from !== 'string' || !(s.upstream as string[]).includes(from)) {
      fail(at, `input "${v}" comes from "${String(from)}", which is not one of its upstream steps`);
    }
  }
  const names = (k: string): string[] => {
    const v = s[k];
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string'))
      fail(at, `${k} must be an array of names`);
    return v as string[];
  };
  const triggerRule = s.triggerRule ?? 'all_success';
  if (typeof triggerRule !== 'string' || !TRIGGER_RULES.has(triggerRule)) {
    fail(at, `triggerRule must be all_success, all_done or one_failed, got ${JSON.stringify(triggerRule)}`);
  }
  return {
    name,
    upstream: [...(s.upstream as string[])],
    inputs: { ...(s.inputs as Record<string, string>) },
    outputs: names('outputs'),
    parameters: names('parameters'),
    file: relativeFile(at, 'file', s.file),
    sourceFile: typeof s.sourceFile === 'string' ? s.sourceFile : '',
    cells: Array.isArray(s.cells) ? (s.cells as number[]) : [],
    retries: nonNegInt(at, 'retries', s.retries ?? 0),
    timeoutMs: nonNegInt(at, 'timeoutMs', s.timeoutMs ?? 0),
    triggerRule: triggerRule as StepSpec['triggerRule'],
  };
}

/**
 * Checks that `raw` (a parsed pipeline.json) is a spec the runner can execute: known format, plain step
 * names, steps in topological order, inputs produced by upstream steps, files inside the version
 * directory, known parameter types and trigger rules.
 *
 * @throws CellarError INVALID_INPUT naming what is wrong.
 */
export function validatePipelineSpec(raw: unknown, where = 'spec'): PipelineSpec {
  if (!isRecord(raw)) fail(where, 'pipeline.json must hold an object');
  if (raw.format !== 'cellar-pipeline' || raw.formatVersion !== 1) {
    fail(where, `unknown format ${JSON.stringify(raw.format)} version ${JSON.stringify(raw.formatVersion)}`);
  }
  validatePipelineName(raw.name);
  if (typeof raw.version !== 'number' || !Number.isSafeInteger(raw.version) || raw.version < 1) {
    fail(where, 'version must be a whole number ≥ 1');
  }
  if (raw.schedule !== null && typeof raw.schedule !== 'string')
    fail(where, 'schedule must be a string or null');
  const maxActiveRuns = raw.maxActiveRuns ?? 1;
  if (typeof maxActiveRuns !== 'number' || !Number.isSafeInteger(maxActiveRuns) || maxActiveRuns < 1) {
    fail(where, 'maxActiveRuns must be a whole number ≥ 1');
  }
  if (!Array.isArray(raw.parameters)) fail(where, 'parameters must be an array');
  const seen = new Set<string>();
  for (const p of raw.parameters) {
    if (
      !isRecord(p) ||
      typeof p.name !== 'string' ||
      typeof p.type !== 'string' ||
      !PARAM_TYPES.has(p.type)
    ) {
      fail(where, `parameter ${JSON.stringify(p)} needs a name and a type (number, string, boolean or json)`);
    }
    if (seen.has(p.name)) fail(where, `parameter "${p.name}" is declared twice`);
    seen.add(p.name);
  }
  if (!Array.isArray(raw.steps) || raw.steps.length === 0) fail(where, 'steps must be a non-empty array');
  const earlier = new Set<string>();
  const steps = raw.steps.map((s) => {
    const step = checkStep(where, s, earlier);
    earlier.add(step.name);
    return step;
  });
  const metrics = Array.isArray(raw.metrics) ? raw.metrics : [];
  for (const m of metrics) {
    if (!isRecord(m) || typeof m.name !== 'string' || typeof m.step !== 'string' || !earlier.has(m.step)) {
      fail(where, `metric ${JSON.stringify(m)} must name a value and the step that produces it`);
    }
  }
  return {
    ...(raw as unknown as PipelineSpec),
    catchup: raw.catchup === true,
    maxActiveRuns,
    metrics: metrics as PipelineSpec['metrics'],
    steps,
  };
}
