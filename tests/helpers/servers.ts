/**
 * tests/helpers/servers — real Redis and PostgreSQL servers for backend tests, started from the test process
 * on 127.0.0.1 (free ports, temp directories) and stopped afterwards. Starting is synchronous so a test file
 * can decide at registration time whether to run its suite or to register one failing test stating why it cannot.
 * Every server started here is also killed when the process exits, so nothing is left running.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A running server. */
export interface TestServer {
  ok: true;
  /** Connection URL (`redis://127.0.0.1:<port>/0`, `postgres://postgres@127.0.0.1:<port>/postgres`). */
  url: string;
  port: number;
  /** Stops the server and removes its files (idempotent). */
  stop(): Promise<void>;
}

/** Why a server could not be started (the suite then fails with this reason). */
export interface NoServer {
  ok: false;
  reason: string;
}

const cleanups = new Set<() => void>();
process.on('exit', () => {
  for (const c of cleanups) c();
});

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
function sleepSync(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, ms);
}

/** Finds an executable on PATH (or returns null). */
function which(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const p = join(dir, name);
    if (dir && existsSync(p)) return p;
  }
  return null;
}

/** A TCP port that was free on 127.0.0.1 a moment ago (asks the OS in a short child process). */
export function freePort(): number {
  const script =
    "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{process.stdout.write(String(s.address().port));s.close()})";
  const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  return Number(out.trim());
}

/** True while `pid` runs (a zombie waiting to be reaped counts as gone). */
function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return true;
  }
}

/**
 * Starts a detached shell that runs `cleanup` once this process is gone, however it ends (jest may kill its
 * workers without an 'exit' event). Returns a function that cancels the watchdog.
 */
