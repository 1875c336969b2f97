/**
 * exporter/typescript-cache — loads the TypeScript compiler with a V8 code cache. Compiling TypeScript's
 * 9 MB of JavaScript is most of what `cellar export` costs (Node 20 has no built-in compile cache), so this
 * module, imported by the exporter before anything that uses the compiler, compiles it once with the code
 * cache kept in the user's cache folder (`$XDG_CACHE_HOME/cellar` or `~/.cache/cellar`, mode 0700) and puts
 * it in Node's module cache, where the exporter's own `import 'typescript'` finds it. V8 checks the cache
 * against the source and its own version and flags and ignores a stale one; any failure falls back to a
 * plain `require`.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import vm from 'node:vm';

type CjsModule = {
  exports: unknown;
  filename: string;
  paths: string[];
  loaded: boolean;
  require: NodeJS.Require;
};

/** A `require` resolving from this package: the module's own in the CommonJS build, else from this file. */
function packageRequire(): NodeJS.Require {
  if (typeof require === 'function') return require;
  const m = /(file:\/\/[^\s)]+?|\/[^\s()]+?)\.js:\d+:\d+/.exec(new Error().stack ?? '');
  if (!m) throw new Error('cannot locate the exporter module');
  return createRequire(`${m[1]}.js`);
}

function cacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'cellar');
}

function loadWithCodeCache(): void {
  const req = packageRequire();
  const file = req.resolve('typescript');
  const cache = (Module as unknown as { _cache: Record<string, CjsModule> })._cache;
  if (cache[file] !== undefined) return;
  const source = readFileSync(file, 'utf8');
  const st = statSync(file);
  const key = createHash('sha256')
    .update(`${file}\0${st.size}\0${st.mtimeMs}\0${process.version}\0${process.arch}`)
    .digest('hex')
    .slice(0, 24);
  const cachePath = join(cacheDir(), `typescript-${key}.v8`);
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(cachePath);
  } catch {
    cachedData = undefined;
  }
  const script = new vm.Script(Module.wrap(source), { filename: file, cachedData });
  const M = Module as unknown as { new (id: string): CjsModule; _nodeModulePaths(dir: string): string[] };
  const mod = new M(file);
  mod.filename = file;
  mod.paths = M._nodeModulePaths(dirname(file));
  const fn = script.runInThisContext() as (...a: unknown[]) => void;
  fn.call(mod.exports, mod.exports, createRequire(file), mod, file, dirname(file));
  mod.loaded = true;
  cache[file] = mod;
  if (cachedData === undefined || script.cachedDataRejected === true) {
    try {
      mkdirSync(cacheDir(), { recursive: true, mode: 0o700 });
      const tmp = `${cachePath}.${process.pid}.tmp`;
      writeFileSync(tmp, script.createCachedData(), { mode: 0o600 });
      renameSync(tmp, cachePath);
    } catch {
      // no writable cache folder: the next export compiles TypeScript again
    }
  }
}

try {
  loadWithCodeCache();
} catch {
  // the exporter's own `import 'typescript'` loads it the ordinary way
}
