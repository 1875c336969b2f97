/**
 * cli/commands/scheduler — `cellar scheduler`: the long-running scheduler process. It ticks every
 * `--poll` ms (cron runs, queued and triggered runs, retries), runs steps in pre-forked workers, and on
 * SIGINT/SIGTERM stops starting steps and waits for the running ones (a second signal leaves them running:
 * the next scheduler adopts them). After a crash (even kill -9), starting it again resumes every run.
 */
import type { Command } from 'commander';
import type { CliContext } from '../main.js';
import { DEFAULT_MAX_STEPS_PER_WORKER } from '../../runner/defaults.js';
import { positiveInt } from './pipelines-run.js';
import { nonNegativeInt } from './store.js';

/** Registers `cellar scheduler`. */
export function registerSchedulerCommand(program: Command, ctx: CliContext): void {
  program
    .command('scheduler')
    .description('run the pipeline scheduler until interrupted (cron runs, triggers, retries, recovery)')
    .option('--concurrency <n>', 'most steps running at once in the store', '8')
    .option('--pool-size <n>', 'step workers kept forked ahead of time', '2')
    .option(
      '--max-steps-per-worker <n>',
      'steps of one pipeline version a worker process may run one after another (1: a new process per step)',
      String(DEFAULT_MAX_STEPS_PER_WORKER),
    )
    .option(
      '--max-log-bytes <n>',
      "cap of each step attempt's log; the head and the tail are kept (default: $CELLAR_MAX_STEP_LOG_BYTES, else 50 MiB)",
    )
    .option('--poll <ms>', 'pause between scheduling passes', '1000')
    .option('--retry-delay <ms>', 'delay before the first retry (doubles each try, with jitter)', '1000')
    .option('--max-retry-delay <ms>', 'longest delay between tries', '300000')
    .option(
      '--backup-every <minutes>',
      'back up the store database this often (0: never; default CELLAR_BACKUP_EVERY_MINUTES, else 1440)',
    )
    .option(
      '--backup-keep <n>',
      'scheduled backups kept in .cellar/backups/ (default CELLAR_BACKUP_KEEP, else 7)',
    )
    .option('--once', 'run what is due, queued or orphaned until nothing is left, then exit')
    .option('--quiet', 'print nothing but errors')
    .action(
      async (opts: {
        concurrency: string;
        poolSize: string;
        maxStepsPerWorker: string;
        maxLogBytes?: string;
        poll: string;
        retryDelay: string;
        maxRetryDelay: string;
        backupEvery?: string;
        backupKeep?: string;
        once?: boolean;
        quiet?: boolean;
      }) => {
        const { Scheduler } = await import('../../scheduler/scheduler.js');
        const { resolveMaxLogBytes } = await import('../../runner/log-cap.js');
        const store = (await import('../../../kernel-lib/sdk.js')).openStore(ctx.storeDir());
        const log = (line: string): void => {
          if (!opts.quiet) ctx.io.out(`${new Date().toISOString()} ${line}\n`);
        };
        const scheduler = new Scheduler({
          store: store.embedded,
          concurrency: positiveInt(opts.concurrency, '--concurrency'),
          poolSize: positiveInt(opts.poolSize, '--pool-size'),
          maxStepsPerWorker: positiveInt(opts.maxStepsPerWorker, '--max-steps-per-worker'),
          maxLogBytes: resolveMaxLogBytes(opts.maxLogBytes),
          pollIntervalMs: positiveInt(opts.poll, '--poll'),
          retry: {
            baseDelayMs: positiveInt(opts.retryDelay, '--retry-delay'),
            maxDelayMs: positiveInt(opts.maxRetryDelay, '--max-retry-delay'),
          },
          log,
        });
        if (opts.once) {
          await scheduler.runUntilIdle();
          await scheduler.stop({ drain: true });
          log('nothing left to run');
          return;
        }
        log(`scheduler started (pid ${process.pid}, store ${store.root})`);
        const { startBackupSchedule } = await import('../../../kernel-lib/store/backup.js');
        const backups = startBackupSchedule({
          db: store.embedded.db,
          root: store.root,
          ...(opts.backupEvery === undefined
            ? {}
            : { everyMs: nonNegativeInt(opts.backupEvery, '--backup-every') * 60_000 }),
          ...(opts.backupKeep === undefined
            ? {}
            : { keep: nonNegativeInt(opts.backupKeep, '--backup-keep') }),
          log,
        });
        scheduler.start();
        await new Promise<void>((resolve) => {
          let signals = 0;
          const onSignal = (sig: NodeJS.Signals): void => {
            signals += 1;
            if (signals === 1) {
              log(`${sig}: finishing the running steps (send it again to leave them to the next scheduler)`);
              void scheduler.stop({ drain: true }).then(resolve);
            } else {
              void scheduler.stop({ drain: false }).then(resolve);
            }
          };
          process.on('SIGINT', onSignal);
          process.on('SIGTERM', onSignal);
        });
        backups.stop();
        log('scheduler stopped');
      },
    );
}
