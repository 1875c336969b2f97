/**
 * Start-up stays lean: `require('cellar')` (tslab's path, the CommonJS build), `import 'cellar'` (the ESM
 * build) and `cellar --help` load none of the heavy dependencies — they load when a function that needs them
 * is called. Each case runs in a real `node` child process on the built package and reports which npm
 * packages ended up in the module cache (every heavy dependency is CommonJS, so `import` of it goes through
 * the same cache).
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanupTmp, makeTmp, REPO_ROOT } from '../helpers/tmp.js';

const HEAVY = [
  'typescript',
  'pg',
  'ioredis',
  '@duckdb/node-api',
  'nodejs-polars',
  'plotly.js-dist-min',
  'fastify',
  'prom-client',
  'better-sqlite3',
  'cron-parser',
  'ml-regression-multivariate-linear',
];

const CJS_ENTRY = join(REPO_ROOT, 'dist', 'cjs', 'kernel-lib', 'index.js');
const ESM_ENTRY = join(REPO_ROOT, 'dist', 'esm', 'kernel-lib', 'index.js');
const BIN = join(REPO_ROOT, 'bin', 'cellar.cjs');

/** Prints, at exit, the npm packages in the CommonJS module cache as JSON on stderr's last line. */
const REPORT = `
process.on('exit', () => {
  const cache = require('node:module')._cache;
  const pkgs = new Set();
  for (const file of Object.keys(cache)) {
    const i = file.lastIndexOf('/node_modules/');
    if (i < 0) continue;
    const parts = file.slice(i + 14).split('/');
    pkgs.add(parts[0].startsWith('@') ? parts[0] + '/' + parts[1] : parts[0]);
  }
  process.stderr.write('\\nPACKAGES ' + JSON.stringify([...pkgs].sort()) + '\\n');
  const own = Object.keys(cache).filter((f) => !f.includes('/node_modules/'));
  process.stderr.write('\\nOWN ' + JSON.stringify(own) + '\\n');
});`;

function loaded(
  args: string[],
  cwd: string,
): { packages: string[]; own: string[]; stdout: string; status: number | null } {
  const reporter = join(cwd, 'report-packages.cjs');
  writeFileSync(reporter, REPORT);
  const res = spawnSync(process.execPath, ['--require', reporter, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '', CELLAR_URI: '' },
  });
  const line = res.stderr.split('\n').find((l) => l.startsWith('PACKAGES '));
  if (!line) throw new Error(`no report from ${args.join(' ')}: ${res.stderr}`);
  const ownLine = res.stderr.split('\n').find((l) => l.startsWith('OWN '));
  return {
    packages: JSON.parse(line.slice(9)) as string[],
    own: ownLine ? (JSON.parse(ownLine.slice(4)) as string[]) : [],
    stdout: res.stdout,
    status: res.status,
  };
}

afterAll(cleanupTmp);

test("require('cellar') loads no heavy dependency, and the SDK still works from it", () => {
  const cwd = makeTmp();
  const r = loaded(
    [
      '-e',
      `const c = require(${JSON.stringify(CJS_ENTRY)}); console.log(typeof c.openStore, typeof c.ElasticNet, typeof c.bridge.handle)`,
    ],
    cwd,
  );
  expect(r.stdout.trim()).toBe('function function function');
  expect(r.packages.filter((p) => HEAVY.includes(p))).toEqual([]);
});

test("import('cellar') (the ESM build) loads no heavy dependency", () => {
  const cwd = makeTmp();
  const r = loaded(
    [
      '--input-type=module',
      '-e',
      `const c = await import(${JSON.stringify(ESM_ENTRY)}); console.log(typeof c.featureStore, typeof c.readParquet)`,
    ],
    cwd,
  );
  expect(r.stdout.trim()).toBe('function function');
  expect(r.packages.filter((p) => HEAVY.includes(p))).toEqual([]);
});

test('cellar --help loads no heavy dependency (only commander)', () => {
  const cwd = makeTmp();
  const r = loaded([BIN, '--help'], cwd);
  expect(r.status).toBe(0);
  expect(r.stdout).toContain('Usage: cellar');
  expect(r.packages.filter((p) => HEAVY.includes(p))).toEqual([]);
  expect(r.packages).toContain('commander');
});

/**
 * cellar's own modules that only running a command may load: the runner, scheduler, store, serving, server
 * and exporter code and the SDK. (`pipelines/runner/defaults.js` holds constants only, shown in `--help`.)
 */
const CELLAR_IMPLEMENTATION =
  /\/dist\/cjs\/(pipelines\/(runner|scheduler|serving|server|airflow|demo)\/|kernel-lib\/(store|serving|exporter|tracking|registry|features|monitoring|ml|data)\/|kernel-lib\/sdk\.js)/;

test.each([['--help'], ['--version']])(
  "cellar %s loads none of cellar's runner, scheduler, store, serving, server or exporter modules",
  (flag) => {
    const cwd = makeTmp();
    const r = loaded([BIN, flag], cwd);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(flag === '--help' ? 'Usage: cellar' : '.');
    const own = r.own.filter((f) => f.includes('/dist/cjs/'));
    expect(own).toEqual(expect.arrayContaining([expect.stringContaining('/dist/cjs/pipelines/cli/main.js')]));
    expect(own.filter((f) => CELLAR_IMPLEMENTATION.test(f) && !f.endsWith('/runner/defaults.js'))).toEqual(
      [],
    );
  },
);

test('heavy dependencies load when used: a store opens better-sqlite3, a DataFrame polars (CJS and ESM)', () => {
  const cwd = makeTmp();
  const store = join(cwd, 'proj');
  const cjs = loaded(
    [
      '-e',
      `const c = require(${JSON.stringify(CJS_ENTRY)}); c.openStore(${JSON.stringify(store)}); console.log(c.toDataFrame([{ a: 1 }]).height)`,
    ],
    cwd,
  );
  expect(cjs.stdout.trim()).toBe('1');
  expect(cjs.packages).toEqual(expect.arrayContaining(['better-sqlite3', 'nodejs-polars']));
  expect(cjs.packages).not.toContain('typescript');
  const esm = loaded(
    [
      '--input-type=module',
      '-e',
      `const c = await import(${JSON.stringify(ESM_ENTRY)}); c.openStore(${JSON.stringify(store)}); console.log(c.toDataFrame([{ a: 1 }]).height, c.listPipelines(${JSON.stringify(store)}).length)`,
    ],
    cwd,
  );
  expect(esm.stdout.trim()).toBe('1 0');
  expect(esm.packages).toEqual(expect.arrayContaining(['better-sqlite3', 'nodejs-polars']));
});

test('cellar runs list opens the store without loading polars, the compiler or database clients', () => {
  const cwd = makeTmp();
  const r = loaded([BIN, '--store', join(cwd, 'proj'), 'runs', 'list', '--json'], cwd);
  expect(r.status).toBe(0);
  expect(JSON.parse(r.stdout)).toMatchObject({ runs: [] });
  expect(r.packages).toContain('better-sqlite3');
  expect(r.packages.filter((p) => p !== 'better-sqlite3' && HEAVY.includes(p))).toEqual([]);
});
