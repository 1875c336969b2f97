/**
 * exporter/hash — content addressing of pipeline versions: a canonical JSON form (sorted keys) hashed
 * with SHA-256, and the digest of the dependency lockfile (the nearest package-lock.json above the
 * notebook), so that changing a dependency also makes a new version.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** SHA-256 of a string or bytes, hex. */
export function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** JSON with object keys sorted at every level, so equal values always give equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(v as object).sort()) {
      Object.defineProperty(sorted, k, {
        value: (v as Record<string, unknown>)[k],
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return sorted;
  });
}

/** Hex SHA-256 of the canonical JSON of `value`. */
export function contentHash(value: unknown): string {
  return sha256(canonicalJson(value));
}

/**
 * Finds the nearest `package-lock.json` in `dir` or a folder above it.
 *
 * @returns its path, or null when there is none up to the file-system root.
 */
export function findLockfile(dir: string): string | null {
  let current = resolve(dir);
  while (true) {
    const candidate = join(current, 'package-lock.json');
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here: keep walking up
    }
    const parent = dirname(current);
    if (parent === current) return null;
    current = parent;
  }
}

/** SHA-256 of the nearest package-lock.json above `dir`, or null when there is none. */
export function lockfileDigest(dir: string): string | null {
  const file = findLockfile(dir);
  return file === null ? null : sha256(readFileSync(file));
}
