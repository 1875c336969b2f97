/**
 * runner/worker-path — finds the compiled worker script the pool forks. Library code cannot use
 * `import.meta` or `__dirname` (the same sources compile to ESM and CommonJS), so the location comes from,
 * in order:
 *   1. an explicit path (runner/scheduler option `workerScript`);
 *   2. `CELLAR_WORKER_SCRIPT` (a file);
 *   3. `CELLAR_PACKAGE_ROOT` (the package directory: `<root>/dist/cjs/pipelines/runner/worker.js`);
 *   4. walking up from the real path of the main script (`process.argv[1]`: bin/cellar.cjs, a bench under
 *      dist/esm/bench, jest's bin, …) looking for `dist/cjs/pipelines/runner/worker.js`, or for
 *      `node_modules/cellar/dist/cjs/pipelines/runner/worker.js` (a project that installed cellar);
 *   5. the same walk from the working directory.
 * The worker is always the CommonJS build: step modules are CommonJS and `require` is what loads them.
 */
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { CellarError } from '../../kernel-lib/errors.js';

/** Path of the worker inside a built cellar package. */
export const WORKER_RELATIVE_PATH = join('dist', 'cjs', 'pipelines', 'runner', 'worker.js');

function walkUp(start: string): string | null {
  let dir = resolve(start);
  while (true) {
    for (const candidate of [
      join(dir, WORKER_RELATIVE_PATH),
      join(dir, 'node_modules', 'cellar', WORKER_RELATIVE_PATH),
    ]) {
      if (existsSync(candidate)) return candidate;
    }
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

/**
 * Returns the absolute path of the compiled step worker script.
 *
 * @throws CellarError NOT_FOUND when no built worker can be found (run `npm run build`, or set
 * CELLAR_PACKAGE_ROOT).
 */
export function resolveWorkerScript(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (explicit !== undefined) {
    if (!existsSync(explicit)) throw notFound(`the worker script ${explicit} does not exist`);
    return resolve(explicit);
  }
  if (env.CELLAR_WORKER_SCRIPT) {
    if (!existsSync(env.CELLAR_WORKER_SCRIPT)) {
      throw notFound(`CELLAR_WORKER_SCRIPT=${env.CELLAR_WORKER_SCRIPT} does not exist`);
    }
    return resolve(env.CELLAR_WORKER_SCRIPT);
  }
  if (env.CELLAR_PACKAGE_ROOT) {
    const p = join(env.CELLAR_PACKAGE_ROOT, WORKER_RELATIVE_PATH);
    if (!existsSync(p))
      throw notFound(`CELLAR_PACKAGE_ROOT=${env.CELLAR_PACKAGE_ROOT} has no ${WORKER_RELATIVE_PATH}`);
    return resolve(p);
  }
  const main = process.argv[1];
  if (main) {
    let real = main;
    try {
      real = realpathSync(main);
    } catch {
      real = main;
    }
    const found = walkUp(dirname(real)) ?? walkUp(dirname(main));
    if (found) return found;
  }
  const found = walkUp(process.cwd());
  if (found) return found;
  throw notFound('no built worker was found next to the running script or the working directory');
}

function notFound(why: string): CellarError {
  return new CellarError(
    'NOT_FOUND',
    `Cannot start pipeline steps: ${why}. Build cellar (\`npm run build\`) or set CELLAR_PACKAGE_ROOT to the ` +
      `cellar package directory (the one holding ${WORKER_RELATIVE_PATH}).`,
  );
}
