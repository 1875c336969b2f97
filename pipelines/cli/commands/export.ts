/**
 * cli/commands/export — `cellar export <notebook> --name <pipeline>`: exports a tagged TypeScript notebook
 * as a new pipeline version (or reports the existing version when nothing changed). Problems in the
 * notebook are listed one per line with their cell; `--json` prints them as `details.errors`.
 */
import type { Command } from 'commander';
import { CellarError } from '../../../kernel-lib/errors.js';
import type { ExportResult } from '../../../kernel-lib/exporter/index.js';
import type { CliContext } from '../main.js';
import { printFields, printJson, printTable } from '../output.js';

/** Parses a whole-number option. */
export function wholeNumber(value: string, option: string): number {
  if (!/^\d{1,9}$/.test(value)) {
    throw new CellarError(
      'INVALID_PARAMETER',
      `${option} needs a whole number, got ${JSON.stringify(value)}.`,
    );
  }
  return Number(value);
}

interface ExportCliOptions {
  name: string;
  schedule?: string;
  catchup?: boolean;
  maxActiveRuns?: string;
  retries?: string;
  timeout?: string;
  json?: boolean;
}

/** Prints an export result for people. */
function printResult(ctx: CliContext, r: ExportResult): void {
  ctx.io.out(
    r.created
      ? `Exported ${r.name} version ${r.version}.\n`
      : `${r.name} is unchanged: version ${r.version} already has this content.\n`,
  );
  printFields(ctx.io, [
    ['pipeline', `${r.name}@${r.version}`],
    ['hash', r.hash],
    ['schedule', r.spec.schedule ?? '(manual runs only)'],
    ['parameters', r.spec.parameters.map((p) => `${p.name}=${JSON.stringify(p.default)}`).join(' ')],
    ['metrics', r.spec.metrics.map((m) => m.name).join(' ')],
    ['folder', r.dir],
  ]);
  ctx.io.out('\n');
  printTable(
    ctx.io,
    ['STEP', 'AFTER', 'READS', 'HANDS ON', 'CELLS'],
    r.spec.steps.map((s) => [
      s.name,
      s.upstream.join(' '),
      [...Object.keys(s.inputs), ...s.parameters].join(' '),
      s.outputs.join(' '),
      s.cells.join(' '),
    ]),
  );
}

/** Registers `cellar export`. */
export function registerExportCommand(program: Command, ctx: CliContext): void {
  program
    .command('export')
    .description('export a tagged TypeScript notebook as a new pipeline version')
    .argument('<notebook>', 'path of the .ipynb notebook')
    .requiredOption('-n, --name <pipeline>', 'pipeline name (lower-case letters, digits, "_" and "-")')
    .option(
      '-s, --schedule <cron>',
      'cron schedule in UTC, 5 fields, e.g. "0 * * * *" (default: manual runs)',
    )
    .option('--catchup', 'run intervals missed while the scheduler was down')
    .option('--max-active-runs <n>', 'runs of this pipeline allowed at once (default 1)')
    .option('--retries <n>', 'retries of each step (default 0; a retries:<n> cell tag wins)')
    .option('--timeout <duration>', 'timeout of each step attempt, e.g. 90s, 5m, 2h (default none)')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      `
Cell tags: imports, functions, pipeline-parameters, pipeline-metrics, step:<name>, prev:<name>, skip;
on step cells also retries:<n>, timeout:<duration>, trigger:<all_success|all_done|one_failed>.
Untagged cells join the block above them. Exporting an unchanged notebook returns the existing version.`,
    )
    .action(async (notebook: string, opts: ExportCliOptions) => {
      const [{ exportNotebook }, { parseDuration }] = await Promise.all([
        import('../../../kernel-lib/lazy/exporter.js'),
        import('../../../kernel-lib/exporter/tags.js'),
      ]);
      let timeoutMs: number | undefined;
      if (opts.timeout !== undefined) {
        const ms = parseDuration(opts.timeout);
        if (ms === null) {
          throw new CellarError(
            'INVALID_PARAMETER',
            `--timeout needs a duration such as 90s, 5m or 2h, got "${opts.timeout}".`,
          );
        }
        timeoutMs = ms;
      }
      const result = await exportNotebook({
        notebook,
        name: opts.name,
        schedule: opts.schedule ?? null,
        ...(opts.catchup ? { catchup: true } : {}),
        ...(opts.maxActiveRuns === undefined
          ? {}
          : { maxActiveRuns: wholeNumber(opts.maxActiveRuns, '--max-active-runs') }),
        ...(opts.retries === undefined ? {} : { retries: wholeNumber(opts.retries, '--retries') }),
        ...(timeoutMs === undefined ? {} : { timeoutMs }),
        ...(ctx.storeDir() === undefined ? {} : { store: ctx.storeDir()! }),
      });
      if (opts.json) printJson(ctx.io, result);
      else printResult(ctx, result);
    });
}
