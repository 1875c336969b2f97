/**
 * cli/commands/store — `cellar store check|backup|restore|backups`: integrity checks, online backups and
 * restores of the embedded store (the work is done by kernel-lib/store/backup.ts).
 */
import type { Command } from 'commander';
import { CellarError } from '../../../kernel-lib/errors.js';
import type { CliContext } from '../main.js';
import { EXIT, iso, printFields, printJson, printTable } from '../output.js';

/** Parses a whole number ≥ 0 given to `flag`. @throws CellarError INVALID_PARAMETER */
export function nonNegativeInt(raw: string, flag: string): number {
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new CellarError('INVALID_PARAMETER', `${flag} takes a whole number ≥ 0, got "${raw}".`);
  }
  return n;
}

async function storeRoot(ctx: CliContext): Promise<string> {
  const { locateStore } = await import('../../../kernel-lib/store/locate.js');
  return locateStore(ctx.storeDir()).root;
}

/** Registers `cellar store …`. */
export function registerStoreCommands(program: Command, ctx: CliContext): void {
  const store = program.command('store').description('check, back up and restore the store database');

  store
    .command('check')
    .description(
      'check the database (SQLite integrity check) and a sample of artifact blobs; exit 5 when damaged',
    )
    .option('--full', 'run the full integrity_check (slower) instead of quick_check')
    .option('--blobs <n>', 'artifact blobs to re-hash (0: none, "all": every one)', '100')
    .option('--json', 'print the report as JSON')
    .action(async (opts: { full?: boolean; blobs: string; json?: boolean }) => {
      const { checkStore } = await import('../../../kernel-lib/store/backup.js');
      const sample = opts.blobs === 'all' ? Infinity : nonNegativeInt(opts.blobs, '--blobs');
      const report = checkStore(await storeRoot(ctx), { full: opts.full ?? false, sampleBlobs: sample });
      if (opts.json) printJson(ctx.io, report);
      else {
        printFields(ctx.io, [
          ['database', report.database],
          ['integrity', report.integrity.slice(0, 10).join('; ')],
          ['schema version', report.schemaVersion],
          ['blobs checked', report.blobs.checked],
          ['blobs missing', report.blobs.missing.length],
          ['blobs altered', report.blobs.altered.length],
          ['newest backup', report.newestBackup ?? '(none)'],
          ['result', report.ok ? 'ok' : 'DAMAGED'],
        ]);
        if (!report.ok && report.newestBackup !== null) {
          ctx.io.out(`Restore with: cellar store restore ${report.newestBackup}\n`);
        }
      }
      if (!report.ok) ctx.exitCode = EXIT.STORE;
    });

  store
    .command('backup')
    .description('copy the database with SQLite online backup (safe while other processes write)')
    .option('--out <file>', 'where to write it (default: .cellar/backups/cellar-<time>.db)')
    .option('--keep <n>', 'then keep only the newest n backups in .cellar/backups/')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { out?: string; keep?: string; json?: boolean }) => {
      const { backupStore, pruneBackups } = await import('../../../kernel-lib/store/backup.js');
      const { openStore } = await import('../../../kernel-lib/sdk.js');
      const keep = opts.keep === undefined ? undefined : nonNegativeInt(opts.keep, '--keep');
      const opened = openStore(ctx.storeDir());
      const file = await backupStore(opened.embedded.db, opened.root, opts.out);
      const removed = keep === undefined ? [] : pruneBackups(opened.root, keep);
      if (opts.json) printJson(ctx.io, { backup: file, removed });
      else ctx.io.out(`Backed up ${opened.root} to ${file}\n`);
    });

  store
    .command('restore')
    .description('replace the database with a backup (checked first; the current file is kept aside)')
    .argument('<backup>', 'backup file, e.g. .cellar/backups/cellar-2026-01-01T00-00-00-000Z.db')
    .option('--json', 'print the result as JSON')
    .action(async (backup: string, opts: { json?: boolean }) => {
      const { restoreStore } = await import('../../../kernel-lib/store/backup.js');
      const result = await restoreStore(await storeRoot(ctx), backup);
      if (opts.json) printJson(ctx.io, result);
      else {
        ctx.io.out(`Restored ${result.restored} from ${backup}\n`);
        if (result.previous !== null) ctx.io.out(`The replaced database was kept as ${result.previous}\n`);
      }
    });

  store
    .command('backups')
    .description('list the backups of the store, newest first')
    .option('--json', 'print the list as JSON')
    .action(async (opts: { json?: boolean }) => {
      const { listBackups } = await import('../../../kernel-lib/store/failures.js');
      const list = listBackups(await storeRoot(ctx));
      if (opts.json) printJson(ctx.io, list);
      else
        printTable(
          ctx.io,
          ['BACKUP', 'TIME', 'BYTES'],
          list.map((b) => [b.path, iso(b.mtimeMs), b.size]),
        );
    });
}
