// Build: compiles kernel-lib, pipelines and bench to ESM (dist/esm, with .d.ts) and kernel-lib + pipelines to
// CommonJS (dist/cjs) so that both `import` and tslab's `require` load "cellar"; links node_modules/cellar to
// this package so notebooks inside the repo resolve `from "cellar"` like an installed package; then builds the
// JupyterLab extension (scripts/build-extension.sh: a no-op when its sources are unchanged), so that
// `npx cellar jupyter install` works right after `npm run build` / `npm run demo`.
// `npm run build -- --no-extension` (or CELLAR_BUILD_EXTENSION=0) skips the extension.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, writeFileSync, rmSync, symlinkSync, lstatSync, readlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(new URL('..', import.meta.url).pathname);
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
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
console.log('cellar: built dist/esm and dist/cjs');

const skipExtension = process.argv.includes('--no-extension') || process.env.CELLAR_BUILD_EXTENSION === '0';
if (!skipExtension) {
  execFileSync('bash', [join(root, 'scripts', 'build-extension.sh')], { stdio: 'inherit' });
}
