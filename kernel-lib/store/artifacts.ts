/**
 * store/artifacts — the content-addressed file store under `.cellar/artifacts/`. Every blob is named by its
 * SHA-256, written to a temp file, fsynced and renamed into place, so a crash never leaves a partial blob
 * under a real name. Reads re-check that the file stays inside the store and still has its digest.
 * Also owns the validation of the user-facing artifact paths (no `..`, no absolute paths, no encoded dots).
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  readdirSync,
  realpathSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';
import { CellarError } from '../errors.js';

/** Default largest artifact accepted (1 GiB); `CELLAR_MAX_ARTIFACT_BYTES` overrides. */
export const DEFAULT_MAX_ARTIFACT_BYTES = 1024 * 1024 * 1024;

/** A stored blob: its SHA-256 (hex) and size in bytes. */
export interface BlobRef {
  digest: string;
  size: number;
}

function decodeRepeatedly(text: string): string {
  let current = text;
  for (let i = 0; i < 4; i++) {
    let next: string;
    try {
      next = decodeURIComponent(current);
    } catch {
      return current; // not percent-encoded text (e.g. "100%.txt"): take it literally
    }
    if (next === current) return current;
    current = next;
  }
  return current;
}

/**
 * Checks a user-given artifact path (the name an artifact gets inside a run) and returns it normalised.
 * Relative POSIX paths only: no `..` or `.` segments (also when percent-encoded, e.g. `%2e%2e`), no
 * absolute paths, backslashes, NUL bytes or empty segments.
 *
 * @throws CellarError INVALID_PATH naming the path and the rule it breaks.
 */
export function validateArtifactPath(path: unknown): string {
  if (typeof path !== 'string' || path.trim() === '') {
    throw new CellarError(
      'INVALID_PATH',
      'An artifact path must be a non-empty string such as "model/model.json".',
    );
  }
  if (path.length > 1024) {
    throw new CellarError(
      'INVALID_PATH',
      `Artifact path is ${path.length} characters long; the limit is 1024.`,
    );
  }
  const decoded = decodeRepeatedly(path);
  for (const candidate of [path, decoded]) {
    if (candidate.includes('\0'))
      throw new CellarError('INVALID_PATH', `Artifact path ${JSON.stringify(path)} contains a NUL byte.`);
    if (candidate.includes('\\')) {
      throw new CellarError(
        'INVALID_PATH',
        `Artifact path ${JSON.stringify(path)} contains a backslash; use "/" between folders.`,
      );
    }
    if (candidate.startsWith('/') || /^[a-zA-Z]:/.test(candidate)) {
      throw new CellarError(
        'INVALID_PATH',
        `Artifact path ${JSON.stringify(path)} is absolute; give a path relative to the run, e.g. "plots/loss.png".`,
      );
    }
    const segments = candidate.replace(/\/+$/, '').split('/');
    for (const s of segments) {
      if (s === '..' || s === '.') {
        throw new CellarError(
          'INVALID_PATH',
          `Artifact path ${JSON.stringify(path)} may not contain "${s}" segments.`,
        );
      }
      if (s === '')
        throw new CellarError(
          'INVALID_PATH',
          `Artifact path ${JSON.stringify(path)} has an empty segment ("//").`,
        );
    }
  }
  return path.replace(/\/+$/, '');
}

/** Reads `CELLAR_MAX_ARTIFACT_BYTES` or the default. */
export function maxArtifactBytesFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.CELLAR_MAX_ARTIFACT_BYTES;
  if (raw === undefined || raw === '') return DEFAULT_MAX_ARTIFACT_BYTES;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n <= 0) {
    throw new CellarError(
      'INVALID_PARAMETER',
      `CELLAR_MAX_ARTIFACT_BYTES must be a positive integer, got "${raw}".`,
    );
  }
  return n;
}

/** The content-addressed blob store of one `.cellar/` directory. */
export class ArtifactStore {
  /** Absolute directory holding the blobs. */
  readonly root: string;
  /** Largest blob accepted, in bytes. */
  readonly maxBytes: number;
  private readonly tmpDir: string;

  /** Opens (creating folders as needed) the blob store under `<storeRoot>/artifacts`. */
  constructor(storeRoot: string, opts: { maxBytes?: number } = {}) {
    this.root = join(storeRoot, 'artifacts');
    this.tmpDir = join(this.root, 'tmp');
    this.maxBytes = opts.maxBytes ?? maxArtifactBytesFromEnv();
    mkdirSync(this.tmpDir, { recursive: true });
  }

  /** Absolute path where the blob with `digest` lives. */
  pathOf(digest: string): string {
    if (!/^[0-9a-f]{64}$/.test(digest))
      throw new CellarError('INVALID_INPUT', `"${digest}" is not a SHA-256 digest.`);
    return join(this.root, 'sha256', digest.slice(0, 2), digest);
  }

  /** True when the blob is stored. */
  has(digest: string): boolean {
    return existsSync(this.pathOf(digest));
  }

  private tooLarge(size: number, what: string): CellarError {
    return new CellarError(
      'RESOURCE_TOO_LARGE',
      `${what} is ${size} bytes, over the artifact limit of ${this.maxBytes} bytes. ` +
        'Store large data elsewhere or raise CELLAR_MAX_ARTIFACT_BYTES.',
      { size, limit: this.maxBytes },
    );
  }

