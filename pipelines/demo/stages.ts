/**
 * demo/stages — the stages of the main job (`npm run demo`, `cellar demo`): the course's whole workflow on
 * the embedded store, each stage through the public API a user calls — data → feature definitions →
 * point-in-time training set → tracked training → registry → pipeline export and one run → online
 * materialization → `cellar serve` with a prediction by entity → monitoring report. Each stage returns the
 * one line the runner prints; a stage whose capability this build lacks throws {@link StageSkipped}.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import type { CellarStore } from '../../kernel-lib/client.js';
import { readParquet, writeFileAtomic, writeParquet } from '../../kernel-lib/data/io.js';
import { toRows } from '../../kernel-lib/data/frame.js';
import { isCellarError } from '../../kernel-lib/errors.js';
import { exportNotebook } from '../../kernel-lib/exporter/index.js';
import { driverDefinitions, writeDemoData } from '../../kernel-lib/features/demo-data.js';
import { featureStore, type FeatureStore } from '../../kernel-lib/features/feature-store.js';
import { ElasticNet } from '../../kernel-lib/ml/index.js';
import { rmse } from '../../kernel-lib/ml/metrics.js';
import { trainTestSplit } from '../../kernel-lib/ml/split.js';
import { evaluate } from '../../kernel-lib/tracking/autolog.js';
import { runPipeline } from '../scheduler/api.js';

/** Thrown by a stage whose capability is not in this build: the runner prints the reason and goes on. */
export class StageSkipped extends Error {}

/** What the stages share. */
export interface DemoContext {
  store: CellarStore;
  /** The project folder (the store's parent): data goes to `<project>/data`. */
  project: string;
  /** The cellar package folder (notebooks, bin). */
  packageRoot: string;
  /** Progress lines inside a long stage. */
  progress(text: string): void;
  /** What the stages made, printed at the end (and returned as JSON). */
  made: Record<string, unknown>;
}

/** One stage of the workflow. */
export interface DemoStage {
  name: string;
  run(ctx: DemoContext): Promise<string>;
}

export const DEMO_FEATURES = ['conv_rate', 'acc_rate', 'avg_daily_trips'] as const;
const DAY = 86_400_000;
const HOUR = 3_600_000;
/** The data options; `start` is derived from today so that the online store's values are fresh. */
const DATA = { drivers: 10, days: 14, seed: 42, ordersPerDriverPerDay: 10 };

function dataDir(ctx: DemoContext): string {
  return join(ctx.project, 'data');
}

function features(ctx: DemoContext): FeatureStore {
  return featureStore(ctx.store);
}

/** The data window: 14 days ending at today's 00:00 UTC. */
export function demoWindow(now = Date.now()): { startMs: number; endMs: number } {
  const endMs = Math.floor(now / DAY) * DAY;
  return { startMs: endMs - DATA.days * DAY, endMs };
}

const dataStage: DemoStage = {
  name: 'data',
  async run(ctx) {
    const dir = dataDir(ctx);
    const { startMs, endMs } = demoWindow();
    const meta = JSON.stringify({ ...DATA, start: new Date(startMs).toISOString() });
    const metaFile = join(dir, 'demo.json');
    const stats = join(dir, 'driver_stats.parquet');
    const orders = join(dir, 'driver_orders.parquet');
    ctx.made['data'] = dir;
    ctx.made['window'] = { start: new Date(startMs).toISOString(), end: new Date(endMs).toISOString() };
    if (
      existsSync(stats) &&
      existsSync(orders) &&
      existsSync(metaFile) &&
      readFileSync(metaFile, 'utf8') === meta
    ) {
      return `reused ${dir} (driver_stats, driver_orders)`;
    }
    const files = writeDemoData(dir, { ...DATA, start: new Date(startMs) });
    writeFileAtomic(metaFile, meta);
    return `${files.rows.driverStats} stats rows and ${files.rows.driverOrders} orders (10 drivers, 14 days to ${new Date(endMs).toISOString().slice(0, 10)}) in ${dir}`;
  },
};

const featuresStage: DemoStage = {
  name: 'feature definitions',
  async run(ctx) {
    const plan = await features(ctx).apply(
      driverDefinitions(join(dataDir(ctx), 'driver_stats.parquet'), { ttl: '2d' }),
    );
    const changed = plan.items.filter((i) => i.action !== 'unchanged');
    return plan.unchanged
      ? 'entity driver, view driver_stats (ttl 2d), service driver_activity: unchanged'
      : `applied ${changed.map((i) => `${i.kind} ${i.name} (${i.action})`).join(', ')}`;
  },
};

