// Build: compiles kernel-lib, pipelines and bench to ESM (dist/esm, with .d.ts) and kernel-lib + pipelines to
// CommonJS (dist/cjs) so that both `import` and tslab's `require` load "cellar"; links node_modules/cellar to
// this package so notebooks inside the repo resolve `from "cellar"` like an installed package; then builds the
// JupyterLab extension (scripts/build-extension.sh: a no-op when its sources are unchanged), so that
// `npx cellar jupyter install` works right after `npm run build` / `npm run demo`.
// `npm run build -- --no-extension` (or CELLAR_BUILD_EXTENSION=0) skips the extension. The compile is skipped when
// no source or config file changed since the last build (`dist/.sources-fingerprint`); `--force` rebuilds.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
  rmSync,
  symlinkSync,
  lstatSync,
  readlinkSync,
} from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(new URL('..', import.meta.url).pathname);
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const SOURCES = ['kernel-lib', 'pipelines', 'bench', join('extension', 'src', 'web')];
const CONFIGS = [
  'tsconfig.json',
  'tsconfig.build.json',
  'tsconfig.cjs.json',
  'package.json',
  'package-lock.json',
];
const STAMP = join(root, 'dist', '.sources-fingerprint');

/** Path, size and modification time of every source and config file the compile reads, hashed. */
function sourcesFingerprint() {
  const hash = createHash('sha256');
  const walk = (rel) => {
    for (const entry of readdirSync(join(root, rel), { withFileTypes: true }).sort((a, b) =>
      a.name < b.name ? -1 : 1,
    )) {
      const path = join(rel, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) {
        const st = statSync(join(root, path));
        hash.update(`${path}\0${st.size}\0${st.mtimeMs}\n`);
      }
    }
  };
  for (const dir of SOURCES) walk(dir);
  for (const file of CONFIGS) {
    const st = statSync(join(root, file));
    hash.update(`${file}\0${st.size}\0${st.mtimeMs}\n`);
  }
  return hash.digest('hex');
}

// A second `npm run build` / `npm run demo` with unchanged sources skips the compile (--force rebuilds).
const fingerprint = sourcesFingerprint();
const upToDate =
  !process.argv.includes('--force') &&
  ['esm', 'cjs', 'web'].every((d) => existsSync(join(root, 'dist', d))) &&
  existsSync(STAMP) &&
  readFileSync(STAMP, 'utf8') === fingerprint;
if (upToDate) console.log('cellar: dist/esm and dist/cjs are up to date');
else compile();

function compile() {
  // Only our own outputs: dist/labextensions (the built JupyterLab extension) is another build's.
  rmSync(join(root, 'dist', 'esm'), { recursive: true, force: true });
  rmSync(join(root, 'dist', 'cjs'), { recursive: true, force: true });
  execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
  execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.cjs.json')], { stdio: 'inherit' });
  writeFileSync(join(root, 'dist', 'cjs', 'package.json'), JSON.stringify({ type: 'commonjs' }) + '\n');
  writeFileSync(join(root, 'dist', 'esm', 'package.json'), JSON.stringify({ type: 'module' }) + '\n');
  // The `cellar up` web app: ES modules compiled by tsc into dist/web (served by pipelines/server/web-assets.ts).
  rmSync(join(root, 'dist', 'web'), { recursive: true, force: true });
  execFileSync(process.execPath, [tsc, '-p', join(root, 'extension', 'src', 'web', 'tsconfig.json')], {
    stdio: 'inherit',
  });
  cpSync(join(root, 'extension', 'src', 'web', 'static'), join(root, 'dist', 'web'), { recursive: true });
  writeFileSync(STAMP, fingerprint);
  console.log('cellar: built dist/esm and dist/cjs');
}

const link = join(root, 'node_modules', 'cellar');
let ok = false;
try {
  ok = lstatSync(link).isSymbolicLink() && resolve(join(root, 'node_modules'), readlinkSync(link)) === root;
} catch {
  ok = false;
}
if (!ok) {
  rmSync(link, { recursive: true, force: true });
  mkdirSync(join(root, 'node_modules'), { recursive: true });
  symlinkSync('..', link, 'dir');
}

const skipExtension = process.argv.includes('--no-extension') || process.env.CELLAR_BUILD_EXTENSION === '0';
if (!skipExtension) {
  execFileSync('bash', [join(root, 'scripts', 'build-extension.sh')], { stdio: 'inherit' });
}