  /** Stores bytes; returns their digest and size. Idempotent: the same bytes are stored once. */
  putBytes(data: Uint8Array | string): BlobRef {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    if (bytes.byteLength > this.maxBytes) throw this.tooLarge(bytes.byteLength, 'The artifact');
    const digest = createHash('sha256').update(bytes).digest('hex');
    if (!this.has(digest)) {
      this.commit(digest, (fd) => {
        let off = 0;
        while (off < bytes.byteLength) off += writeSync(fd, bytes, off, bytes.byteLength - off);
      });
    }
    return { digest, size: bytes.byteLength };
  }

  /**
   * Checks that a local file can be stored (exists, is a regular file, within the size limit) without
   * storing it.
   *
   * @throws CellarError NOT_FOUND, INVALID_INPUT, RESOURCE_TOO_LARGE
   */
  checkFile(file: string): void {
    let st;
    try {
      st = statSync(file);
    } catch {
      throw new CellarError('NOT_FOUND', `No file at ${file}: check the path you passed to logArtifact.`);
    }
    if (!st.isFile()) throw new CellarError('INVALID_INPUT', `${file} is not a regular file.`);
    if (st.size > this.maxBytes) throw this.tooLarge(st.size, file);
  }

  /** Stores a local file by streaming it (never fully in memory); returns its digest and size. */
  putFile(file: string): BlobRef {
    this.checkFile(file);
    const hash = createHash('sha256');
    const tmp = this.tmpName();
    const out = openSync(tmp, 'wx', 0o644);
    let size = 0;
    try {
      const input = openSync(file, 'r');
      try {
        const buf = Buffer.allocUnsafe(1 << 20);
        while (true) {
          const n = readSync(input, buf, 0, buf.length, null);
          if (n === 0) break;
          size += n;
          if (size > this.maxBytes) throw this.tooLarge(size, file);
          hash.update(buf.subarray(0, n));
          let off = 0;
          while (off < n) off += writeSync(out, buf, off, n - off);
        }
      } finally {
        closeSync(input);
      }
      fsyncSync(out);
    } catch (e) {
      closeSync(out);
      unlinkSync(tmp);
      throw e;
    }
    closeSync(out);
    const digest = hash.digest('hex');
    this.place(tmp, digest);
    return { digest, size };
  }

  /**
   * Reads a blob, checking that it resolves inside the store (no symlink escapes) and still has its digest.
   *
   * @throws CellarError NOT_FOUND when missing, STORE_CORRUPT when altered or escaping the store.
   */
  read(digest: string): Buffer {
    const p = this.pathOf(digest);
    if (!existsSync(p))
      throw new CellarError('NOT_FOUND', `Artifact blob ${digest} is missing from ${this.root}.`);
    const real = realpathSync(p);
    const rootReal = realpathSync(this.root);
    if (!isInside(rootReal, real) || lstatSync(p).isSymbolicLink()) {
      throw new CellarError(
        'STORE_CORRUPT',
        `Artifact blob ${digest} points outside the artifact store; refusing to read it.`,
      );
    }
    const data = readFileSync(real);
    if (createHash('sha256').update(data).digest('hex') !== digest) {
      throw new CellarError(
        'STORE_CORRUPT',
        `Artifact blob ${digest} no longer matches its digest (altered on disk).`,
      );
    }
    return data;
  }

  private tmpName(): string {
    return join(this.tmpDir, `${process.pid}-${randomBytes(8).toString('hex')}.tmp`);
  }

  private commit(digest: string, write: (fd: number) => void): void {
    const tmp = this.tmpName();
    const fd = openSync(tmp, 'wx', 0o644);
    try {
      write(fd);
      fsyncSync(fd);
    } catch (e) {
      closeSync(fd);
      unlinkSync(tmp);
      throw e;
    }
    closeSync(fd);
    this.place(tmp, digest);
  }

  private place(tmp: string, digest: string): void {
    const target = this.pathOf(digest);
    const dir = join(this.root, 'sha256', digest.slice(0, 2));
    if (existsSync(target)) {
      unlinkSync(tmp);
      return;
    }
    mkdirSync(dir, { recursive: true });
    renameSync(tmp, target);
    const dfd = openSync(dir, 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  }
}

/** True when `target` is `root` or below it (a name such as `..hidden` is inside; `../x` is not). */
function isInside(root: string, target: string): boolean {
  const rel = relative(root, target);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/**
 * Lists the regular files under a local directory as (relative path, absolute path) pairs, refusing symlinks
 * that lead outside it.
 *
 * @throws CellarError INVALID_PATH when a symlink escapes the directory.
 */
export function listLocalDirectory(dir: string): Array<{ rel: string; abs: string }> {
  const rootReal = realpathSync(dir);
  const out: Array<{ rel: string; abs: string }> = [];
  const walk = (current: string, prefix: string): void => {
    for (const name of readdirSync(current).sort()) {
      const abs = join(current, name);
      const rel = prefix === '' ? name : `${prefix}/${name}`;
      const real = realpathSync(abs);
      if (!isInside(rootReal, real)) {
        throw new CellarError(
          'INVALID_PATH',
          `${abs} is a symlink leading outside ${dir} (to ${real}); cellar does not follow links out of an artifact folder.`,
        );
      }
      const st = statSync(real);
      if (st.isDirectory()) walk(abs, rel);
      else if (st.isFile()) out.push({ rel, abs: real });
    }
  };
  walk(rootReal, '');
  return out;
}
