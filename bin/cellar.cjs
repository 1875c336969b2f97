#!/usr/bin/env node
// The `cellar` command: loads the compiled CLI (run `npm run build` first).
'use strict';
const path = require('node:path');
const fs = require('node:fs');
// Lets the CLI find the package's own files (step worker, built JupyterLab extension) wherever it is installed.
process.env.CELLAR_PACKAGE_ROOT = process.env.CELLAR_PACKAGE_ROOT || path.join(__dirname, '..');
const main = path.join(__dirname, '..', 'dist', 'cjs', 'pipelines', 'cli', 'main.js');
if (!fs.existsSync(main)) {
  process.stderr.write(
    'cellar: the package is not built yet. Run `npm run build` in ' + path.join(__dirname, '..') + '\n',
  );
  process.exit(2);
}
require(main)
  .main(process.argv.slice(2))
  .then(
    (code) => process.exit(typeof code === 'number' ? code : 0),
    (err) => {
      process.stderr.write('cellar: ' + (err && err.message ? err.message : String(err)) + '\n');
      process.exit(1);
    },
  );
