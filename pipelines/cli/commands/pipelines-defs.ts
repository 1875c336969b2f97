/**
 * cli/commands/pipelines-defs — the pipeline-definition half of `cellar pipelines`: `list`, `show
 * <name>[@version]`, `diff <name> <v1> <v2>` and `export-airflow <name>@<version>`. The `pipelines` group
 * itself is created in main.ts; the runner's commands (`run`, `backfill`, …) are added to the same group
 * by their own module.
 */
import type { Command } from 'commander';
import type { PipelineDiff } from '../../../kernel-lib/exporter/index.js';
import { CellarError } from '../../../kernel-lib/errors.js';
import type { CliContext } from '../main.js';
import { printFields, printJson, printTable } from '../output.js';

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/g;

/** Escapes control characters (except newline and tab) so printed code cannot rewrite the terminal. */
function safeText(text: string): string {
  return text.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

function formatMs(ms: number): string {
  if (ms === 0) return '';
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/** A store argument for the exporter API from the --store option (undefined → the default store). */
function storeArg(ctx: CliContext): string | undefined {
  return ctx.storeDir();
}

function printDiff(ctx: CliContext, d: PipelineDiff): void {
  ctx.io.out(
    `${d.name}: version ${d.from.version} → ${d.to.version}${d.identical ? ' (identical content)' : ''}\n`,
  );
  for (const s of d.settings)
    ctx.io.out(`  ${s.field}: ${JSON.stringify(s.from)} → ${JSON.stringify(s.to)}\n`);
  for (const p of d.parameters.added)
    ctx.io.out(`  + parameter ${p.name} (${p.type}) = ${JSON.stringify(p.default)}\n`);
  for (const p of d.parameters.removed) ctx.io.out(`  - parameter ${p.name}\n`);
  for (const c of d.parameters.changed) {
    ctx.io.out(
      `  ~ parameter ${c.to.name}: ${c.from.type} ${JSON.stringify(c.from.default)} → ${c.to.type} ${JSON.stringify(c.to.default)}\n`,
    );
  }
  for (const m of d.metrics.added) ctx.io.out(`  + metric ${m}\n`);
  for (const m of d.metrics.removed) ctx.io.out(`  - metric ${m}\n`);
  for (const s of d.steps.added) ctx.io.out(`  + step ${s}\n`);
  for (const s of d.steps.removed) ctx.io.out(`  - step ${s}\n`);
  for (const s of d.steps.changed) ctx.io.out(`  ~ step ${s.name}: ${s.fields.join(', ')}\n`);
  for (const s of d.steps.changed) if (s.sourceDiff !== '') ctx.io.out('\n' + safeText(s.sourceDiff));
}

/**
 * Adds `list`, `show`, `diff` and `export-airflow` to an existing `cellar pipelines` command group.
 *
 * @example
 * const pipelines = program.command('pipelines').description('…');
 * registerPipelineDefinitionCommands(pipelines, ctx);
 */
export function registerPipelineDefinitionCommands(pipelines: Command, ctx: CliContext): void {
  pipelines
    .command('list')
    .description('list exported pipelines with their latest version')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const ex = await import('../../../kernel-lib/lazy/exporter.js');
      const list = ex.listPipelines(storeArg(ctx));
      if (opts.json) return printJson(ctx.io, list);
      printTable(
        ctx.io,
        ['NAME', 'LATEST', 'VERSIONS', 'STEPS', 'SCHEDULE', 'UPDATED'],
        list.map((p) => [p.name, p.latestVersion, p.versions, p.steps, p.schedule ?? '', p.updatedAt]),
      );
    });

  pipelines
    .command('show')
    .description('show a pipeline version: settings, parameters, steps (default: the latest version)')
    .argument('<pipeline>', 'name, name@<version> or name@latest')
    .option('--json', 'print JSON (the stored pipeline spec)')
    .action(async (ref: string, opts: { json?: boolean }) => {
      const ex = await import('../../../kernel-lib/lazy/exporter.js');
      const { name, version } = ex.parsePipelineRef(ref);
      const v = ex.getPipelineVersion(storeArg(ctx), name, version);
      if (opts.json) return printJson(ctx.io, { ...v.spec, dir: v.dir });
      const all = ex.listPipelineVersions(storeArg(ctx), name);
      const s = v.spec;
      printFields(ctx.io, [
        ['pipeline', `${s.name}@${s.version}`],
        ['versions', all.map((x) => x.version).join(' ')],
        ['hash', s.hash],
        ['created', s.createdAt],
        ['schedule', s.schedule ?? '(manual runs only)'],
        ['catchup', String(s.catchup)],
        ['max active runs', s.maxActiveRuns],
        ['notebook', s.source.notebookPath ?? '(in-memory notebook)'],
        ['lockfile', s.lockfileDigest ?? '(none found)'],
        ['folder', v.dir],
      ]);
      ctx.io.out('\n');
      printTable(
        ctx.io,
        ['PARAMETER', 'TYPE', 'DEFAULT'],
        s.parameters.map((p) => [p.name, p.type, JSON.stringify(p.default)]),
      );
      ctx.io.out('\n');
      printTable(
        ctx.io,
        ['STEP', 'AFTER', 'INPUTS', 'PARAMETERS', 'OUTPUTS', 'RETRIES', 'TIMEOUT', 'TRIGGER'],
        s.steps.map((st) => [
          st.name,
          st.upstream.join(' '),
          Object.entries(st.inputs)
            .map(([n, from]) => `${n}<-${from}`)
            .join(' '),
          st.parameters.join(' '),
          st.outputs.join(' '),
          st.retries,
          formatMs(st.timeoutMs),
          st.triggerRule,
        ]),
      );
      if (s.metrics.length > 0)
        ctx.io.out(`\nmetrics: ${s.metrics.map((m) => `${m.name} (${m.step})`).join(', ')}\n`);
    });

  pipelines
    .command('diff')
    .description('compare two versions of a pipeline')
    .argument('<name>', 'pipeline name')
    .argument('<from>', 'version number (or latest)')
    .argument('<to>', 'version number (or latest)')
    .option('--json', 'print JSON')
    .action(async (name: string, from: string, to: string, opts: { json?: boolean }) => {
      const ex = await import('../../../kernel-lib/lazy/exporter.js');
      const d = ex.diffPipelineVersions(storeArg(ctx), name, from, to);
      if (opts.json) printJson(ctx.io, d);
      else printDiff(ctx, d);
    });

  pipelines
    .command('export-airflow')
    .description('write an Airflow DAG whose tasks run the steps with `cellar step run`')
    .argument('<pipeline>', 'name@<version> (or name / name@latest for the latest version)')
    .option('-o, --out <file>', 'write the DAG to this file (default: print it)')
    .option('--cellar-command <cmd>', 'how workers run cellar, words separated by spaces (default "cellar")')
    .option('--store-uri <uri>', "CELLAR_URI for the tasks (default: the workers' environment)")
    .option('--dag-id <id>', 'DAG id (default: the pipeline name)')
    .option('--start-date <iso>', 'first logical date (default: the day the version was exported)')
    .option('--retry-delay <duration>', 'delay before the first retry (default 60s)')
    .option('--max-retry-delay <duration>', 'longest delay between retries (default 1h)')
    .action(
      async (
        ref: string,
        opts: {
          out?: string;
          cellarCommand?: string;
          storeUri?: string;
          dagId?: string;
          startDate?: string;
          retryDelay?: string;
          maxRetryDelay?: string;
        },
      ) => {
        const [ex, { parseDuration }, { writeFileAtomic }, { airflowDag }] = await Promise.all([
          import('../../../kernel-lib/lazy/exporter.js'),
          import('../../../kernel-lib/exporter/tags.js'),
          import('../../../kernel-lib/data/io.js'),
          import('../../airflow/export.js'),
        ]);
        const { name, version } = ex.parsePipelineRef(ref);
        const v = ex.getPipelineVersion(storeArg(ctx), name, version);
        const duration = (text: string | undefined, option: string): number | undefined => {
          if (text === undefined) return undefined;
          const ms = parseDuration(text);
          if (ms === null)
            throw new CellarError('INVALID_PARAMETER', `${option} needs a duration such as 30s or 5m.`);
          return ms;
        };
        const retryDelayMs = duration(opts.retryDelay, '--retry-delay');
        const maxRetryDelayMs = duration(opts.maxRetryDelay, '--max-retry-delay');
        const text = airflowDag(v.spec, {
          ...(opts.cellarCommand === undefined
            ? {}
            : { cellarCommand: opts.cellarCommand.split(' ').filter((w) => w !== '') }),
          ...(opts.storeUri === undefined ? {} : { storeUri: opts.storeUri }),
          ...(opts.dagId === undefined ? {} : { dagId: opts.dagId }),
          ...(opts.startDate === undefined ? {} : { startDate: opts.startDate }),
          ...(retryDelayMs === undefined ? {} : { retryDelayMs }),
          ...(maxRetryDelayMs === undefined ? {} : { maxRetryDelayMs }),
        });
        if (opts.out === undefined) return ctx.io.out(text);
        writeFileAtomic(opts.out, text);
        ctx.io.out(`Wrote the Airflow DAG of ${v.name}@${v.version} to ${opts.out}\n`);
      },
    );
}
