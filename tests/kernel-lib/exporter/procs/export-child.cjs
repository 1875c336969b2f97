// Child process for the concurrent-export test: loads the exporter from the TypeScript sources (a tiny
// require hook around ts.transpileModule, so no build is needed), waits for <goFile>, then exports.
// argv: <repoRoot> <storeDir> <notebookPath> <name> <goFile>
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const Module = require('node:module');
const [repoRoot, storeDir, notebookPath, name, goFile] = process.argv.slice(2);
const ts = require(path.join(repoRoot, 'node_modules', 'typescript'));

const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, parent, ...rest) {
  if (request.startsWith('.') && request.endsWith('.js') && parent && parent.filename.endsWith('.ts')) {
    const candidate = path.resolve(path.dirname(parent.filename), request.slice(0, -3) + '.ts');
    if (fs.existsSync(candidate)) return candidate;
  }
  return resolveFilename.call(this, request, parent, ...rest);
};
require.extensions['.ts'] = (module, filename) => {
  const out = ts.transpileModule(fs.readFileSync(filename, 'utf8'), {
    fileName: filename,
    compilerOptions: {
      module: ts.ModuleKind.CommonJS,
      target: ts.ScriptTarget.ES2022,
      esModuleInterop: true,
    },
  });
  module._compile(out.outputText, filename);
};

(async () => {
  const exporter = require(path.join(repoRoot, 'kernel-lib', 'exporter', 'index.ts'));
  process.stdout.write('ready\n');
  while (!fs.existsSync(goFile)) await new Promise((r) => setTimeout(r, 2));
  const result = await exporter.exportNotebook({ notebook: notebookPath, name, store: storeDir });
  process.stdout.write(
    JSON.stringify({ version: result.version, created: result.created, hash: result.hash }) + '\n',
  );
})().catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e) + '\n');
  process.exit(1);
});
