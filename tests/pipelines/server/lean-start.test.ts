/**
 * Start-up stays lean with the platform added: `require('cellar')` (which can now pick the REST backend) and
 * `cellar --help` load neither fastify, zod, nor any server module; they load on first use.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../../helpers/tmp.js';

const PROBE = `
const Module = require('module');
const orig = Module._load;
const seen = [];
Module._load = function (request, ...rest) { seen.push(request); return orig.call(this, request, ...rest); };
const target = process.argv[1];
Promise.resolve(target === 'sdk'
  ? require(${JSON.stringify(join(REPO_ROOT, 'dist', 'cjs', 'kernel-lib', 'index.js'))})
  : require(${JSON.stringify(join(REPO_ROOT, 'dist', 'cjs', 'pipelines', 'cli', 'main.js'))}).main(['--help'], { out() {}, err() {} })
).then(() => process.stdout.write(JSON.stringify(seen)));
`;

test.each(['sdk', 'cli'])('%s start-up loads no fastify, zod or server code', (target) => {
  const res = spawnSync(process.execPath, ['-e', PROBE, target], { encoding: 'utf8' });
  expect(res.status).toBe(0);
  const loaded = JSON.parse(res.stdout) as string[];
  expect(loaded.filter((m) => /^(fastify|zod)$|\/server\/|rest\/contract/.test(m))).toEqual([]);
});
