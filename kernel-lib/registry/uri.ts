/**
 * registry/uri — parses the model URIs users pass to `loadModel`: `models:/<name>@<alias>`,
 * `models:/<name>/<version>`, `models:/<name>/latest` and `runs:/<run id>/<artifact path>` (MLflow's forms).
 */
import { CellarError } from '../errors.js';

/** A parsed model URI. */
export type ModelUri =
  | { kind: 'alias'; name: string; alias: string }
  | { kind: 'version'; name: string; version: number }
  | { kind: 'latest'; name: string }
  | { kind: 'run'; runId: string; artifactPath: string };

const HELP =
  'Use models:/<name>@<alias>, models:/<name>/<version>, models:/<name>/latest or runs:/<run id>/model.';

/**
 * Parses a model URI.
 *
 * @throws CellarError INVALID_PARAMETER saying which forms are accepted.
 */
export function parseModelUri(uri: unknown): ModelUri {
  if (typeof uri !== 'string' || uri.trim() === '') {
    throw new CellarError('INVALID_PARAMETER', `A model URI must be a non-empty string. ${HELP}`);
  }
  const text = uri.trim();
  if (text.startsWith('models:/')) {
    const rest = text.slice('models:/'.length);
    const at = rest.lastIndexOf('@');
    if (at > 0 && !rest.slice(at).includes('/')) {
      const name = rest.slice(0, at);
      const alias = rest.slice(at + 1);
      if (alias === '')
        throw new CellarError('INVALID_PARAMETER', `Model URI "${uri}" has an empty alias. ${HELP}`);
      return { kind: 'alias', name, alias };
    }
    const slash = rest.lastIndexOf('/');
    if (slash > 0) {
      const name = rest.slice(0, slash);
      const ref = rest.slice(slash + 1);
      if (ref.toLowerCase() === 'latest') return { kind: 'latest', name };
      if (/^\d+$/.test(ref) && Number(ref) >= 1 && Number.isSafeInteger(Number(ref))) {
        return { kind: 'version', name, version: Number(ref) };
      }
      throw new CellarError(
        'INVALID_PARAMETER',
        `Model URI "${uri}": "${ref}" is not a version number. ${HELP}`,
      );
    }
    throw new CellarError('INVALID_PARAMETER', `Model URI "${uri}" names no version or alias. ${HELP}`);
  }
  if (text.startsWith('runs:/')) {
    const rest = text.slice('runs:/'.length);
    const slash = rest.indexOf('/');
    const runId = slash < 0 ? rest : rest.slice(0, slash);
    const artifactPath = slash < 0 ? 'model' : rest.slice(slash + 1) || 'model';
    if (runId === '') throw new CellarError('INVALID_PARAMETER', `Model URI "${uri}" names no run. ${HELP}`);
    return { kind: 'run', runId, artifactPath };
  }
  throw new CellarError('INVALID_PARAMETER', `Unknown model URI "${uri}". ${HELP}`);
}
