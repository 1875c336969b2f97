/**
 * monitoring/resolve — turns the model references users type (`driver@champion`, `driver/3`, `driver`,
 * `models:/driver@champion`) into a registered version.
 */
import type { CellarStore } from '../client.js';
import { CellarError } from '../errors.js';
import type { ModelVersion } from '../registry/types.js';
import { parseModelUri } from '../registry/uri.js';

/**
 * The version a model reference names: `name@alias`, `name/<version>`, `name` (latest) or a `models:/` URI.
 *
 * @throws CellarError NOT_FOUND for an unknown model, alias or version; INVALID_PARAMETER for a bad reference
 */
export async function resolveModelVersion(store: CellarStore, ref: string): Promise<ModelVersion> {
  if (typeof ref !== 'string' || ref.trim() === '') {
    throw new CellarError(
      'INVALID_PARAMETER',
      'A model reference looks like driver@champion, driver/3 or driver.',
    );
  }
  const text = ref.trim();
  const uri = text.startsWith('models:/')
    ? text
    : `models:/${text.includes('@') || text.includes('/') ? text : `${text}/latest`}`;
  const parsed = parseModelUri(uri);
  if (parsed.kind === 'alias') return store.registry.getModelVersionByAlias(parsed.name, parsed.alias);
  if (parsed.kind === 'version') return store.registry.getModelVersion(parsed.name, parsed.version);
  if (parsed.kind === 'latest') {
    const model = await store.registry.getRegisteredModel(parsed.name);
    if (model.latestVersion === null)
      throw new CellarError('NOT_FOUND', `Model "${parsed.name}" has no versions.`);
    return store.registry.getModelVersion(parsed.name, model.latestVersion);
  }
  throw new CellarError(
    'INVALID_PARAMETER',
    `Monitoring needs a registered model (driver@champion), not ${ref}.`,
  );
}
