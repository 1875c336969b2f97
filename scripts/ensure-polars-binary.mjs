// nodejs-polars chooses its native binary through its own optionalDependencies. Those binaries declare
// engines node >= 22, so npm on Node 20 silently skips them as failed optional dependencies, although they
// work on Node 20. When polars cannot load for that reason, this installs the binary polars asks for, at
// polars' own version, without saving it (package.json and package-lock.json stay unchanged), and says so.
// A no-op when polars loads. Used by scripts/ensure-deps.sh (npm run demo, npm test).
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';

const root = resolve(new URL('..', import.meta.url).pathname);
const require = createRequire(`${root}/package.json`);

function missingBinary() {
  try {
    require('nodejs-polars');
    return null;
  } catch (e) {
    const match = /Cannot find module '(nodejs-polars-[a-z0-9-]+)'/.exec(String(e && e.message));
    if (!match) throw e;
    return match[1];
  }
}

const binary = missingBinary();
if (binary !== null) {
  const version = require('nodejs-polars/package.json').version;
  console.log(
    `cellar: npm skipped ${binary}@${version} (polars' native binary declares Node >= 22; it works on ` +
      `Node ${process.versions.node}): installing it without saving it…`,
  );
  execFileSync(
    'npm',
    ['install', '--no-save', '--no-audit', '--no-fund', '--loglevel=error', `${binary}@${version}`],
    { cwd: root, stdio: 'inherit' },
  );
  // Checked in a new process: this one remembers that the module was missing.
  try {
    execFileSync(process.execPath, ['-e', "require('nodejs-polars')"], { cwd: root, stdio: 'ignore' });
  } catch {
    console.error(`cellar: nodejs-polars still cannot load ${binary}; DataFrame functions will fail.`);
    process.exit(1);
  }
}
