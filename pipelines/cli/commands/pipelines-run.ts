/**
 * cli/commands/pipelines-run — the run-side subcommands of `cellar pipelines`: run (once, waiting), trigger
 * (queue for the scheduler), backfill, pause, unpause, runs (list / one run's tasks and attempts) and logs.
 * The `pipelines` group itself belongs to the exporter's commands; `ensurePipelinesGroup` finds or makes it.
 */
import type { Command } from 'commander';
import { CellarError } from '../../../kernel-lib/errors.js';
import type { EmbeddedBackend } from '../../../kernel-lib/store/open.js';
import { DEFAULT_MAX_STEPS_PER_WORKER } from '../../runner/defaults.js';
import type { PipelineRunRow } from '../../scheduler/state.js';
import type { RunSummary } from '../../scheduler/api.js';
import type { CliContext } from '../main.js';
import { EXIT, iso, printFields, printJson, printTable, processIo } from '../output.js';

/** Collects a repeatable option (`--param a=1 --param b=2`). */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Parses a positive whole number option. */
export function positiveInt(value: string, what: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
    throw new CellarError('INVALID_PARAMETER', `${what} must be a positive whole number, got "${value}".`);
  }
  return Number(value);
}

/** Returns the `pipelines` command group of `program`, creating it when no other module has. */
export function ensurePipelinesGroup(program: Command): Command {
  return (
    program.commands.find((c) => c.name() === 'pipelines') ??
    program.command('pipelines').description('export, inspect and run pipelines')
  );
}

/** Loads what the commands run on, when one runs (`cellar --help` loads none of it). */
async function lib() {
  const [sdk, params, logCap, version, api, state, progress] = await Promise.all([
    import('../../../kernel-lib/sdk.js'),
    import('../../runner/params.js'),
    import('../../runner/log-cap.js'),
    import('../../runner/version.js'),
    import('../../scheduler/api.js'),
    import('../../scheduler/state.js'),
    import('../progress.js'),
  ]);
  return {
    ...api,
    openStore: sdk.openStore,
    parseParamAssignments: params.parseParamAssignments,
    resolveMaxLogBytes: logCap.resolveMaxLogBytes,
    parsePipelineRef: version.parsePipelineRef,
    SchedulerState: state.SchedulerState,
    RunProgress: progress.RunProgress,
  };
}
type Lib = Awaited<ReturnType<typeof lib>>;

function backend(L: Lib, ctx: CliContext): EmbeddedBackend {
  return L.openStore(ctx.storeDir()).embedded;
}

function duration(start: number | null, end: number | null): string {
  return start === null || end === null ? '' : `${((end - start) / 1000).toFixed(3)}s`;
}

/** Prints a run with its tasks (and metrics) for people. */
function printRun(ctx: CliContext, s: RunSummary): void {
  const r = s.run;
  printFields(ctx.io, [
    ['run id', r.runId],
    ['pipeline', `${r.pipeline}@${r.version}`],
    ['type', r.runType],
    ['state', r.state],
    ['logical date', iso(r.logicalDate)],
    ['data interval', `[${iso(r.intervalStart)}, ${iso(r.intervalEnd)})`],
    ['duration', duration(r.startedAt, r.endedAt)],
    ['tracking run', r.trackingRunId ?? ''],
    ...(r.error ? ([['error', r.error]] as Array<[string, unknown]>) : []),
  ]);
  ctx.io.out('\n');
  printTable(
    ctx.io,
    ['STEP', 'STATE', 'TRIES', 'DURATION', 'ERROR'],
    s.tasks.map((t) => [t.step, t.state, t.tryNumber, duration(t.startedAt, t.endedAt), t.error ?? '']),
  );
  const metrics = Object.entries(s.metrics);
  if (metrics.length > 0) {
    ctx.io.out('\n');
    printTable(ctx.io, ['METRIC', 'VALUE'], metrics);
  }
}

/**
 * Shows the progress of the runs a command waits for on stderr (a redrawn status line on a terminal, plain
 * lines otherwise); `stop()` ends it. `--quiet` shows nothing.
 */
function progressFor(
  L: Lib,
  ctx: CliContext,
  store: EmbeddedBackend,
  quiet: boolean | undefined,
): { onRunsCreated: (runs: PipelineRunRow[]) => void; stop: () => void } {
  if (quiet) return { onRunsCreated: () => undefined, stop: () => undefined };
  const state = new L.SchedulerState(store.db);
  const progress = new L.RunProgress({
    stream: {
      write: (text: string) => ctx.io.err(text),
      isTTY: ctx.io === processIo && process.stderr.isTTY === true,
      columns: process.stderr.columns,
    },
    read: (runId) => ({ run: state.getRun(runId), tasks: state.tasks(runId) }),
  });
  let started = false;
  return {
    onRunsCreated: (runs) => {
      started = true;
      progress.watch(runs);
    },
    stop: () => {
      if (started) progress.stop();
    },
  };
}

