// Rewrites this test application's package.json from a JupyterLab release's staging metadata
// (`@jupyterlab/core-meta/core.package.json`): every core dependency pinned to the release's exact version,
// npm `overrides` mirroring the release's yarn `resolutions` (npm ignores `resolutions`), plus the pins that
// keep the dependency tree on one consistent set of versions. Run it when moving to another JupyterLab
// release, then `npm install` here and commit package.json and package-lock.json:
//   node sync-core-meta.mjs [path/to/core.package.json]
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const corePath = process.argv[2] ?? join(here, 'node_modules', '@jupyterlab', 'core-meta', 'core.package.json');
const core = JSON.parse(readFileSync(corePath, 'utf8'));
const pkgPath = join(here, 'package.json');
const pkg = JSON.parse(readFileSync(pkgPath, 'utf8'));

// Versions of the release's own packages are "~X.Y.Z": pin them to X.Y.Z so that later patch releases of
// single packages (published without a matching core-meta) never mix into the tree.
const exact = (range) => (/^~\d+\.\d+\.\d+$/.test(range) ? range.slice(1) : range);

// Pins found necessary on these machines (see shared/ENVIRONMENT.md): newer fast-foundation releases overflow
// the stack in JupyterLab 4.6; yjs is pinned to the version the release was tested with.
const extraPins = {
  '@microsoft/fast-element': '1.12.0',
  '@microsoft/fast-foundation': '2.49.4',
  yjs: '13.5.49',
};
// Listed in the release's resolutions but not published at that version, and not needed by the application.
const notPublished = new Set(['@jupyterlab/metapackage']);

const dependencies = {};
for (const [name, range] of Object.entries(core.dependencies)) dependencies[name] = exact(range);

const overrides = {};
for (const [name, range] of Object.entries(core.resolutions)) {
  if (notPublished.has(name)) continue;
  overrides[name] = extraPins[name] ?? exact(range);
}
for (const [name, version] of Object.entries(extraPins)) overrides[name] = version;
// npm requires an override of a direct dependency to use the very same spec as the dependency.
for (const [name, spec] of Object.entries({ ...dependencies, ...pkg.devDependencies })) {
  if (name in overrides) overrides[name] = spec;
}

pkg.dependencies = Object.fromEntries(Object.entries(dependencies).sort(([a], [b]) => a.localeCompare(b)));
pkg.devDependencies['@jupyterlab/core-meta'] = core.version;
pkg.overrides = Object.fromEntries(Object.entries(overrides).sort(([a], [b]) => a.localeCompare(b)));
pkg.jupyterlab = { coreVersion: core.version };
writeFileSync(pkgPath, JSON.stringify(pkg, null, 2) + '\n');
console.log(`package.json: ${Object.keys(dependencies).length} dependencies, ${Object.keys(overrides).length} overrides (JupyterLab ${core.version})`);
