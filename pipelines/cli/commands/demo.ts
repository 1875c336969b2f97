/**
 * cli/commands/demo — `cellar demo`: the README's main job, the course's whole workflow stage by stage
 * (pipelines/demo). `--train-only` keeps the short form: the course's ElasticNet(alpha=0.5, l1_ratio=0.1)
 * on seeded synthetic driver rows with an 80/20 split inside a tracked run, registered as `driver`
 * @champion, reloaded through `models:/driver@champion`.
 */
import type { Command } from 'commander';
import { CellarError } from '../../../kernel-lib/errors.js';
import type { DriverTrainingRow } from '../../../kernel-lib/data/synthetic.js';
import type { CliContext } from '../main.js';
import { printJson } from '../output.js';

/** The feature columns the demo model uses. */
const DEMO_FEATURES = ['conv_rate', 'acc_rate', 'avg_daily_trips'] as const;

function columns(rows: DriverTrainingRow[]): Record<string, number[]> {
  return Object.fromEntries(DEMO_FEATURES.map((f) => [f, rows.map((r) => r[f])]));
}

/** Registers `cellar demo`. */
export function registerDemoCommand(program: Command, ctx: CliContext): void {
  program
    .command('demo')
    .description(
      "the course's whole workflow: data, features, point-in-time training set, tracked training, registry, pipeline, online store, serving, monitoring",
    )
    .option(
      '--train-only',
      'only train, track and register the ElasticNet on synthetic rows (the short form)',
    )
    .option('--rows <n>', 'with --train-only: rows of synthetic data', '5000')
    .option('--seed <n>', 'random seed for data and split', '42')
    .option('--model-name <name>', 'registered model name', 'driver')
    .option('--json', 'print JSON')
    .action(
      async (opts: {
        rows: string;
        seed: string;
        modelName: string;
        json?: boolean;
        trainOnly?: boolean;
      }) => {
        if (!opts.trainOnly) {
          await runWorkflow(ctx, opts.json === true);
          return;
        }
        const rowsN = Number(opts.rows);
        const seed = Number(opts.seed);
        if (!Number.isSafeInteger(rowsN) || rowsN < 10)
          throw new CellarError('INVALID_PARAMETER', '--rows must be an integer >= 10.');
        if (!Number.isSafeInteger(seed))
          throw new CellarError('INVALID_PARAMETER', '--seed must be an integer.');
        const [{ driverTrainingData }, { ElasticNet }, { trainTestSplit }, { evaluate }] = await Promise.all([
          import('../../../kernel-lib/data/synthetic.js'),
          import('../../../kernel-lib/ml/index.js'),
          import('../../../kernel-lib/ml/split.js'),
          import('../../../kernel-lib/tracking/autolog.js'),
        ]);
        const store = (await import('../../../kernel-lib/sdk.js')).openStore(ctx.storeDir());
        const data = driverTrainingData({ rows: rowsN, seed });
        const [train, test] = trainTestSplit(data, { testSize: 0.2, seed });
        const result = await store.withRun(
          { experiment: 'driver-demo', runName: `elasticnet-seed-${seed}` },
          async (run) => {
            await run.logParams({ rows: rowsN, seed, test_size: 0.2 });
            const model = new ElasticNet({ alpha: 0.5, l1Ratio: 0.1 }).fit(
              columns(train),
              train.map((r) => r.trip_completed),
            );
            const metrics = await evaluate(
              model,
              columns(test),
              test.map((r) => r.trip_completed),
              { prefix: '' },
            );
            await run.logMetrics({ test_rmse: metrics.rmse, test_mae: metrics.mae, test_r2: metrics.r2 });
            return { runId: run.id, metrics, coef: model.coef, intercept: model.intercept };
          },
        );
        const mv = await store.registerModel({
          name: opts.modelName,
          runId: result.runId,
          alias: 'champion',
        });
        const loaded = await store.loadModel(`models:/${opts.modelName}@champion`);
        const sample = test.slice(0, 3);
        const predictions = loaded.predict(columns(sample));
        const out = {
          runId: result.runId,
          experiment: 'driver-demo',
          metrics: result.metrics,
          model: {
            name: mv.name,
            version: mv.version,
            alias: 'champion',
            coef: result.coef,
            intercept: result.intercept,
          },
          samplePredictions: predictions,
          store: store.root,
        };
        if (opts.json) {
          printJson(ctx.io, out);
          return;
        }
        const f = (x: number): string => x.toFixed(4);
        ctx.io.out(
          [
            `cellar demo: ElasticNet(alpha=0.5, l1_ratio=0.1) on ${rowsN} synthetic driver rows (80/20 split, seed ${seed})`,
            `  test RMSE ${f(result.metrics.rmse)}   MAE ${f(result.metrics.mae)}   R2 ${f(result.metrics.r2)}`,
            `  run id    ${result.runId}  (experiment driver-demo)`,
            `  model     ${mv.name} version ${mv.version}, alias @champion`,
            `  reloaded  models:/${opts.modelName}@champion predicts ${predictions.map(f).join(', ')} for 3 test rows`,
            `  store     ${store.root}`,
            `Try: npx cellar runs show ${result.runId}`,
            '',
          ].join('\n'),
        );
      },
    );
}

/** The whole workflow (`cellar demo` without `--train-only`). */
async function runWorkflow(ctx: CliContext, json: boolean): Promise<void> {
  const [{ runDemo }, { packageRoot }] = await Promise.all([
    import('../../demo/run.js'),
    import('./jupyter.js'),
  ]);
  const store = (await import('../../../kernel-lib/sdk.js')).openStore(ctx.storeDir());
  const print = json ? undefined : (line: string): void => ctx.io.out(line + '\n');
  print?.(`cellar demo: the course's workflow on the embedded store ${store.root}`);
  const result = await runDemo({ store, packageRoot: packageRoot(), ...(print ? { print } : {}) });
  if (json) {
    printJson(ctx.io, result);
    return;
  }
  const skipped = result.stages.filter((s) => s.status === 'skipped').length;
  ctx.io.out(
    [
      '',
      `Done in ${result.seconds.toFixed(1)} s (${result.stages.length - skipped} stages${skipped ? `, ${skipped} skipped` : ''}). Made:`,
      ...Object.entries(result.made).map(
        ([k, v]) => `  ${k.padEnd(12)} ${typeof v === 'string' ? v : JSON.stringify(v)}`,
      ),
      '',
      'Look at it:',
      `  npx cellar runs list --experiment driver-demo     the tracked runs`,
      `  npx cellar runs show ${String(result.made['runId'] ?? '<run id>')}`,
      '  npx cellar models show driver                     versions and @champion',
      '  npx cellar pipelines runs driver-training         the pipeline run and its steps',
      '  npx cellar serve driver@champion                  predictions over HTTP (POST /invocations)',
      '  npx cellar up                                     the web UI',
      '  npx cellar jupyter install                        then open notebooks/01-explore.ipynb in JupyterLab',
      '',
    ].join('\n'),
  );
}
