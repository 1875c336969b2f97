/**
 * cli/commands/serve — `cellar serve <model>` (the HTTP serving runtime, pipelines/serving) and
 * `cellar predict <model> --input … --output …` (batch scoring). Server code loads inside the action, so
 * `cellar --help` stays lean.
 */
import type { Command } from 'commander';
import { CellarError } from '../../../kernel-lib/errors.js';
import type { CliContext } from '../main.js';
import { printJson } from '../output.js';

function intOption(name: string, text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < min || n > max)
    throw new CellarError(
      'INVALID_PARAMETER',
      `--${name} must be a whole number from ${min} to ${max}, got "${text}".`,
    );
  return n;
}

interface ServeCliOptions {
  port?: string;
  host?: string;
  workers?: string;
  token?: string;
  logSample?: string;
  pollMs?: string;
  maxInFlight?: string;
  maxBodyBytes?: string;
  bodyTimeoutMs?: string;
  maxRows?: string;
  accessLog?: boolean;
  json?: boolean;
}

/** Registers `cellar serve` and `cellar predict`. */
export function registerServeCommands(program: Command, ctx: CliContext): void {
  program
    .command('serve')
    .description('serve a model over HTTP (MLflow scoring protocol, Open Inference Protocol v2, /metrics)')
    .argument('<model>', 'name@alias, name/3, name, models:/… or runs:/<run id>/model')
    .option('--port <n>', 'port (0: any free port)', '5000')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--workers <n>', 'worker processes sharing the port (node:cluster)', '1')
    .option(
      '--token <token>',
      'bearer token required on every route except health (default: CELLAR_SERVE_TOKEN)',
    )
    .option(
      '--log-sample <fraction>',
      'fraction of requests written to the prediction log (0 turns it off)',
      '1',
    )
    .option('--poll-ms <ms>', 'how often to check whether the alias moved', '1000')
    .option('--max-in-flight <n>', 'requests processed at once before a fast 503', '256')
    .option('--max-body-bytes <n>', 'body size limit (413 above it)', String(1024 * 1024))
    .option('--body-timeout-ms <ms>', 'a body must arrive within this time (408 otherwise)', '10000')
    .option('--max-rows <n>', 'rows per request', '10000')
    .option('--no-access-log', 'do not print one JSON line per request')
    .option('--json', 'print the start-up message as one JSON line')
    .action(async (model: string, opts: ServeCliOptions) => {
      const sample = Number(opts.logSample ?? '1');
      if (!(sample >= 0 && sample <= 1))
        throw new CellarError(
          'INVALID_PARAMETER',
          `--log-sample must be between 0 and 1, got "${opts.logSample}".`,
        );
      const [{ openStore }, { startServing }] = await Promise.all([
        import('../../../kernel-lib/sdk.js'),
        import('../../serving/start.js'),
      ]);
      const store = openStore(ctx.storeDir());
      const pkg = process.env.npm_package_version ?? '0.1.0';
      ctx.exitCode = await startServing({
        store,
        model,
        port: intOption('port', opts.port, 0, 65535)!,
        host: opts.host ?? '127.0.0.1',
        workers: intOption('workers', opts.workers, 1, 64)!,
        token: opts.token ?? process.env.CELLAR_SERVE_TOKEN ?? null,
        logSample: sample,
        pollMs: intOption('poll-ms', opts.pollMs, 0, 3_600_000)!,
        maxInFlight: intOption('max-in-flight', opts.maxInFlight, 1, 1_000_000)!,
        maxBodyBytes: intOption('max-body-bytes', opts.maxBodyBytes, 1, 1024 ** 3)!,
        bodyTimeoutMs: intOption('body-timeout-ms', opts.bodyTimeoutMs, 1, 3_600_000)!,
        maxRows: intOption('max-rows', opts.maxRows, 1, 10_000_000)!,
        accessLog: opts.accessLog !== false,
        version: pkg,
        onListening: (info) => {
          if (opts.json) {
            ctx.io.out(JSON.stringify(info) + '\n');
            return;
          }
          ctx.io.out(
            `Serving ${info.model}${info.version === null ? '' : ` version ${info.version}`} at ${info.url} (pid ${info.pid})\n` +
              info.routes.map((r) => `  ${r}`).join('\n') +
              '\n',
          );
        },
      });
    });

  program
    .command('predict')
    .description('score a Parquet/CSV file of feature rows or entity keys with a model')
    .argument('<model>', 'name@alias, name/3, name, models:/… or runs:/<run id>/model')
    .requiredOption('--input <file>', '.parquet or .csv with the model inputs, or entity keys only')
    .requiredOption('--output <file>', '.parquet or .csv to write (input columns + prediction)')
    .option('--log', 'also write the rows to the prediction log')
    .option('--json', 'print a JSON summary')
    .action(async (model: string, opts: { input: string; output: string; log?: boolean; json?: boolean }) => {
      const [{ openStore }, { predictBatch }] = await Promise.all([
        import('../../../kernel-lib/sdk.js'),
        import('../../../kernel-lib/serving/batch.js'),
      ]);
      const store = openStore(ctx.storeDir());
      const r = await predictBatch({
        model,
        input: opts.input,
        output: opts.output,
        store,
        log: opts.log ?? false,
      });
      const summary = { model: r.model, rows: r.rows, rejected: r.rejected, mode: r.mode, output: r.output };
      if (opts.json) printJson(ctx.io, summary);
      else
        ctx.io.out(
          `${r.rows} rows scored with ${r.model.name}${r.model.version === null ? '' : ` v${r.model.version}`} ` +
            `(${r.mode}${r.rejected ? `, ${r.rejected} rejected` : ''}) → ${r.output}\n`,
        );
    });
}
