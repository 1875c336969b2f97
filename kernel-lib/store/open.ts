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
import { checkStoreRoot, guardStore, rethrowStoreFailure } from './failures.js';
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
  checkStoreRoot(root);
  const db = openDatabase(root);
  let blobs: ArtifactStore;
  try {
    mkdirSync(join(root, 'logs'), { recursive: true });
    mkdirSync(join(root, 'pipelines'), { recursive: true });
    blobs = new ArtifactStore(root);
  } catch (e) {
    db.close();
    rethrowStoreFailure(e, root, 'open the store');
  }
  const backend: EmbeddedBackend = {
    kind: 'sqlite',
    root,
    db,
    blobs,
    // Raw SQLite/file failures of any store method arrive as typed CellarErrors (store/failures.ts).
    tracking: guardStore(new SqliteTrackingStore(db, blobs), root, 'use the run store'),
    registry: guardStore(new SqliteRegistryStore(db, blobs), root, 'use the model registry'),
    close() {
      cache.delete(root);
      if (db.open) db.close();
    },
  };
  try {
    backend.tracking.reapDeadRunsSync();
  } catch (e) {
    db.close();
    throw e;
  }
  cache.set(root, backend);
  return backend;
}

/** Closes every cached backend (tests, and the end of CLI commands). */
export function closeAllEmbedded(): void {
  for (const b of [...cache.values()]) b.close();
}