const trainingSetStage: DemoStage = {
  name: 'point-in-time training set',
  async run(ctx) {
    const orders = readParquet(join(dataDir(ctx), 'driver_orders.parquet'));
    const frame = await features(ctx)
      .getHistoricalFeatures({ entityDf: orders, features: 'driver_activity' })
      .toDataFrame();
    const out = join(dataDir(ctx), 'training.parquet');
    writeParquet(frame, out);
    const rows = toRows(frame);
    const matched = rows.filter((r) => DEMO_FEATURES.every((f) => typeof r[f] === 'number')).length;
    ctx.made['trainingSet'] = out;
    return `${rows.length} orders joined with driver_activity, ${matched} with every feature (${((100 * matched) / rows.length).toFixed(1)} %) → ${out}`;
  },
};

interface Split {
  Xtrain: Array<Record<string, number>>;
  Xtest: Array<Record<string, number>>;
  ytrain: number[];
  ytest: number[];
}

function loadSplit(ctx: DemoContext): Split {
  const rows = toRows(readParquet(join(dataDir(ctx), 'training.parquet'))).filter((r) =>
    DEMO_FEATURES.every((f) => typeof r[f] === 'number'),
  );
  const X = rows.map((r) => Object.fromEntries(DEMO_FEATURES.map((f) => [f, r[f] as number])));
  const y = rows.map((r) => Number(r['trip_completed']));
  const [Xtrain, Xtest, ytrain, ytest] = trainTestSplit(X, y, { testSize: 0.2, seed: 42 });
  return { Xtrain, Xtest, ytrain, ytest } as Split;
}

const trainStage: DemoStage = {
  name: 'training (tracked run)',
  async run(ctx) {
    const split = loadSplit(ctx);
    const result = await ctx.store.withRun(
      { experiment: 'driver-demo', runName: 'elasticnet' },
      async (run) => {
        const model = new ElasticNet({ alpha: 0.5, l1Ratio: 0.1 }).fit(split.Xtrain, split.ytrain);
        const scores = await evaluate(model, split.Xtest, split.ytest);
        return { runId: run.id, scores };
      },
    );
    ctx.made['runId'] = result.runId;
    ctx.made['metrics'] = result.scores;
    const s = result.scores;
    return `ElasticNet(alpha=0.5, l1_ratio=0.1): test RMSE ${s.rmse.toFixed(4)}, MAE ${s.mae.toFixed(4)}, R2 ${s.r2.toFixed(4)} (run ${result.runId})`;
  },
};

const registryStage: DemoStage = {
  name: 'registry',
  async run(ctx) {
    const runId = ctx.made['runId'] as string;
    const split = loadSplit(ctx);
    const candidate = (ctx.made['metrics'] as { rmse: number }).rmse;
    let championRmse = Number.POSITIVE_INFINITY;
    let championVersion = 0;
    try {
      const champion = await ctx.store.loadModel('models:/driver@champion');
      championRmse = rmse(split.ytest, champion.predict(split.Xtest));
      championVersion = champion.version ?? 0;
    } catch (e) {
      if (!(isCellarError(e) && e.code === 'NOT_FOUND')) throw e;
    }
    if (candidate < championRmse) {
      const mv = await ctx.store.registerModel({
        name: 'driver',
        runId,
        alias: 'champion',
        // What `cellar serve` fetches for a request by driver_id; a missing or stale value gets the training mean.
        features: DEMO_FEATURES.map((f) => `driver_stats:${f}`),
        serving: { missing: 'impute' },
      });
      ctx.made['model'] = `driver v${mv.version} @champion`;
      return `registered driver v${mv.version} and set @champion (test RMSE ${candidate.toFixed(4)})`;
    }
    ctx.made['model'] = `driver v${championVersion} @champion`;
    return `kept driver v${championVersion} @champion (its RMSE ${championRmse.toFixed(4)} is not beaten)`;
  },
};

const pipelineStage: DemoStage = {
  name: 'pipeline export and one run',
  async run(ctx) {
    const notebook = join(ctx.packageRoot, 'notebooks', '03-train.ipynb');
    const exported = await exportNotebook({
      notebook,
      name: 'driver-training',
      schedule: '0 * * * *',
      store: ctx.store,
    });
    ctx.progress(
      `driver-training@${exported.version} ${exported.created ? 'exported' : 'unchanged, reused'}: ${exported.spec.steps.map((s) => s.name).join(' → ')}, hourly`,
    );
    const summary = await runPipeline({
      store: ctx.store.embedded,
      name: 'driver-training',
      params: { dataDir: dataDir(ctx) },
      log: (line: string) => ctx.progress(line),
    });
    ctx.made['pipeline'] =
      `driver-training@${exported.version}, run ${summary.run.runId} ${summary.run.state}`;
    if (summary.run.state !== 'success') {
      throw new Error(
        `pipeline run ${summary.run.runId} ended ${summary.run.state}: ${summary.run.error ?? ''}`,
      );
    }
    const steps = summary.tasks.map((t) => `${t.step} ${t.state}`).join(', ');
    return `run ${summary.run.runId}: ${steps}`;
  },
};

