/**
 * store/open — opens the embedded backend of a store directory: the SQLite database (migrated), the blob
 * store, and the tracking and registry stores over them. One backend per directory per process is
 * cached, so every part of a process shares one connection. Opening also marks runs whose process died
 * as KILLED, so no run stays RUNNING after a crash.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { SqliteRegistryStore } from '../registry/sqlite-registry-store.js';
import { SqliteTrackingStore } from '../tracking/sqlite-tracking-store.js';
import { ArtifactStore } from './artifacts.js';
import { openDatabase, type SqliteDb } from './sqlite.js';

/** The embedded backend of one `.cellar/` directory. */
export interface EmbeddedBackend {
  kind: 'sqlite';
  /** Absolute path of the store directory. */
  root: string;
  db: SqliteDb;
  blobs: ArtifactStore;
  tracking: SqliteTrackingStore;
  registry: SqliteRegistryStore;
  /** Closes the connection and forgets the cached backend. */
  close(): void;
}

const cache = new Map<string, EmbeddedBackend>();

/**
 * Opens (creating and migrating if needed) the embedded store at `root`, reusing this process's open
 * connection when there is one.
 *
 * @throws CellarError STORE_CORRUPT / UNSUPPORTED when the database cannot be used.
 */
export function openEmbedded(root: string): EmbeddedBackend {
  const cached = cache.get(root);
  if (cached && cached.db.open) return cached;
  mkdirSync(join(root, 'logs'), { recursive: true });
  mkdirSync(join(root, 'pipelines'), { recursive: true });
  const db = openDatabase(root);
  const blobs = new ArtifactStore(root);
  const backend: EmbeddedBackend = {
    kind: 'sqlite',
    root,
    db,
    blobs,
    tracking: new SqliteTrackingStore(db, blobs),
    registry: new SqliteRegistryStore(db, blobs),
    close() {
      cache.delete(root);
      if (db.open) db.close();
    },
  };
  cache.set(root, backend);
  backend.tracking.reapDeadRunsSync();
  return backend;
}

/** Closes every cached backend (tests, and the end of CLI commands). */
export function closeAllEmbedded(): void {
  for (const b of [...cache.values()]) b.close();
}
