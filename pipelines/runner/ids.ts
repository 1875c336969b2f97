/**
 * runner/ids — the names that become path components under the store: run ids (a strict pattern so that
 * no user-supplied string can point outside its directory) and their generation; pipeline and step names
 * follow the one rule of kernel-lib/exporter/names, re-exported here.
 */
import { randomBytes } from 'node:crypto';
import { CellarError } from '../../kernel-lib/errors.js';

/**
 * A run id: letters, digits and `_ . : + -`, starting with a letter or digit, at most 200 characters, and no
 * `..` — strict enough to be a directory name, loose enough for Airflow's ids
 * (`scheduled__2024-01-01T00:00:00+00:00`).
 */
export const RUN_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:+-]{0,199}$/;
/** Pipeline and step names: the one rule of kernel-lib/exporter/names (what the exporter accepts runs). */
export {
  NAME_PATTERN as PIPELINE_NAME_PATTERN,
  NAME_PATTERN as STEP_NAME_PATTERN,
} from '../../kernel-lib/exporter/names.js';
export { validatePipelineName, validateStepName } from '../../kernel-lib/exporter/names.js';

function check(kind: string, value: unknown, pattern: RegExp, rule: string): string {
  if (typeof value !== 'string' || !pattern.test(value) || value.includes('..')) {
    throw new CellarError(
      'INVALID_PARAMETER',
      `Invalid ${kind} ${JSON.stringify(value)}: ${rule} (no "/", no "..").`,
      { kind, value },
    );
  }
  return value;
}

/**
 * Checks a pipeline run id (from the command line or the Airflow DAG) before it is used as a path.
 *
 * @throws CellarError INVALID_PARAMETER for `../x`, `a/b`, empty or overlong ids.
 */
export function validateRunId(runId: unknown): string {
  return check('run id', runId, RUN_ID_PATTERN, 'use letters, digits and _ . : + - (at most 200)');
}

/** A new run id for a run created by cellar itself: `<type>__<ISO logical date>__<random>`. */
export function newRunId(type: string, logicalDate: number): string {
  const stamp = new Date(logicalDate).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return `${type}__${stamp}__${randomBytes(4).toString('hex')}`;
}
