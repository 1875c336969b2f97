/**
 * cli/commands/demo-data — `cellar demo-data`: writes the course's deterministic driver data (driver_stats and
 * driver_orders as Parquet, optionally CSV) and a `features.json` with matching definitions, ready for
 * `cellar features apply` and `cellar features join`.
 */
import type { Command } from 'commander';
import { CellarError } from '../../../kernel-lib/errors.js';
import type { CliContext } from '../main.js';
import { printFields, printJson } from '../output.js';

function intOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) {
    throw new CellarError('INVALID_PARAMETER', `--${name} must be an integer, got "${value}".`);
  }
  return n;
}

/** The current hour (UTC) as ISO-8601: the default end of the demo data. */
function currentHour(): string {
  return new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000).toISOString();
}

/** Registers `cellar demo-data`. */
export function registerDemoDataCommand(program: Command, ctx: CliContext): void {
  program
    .command('demo-data')
    .description('write the course driver data (seeded): driver_stats, driver_orders and features.json')
    .requiredOption('--out <dir>', 'directory to write into (created if needed)')
    .option('--drivers <n>', 'number of drivers (ids from 1001)', '10')
    .option('--days <n>', 'days of hourly driver stats', '14')
    .option('--seed <n>', 'random seed', '42')
    .option('--start <iso>', 'first stats hour, ISO-8601 with a zone (instead of --end)')
    .option('--end <iso>', 'last stats hour, ISO-8601 with a zone (default: the current hour, UTC)')
    .option('--orders-per-day <n>', 'orders per driver and day', '10')
    .option('--csv', 'also write CSV files')
    .option('--json', 'print JSON')
    .action(
      async (opts: {
        out: string;
        drivers: string;
        days: string;
        seed: string;
        start?: string;
        end?: string;
        ordersPerDay: string;
        csv?: boolean;
        json?: boolean;
      }) => {
        const { writeDemoData } = await import('../../../kernel-lib/features/demo-data.js');
        const files = writeDemoData(opts.out, {
          drivers: intOption('drivers', opts.drivers)!,
          days: intOption('days', opts.days)!,
          seed: intOption('seed', opts.seed)!,
          ordersPerDriverPerDay: intOption('orders-per-day', opts.ordersPerDay)!,
          // Data ending at the current hour keeps online features fresh (inside the views' TTL) today.
          ...(opts.start !== undefined ? { start: opts.start } : { end: opts.end ?? currentHour() }),
          csv: opts.csv ?? false,
        });
        if (opts.json) {
          printJson(ctx.io, files);
          return;
        }
        printFields(ctx.io, [
          ['driver_stats', `${files.driverStats} (${files.rows.driverStats} rows)`],
          ['driver_orders', `${files.driverOrders} (${files.rows.driverOrders} rows)`],
          ...(files.driverStatsCsv
            ? ([['csv', `${files.driverStatsCsv}, ${files.driverOrdersCsv}`]] as Array<[string, unknown]>)
            : []),
          ['definitions', files.definitions],
          ['manifest', files.manifest],
        ]);
        ctx.io.out(
          `Next: cellar features apply ${files.definitions}\n` +
            `      cellar features join --entities ${files.driverOrders} --service driver_activity --out train.parquet\n` +
            '      cellar features materialize-incremental\n' +
            '      cellar features online --features driver_activity --entity driver_id=1001\n',
        );
      },
    );
}