function paramsOf(L: Lib, list: string[] | undefined): Record<string, string> {
  return L.parseParamAssignments(list ?? []);
}

/** Registers run, trigger, backfill, pause, unpause, runs and logs under the `pipelines` group. */
export function registerPipelineRunCommands(pipelines: Command, ctx: CliContext): void {
  pipelines
    .command('run')
    .description('run a pipeline version once, now, and wait for it (exit code 1 when it fails)')
    .argument('<pipeline>', 'name or name@version (default: the latest version)')
    .option('-p, --param <name=value>', 'parameter value (repeatable); passed to steps as data', collect, [])
    .option('--logical-date <iso>', 'logical date of the run (default: now)')
    .option('--concurrency <n>', 'most steps running at once', '8')
    .option(
      '--max-steps-per-worker <n>',
      'steps of this pipeline one worker process may run one after another (1: a new process per step)',
      String(DEFAULT_MAX_STEPS_PER_WORKER),
    )
    .option(
      '--max-log-bytes <n>',
      "cap of each step attempt's log; the head and the tail are kept (default: $CELLAR_MAX_STEP_LOG_BYTES, else 50 MiB)",
    )
    .option('--json', 'print the result as JSON')
    .option('-q, --quiet', 'do not show progress on stderr')
    .action(
      async (
        refText: string,
        opts: {
          param?: string[];
          logicalDate?: string;
          concurrency: string;
          maxStepsPerWorker: string;
          maxLogBytes?: string;
          json?: boolean;
          quiet?: boolean;
        },
      ) => {
        const L = await lib();
        const ref = L.parsePipelineRef(refText);
        // Ctrl-C (or SIGTERM) ends the run failed, its step processes killed, instead of leaving it running.
        const interrupt = new AbortController();
        const onSignal = (): void => interrupt.abort();
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        let summary: RunSummary;
        const store = backend(L, ctx);
        const progress = progressFor(L, ctx, store, opts.quiet);
        try {
          summary = await L.runPipeline({
            store,
            onRunsCreated: progress.onRunsCreated,
            name: ref.name,
            version: ref.version,
            params: paramsOf(L, opts.param),
            concurrency: positiveInt(opts.concurrency, '--concurrency'),
            maxStepsPerWorker: positiveInt(opts.maxStepsPerWorker, '--max-steps-per-worker'),
            maxLogBytes: L.resolveMaxLogBytes(opts.maxLogBytes),
            signal: interrupt.signal,
            ...(opts.logicalDate === undefined
              ? {}
              : { logicalDate: L.parseInstant(opts.logicalDate, '--logical-date') }),
          });
        } finally {
          progress.stop();
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        }
        if (opts.json) printJson(ctx.io, summary);
        else printRun(ctx, summary);
        if (summary.run.state !== 'success') ctx.exitCode = EXIT.ERROR;
      },
    );

  pipelines
    .command('trigger')
    .description('queue a manual run for the scheduler (`cellar scheduler` starts it)')
    .argument('<pipeline>', 'name or name@version')
    .option('-p, --param <name=value>', 'parameter value (repeatable)', collect, [])
    .option('--logical-date <iso>', 'logical date of the run (default: now)')
    .option('--json', 'print the run as JSON')
    .action(async (refText: string, opts: { param?: string[]; logicalDate?: string; json?: boolean }) => {
      const L = await lib();
      const ref = L.parsePipelineRef(refText);
      const run = L.triggerPipeline({
        store: backend(L, ctx),
        name: ref.name,
        version: ref.version,
        params: paramsOf(L, opts.param),
        ...(opts.logicalDate === undefined
          ? {}
          : { logicalDate: L.parseInstant(opts.logicalDate, '--logical-date') }),
      });
      if (opts.json) printJson(ctx.io, run);
      else ctx.io.out(`queued ${run.runId}\n`);
    });

  pipelines
    .command('backfill')
    .description(
      'create (and by default run) one run per logical date of the schedule in [--from, --to], both inclusive (as Airflow)',
    )
    .argument('<pipeline>', 'pipeline name')
    .requiredOption('--from <iso>', 'start of the range (ISO-8601 with a zone, or a date)')
    .requiredOption('--to <iso>', 'end of the range')
    .option('-p, --param <name=value>', 'parameter value (repeatable)', collect, [])
    .option('--no-wait', 'only queue the runs for the scheduler')
    .option('--concurrency <n>', 'most steps running at once', '8')
    .option(
      '--max-steps-per-worker <n>',
      'steps of this pipeline one worker process may run one after another (1: a new process per step)',
      String(DEFAULT_MAX_STEPS_PER_WORKER),
    )
    .option(
      '--max-log-bytes <n>',
      "cap of each step attempt's log; the head and the tail are kept (default: $CELLAR_MAX_STEP_LOG_BYTES, else 50 MiB)",
    )
    .option('--json', 'print the result as JSON')
    .option('-q, --quiet', 'do not show progress on stderr')
    .action(
      async (
        name: string,
        opts: {
          from: string;
          to: string;
          param?: string[];
          wait: boolean;
          concurrency: string;
          maxStepsPerWorker: string;
          maxLogBytes?: string;
          json?: boolean;
          quiet?: boolean;
        },
      ) => {
        const L = await lib();
        const store = backend(L, ctx);
        const progress = progressFor(L, ctx, store, opts.quiet);
        let result: Awaited<ReturnType<typeof L.backfillPipeline>>;
        try {
          result = await L.backfillPipeline({
            store,
            onRunsCreated: progress.onRunsCreated,
            name,
            from: L.parseInstant(opts.from, '--from'),
            to: L.parseInstant(opts.to, '--to'),
            params: paramsOf(L, opts.param),
            wait: opts.wait,
            concurrency: positiveInt(opts.concurrency, '--concurrency'),
            maxStepsPerWorker: positiveInt(opts.maxStepsPerWorker, '--max-steps-per-worker'),
            maxLogBytes: L.resolveMaxLogBytes(opts.maxLogBytes),
          });
        } finally {
          progress.stop();
        }
        if (opts.json) printJson(ctx.io, result);
        else {
          printTable(
            ctx.io,
            ['RUN ID', 'LOGICAL DATE', 'STATE', 'NOTE'],
            [
              ...result.runs.map((r) => [r.runId, iso(r.logicalDate), r.state, 'new']),
              ...result.existing.map((r) => [r.runId, iso(r.logicalDate), r.state, 'existed already']),
            ],
          );
        }
        if (opts.wait && result.runs.some((r) => r.state === 'failed')) ctx.exitCode = EXIT.ERROR;
      },
    );

  for (const [verb, paused] of [
    ['pause', true],
    ['unpause', false],
  ] as const) {
    pipelines
      .command(verb)
      .description(
        paused
          ? 'stop scheduling new runs of a pipeline (running runs finish)'
          : 'resume scheduling a pipeline',
      )
      .argument('<pipeline>', 'pipeline name')
      .action(async (name: string) => {
        const L = await lib();
        L.setPipelinePaused(backend(L, ctx), name, paused);
        ctx.io.out(`${name} ${paused ? 'paused' : 'unpaused'}\n`);
      });
  }

  pipelines
    .command('runs')
    .description('list pipeline runs, newest first; with --id, show one run with its steps and attempts')
    .argument('[pipeline]', 'only runs of this pipeline')
    .option('--id <runId>', 'show this run')
    .option('-n, --limit <count>', 'most runs to list', '50')
    .option('--json', 'print JSON')
    .action(async (pipeline: string | undefined, opts: { id?: string; limit: string; json?: boolean }) => {
      const L = await lib();
      if (opts.id !== undefined) {
        const summary = await L.describeRun(backend(L, ctx), opts.id);
        if (opts.json) printJson(ctx.io, summary);
        else {
          printRun(ctx, summary);
          ctx.io.out('\n');
          printTable(
            ctx.io,
            ['STEP', 'TRY', 'STATE', 'PID', 'HOST', 'STARTED', 'LOG'],
            summary.attempts.map((a) => [
              a.step,
              a.tryNumber,
              a.state,
              a.pid,
              a.host,
              iso(a.startedAt),
              a.logPath,
            ]),
          );
        }
        return;
      }
      const runs = L.listPipelineRuns(backend(L, ctx), {
        ...(pipeline === undefined ? {} : { pipeline }),
        limit: positiveInt(opts.limit, '--limit'),
      });
      if (opts.json) printJson(ctx.io, runs);
      else {
        printTable(
          ctx.io,
          ['RUN ID', 'PIPELINE', 'TYPE', 'STATE', 'LOGICAL DATE', 'DURATION'],
          runs.map((r) => [
            r.runId,
            `${r.pipeline}@${r.version}`,
            r.runType,
            r.state,
            iso(r.logicalDate),
            duration(r.startedAt, r.endedAt),
          ]),
        );
      }
    });

  pipelines
    .command('logs')
    .description("print the logs of a run's step attempts")
    .argument('<runId>', 'pipeline run id')
    .argument('[step]', 'only this step')
    .option('--try <n>', 'only this attempt')
    .option('--json', 'print JSON')
    .action(async (runId: string, step: string | undefined, opts: { try?: string; json?: boolean }) => {
      const L = await lib();
      const logs = L.runLogs(backend(L, ctx), runId, {
        ...(step === undefined ? {} : { step }),
        ...(opts.try === undefined ? {} : { tryNumber: positiveInt(opts.try, '--try') }),
      });
      if (opts.json) {
        printJson(ctx.io, logs);
        return;
      }
      for (const l of logs) {
        ctx.io.out(
          `==> ${l.step} try ${l.tryNumber} (${l.path}) <==\n${l.text}${l.text.endsWith('\n') || l.text === '' ? '' : '\n'}`,
        );
      }
      if (logs.length === 0) ctx.io.out('(no attempts)\n');
    });
}
