// Entry point of the test JupyterLab frontend. Loads every prebuilt (federated) extension listed in the page
// config and lets it join the shared module scope before any shared package (React, Lumino, @jupyterlab/*) is
// imported, then imports the application module. Same order as JupyterLab's own bootstrap, so an extension
// that loads here loads in a real JupyterLab.
import './public-path.js';

function readPageConfig() {
  const element = document.getElementById('jupyter-config-data');
  return element ? JSON.parse(element.textContent || '{}') : {};
}

function loadScript(url) {
  return new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = url;
    script.async = true;
    script.onload = () => resolve();
    script.onerror = () => reject(new Error(`could not load federated extension script ${url}`));
    document.head.appendChild(script);
  });
}

async function initFederatedExtension(baseUrl, extension) {
  await loadScript(`${baseUrl.replace(/\/$/, '')}/${extension.name}/${extension.load}`);
  // eslint-disable-next-line no-undef
  await __webpack_init_sharing__('default');
  const container = window._JUPYTERLAB && window._JUPYTERLAB[extension.name];
  if (!container) throw new Error(`federated extension ${extension.name} did not register its container`);
  // eslint-disable-next-line no-undef
  await container.init(__webpack_share_scopes__.default);
}

async function bootstrap() {
  const pageConfig = readPageConfig();
  const federated = Array.isArray(pageConfig.federated_extensions) ? pageConfig.federated_extensions : [];
  const results = await Promise.allSettled(
    federated.map((extension) => initFederatedExtension(pageConfig.fullLabextensionsUrl || '', extension)),
  );
  for (const result of results) if (result.status === 'rejected') console.error(result.reason);
  const { main } = await import('./index.js');
  await main();
}

bootstrap().catch((error) => console.error('JupyterLab failed to start', error));
