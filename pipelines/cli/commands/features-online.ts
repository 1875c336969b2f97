/**
 * cli/commands/features-online — the online side of the feature store from the terminal, as Feast users
 * know it: `cellar features materialize`, `materialize-incremental` and `online` (read online features).
 */
import type { Command } from 'commander';
import { CellarError } from '../../../kernel-lib/errors.js';
import type { FeatureStore } from '../../../kernel-lib/features/feature-store.js';
import type { CliContext } from '../main.js';
import { printJson, printTable } from '../output.js';

/** The feature store of `--store`, loaded when a command runs (so `cellar --help` does not load it). */
async function openFeatureStore(ctx: CliContext): Promise<FeatureStore> {
  const { featureStore } = await import('../../../kernel-lib/features/feature-store.js');
  return featureStore(ctx.storeDir());
}

function viewsOption(views: string | undefined): { views?: string[] } {
  return views === undefined
    ? {}
    : {
        views: views
          .split(',')
          .map((v) => v.trim())
          .filter((v) => v !== ''),
      };
}

function parseEntity(pairs: string[]): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  for (const pair of pairs) {
    const i = pair.indexOf('=');
    if (i <= 0) throw new CellarError('INVALID_PARAMETER', `--entity takes key=value, got "${pair}".`);
    const key = pair.slice(0, i);
    const raw = pair.slice(i + 1);
    row[key] = /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw;
  }
  return row;
}

/** Adds `materialize`, `materialize-incremental` and `online` to the `features` group. */
export function registerFeatureOnlineCommands(features: Command, ctx: CliContext): void {
  features
    .command('materialize')
    .description('write the latest value per entity with start <= event time < end into the online store')
    .requiredOption('--start <time>', 'ISO-8601 with a zone, e.g. 2022-09-01T00:00:00Z')
    .option('--end <time>', 'ISO-8601 with a zone, not in the future (default: now)')
    .option('--views <names>', 'comma-separated feature views (default: every online view)')
    .option('--json', 'print JSON')
    .action(async (opts: { start: string; end?: string; views?: string; json?: boolean }) => {
      const store = await openFeatureStore(ctx);
      const end = opts.end ?? new Date();
      const res = await store.materialize({ start: opts.start, end, ...viewsOption(opts.views) });
      if (opts.json) printJson(ctx.io, res);
      else
        printTable(
          ctx.io,
          ['VIEW', 'ROWS', 'UPDATED'],
          res.map((r) => [r.view, r.rows, r.updated]),
        );
    });

  features
    .command('materialize-incremental')
    .description('materialize every online view from its watermark (first time: end - ttl) up to --end')
    .option('--end <time>', 'ISO-8601 with a zone, not in the future (default: now)')
    .option('--views <names>', 'comma-separated feature views (default: every online view)')
    .option('--json', 'print JSON')
    .action(async (opts: { end?: string; views?: string; json?: boolean }) => {
      const store = await openFeatureStore(ctx);
      const res = await store.materializeIncremental({
        end: opts.end ?? new Date(),
        ...viewsOption(opts.views),
      });
      if (opts.json) printJson(ctx.io, res);
      else
        printTable(
          ctx.io,
          ['VIEW', 'ROWS', 'UPDATED'],
          res.map((r) => [r.view, r.rows, r.updated]),
        );
    });

  features
    .command('online')
    .description('read online features for one entity, with a status per value')
    .requiredOption('--features <refs>', 'comma-separated view:feature references, or a feature service name')
    .requiredOption('--entity <key=value...>', 'join key values, e.g. driver_id=1001')
    .option('--json', 'print JSON')
    .action(async (opts: { features: string; entity: string[]; json?: boolean }) => {
      const store = await openFeatureStore(ctx);
      const refs = opts.features.includes(':')
        ? opts.features.split(',').map((f) => f.trim())
        : opts.features;
      const res = await store.getOnlineFeatures({ features: refs, entityRows: [parseEntity(opts.entity)] });
      if (opts.json) {
        printJson(ctx.io, { fieldNames: res.fieldNames, results: res.results });
        return;
      }
      printTable(
        ctx.io,
        ['FIELD', 'VALUE', 'STATUS'],
        res.fieldNames.map((name, i) => [
          name,
          JSON.stringify(res.results[i]!.values[0] ?? null),
          res.results[i]!.statuses[0],
        ]),
      );
    });
}
