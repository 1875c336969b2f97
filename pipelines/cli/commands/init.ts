/**
 * cli/commands/init — `cellar init [dir]`: creates (or finds) the store of a project directory.
 */
import type { Command } from 'commander';
import type { CliContext } from '../main.js';
import { printJson } from '../output.js';

/** Registers `cellar init`. */
export function registerInitCommand(program: Command, ctx: CliContext): void {
  program
    .command('init')
    .description('create the .cellar/ store in a project directory (default: the working directory)')
    .argument('[dir]', 'project directory', '.')
    .option('--json', 'print the result as JSON')
    .action(async (dir: string, opts: { json?: boolean }) => {
      const store = (await import('../../../kernel-lib/sdk.js')).openStore(ctx.storeDir() ?? dir);
      if (opts.json) printJson(ctx.io, { root: store.root });
      else ctx.io.out(`Initialized cellar store in ${store.root}\n`);
    });
}
