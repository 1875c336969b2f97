/**
 * The command line as a new user meets it, in real child processes: `cellar --version`, output piped into a
 * reader that stops early (`| head`), `--store` taking the same URIs as CELLAR_URI and refusing the ones this
 * build cannot open (without creating a folder named after the URI), and progress lines of `pipelines run`
 * and `backfill` when stderr is not a terminal.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { closeAllEmbedded } from '../../../kernel-lib/store/open.js';
import { cleanupTmp, makeTmp, REPO_ROOT } from '../../helpers/tmp.js';
import { makeStore, workerScript, writePipeline } from '../../fixtures/pipelines/fixture.js';

const BIN = join(REPO_ROOT, 'bin', 'cellar.cjs');

function cellar(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, [BIN, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '', CELLAR_URI: '', ...env },
  });
}

afterEach(() => {
  closeAllEmbedded();
  cleanupTmp();
});

test('cellar --version and -V print the package version', () => {
  const cwd = makeTmp();
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
  for (const flag of ['--version', '-V']) {
    const r = cellar([flag], cwd);
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
    expect(r.stderr).toBe('');
  }
});

test('a reader that closes early (| head) ends the command quietly: no EPIPE stack trace', async () => {
  const cwd = makeTmp();
  const child = spawn(process.execPath, [BIN, '--help'], {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  child.stdout.destroy(); // the reader is gone before the command writes
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  expect(stderr).toBe('');
  expect(code).toBe(0);
});

test('--store takes the URIs CELLAR_URI takes: a directory, sqlite:<dir> and sqlite:///path/cellar.db', () => {
  const cwd = makeTmp();
  const project = join(cwd, 'proj');
  expect(cellar(['init', project], cwd).status).toBe(0);
  const db = join(project, '.cellar', 'cellar.db');
  expect(existsSync(db)).toBe(true);
  for (const uri of [project, `sqlite:${project}`, `sqlite://${db}`]) {
    const r = cellar(['--store', uri, 'runs', 'list', '--json'], cwd);
    expect({ uri, status: r.status, stderr: r.stderr }).toEqual({ uri, status: 0, stderr: '' });
  }
  expect(readdirSync(cwd)).toEqual(['proj']);
});

test('--store and CELLAR_URI refuse postgres: URIs clearly, say when a cellar server is unreachable, and create no folder', () => {
  const cwd = makeTmp();
  // Nothing listens on port 9 (discard) here: the REST store says it cannot reach the server.
  const down = cellar(['--store', 'http://127.0.0.1:9', 'runs', 'list'], cwd);
  expect(down.status).toBe(5);
  expect(down.stderr).toContain('Cannot reach the cellar server');
  expect(down.stderr).toContain('[STORE_UNAVAILABLE]');
  for (const uri of ['postgres://user:secret@db.example/cellar']) {
    const viaOption = cellar(['--store', uri, 'runs', 'list'], cwd);
    expect(viaOption.status).not.toBe(0);
    expect(viaOption.stderr).toContain('[UNSUPPORTED]');
    expect(viaOption.stderr).toContain('does not provide yet');
    expect(viaOption.stderr).not.toContain('secret');
    const viaEnv = cellar(['runs', 'list'], cwd, { CELLAR_URI: uri });
    expect(viaEnv.stderr).toContain('[UNSUPPORTED]');
  }
  const unknown = cellar(['--store', 'mongodb://x/y', 'runs', 'list'], cwd);
  expect(unknown.status).toBe(2);
  expect(unknown.stderr).toContain('unknown scheme');
  expect(readdirSync(cwd)).toEqual([]);
});

test('pipelines run and backfill print per-step and per-run progress lines on stderr when it is not a terminal', () => {
  const root = makeStore();
  writePipeline(root, {
    name: 'hourly',
    schedule: '0 * * * *',
    steps: [
      { name: 'a', outputs: ['n'], code: 'return { n: 1 };' },
      { name: 'b', inputs: { n: 'a' }, code: 'if (ctx.inputs.n !== 1) throw new Error("bad"); return {};' },
    ],
  });
  const env = { CELLAR_WORKER_SCRIPT: workerScript() };
  const run = cellar(['--store', root, 'pipelines', 'run', 'hourly', '--json'], root, env);
  expect(run.status).toBe(0);
  expect(JSON.parse(run.stdout).run.state).toBe('success'); // stdout keeps only the result
  const runId = JSON.parse(run.stdout).run.runId as string;
  expect(run.stderr).toContain(`hourly@1: run ${runId}`);
  expect(run.stderr).toMatch(new RegExp(`${runId}: step a succeeded in \\d+\\.\\ds`));
  expect(run.stderr).toMatch(new RegExp(`${runId}: step b succeeded in \\d+\\.\\ds`));
  expect(run.stderr).toMatch(new RegExp(`${runId}: run success in \\d+\\.\\ds \\(2/2 steps succeeded\\)`));
  expect(run.stderr).not.toContain('\x1b['); // no terminal control codes in a log

  const backfill = cellar(
    [
      '--store',
      root,
      'pipelines',
      'backfill',
      'hourly',
      '--from',
      '2026-01-01T00:00:00Z',
      '--to',
      '2026-01-01T02:00:00Z',
    ],
    root,
    env,
  );
  expect(backfill.status).toBe(0);
  expect(backfill.stderr).toContain('hourly@1: 3 runs');
  expect(backfill.stderr.match(/: run success in/g)).toHaveLength(3);
  expect(backfill.stderr.match(/: step b succeeded/g)).toHaveLength(3);

  const quiet = cellar(['--store', root, 'pipelines', 'run', 'hourly', '--quiet'], root, env);
  expect(quiet.status).toBe(0);
  expect(quiet.stderr).toBe('');
});