function watchdog(cleanup: string): () => void {
  const script = `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; ${cleanup}`;
  const child = spawn('/bin/sh', ['-c', script], { detached: true, stdio: 'ignore' });
  child.unref();
  return () => {
    if (child.pid !== undefined && child.exitCode === null) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
}

/** Quotes a string for /bin/sh. */
function sh(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/**
 * Starts `redis-server` on a free port of 127.0.0.1 with no persistence, in a temp directory.
 * Set `CELLAR_TEST_REDIS_SERVER` to use another binary.
 */
export function startRedis(): TestServer | NoServer {
  const bin = process.env.CELLAR_TEST_REDIS_SERVER ?? which('redis-server');
  if (!bin || !existsSync(bin)) {
    return {
      ok: false,
      reason: 'redis-server is not installed (Debian package redis-server; scripts/install-system.sh)',
    };
  }
  let lastError = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const dir = mkdtempSync(join(tmpdir(), 'cellar-redis-'));
    const port = freePort();
    const pidFile = join(dir, 'redis.pid');
    const logFile = join(dir, 'redis.log');
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
    args.push('--daemonize', 'yes', '--pidfile', pidFile, '--logfile', logFile, '--dir', dir);
    const r = spawnSync(bin, args, { encoding: 'utf8', timeout: 10_000 });
    const deadline = Date.now() + 10_000;
    let ready = false;
    while (r.status === 0 && Date.now() < deadline) {
      const log = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
      if (/Ready to accept connections/.test(log) && existsSync(pidFile)) {
        ready = true;
        break;
      }
      if (/Could not create server TCP|Address already in use|FATAL/i.test(log)) break;
      sleepSync(20);
    }
    const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : 0;
    if (ready && pid > 0) {
      const cancelWatchdog = watchdog(`kill -9 ${pid}; rm -rf ${sh(dir)}`);
      const kill = (): void => {
        cancelWatchdog();
        if (pidAlive(pid)) process.kill(pid, 'SIGKILL');
        rmSync(dir, { recursive: true, force: true });
      };
      cleanups.add(kill);
      return {
        ok: true,
        url: `redis://127.0.0.1:${port}/0`,
        port,
        async stop() {
          if (!cleanups.delete(kill)) return;
          cancelWatchdog();
          if (pidAlive(pid)) process.kill(pid, 'SIGTERM');
          const until = Date.now() + 5000;
          while (pidAlive(pid) && Date.now() < until) await new Promise((res) => setTimeout(res, 20));
          kill();
        },
      };
    }
    lastError =
      `${r.stderr ?? ''}${existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-500) : ''}`.trim();
    if (pid > 0 && pidAlive(pid)) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
  return { ok: false, reason: `redis-server did not start: ${lastError || 'unknown error'}` };
}

/** The directory of the PostgreSQL server binaries (`initdb`, `pg_ctl`): 15 preferred, else the newest. */
function postgresBin(): string | null {
  if (process.env.CELLAR_TEST_PG_BIN) return process.env.CELLAR_TEST_PG_BIN;
  const base = '/usr/lib/postgresql';
  if (existsSync(base)) {
    const versions = readdirSync(base)
      .filter((v) => existsSync(join(base, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions.includes('15')) return join(base, '15', 'bin');
    if (versions.length > 0) return join(base, versions[0]!, 'bin');
  }
  const initdb = which('initdb');
  return initdb ? join(initdb, '..') : null;
}

/** Runs a command, as the `postgres` OS user when this process is root (initdb and postgres refuse root). */
function runAsServerUser(
  cmd: string,
  args: string[],
  asPostgres: boolean,
): { status: number | null; output: string } {
  const opts = { encoding: 'utf8' as const, timeout: 60_000 };
  let r;
  if (!asPostgres) r = spawnSync(cmd, args, opts);
  else if (which('runuser')) r = spawnSync('runuser', ['-u', 'postgres', '--', cmd, ...args], opts);
  else r = spawnSync('su', ['postgres', '-s', '/bin/sh', '-c', [cmd, ...args].map(sh).join(' ')], opts);
  return { status: r.status, output: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

/** A shell command line running `cmd` as the `postgres` OS user (for the watchdog's shell). */
function asPostgresShell(cmd: string[]): string {
  if (which('runuser')) return ['runuser', '-u', 'postgres', '--', ...cmd].map(sh).join(' ');
  return ['su', 'postgres', '-s', '/bin/sh', '-c', cmd.map(sh).join(' ')].map(sh).join(' ');
}

function osUserIds(name: string): { uid: number; gid: number } | null {
  const r = spawnSync('id', ['-u', name], { encoding: 'utf8' });
  const g = spawnSync('id', ['-g', name], { encoding: 'utf8' });
  if (r.status !== 0 || g.status !== 0) return null;
  return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
}

/**
 * Initialises a throw-away PostgreSQL cluster in a temp directory and starts it on a free port of 127.0.0.1
 * (trust authentication on loopback and the private socket directory only; fsync off). As root the cluster
 * belongs to the `postgres` OS user. Set `CELLAR_TEST_PG_BIN` to use other binaries.
 */
export function startPostgres(): TestServer | NoServer {
  const bin = postgresBin();
  if (!bin || !existsSync(join(bin, 'initdb')) || !existsSync(join(bin, 'pg_ctl'))) {
    return {
      ok: false,
      reason: 'PostgreSQL server binaries (initdb, pg_ctl) are not installed (Debian package postgresql)',
    };
  }
  const isRoot = process.getuid?.() === 0;
  const owner = isRoot ? osUserIds('postgres') : null;
  if (isRoot && !owner)
    return { ok: false, reason: 'running as root and there is no "postgres" OS user to own the cluster' };
  if (isRoot && !which('runuser') && !which('su')) {
    return { ok: false, reason: 'running as root and neither runuser(1) nor su(1) is available' };
  }

  const dir = mkdtempSync(join(tmpdir(), 'cellar-pg-'));
  const data = join(dir, 'data');
  const sock = join(dir, 'sock');
  mkdirSync(sock);
  if (owner) {
    chownSync(dir, owner.uid, owner.gid);
    chownSync(sock, owner.uid, owner.gid);
  }
  const removeDir = (): void => rmSync(dir, { recursive: true, force: true });
  const init = runAsServerUser(
    join(bin, 'initdb'),
    ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync'],
    isRoot,
  );
  if (init.status !== 0) {
    removeDir();
    return { ok: false, reason: `initdb failed: ${init.output.slice(-800)}` };
  }
  // Trust only the private socket directory and loopback.
  const hba = ['local all all trust', 'host all all 127.0.0.1/32 trust', ''].join('\n');
  writeFileSync(join(data, 'pg_hba.conf'), hba);
  if (owner) chownSync(join(data, 'pg_hba.conf'), owner.uid, owner.gid);

  const pgCtl = join(bin, 'pg_ctl');
  const stopSync = (): void => {
    runAsServerUser(pgCtl, ['-D', data, '-m', 'immediate', '-w', 'stop'], isRoot);
  };
  let lastError = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = freePort();
    const serverOpts = [
      `-p ${port}`,
      `-k ${sock}`,
      '-c listen_addresses=127.0.0.1',
      '-c fsync=off',
      '-c synchronous_commit=off',
      '-c full_page_writes=off',
      '-c max_connections=40',
    ].join(' ');
    const start = runAsServerUser(
      pgCtl,
      ['-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '60', '-o', serverOpts, 'start'],
      isRoot,
    );
    if (start.status === 0) {
      const ctl = [pgCtl, '-D', data, '-m', 'immediate', 'stop'];
      const ctlShell = isRoot ? asPostgresShell(ctl) : ctl.map(sh).join(' ');
      const cancelWatchdog = watchdog(`${ctlShell} >/dev/null 2>&1; rm -rf ${sh(dir)}`);
      const kill = (): void => {
        cancelWatchdog();
        stopSync();
        removeDir();
      };
      cleanups.add(kill);
      return {
        ok: true,
        url: `postgres://postgres@127.0.0.1:${port}/postgres`,
        port,
        async stop() {
          if (!cleanups.delete(kill)) return;
          cancelWatchdog();
          runAsServerUser(pgCtl, ['-D', data, '-m', 'fast', '-w', 'stop'], isRoot);
          removeDir();
        },
      };
    }
    const log = existsSync(join(dir, 'server.log')) ? readFileSync(join(dir, 'server.log'), 'utf8') : '';
    lastError = `${start.output}\n${log}`.slice(-800);
    stopSync();
  }
  removeDir();
  return { ok: false, reason: `PostgreSQL did not start: ${lastError}` };
}

/**
 * Defines a jest `describe` block needing a server: when the server is unavailable, registers one FAILING
 * test that states why instead of the suite (never a passing skip).
 */
export function describeWithServer(
  title: string,
  server: TestServer | NoServer,
  body: (server: TestServer) => void,
): void {
  describe(title, () => {
    if (!server.ok) {
      const reason = server.reason;
      // A missing server fails the suite (as the Jupyter and Chromium tests do): CI cannot go green without it.
      test(`needs its server: ${reason}`, () => {
        throw new Error(`${title} needs a real server and could not start one: ${reason}`);
      });
      return;
    }
    body(server);
    // Registered after the body's hooks, so it runs after them (clients close before the server stops).
    afterAll(() => server.stop());
  });
}
