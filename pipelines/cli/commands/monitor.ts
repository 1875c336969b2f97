/**
 * cli/commands/monitor — `cellar monitor <model>` (drift and live-performance report: table, --json,
 * --html), `cellar monitor skew <model>`, `cellar monitor prometheus-rules`, `cellar monitor
 * grafana-dashboard`. Monitoring modules load inside the actions, so `cellar --help` stays lean.
 */
import type { Command } from 'commander';
import { CellarError } from '../../../kernel-lib/errors.js';
import type { CliContext } from '../main.js';
import { printJson, printTable } from '../output.js';

/** Exit code of `cellar monitor --fail-on-drift` when a feature or the predictions drifted. */
export const EXIT_DRIFT = 7;

function positiveNumber(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0)
    throw new CellarError('INVALID_PARAMETER', `${name} must be a number >= 0, got "${v}".`);
  return n;
}

async function writeOut(
  ctx: CliContext,
  file: string | undefined,
  text: string,
  what: string,
): Promise<void> {
  if (!file) {
    ctx.io.out(text);
    return;
  }
  const { writeFileAtomic } = await import('../../../kernel-lib/data/io.js');
  const { mkdirSync } = await import('node:fs');
  const { dirname, resolve } = await import('node:path');
  mkdirSync(dirname(resolve(file)), { recursive: true });
  writeFileAtomic(file, text);
  ctx.io.err(`Wrote ${what} to ${file}\n`);
}

