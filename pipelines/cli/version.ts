/**
 * cli/version — the version `cellar --version` prints: the `version` of the cellar package.json this CLI
 * belongs to (found next to the package root the bin script names, else by the package's own name).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRequire } from '../../kernel-lib/lazy/load.js';

function readVersion(file: string): string | null {
  try {
    const json = JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown };
    return json.name === 'cellar' && typeof json.version === 'string' ? json.version : null;
  } catch {
    return null;
  }
}

/** The installed cellar's version, e.g. `0.1.0` (`unknown` when no package.json can be found). */
export function packageVersion(env: NodeJS.ProcessEnv = process.env): string {
  const root = env.CELLAR_PACKAGE_ROOT;
  const fromRoot = root ? readVersion(join(root, 'package.json')) : null;
  if (fromRoot !== null) return fromRoot;
  try {
    return readVersion(packageRequire().resolve('cellar/package.json')) ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
