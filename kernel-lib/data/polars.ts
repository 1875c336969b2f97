/**
 * data/polars — nodejs-polars, loaded the first time a DataFrame is read, built or converted (polars' native
 * addon costs a few hundred milliseconds to load, which `import 'cellar'` should not pay up front). Modules
 * use `pl` exactly like `import pl from 'nodejs-polars'`.
 */
import type plModule from 'nodejs-polars';
import { CellarError } from '../errors.js';
import { lazyNamespace, requireDependency } from '../lazy/load.js';

/** polars' platform packages are named `nodejs-polars-<platform>-<arch>[-<abi>]`. */
const PLATFORM_BINARY = /Cannot find module '(nodejs-polars-[a-z0-9-]+)'/;

function loadPolars(): typeof plModule {
  try {
    return requireDependency<{ default: typeof plModule }>('nodejs-polars', 'DataFrames').default;
  } catch (e) {
    const binary = PLATFORM_BINARY.exec(e instanceof Error ? e.message : '')?.[1];
    if (binary === undefined) throw e;
    let version = '';
    try {
      version = `@${requireDependency<{ version: string }>('nodejs-polars/package.json', 'DataFrames').version}`;
    } catch {
      version = '';
    }
    // npm skips polars' platform binary on Node < 22: it declares engines node >= 22 (it works on Node 20).
    throw new CellarError(
      'UNSUPPORTED',
      `DataFrames need nodejs-polars' native binary for this platform (${binary}), which is not installed: npm ` +
        `skips it on Node.js ${process.versions.node} because it declares Node >= 22 (it works on Node 20). ` +
        `Install it next to cellar: npm i ${binary}${version}`,
      { package: binary },
    );
  }
}

/** nodejs-polars' default export (`pl`), loaded on first use. */
export const pl: typeof plModule = lazyNamespace(loadPolars);
