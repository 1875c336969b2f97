/**
 * lazy/load — loads heavy dependencies (polars, better-sqlite3, the TypeScript compiler, database clients)
 * the first time they are used, so `require('cellar')`, `import 'cellar'` and `cellar --help` stay fast.
 *
 * Everything goes through one synchronous `require` anchored at this package: in the CommonJS build that is
 * the module's own `require`; in the ESM build (which cannot use `import.meta` because the same sources also
 * compile to CommonJS) it is `createRequire` of this file, found from the V8 stack. `require` of an ES
 * module (our ESM build's own files) works on Node ≥ 20.19 and returns the same instance `import` gives.
 */
import { createRequire } from 'node:module';
import { CellarError } from '../errors.js';

let anchored: NodeJS.Require | undefined;

/** The file URL or path of this module, read from the stack (ESM build only). */
function thisModuleFile(): string {
  const stack = new Error().stack ?? '';
  const match = /(file:\/\/[^\s)]+?|\/[^\s()]+?)\.js:\d+:\d+/.exec(stack);
  if (!match) {
    throw new CellarError('INTERNAL', 'cellar could not find its own location to load a dependency.');
  }
  return `${match[1]}.js`;
}

/** A `require` that resolves from this package (its node_modules, its own files). */
export function packageRequire(): NodeJS.Require {
  if (anchored === undefined) {
    anchored = typeof require === 'function' ? require : createRequire(thisModuleFile());
  }
  return anchored;
}

function isMissing(e: unknown, name: string): boolean {
  const err = e as { code?: unknown; message?: unknown };
  return (
    err?.code === 'MODULE_NOT_FOUND' && typeof err.message === 'string' && err.message.includes(`'${name}'`)
  );
}

/**
 * Loads the package `name` now (synchronously, cached by Node). When it is not installed, throws a
 * `CellarError` saying which feature needs it and how to install it.
 *
 * @throws CellarError UNSUPPORTED when the package is not installed.
 */
export function requireDependency<T>(name: string, neededFor: string): T {
  try {
    return packageRequire()(name) as T;
  } catch (e) {
    if (isMissing(e, name)) {
      throw new CellarError(
        'UNSUPPORTED',
        `${neededFor} needs the npm package "${name}", which is not installed. Install it next to cellar: npm i ${name}`,
        { package: name },
      );
    }
    throw e;
  }
}

/**
 * An object that stands for a module namespace and loads it on first property access, so code written
 * against `import pl from 'nodejs-polars'` keeps its `pl.DataFrame(…)` calls unchanged.
 */
export function lazyNamespace<T extends object>(load: () => T): T {
  let loaded: T | undefined;
  const target = (): T => (loaded ??= load());
  return new Proxy({} as T, {
    get: (_t, key) => Reflect.get(target(), key),
    has: (_t, key) => Reflect.has(target(), key),
    ownKeys: () => Reflect.ownKeys(target()),
    getOwnPropertyDescriptor: (_t, key) => {
      const d = Reflect.getOwnPropertyDescriptor(target(), key);
      return d === undefined ? undefined : { ...d, configurable: true };
    },
  });
}
