/**
 * cli/commands/step — `cellar step run <name>@<version> <step> --run-id … --logical-date …`: runs one step of
 * one run on its own (what the tasks of an exported Airflow DAG call). Exit code 0 when the step succeeded,
 * 1 when it failed, 2 for bad input (a run id such as `../x`, an unknown parameter).
 */
import type { Command } from 'commander';
import type { CliContext } from '../main.js';
import { EXIT, printFields, printJson } from '../output.js';
import { collect } from './pipelines-run.js';

/** Registers `cellar step run`. */
export function registerStepCommand(program: Command, ctx: CliContext): void {
  const step = program
    .command('step')
    .description('run single pipeline steps (used by exported Airflow DAGs)');
  step
    .command('run')
    .description('run one step of a pipeline run, reading its inputs from the same run in the store')
    .argument('<pipeline>', 'name@version')
    .argument('<step>', 'step name')
    .requiredOption('--run-id <id>', 'run id (letters, digits and _ . : + -)')
    .requiredOption('--logical-date <iso>', 'logical date of the run (ISO-8601 with a zone)')
    .option('--data-interval-start <iso>', 'start of the data interval (default: from the schedule)')
    .option('--data-interval-end <iso>', 'end of the data interval')
    .option('-p, --param <name=value>', 'parameter value (repeatable)', collect, [])
    .option('--json', 'print the result as JSON')
    .action(
      async (
        ref: string,
        stepName: string,
        opts: {
          runId: string;
          logicalDate: string;
          dataIntervalStart?: string;
          dataIntervalEnd?: string;
          param?: string[];
          json?: boolean;
        },
      ) => {
        const [{ validateRunId }, { parseParamAssignments }, { parseInstant }, { runStepStandalone }] =
          await Promise.all([
            import('../../runner/ids.js'),
            import('../../runner/params.js'),
            import('../../scheduler/api.js'),
            import('../../scheduler/step-run.js'),
          ]);
        validateRunId(opts.runId); // before the store is even opened
        const params = parseParamAssignments(opts.param ?? []);
        const logicalDate = parseInstant(opts.logicalDate, '--logical-date');
        const interval =
          opts.dataIntervalStart !== undefined && opts.dataIntervalEnd !== undefined
            ? {
                start: parseInstant(opts.dataIntervalStart, '--data-interval-start'),
                end: parseInstant(opts.dataIntervalEnd, '--data-interval-end'),
              }
            : undefined;
        // The orchestrator stopping this task (SIGTERM, Ctrl-C) stops the step too, and records it failed.
        const stop = new AbortController();
        const onSignal = (): void => stop.abort();
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        let result;
        try {
          result = await runStepStandalone({
            store: (await import('../../../kernel-lib/sdk.js')).openStore(ctx.storeDir()).embedded,
            ref,
            step: stepName,
            runId: opts.runId,
            logicalDate,
            params,
            signal: stop.signal,
            ...(interval ? { dataInterval: interval } : {}),
          });
        } finally {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        }
        if (opts.json) printJson(ctx.io, result);
        else {
          printFields(ctx.io, [
            ['run id', result.run.runId],
            ['step', result.step],
            ['state', result.state],
            ['try', result.tryNumber],
            ['log', result.logFile],
            ...(result.error ? ([['error', result.error]] as Array<[string, unknown]>) : []),
          ]);
        }
        if (result.state !== 'success') ctx.exitCode = EXIT.ERROR;
      },
    );
}