/** Registers `cellar monitor …`. */
export function registerMonitorCommands(program: Command, ctx: CliContext): void {
  const monitor = program
    .command('monitor')
    .description(
      'drift, skew and live performance of a served model; Prometheus rules and a Grafana dashboard',
    )
    .argument('[model]', 'model version to report on: driver@champion, driver/3 or driver (latest)')
    .option('--since <when>', 'window start: a duration back from now (24h, 7d) or an ISO-8601 instant')
    .option('--until <when>', 'window end (ISO-8601 instant; default now)')
    .option('--psi <threshold>', 'PSI at or above which a feature counts as drifted', '0.2')
    .option('--p-value <alpha>', 'test p-value below which a feature counts as drifted', '0.01')
    .option('--html <file>', 'also write a self-contained HTML report (Plotly embedded, no network)')
    .option('--fail-on-drift', `exit with code ${EXIT_DRIFT} when something drifted`)
    .option('--json', 'print the report as JSON')
    .action(
      async (
        model: string | undefined,
        opts: {
          since?: string;
          until?: string;
          psi: string;
          pValue: string;
          html?: string;
          failOnDrift?: boolean;
          json?: boolean;
        },
      ) => {
        if (!model) {
          monitor.help();
          return;
        }
        const { openStore } = await import('../../../kernel-lib/sdk.js');
        const { monitorReport } = await import('../../../kernel-lib/monitoring/report.js');
        const report = await monitorReport({
          model,
          store: openStore(ctx.storeDir()),
          ...(opts.since === undefined ? {} : { since: opts.since }),
          ...(opts.until === undefined ? {} : { until: opts.until }),
          thresholds: {
            psi: positiveNumber('--psi', opts.psi)!,
            pValue: positiveNumber('--p-value', opts.pValue)!,
          },
          display: false,
        });
        if (opts.html) await writeOut(ctx, opts.html, report.toHtml(), 'the HTML report');
        if (opts.json) printJson(ctx.io, report.toJSON());
        else ctx.io.out(report.toText());
        if (opts.failOnDrift && report.data.drifted.length > 0) ctx.exitCode = EXIT_DRIFT;
      },
    );

  monitor
    .command('skew')
    .description('training/serving skew: logged requests re-joined point-in-time with the offline store')
    .argument('<model>', 'driver@champion, driver/3 or driver')
    .option('--since <when>', 'window start: a duration back from now (24h) or an ISO-8601 instant')
    .option('--sample <n>', 'newest logged requests to re-join', '1000')
    .option(
      '--features <refs>',
      'comma-separated view:feature references (default: the view holding each model feature)',
    )
    .option('--json', 'print JSON')
    .action(
      async (model: string, opts: { since?: string; sample: string; features?: string; json?: boolean }) => {
        const { openStore } = await import('../../../kernel-lib/sdk.js');
        const { skewReport } = await import('../../../kernel-lib/monitoring/skew.js');
        const sample = Number(opts.sample);
        const report = await skewReport({
          model,
          store: openStore(ctx.storeDir()),
          sample,
          ...(opts.since === undefined ? {} : { since: opts.since }),
          ...(opts.features === undefined ? {} : { features: opts.features.split(',').map((s) => s.trim()) }),
        });
        if (opts.json) {
          printJson(ctx.io, report);
          return;
        }
        ctx.io.out(
          `${report.model} version ${report.version}: ${report.rows} logged requests re-joined point-in-time\n\n`,
        );
        printTable(
          ctx.io,
          [
            'FEATURE',
            'FROM',
            'ROWS',
            'MISMATCHED',
            'SHARE',
            'MEAN |DIFF|',
            'MAX |DIFF|',
            'SERVED ONLY',
            'OFFLINE ONLY',
          ],
          report.features.map((f) => [
            f.feature,
            f.reference,
            f.rows,
            f.mismatched,
            `${(100 * f.share).toFixed(1)}%`,
            f.meanAbsDiff,
            f.maxAbsDiff,
            f.servedOnly,
            f.offlineOnly,
          ]),
        );
      },
    );

  monitor
    .command('prometheus-rules')
    .description(
      'write Prometheus alerting rules: drift, feature freshness past TTL, error rate, p99 latency',
    )
    .option('--model <name>', 'only this model (default: every model)')
    .option('--psi <threshold>', 'PSI above which drift alerts', '0.2')
    .option('--error-rate <share>', 'share of 5xx responses above which errors alert', '0.05')
    .option('--p99 <seconds>', 'p99 latency above which latency alerts', '0.5')
    .option('--for <duration>', 'how long a condition must hold', '10m')
    .option('--out <file>', 'write to this file instead of stdout')
    .action(
      async (opts: {
        model?: string;
        psi: string;
        errorRate: string;
        p99: string;
        for: string;
        out?: string;
      }) => {
        const { prometheusRules } = await import('../../../kernel-lib/monitoring/alerts.js');
        if (!/^\d+(ms|s|m|h|d|w|y)$/.test(opts.for)) {
          throw new CellarError(
            'INVALID_PARAMETER',
            `--for must be a Prometheus duration such as 5m or 1h, got "${opts.for}".`,
          );
        }
        const text = prometheusRules({
          ...(opts.model === undefined ? {} : { model: opts.model }),
          psiThreshold: positiveNumber('--psi', opts.psi)!,
          errorRate: positiveNumber('--error-rate', opts.errorRate)!,
          p99Seconds: positiveNumber('--p99', opts.p99)!,
          for: opts.for,
        });
        await writeOut(ctx, opts.out, text, 'the Prometheus rules');
      },
    );

  monitor
    .command('grafana-dashboard')
    .description('write a Grafana dashboard (JSON) over the serving metrics and the drift gauges')
    .option('--model <name>', 'only this model (default: every model)')
    .option('--title <title>', 'dashboard title')
    .option('--out <file>', 'write to this file instead of stdout')
    .action(async (opts: { model?: string; title?: string; out?: string }) => {
      const { grafanaDashboard } = await import('../../../kernel-lib/monitoring/alerts.js');
      const dash = grafanaDashboard({
        ...(opts.model === undefined ? {} : { model: opts.model }),
        ...(opts.title === undefined ? {} : { title: opts.title }),
      });
      await writeOut(ctx, opts.out, JSON.stringify(dash, null, 2) + '\n', 'the Grafana dashboard');
    });
}
