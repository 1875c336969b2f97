/**
 * store/locate — decides where the embedded store lives. Like git, cellar walks up from the working
 * directory to the nearest `.cellar/`; `CELLAR_URI` (like MLflow's tracking URI) or an explicit store
 * (`openStore(uri)`, `useStore`, `featureStore`, `cellar --store`) overrides the search. Both go through the
 * one parser here, `parseStoreUri`: a directory, `sqlite:<dir>` or `sqlite:///path/cellar.db`. `http(s):`
 * URIs name a remote `cellar up` (the REST backend, chosen in kernel-lib/backends.ts); other schemes are
 * refused with a message that says so.
 */
import { existsSync, lstatSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { CellarError } from '../errors.js';

/** Name of the store directory inside a project. */
export const STORE_DIR_NAME = '.cellar';
/** File name of the SQLite database inside the store directory. */
export const DB_FILE_NAME = 'cellar.db';

/** Where a store lives, once resolved. */
export interface StoreLocation {
  /** The kind of backend: `sqlite` (embedded) or `rest` (a remote `cellar up`). */
  kind: 'sqlite' | 'rest';
  /** Absolute path of the store directory (holding cellar.db, …), or the server's URL for `rest`. */
  root: string;
  /** How it was found, for messages: `argument`, `CELLAR_URI`, `search` or `created`. */
  source: 'argument' | 'CELLAR_URI' | 'search' | 'created';
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** True for a symbolic link, even a dangling one or a loop (so a broken `.cellar` link is reported, not skipped). */
function isLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

/** Turns a directory the user named into the store directory: the dir itself if it is a store, else `<dir>/.cellar`. */
function storeDirFor(dir: string): string {
  const abs = resolve(dir);
  if (basename(abs) === STORE_DIR_NAME || existsSync(join(abs, DB_FILE_NAME))) return abs;
  return join(abs, STORE_DIR_NAME);
}

/**
 * Parses a store URI: a directory path, `file:<path>`, or `sqlite:<path>` (`sqlite:///abs/dir` or a path to
 * a `.db` file, whose folder is then the store). Other schemes are not available yet. `what` names the
 * URI's origin in messages (`CELLAR_URI`, `--store`, `openStore`).
 *
 * @throws CellarError UNSUPPORTED for `http(s):`/`postgres:` URIs, INVALID_PARAMETER for an empty or unknown scheme.
 */
export function parseStoreUri(uri: string, what = 'CELLAR_URI'): string {
  const text = uri.trim();
  if (text === '')
    throw new CellarError('INVALID_PARAMETER', `${what} is empty: give a directory or a sqlite: URI.`);
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(text)?.[1]?.toLowerCase();
  if (scheme === undefined || scheme.length === 1 /* a Windows drive letter */) return storeDirFor(text);
  if (scheme === 'sqlite' || scheme === 'file') {
    let path = text.slice(scheme.length + 1);
    if (path.startsWith('//')) path = path.slice(2); // sqlite:///abs/path → /abs/path
    if (path === '') throw new CellarError('INVALID_PARAMETER', `${what} "${uri}" names no path.`);
    path = decodeURIComponent(path);
    if (path.endsWith('.db')) return dirname(resolve(path));
    return storeDirFor(path);
  }
  if (scheme === 'http' || scheme === 'https') {
    throw new CellarError(
      'UNSUPPORTED',
      `CELLAR_URI "${uri}" names a cellar server, not a directory; open it with openStore("${uri}").`,
    );
  }
  if (['postgres', 'postgresql', 'redis'].includes(scheme)) {
    throw new CellarError(
      'UNSUPPORTED',
      `${what} "${redactUri(uri)}" uses the ${scheme}: backend, which this version of cellar does not provide yet. ` +
        'Use a directory path or sqlite:<path> (the embedded store) instead.',
      { scheme },
    );
  }
  throw new CellarError(
    'INVALID_PARAMETER',
    `${what} "${redactUri(uri)}" has an unknown scheme "${scheme}:". Use a directory path (write ./${scheme}:… for a folder whose name has a colon) or sqlite:<path>.`,
    { scheme },
  );
}

/** A URI without its password (`postgres://user:secret@host` → `postgres://user:***@host`), for messages. */
function redactUri(uri: string): string {
  return uri.replace(/^([a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^:/@]*):[^@/]*@/, '$1:***@');
}

/** True when `uri` names a remote `cellar up` server (`http:` or `https:`). */
export function isServerUri(uri: string): boolean {
  return /^https?:\/\//i.test(uri.trim());
}

/**
 * Finds the store for `dir` (explicit: a directory or store URI, as `CELLAR_URI`), else `CELLAR_URI`, else the nearest `.cellar/` above the working
 * directory, else `<cwd>/.cellar` (to be created).
 */

export function locateStore(
  dir?: string,
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
): StoreLocation {
  if (dir !== undefined && dir !== '') {
    if (isServerUri(dir)) return { kind: 'rest', root: dir.trim().replace(/\/+$/, ''), source: 'argument' };
    return { kind: 'sqlite', root: parseStoreUri(dir, 'The store'), source: 'argument' };
  }
  const uri = env.CELLAR_URI;
  if (uri !== undefined && isServerUri(uri))
    return { kind: 'rest', root: uri.trim().replace(/\/+$/, ''), source: 'CELLAR_URI' };
  if (uri !== undefined && uri !== '')
    return { kind: 'sqlite', root: parseStoreUri(uri), source: 'CELLAR_URI' };
  let current = resolve(cwd);
  while (true) {
    const candidate = join(current, STORE_DIR_NAME);
    if (isDir(candidate) || isLink(candidate)) return { kind: 'sqlite', root: candidate, source: 'search' };
    const parent = dirname(current);
    if (parent === current) break;
    current = parent;
  }
  return { kind: 'sqlite', root: join(resolve(cwd), STORE_DIR_NAME), source: 'created' };
}
