/**
 * `npm run build` builds the JupyterLab extension too (scripts/build.mjs runs scripts/build-extension.sh), so
 * `cellar jupyter install` works right after `npm run build` / `npm run demo`; the extension step is a quick
 * no-op while its sources are unchanged.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/tmp.js';

test('the build script runs the extension build, and that build is a no-op when nothing changed', () => {
  expect(readFileSync(join(REPO_ROOT, 'scripts', 'build.mjs'), 'utf8')).toMatch(/build-extension\.sh/);
  const out = join(REPO_ROOT, 'dist', 'labextensions', 'cellar-jupyterlab', 'package.json');
  expect(existsSync(out)).toBe(true); // built by `npm run build`
  const again = spawnSync('bash', [join(REPO_ROOT, 'scripts', 'build-extension.sh')], { encoding: 'utf8' });
  expect(again.status).toBe(0);
  expect(again.stdout).toContain('is up to date');
  expect(JSON.parse(readFileSync(out, 'utf8')).jupyterlab._build).toBeDefined();
});
