/**
 * cli/main — the `cellar` command: parses arguments with commander, runs one command against the store
 * and turns every outcome into an exit code scripts can rely on (see `EXIT` in output.ts).
 */
import { Command, CommanderError } from 'commander';
import { registerDemoCommand } from './commands/demo.js';
import { registerDemoDataCommand } from './commands/demo-data.js';
import { registerFeaturesCommands } from './commands/features.js';
import { registerFeatureOnlineCommands } from './commands/features-online.js';
import { registerExportCommand } from './commands/export.js';
import { registerInitCommand } from './commands/init.js';
import { registerJupyterCommands } from './commands/jupyter.js';
import { registerModelsCommands } from './commands/models.js';
import { registerMonitorCommands } from './commands/monitor.js';
import { registerCiCommands, registerPromoteCommand } from './commands/promote.js';
import { registerPipelineRunCommands } from './commands/pipelines-run.js';
import { registerPipelineDefinitionCommands } from './commands/pipelines-defs.js';
import { registerRunsCommands } from './commands/runs.js';
import { registerSchedulerCommand } from './commands/scheduler.js';
import { registerServeCommands } from './commands/serve.js';
import { registerStepCommand } from './commands/step.js';
import { registerStoreCommands } from './commands/store.js';
import { EXIT, exitQuietlyOnClosedStdout, processIo, reportError, type Io } from './output.js';
import { packageVersion } from './version.js';
import { registerUpCommand } from './commands/up.js';

/** State shared by the commands of one invocation. */
export interface CliContext {
  io: Io;
  /** Exit code the command chose (commands set it; errors override it). */
  exitCode: number;
  /** The `--store` option, if given. */
  storeDir(): string | undefined;
}

const EXIT_HELP = `
Exit codes:
  0  success
  1  unexpected error
  2  bad usage or invalid input (unknown option, bad filter, bad path, …)
  3  not found (unknown run, experiment, model, version or alias)
  4  conflict (already exists, write-once param, invalid state)
  5  store unavailable (locked too long, corrupt, read-only, disk full)
  6  cellar promote: the candidate did not beat the champion (nothing moved)
  7  cellar monitor --fail-on-drift: a feature or the predictions drifted

The store is --store DIR, else CELLAR_URI, else the nearest .cellar/ above the working directory.`;

/** Builds the commander program for one invocation. */
export function buildProgram(ctx: CliContext): Command {
  const program = new Command('cellar')
    .description('cellar: run tracking, model registry, features and pipelines for TypeScript notebooks')
    .option(
      '--store <dir>',
      'project or .cellar directory to use (default: CELLAR_URI, else the nearest .cellar/)',
    )
    .version(packageVersion(), '-V, --version', 'print the version of cellar')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', EXIT_HELP)
    .exitOverride()
    .configureOutput({ writeOut: (s) => ctx.io.out(s), writeErr: (s) => ctx.io.err(s) });
  registerInitCommand(program, ctx);
  registerRunsCommands(program, ctx);
  registerModelsCommands(program, ctx);
  registerDemoCommand(program, ctx);
  registerJupyterCommands(program, ctx);
  registerFeatureOnlineCommands(registerFeaturesCommands(program, ctx), ctx);
  registerDemoDataCommand(program, ctx);
  registerExportCommand(program, ctx);
  const pipelines = program
    .command('pipelines')
    .description('exported pipelines: list, show, diff, run, schedule');
  registerPipelineDefinitionCommands(pipelines, ctx);
  registerPipelineRunCommands(pipelines, ctx);
  registerSchedulerCommand(program, ctx);
  registerStepCommand(program, ctx);
  registerStoreCommands(program, ctx);
  registerServeCommands(program, ctx);
  registerMonitorCommands(program, ctx);
  registerPromoteCommand(program, ctx);
  registerCiCommands(program, ctx);
  registerUpCommand(program, ctx);
  return program;
}

/**
 * Runs the `cellar` command with `argv` (without the node and script names) and resolves to its exit code.
 *
 * @example
 * process.exitCode = await main(['runs', 'list', '--json'])
 */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  let storeOption: string | undefined;
  const ctx: CliContext = { io, exitCode: EXIT.OK, storeDir: () => storeOption };
  if (io === processIo) exitQuietlyOnClosedStdout();
  const program = buildProgram(ctx);
  let ranAction = false;
  program.hook('preAction', (cmd) => {
    ranAction = true;
    storeOption = cmd.optsWithGlobals<{ store?: string }>().store;
  });
  const json = argv.includes('--json');
  try {
    await program.parseAsync(argv, { from: 'user' });
    return ctx.exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (
        e.code === 'commander.helpDisplayed' ||
        e.code === 'commander.version' ||
        e.code === 'commander.help'
      )
        return EXIT.OK;
      return EXIT.USAGE;
    }
    return reportError(io, e, json);
  } finally {
    // Only a command's action can open a store; `--help` and `--version` never load the store code.
    if (ranAction) (await import('../../kernel-lib/store/open.js')).closeAllEmbedded();
  }
}
