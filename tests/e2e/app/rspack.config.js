// rspack configuration of the test JupyterLab frontend. Module federation shares every core package with the
// prebuilt extensions (the release's singletons as singletons), exactly as a JupyterLab release build does,
// so an extension's `import '@jupyterlab/notebook'` gets this application's instance. The loaders and
// fallbacks come from @jupyter/builder's base configuration (the same ones extensions are built with).
const path = require('node:path');
const { rspack } = require('@rspack/core');
const baseConfig = require('@jupyter/builder/lib/webpack.config.base');

const core = require('@jupyterlab/core-meta/core.package.json');

/** The shared-module configuration: every package of the release's resolutions; singletons flagged. */
function sharedModules() {
  const singletons = new Set(core.jupyterlab.singletonPackages);
  const shared = {};
  for (const [name, range] of Object.entries(core.resolutions)) {
    let version;
    try {
      version = require(`${name}/package.json`).version;
    } catch {
      continue; // Listed by the release but not installed here (not used by the application).
    }
    shared[name] = { requiredVersion: range, version, singleton: singletons.has(name) };
  }
  return shared;
}

/**
 * @param {{ appDir: string, staticDir: string, generatedDir: string }} dirs
 * @returns {import('@rspack/core').Configuration}
 */
module.exports = function createConfig({ appDir, staticDir, generatedDir }) {
  return {
    ...baseConfig,
    context: appDir,
    // Production semantics (React production build) without minification: a minifier pass over all of
    // JupyterLab would triple the build time of a bundle that is only ever served on 127.0.0.1.
    mode: 'production',
    devtool: false,
    bail: true,
    entry: { main: './src/bootstrap.js' },
    output: {
      ...baseConfig.output,
      path: staticDir,
      filename: '[name].[contenthash].js',
      chunkFilename: '[name].[contenthash].js',
      publicPath: 'auto',
      clean: true,
    },
    optimization: { minimize: false },
    performance: { hints: false },
    resolve: {
      ...baseConfig.resolve,
      alias: { 'cellar-e2e-generated': generatedDir },
    },
    module: {
      rules: [...baseConfig.module.rules, { test: /\.html$/, type: 'asset/resource' }],
    },
    plugins: [
      ...baseConfig.plugins,
      new rspack.container.ModuleFederationPluginV1({
        name: 'CORE_FEDERATION',
        library: { type: 'var', name: ['_JUPYTERLAB', 'CORE_LIBRARY_FEDERATION'] },
        shared: sharedModules(),
      }),
    ],
    stats: 'errors-warnings',
  };
};
