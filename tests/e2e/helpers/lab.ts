// Entry point of the browser-test harness: the test JupyterLab server (server.ts), headless Chromium
// (browser.ts) and notebook helpers (notebook.ts). Tests import from here.
export * from './server.js';
export * from './browser.js';
export * from './notebook.js';
