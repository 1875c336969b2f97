/**
 * data/polars — nodejs-polars, loaded the first time a DataFrame is read, built or converted (polars' native
 * addon costs a few hundred milliseconds to load, which `import 'cellar'` should not pay up front). Modules
 * use `pl` exactly like `import pl from 'nodejs-polars'`.
 */
import type plModule from 'nodejs-polars';
import { lazyNamespace, requireDependency } from '../lazy/load.js';

/** nodejs-polars' default export (`pl`), loaded on first use. */
export const pl: typeof plModule = lazyNamespace(
  () => requireDependency<{ default: typeof plModule }>('nodejs-polars', 'DataFrames').default,
);
