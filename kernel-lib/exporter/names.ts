/**
 * exporter/names — the one rule for the names of pipelines and steps, pipeline versions and `name@version`
 * references, used by the exporter, the runner, the scheduler, the CLI and the extension's checks alike: a
 * name the exporter accepts always runs. Names become folder names under the store, so the rule is strict
 * (no `/`, no `..`, no upper case, which would clash on case-insensitive file systems).
 */
import { CellarError } from '../errors.js';

/** Names of pipelines and steps: 1-64 lower-case letters, digits, `_` and `-`, starting with a letter or digit. */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** The rule in words, for messages. */
export const NAME_RULE = 'use 1-64 lower-case letters, digits, "_" or "-", starting with a letter or digit';

/** A suggestion for an invalid name: lower-cased, other characters turned into `-`. */
export function suggestName(name: string): string {
  const s = name
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^[-_]+/, '')
    .slice(0, 64);
  return s === '' ? 'step-1' : s;
}

function checkName(kind: 'Pipeline' | 'Step', name: unknown): string {
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
    const shown = typeof name === 'string' ? JSON.stringify(name) : String(name);
    throw new CellarError(
      'INVALID_PARAMETER',
      `${kind} name ${shown} is not valid: ${NAME_RULE}` +
        `${typeof name === 'string' ? ` (e.g. "${suggestName(name)}")` : ''}.`,
      { name: typeof name === 'string' ? name : null },
    );
  }
  return name;
}

/**
 * Checks a pipeline name (see {@link NAME_PATTERN}).
 *
 * @example
 * validatePipelineName('driver-training') // 'driver-training'
 * @throws CellarError INVALID_PARAMETER naming the rule it breaks.
 */
export function validatePipelineName(name: unknown): string {
  return checkName('Pipeline', name);
}

/**
 * Checks a step name (the `<name>` of a `step:<name>` cell tag; see {@link NAME_PATTERN}).
 *
 * @throws CellarError INVALID_PARAMETER naming the rule it breaks.
 */
export function validateStepName(name: unknown): string {
  return checkName('Step', name);
}

/** A pipeline reference: `name`, `name@3` or `name@latest`. */
export interface PipelineRef {
  name: string;
  version: number | 'latest';
}

/**
 * Checks a version given by a user: a whole number from 1 (or its text, `3` or `v3`), or `latest`.
 *
 * @throws CellarError INVALID_PARAMETER otherwise.
 */
export function validatePipelineVersion(version: unknown): number | 'latest' {
  if (version === 'latest') return 'latest';
  const m = typeof version === 'string' ? /^v?([1-9]\d{0,8})$/.exec(version) : null;
  const n = m ? Number(m[1]) : version;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) {
    throw new CellarError(
      'INVALID_PARAMETER',
      `Pipeline version ${JSON.stringify(version) ?? String(version)} is not valid: use a number from 1 ` +
        '(name@3) or "latest".',
    );
  }
  return n;
}

/**
 * Parses `name`, `name@<version>` (`name@3`, `name@v3`) or `name@latest`.
 *
 * @example
 * parsePipelineRef('driver-training@2') // { name: 'driver-training', version: 2 }
 * @throws CellarError INVALID_PARAMETER for a bad name or version.
 */
export function parsePipelineRef(ref: string): PipelineRef {
  if (typeof ref !== 'string') return { name: validatePipelineName(ref), version: 'latest' };
  const at = ref.lastIndexOf('@');
  if (at < 0) return { name: validatePipelineName(ref), version: 'latest' };
  return {
    name: validatePipelineName(ref.slice(0, at)),
    version: validatePipelineVersion(ref.slice(at + 1)),
  };
}
