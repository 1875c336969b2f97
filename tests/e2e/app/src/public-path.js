// Sets the bundle's public path from the server's page config, before any chunk is requested: the server
// decides where static files live (`/static/<app name>/` for a jupyter_server extension app).
const configElement = document.getElementById('jupyter-config-data');
const pageConfig = configElement ? JSON.parse(configElement.textContent || '{}') : {};
// eslint-disable-next-line no-undef
__webpack_public_path__ = `${String(pageConfig.fullStaticUrl || '').replace(/\/$/, '')}/`;
