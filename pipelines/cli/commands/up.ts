/**
 * cli/commands/up — `cellar up`: the platform in one process (web UI, REST API with MLflow-compatible
 * routes, scheduler) over the project's store, on 127.0.0.1 by default; prints the login URL like Jupyter.
 * The server modules (fastify, routes) load inside the action so `cellar --help` stays lean.
 */
import type { Command } from 'commander';
import { CellarError } from '../../../kernel-lib/errors.js';
import type { CliContext } from '../main.js';
import { positiveInt } from './pipelines-run.js';

function port(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new CellarError('INVALID_PARAMETER', `--port ${text} is not a port number (0–65535).`);
  return n;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** Registers `cellar up`. */
export function registerUpCommand(program: Command, ctx: CliContext): void {
  program
    .command('up')
    .description('start the platform: web UI, REST API (MLflow-compatible routes) and the scheduler')
    .option('--port <port>', 'port to listen on', '7437')
    .option('--host <host>', 'interface to listen on (127.0.0.1: this machine only)', '127.0.0.1')
    .option('--token <token>', 'login token (default: CELLAR_TOKEN, else a random one)')
    .option('--allow-host <host>', 'also accept this Host header (repeatable)', collect, [])
    .option('--allow-origin <origin>', 'allow this origin cross-origin (CORS; repeatable)', collect, [])
    .option('--no-scheduler', 'do not run the scheduler in this process')
    .option('--poll <ms>', 'pause between scheduling passes', '1000')
    .option('--quiet', 'print only the URL')
    .action(
      async (opts: {
        port: string;
        host: string;
        token?: string;
        allowHost: string[];
        allowOrigin: string[];
        scheduler: boolean;
        poll: string;
        quiet?: boolean;
      }) => {
        const { locateStore } = await import('../../../kernel-lib/store/locate.js');
        const location = locateStore(ctx.storeDir());
        if (location.kind !== 'sqlite') {
          throw new CellarError(
            'INVALID_PARAMETER',
            `cellar up serves a local store; ${location.root} is already a server.`,
          );
        }
        const { startPlatform } = await import('../../server/platform.js');
        const log = (line: string): void => {
          if (!opts.quiet) ctx.io.out(`${new Date().toISOString()} ${line}\n`);
        };
        const token = opts.token ?? (process.env.CELLAR_TOKEN || undefined);
        const platform = await startPlatform({
          root: location.root,
          port: port(opts.port),
          host: opts.host,
          ...(token ? { token } : {}),
          allowHosts: opts.allowHost,
          allowOrigins: opts.allowOrigin,
          scheduler: opts.scheduler,
          pollIntervalMs: positiveInt(opts.poll, '--poll'),
          log,
        });
        if (!opts.quiet) ctx.io.out(`cellar up: store ${location.root}\n`);
        ctx.io.out(`cellar up: open ${platform.loginUrl}\n`);
        if (!opts.quiet)
          ctx.io.out(`cellar up: API ${platform.url}/api/openapi.json (Authorization: Bearer <token>)\n`);
        await new Promise<void>((resolve) => {
          let signals = 0;
          const onSignal = (sig: NodeJS.Signals): void => {
            signals += 1;
            log(
              `${sig}: stopping${signals === 1 ? ' (running steps finish; send it again to leave them)' : ''}`,
            );
            void platform.close({ drain: signals === 1 }).then(resolve, resolve);
          };
          process.on('SIGINT', onSignal);
          process.on('SIGTERM', onSignal);
        });
        log('cellar up stopped');
      },
    );
}