const onlineStage: DemoStage = {
  name: 'online materialization',
  async run(ctx) {
    const fs = features(ctx);
    const { startMs, endMs } = demoWindow();
    const done = await fs.materialize({ start: startMs, end: Math.min(endMs + HOUR, Date.now()) });
    const online = await fs.getOnlineFeatures({
      features: DEMO_FEATURES.map((f) => `driver_stats:${f}`),
      entityRows: [{ driver_id: 1001 }],
    });
    const row = online.toRows()[0]!;
    const statuses = online.results
      .slice(online.fieldNames.length - DEMO_FEATURES.length)
      .map((r) => r.statuses[0])
      .join('/');
    return `${done.map((m) => `${m.view}: ${m.rows} drivers`).join(', ')}; driver 1001 online: ${DEMO_FEATURES.map((f) => `${f}=${String(row[f])}`).join(' ')} (${statuses})`;
  },
};

/** Runs the `cellar` CLI of this package; resolves to its exit code and output. */
function cellarCli(ctx: DemoContext, args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(
    process.execPath,
    [join(ctx.packageRoot, 'bin', 'cellar.cjs'), '--store', ctx.store.root, ...args],
    {
      encoding: 'utf8',
      timeout: 120_000,
    },
  );
  return { code: r.status ?? 1, out: r.stdout ?? '', err: r.stderr ?? '' };
}

function hasCommand(ctx: DemoContext, name: string): boolean {
  const help = cellarCli(ctx, ['--help']);
  return new RegExp(`^\\s+${name}\\b`, 'm').test(help.out);
}

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? ok(addr.port) : fail(new Error('no port'))));
    });
  });
}

async function waitFor(url: string, ms: number): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > until) throw new Error(`${url} did not answer within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const serveStage: DemoStage = {
  name: 'serving over HTTP',
  async run(ctx) {
    if (!hasCommand(ctx, 'serve')) throw new StageSkipped('`cellar serve` is not in this build yet');
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [
        join(ctx.packageRoot, 'bin', 'cellar.cjs'),
        '--store',
        ctx.store.root,
        'serve',
        'driver@champion',
        '--port',
        String(port),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let log = '';
    child.stdout.on('data', (d: Buffer) => (log += d.toString()));
    child.stderr.on('data', (d: Buffer) => (log += d.toString()));
    const base = `http://127.0.0.1:${port}`;
    try {
      await waitFor(`${base}/ping`, 30_000).catch((e: Error) => {
        throw new Error(`${e.message}\n${log}`);
      });
      const started = performance.now();
      const res = await fetch(`${base}/invocations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ entities: [{ driver_id: 1001 }, { driver_id: 1002 }] }),
      });
      const ms = performance.now() - started;
      const body = (await res.json()) as { predictions?: unknown[] };
      if (!res.ok || !Array.isArray(body.predictions)) {
        throw new Error(`POST /invocations answered ${res.status}: ${JSON.stringify(body)}`);
      }
      ctx.made['served'] = `cellar serve driver@champion (port ${port}, stopped after the demo)`;
      const preds = body.predictions.map((p) => (typeof p === 'number' ? p.toFixed(4) : JSON.stringify(p)));
      return `POST /invocations {"entities":[{"driver_id":1001},{"driver_id":1002}]} → ${preds.join(', ')} in ${ms.toFixed(1)} ms (features fetched online by the server)`;
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  },
};

const monitorStage: DemoStage = {
  name: 'monitoring report',
  async run(ctx) {
    if (!hasCommand(ctx, 'monitor')) throw new StageSkipped('`cellar monitor` is not in this build yet');
    const html = resolve(ctx.project, 'data', 'monitor-report.html');
    const r = cellarCli(ctx, ['monitor', 'driver@champion', '--html', html]);
    if (r.code !== 0) throw new Error(`cellar monitor exited ${r.code}: ${r.err || r.out}`);
    ctx.made['report'] = html;
    const lines = r.out.trim().split('\n');
    for (const l of lines) ctx.progress(l);
    return `report over the logged predictions → ${html}`;
  },
};

/** The stages, in the course's order. */
export const DEMO_STAGES: readonly DemoStage[] = [
  dataStage,
  featuresStage,
  trainingSetStage,
  trainStage,
  registryStage,
  pipelineStage,
  onlineStage,
  serveStage,
  monitorStage,
];
