/**
 * backends — the composition root of the SDK's stores: the one place that picks a backend by the kind of
 * location (`CELLAR_URI` scheme): a directory or `sqlite:` → the embedded SQLite store; `http(s):` → the
 * REST client of a remote `cellar up`. Callers take the domain interfaces and never look at the kind.
 */
import type { ModelRegistryStore } from './registry/types.js';
import { RestRegistryStore, RestTrackingStore } from './rest/client-store.js';
import { RestClient } from './rest/http-client.js';
import type { StoreLocation } from './store/locate.js';
import { openEmbedded, type EmbeddedBackend } from './store/open.js';
import type { TrackingStore } from './tracking/types.js';

/** The REST backend: a remote `cellar up` reached over HTTP. */
export interface RestBackend {
  kind: 'rest';
  /** The server's base URL. */
  root: string;
  http: RestClient;
  tracking: TrackingStore;
  registry: ModelRegistryStore;
  /** Nothing to close (HTTP is stateless); kept for symmetry with the embedded backend. */
  close(): void;
}

/** Any backend an SDK store may wrap. */
export type StoreBackend = EmbeddedBackend | RestBackend;

/**
 * Opens the backend a location names. The REST backend takes its token from `CELLAR_TOKEN`.
 *
 * @throws CellarError STORE_CORRUPT / UNSUPPORTED when an embedded database cannot be used.
 */
export function openBackend(location: StoreLocation, env: NodeJS.ProcessEnv = process.env): StoreBackend {
  if (location.kind === 'rest') {
    const http = new RestClient({ url: location.root, token: env.CELLAR_TOKEN });
    return {
      kind: 'rest',
      root: http.url,
      http,
      tracking: new RestTrackingStore(http),
      registry: new RestRegistryStore(http),
      close() {},
    };
  }
  return openEmbedded(location.root);
}
