/**
 * tests/helpers/tmp — temporary directories for tests, removed afterwards, and paths to the built package.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** The repository root. */
export const REPO_ROOT = resolve(__dirname, '..', '..');

/** Creates a fresh temp dir; `cleanup()` removes every dir made so far. */
export function makeTmp(prefix = 'cellar-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}
const made: string[] = [];

/** Removes the temp dirs made by this test file. */
export function cleanupTmp(): void {
  while (made.length > 0) rmSync(made.pop()!, { recursive: true, force: true });
}

/** Absolute path of the built ESM entry; throws a clear error when the package is not built. */
export function builtEntry(): string {
  const p = join(REPO_ROOT, 'dist', 'esm', 'kernel-lib', 'index.js');
  if (!existsSync(p))
    throw new Error(`${p} is missing: run \`npm run build\` before the tests (npm test does).`);
  return p;
}
