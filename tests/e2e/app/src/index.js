// The application module: registers JupyterLab's core plugins (the release's `jupyterlab.extensions` and
// `mimeExtensions`, generated into plugins.js at build time) and those of the federated extensions, minus the
// plugins the page config disables, creates the JupyterLab application and starts it. With the page config
// option `exposeAppInBrowser` the application is `window.jupyterapp` (the browser tests use it).
import { PageConfig } from '@jupyterlab/coreutils';
import { PluginRegistry } from '@lumino/coreutils';
import { coreExtensions, coreMimeExtensions } from 'cellar-e2e-generated/plugins.js';
import 'cellar-e2e-generated/style.js';

async function federatedModule(scope, moduleName) {
  const factory = await window._JUPYTERLAB[scope].get(moduleName);
  const module = factory();
  module.__scope__ = scope;
  return module;
}

function pluginsOf(module) {
  const exported = Object.prototype.hasOwnProperty.call(module, '__esModule') ? module.default : module;
  return Array.isArray(exported) ? exported : [exported];
}

export async function main() {
  const { JupyterLab } = await import('@jupyterlab/application');
  const { IConnectionStatus, IServiceManager } = await import('@jupyterlab/services');
  const federated = JSON.parse(PageConfig.getOption('federated_extensions') || '[]');
  const federatedNames = new Set(federated.map((extension) => extension.name));

  const disabled = [];
  const deferred = [];
  const ignorePlugins = [];
  const availablePlugins = [];
  // Records every plugin of a module and returns those that are not disabled.
  const accept = (module, scope) => {
    const accepted = [];
    for (const plugin of pluginsOf(module)) {
      const isDisabled = PageConfig.Extension.isDisabled(plugin.id);
      availablePlugins.push({
        id: plugin.id,
        description: plugin.description,
        requires: plugin.requires ?? [],
        optional: plugin.optional ?? [],
        provides: plugin.provides ?? null,
        autoStart: plugin.autoStart,
        enabled: !isDisabled,
        extension: scope,
      });
      if (isDisabled) {
        disabled.push(plugin.id);
        continue;
      }
      if (PageConfig.Extension.isDeferred(plugin.id)) {
        deferred.push(plugin.id);
        ignorePlugins.push(plugin.id);
      }
      accepted.push(plugin);
    }
    return accepted;
  };

  const mimeExtensions = [];
  const plugins = [];
  for (const [name, module] of coreMimeExtensions) {
    if (!federatedNames.has(name)) mimeExtensions.push(...accept(module, name));
  }
  for (const [name, module] of coreExtensions) {
    if (!federatedNames.has(name)) plugins.push(...accept(module, name));
  }

  const load = async (kind) => {
    const settled = await Promise.allSettled(
      federated.filter((extension) => extension[kind]).map((extension) => federatedModule(extension.name, extension[kind])),
    );
    const modules = [];
    for (const result of settled) {
      if (result.status === 'fulfilled') modules.push(result.value);
      else console.error(result.reason);
    }
    return modules;
  };
  for (const module of await load('mimeExtension')) mimeExtensions.push(...accept(module, module.__scope__));
  for (const module of await load('extension')) plugins.push(...accept(module, module.__scope__));
  const styled = federated.filter((extension) => extension.style && !PageConfig.Extension.isDisabled(extension.name));
  for (const result of await Promise.allSettled(styled.map((extension) => federatedModule(extension.name, extension.style)))) {
    if (result.status === 'rejected') console.error(result.reason);
  }

  const pluginRegistry = new PluginRegistry();
  pluginRegistry.registerPlugins(plugins);
  const connectionStatus = await pluginRegistry.resolveOptionalService(IConnectionStatus);
  const serviceManager = await pluginRegistry.resolveOptionalService(IServiceManager);
  const lab = new JupyterLab({
    pluginRegistry,
    serviceManager: serviceManager ?? undefined,
    connectionStatus: connectionStatus ?? undefined,
    mimeExtensions,
    disabled: { matches: disabled, patterns: [...PageConfig.Extension.disabled] },
    deferred: { matches: deferred, patterns: [...PageConfig.Extension.deferred] },
    availablePlugins,
  });
  if ((PageConfig.getOption('exposeAppInBrowser') || '').toLowerCase() === 'true') window.jupyterapp = lab;
  await lab.start({ ignorePlugins, bubblingKeydown: true });
}
