/**
 * cli/commands/runs — `cellar runs list|show` (and `cellar experiments list`): read-only views of tracking.
 */
import type { Command } from 'commander';
import { CellarError } from '../../../kernel-lib/errors.js';
import type { CliContext } from '../main.js';
import { iso, printFields, printJson, printTable } from '../output.js';

function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) {
    throw new CellarError('INVALID_PARAMETER', `Expected a positive whole number, got "${value}".`);
  }
  return n;
}

/** Registers `cellar runs …` and `cellar experiments …`. */
export function registerRunsCommands(program: Command, ctx: CliContext): void {
  const runs = program.command('runs').description('list and inspect tracked runs');

  runs
    .command('list')
    .description('list runs, newest first')
    .option('-e, --experiment <name>', 'only runs of this experiment')
    .option('-f, --filter <expr>', `filter, e.g. "metrics.rmse < 0.5 and params.alpha = '0.5'"`)
    .option('-o, --order-by <clause...>', 'ordering, e.g. "metrics.rmse ASC"')
    .option('-n, --max <count>', 'most runs to show', '100')
    .option('--json', 'print JSON')
    .action(
      async (opts: {
        experiment?: string;
        filter?: string;
        orderBy?: string[];
        max: string;
        json?: boolean;
      }) => {
        const store = (await import('../../../kernel-lib/sdk.js')).openStore(ctx.storeDir());
        const list = await store.searchRuns({
          ...(opts.experiment === undefined ? {} : { experiment: opts.experiment }),
          ...(opts.filter === undefined ? {} : { filter: opts.filter }),
          ...(opts.orderBy === undefined ? {} : { orderBy: opts.orderBy }),
          maxResults: parsePositiveInt(opts.max),
        });
        if (opts.json) {
          printJson(ctx.io, { runs: [...list], nextPageToken: list.nextPageToken });
          return;
        }
        const experiments = new Map((await store.listExperiments()).map((e) => [e.id, e.name]));
        const metricKeys = [...new Set(list.flatMap((r) => Object.keys(r.metrics)))].sort().slice(0, 4);
        printTable(
          ctx.io,
          ['RUN ID', 'EXPERIMENT', 'NAME', 'STATUS', 'STARTED', ...metricKeys],
          list.map((r) => [
            r.id,
            experiments.get(r.experimentId) ?? r.experimentId,
            r.runName,
            r.status,
            iso(r.startTime),
            ...metricKeys.map((k) => r.metrics[k]),
          ]),
        );
      },
    );

  runs
    .command('show')
    .description('show one run: status, params, metrics, tags and artifacts')
    .argument('<runId>', 'run id')
    .option('--json', 'print JSON')
    .action(async (runId: string, opts: { json?: boolean }) => {
      const store = (await import('../../../kernel-lib/sdk.js')).openStore(ctx.storeDir());
      const run = await store.getRun(runId);
      const artifacts = await store.tracking.listArtifacts(runId);
      const inputs = await store.tracking.listInputs(runId);
      if (opts.json) {
        printJson(ctx.io, { ...run, artifacts, inputs });
        return;
      }
      printFields(ctx.io, [
        ['run id', run.id],
        ['name', run.runName],
        ['experiment', run.experimentId],
        ['status', run.status],
        ['started', iso(run.startTime)],
        ['ended', iso(run.endTime)],
        ['parent', run.parentRunId],
      ]);
      const section = (title: string, entries: Array<[string, unknown]>): void => {
        ctx.io.out(`\n${title}\n`);
        if (entries.length === 0) ctx.io.out('  (none)\n');
        else printFields({ out: (t) => ctx.io.out(`  ${t}`), err: ctx.io.err }, entries);
      };
      section('params', Object.entries(run.params).sort());
      section('metrics', Object.entries(run.metrics).sort());
      section('tags', Object.entries(run.tags).sort());
      section(
        'artifacts',
        artifacts.map((a) => [a.path, `${a.size} B  ${a.kind}`]),
      );
      section(
        'inputs',
        inputs.map((i) => [i.context, `${i.fingerprint.slice(0, 16)}…  ${i.nRows ?? '?'}×${i.nCols ?? '?'}`]),
      );
    });

  program
    .command('experiments')
    .description('list experiments')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const store = (await import('../../../kernel-lib/sdk.js')).openStore(ctx.storeDir());
      const list = await store.listExperiments();
      if (opts.json) printJson(ctx.io, list);
      else
        printTable(
          ctx.io,
          ['ID', 'NAME', 'CREATED'],
          list.map((e) => [e.id, e.name, iso(e.createdAt)]),
        );
    });
}
