/**
 * tests/pipelines/serving/fixture — a real store for serving tests: demo driver data, feature definitions
 * applied and materialized, an ElasticNet trained inside a run from `getHistoricalFeatures` output (so autolog
 * records the feature references and training means), registered as version 1 (`@champion`, policy impute),
 * and a second version with other coefficients for alias-swap tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import {
  ElasticNet,
  featureStore,
  openStore,
  writeDemoData,
  type CellarStore,
} from '../../../kernel-lib/index.js';
import { driverDefinitions } from '../../../kernel-lib/features/demo-data.js';
import { REPO_ROOT } from '../../helpers/tmp.js';

/** What the fixture made. */
export interface ServingFixture {
  dir: string;
  runId: string;
  runId2: string;
  /** Driver ids with online features (1001…1005) and one without (9999). */
  drivers: number[];
}

const DAY = 86_400_000;

/** Builds the store in `dir` (a project directory). */
export async function buildServingStore(dir: string): Promise<ServingFixture> {
  const store: CellarStore = openStore(dir);
  const start = Math.floor((Date.now() - 5 * DAY) / DAY) * DAY;
  const files = writeDemoData(join(dir, 'data'), { drivers: 5, days: 5, start, ordersPerDriverPerDay: 4 });
  const fs = featureStore({ embedded: store.embedded });
  await fs.apply(driverDefinitions(files.driverStats, { ttl: '2d' }));
  await fs.materialize({ start, end: Date.now() });
  const orders = (await import('../../../kernel-lib/data/io.js')).readParquet(files.driverOrders);
  const train = await fs
    .getHistoricalFeatures({
      entityDf: orders,
      features: ['driver_stats:conv_rate', 'driver_stats:acc_rate', 'driver_stats:avg_daily_trips'],
    })
    .toRows();
  const rows = train.filter((r) => r.conv_rate !== null);
  const X = rows.map((r) => ({
    conv_rate: r.conv_rate,
    acc_rate: r.acc_rate,
    avg_daily_trips: r.avg_daily_trips,
  }));
  const y = rows.map((r) => Number(r.trip_completed));
  const run = await store.startRun({ experiment: 'serving' });
  new ElasticNet({ alpha: 0.01, l1Ratio: 0.1 }).fit(X, y);
  await run.end('FINISHED');
  await store.registerModel({
    name: 'driver',
    runId: run.id,
    alias: 'champion',
    serving: { missing: 'impute' },
  });
  // Version 2: other coefficients (y scaled), same features, policy reject.
  const run2 = await store.startRun({ experiment: 'serving' });
  new ElasticNet({ alpha: 0.01, l1Ratio: 0.1 }).fit(
    X,
    y.map((v) => v * 10 + 5),
  );
  await run2.end('FINISHED');
  await store.registerModel({ name: 'driver', runId: run2.id, serving: { missing: 'reject' } });
  await fs.close();
  return { dir, runId: run.id, runId2: run2.id, drivers: [1001, 1002, 1003, 1004, 1005] };
}

/** A `cellar serve` child process. */
export interface ServerProcess {
  url: string;
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

/** Starts `cellar serve` on 127.0.0.1 and resolves once it listens (rejects, with its stderr, when it cannot). */
export function startServer(
  dir: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<ServerProcess> {
  const child = spawn(
    process.execPath,
    [join(REPO_ROOT, 'bin', 'cellar.cjs'), '--store', dir, 'serve', ...args, '--port', '0', '--json'],
    { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`cellar serve did not start: ${err}`)), 30_000);
    const check = (): void => {
      const line = out.split('\n').find((l) => l.startsWith('{"url"'));
      if (line) {
        clearTimeout(timer);
        child.stdout!.removeListener('data', check);
        resolve({
          url: (JSON.parse(line) as { url: string }).url,
          child,
          stdout: () => out,
          stderr: () => err,
          exited,
        });
      }
    };
    child.stdout!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`cellar serve exited (${code}): ${err}`));
    });
  });
}
