/**
 * bridge/cli-scheduler — the scheduler actions of the bridge (trigger, pause, last runs) carried out by the
 * `cellar` command in a child process. kernel-lib may not import the scheduler (it lives in `pipelines/`,
 * a layer above), so the kernel asks it across a process boundary, as a remote client would; the `cellar`
 * bin is found next to the `cellar` package the notebook imports.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { CellarError } from '../errors.js';
import { validateParameterName } from '../exporter/spec.js';
import type { BridgeSchedulerApi } from './ops-pipelines.js';
import type { PipelineRunSummary } from './protocol.js';

/** Finds `bin/cellar.cjs` of the cellar package resolvable from `cwd` (or `CELLAR_PACKAGE_ROOT`), or null. */
export function findCellarBin(cwd: string, env: NodeJS.ProcessEnv = process.env): string | null {
  const roots: string[] = [];
  if (env.CELLAR_PACKAGE_ROOT) roots.push(env.CELLAR_PACKAGE_ROOT);
  try {
    roots.push(dirname(createRequire(join(cwd, 'noop.js')).resolve('cellar/package.json')));
  } catch {
    // cellar is not resolvable from cwd
  }
  for (const root of roots) {
    const bin = join(root, 'bin', 'cellar.cjs');
    if (existsSync(bin)) return bin;
  }
  return null;
}

/**
 * Runs `cellar --store=<root> <command…> [--json] -- <positionals…>` and parses its JSON output. Every value
 * that comes from the notebook is either checked here or passed as `--opt=value` / after `--`, so a name such
 * as `--help` or a key such as `--store` can never be read as an option of the command.
 */
async function runCli(
  bin: string,
  storeRoot: string,
  command: string[],
  positionals: string[],
  options: string[] = [],
): Promise<unknown> {
  const { validatePipelineName } = await import('../exporter/options.js');
  for (const p of positionals) validatePipelineName(p);
  const args = [`--store=${storeRoot}`, ...command, ...options, '--', ...positionals];
  return new Promise((resolveRun, reject) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { timeout: 60_000, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (err) {
          try {
            const parsed = JSON.parse(stderr) as { error?: { code?: string; message?: string } };
            if (parsed.error) return reject(CellarError.fromJSON(parsed.error));
          } catch {
            // not JSON: report the text below
          }
          return reject(
            new CellarError(
              'INTERNAL',
              `cellar ${command.join(' ')} failed: ${stderr.trim() || err.message}`,
            ),
          );
        }
        try {
          resolveRun(stdout.trim() === '' ? null : JSON.parse(stdout));
        } catch {
          resolveRun(stdout);
        }
      },
    );
  });
}

function paramArgs(params: Record<string, unknown>): string[] {
  return Object.entries(params).map(
    ([k, v]) => `--param=${validateParameterName(k)}=${typeof v === 'string' ? v : JSON.stringify(v)}`,
  );
}

/**
 * A scheduler API for the bridge backed by the `cellar` command on store `storeRoot`, or null when no
 * `cellar` bin can be found from `cwd`.
 */
export function cliScheduler(storeRoot: string, cwd: string): BridgeSchedulerApi | null {
  const bin = findCellarBin(cwd);
  if (!bin) return null;
  return {
    async trigger(pipeline, params) {
      const run = (await runCli(
        bin,
        storeRoot,
        ['pipelines', 'trigger'],
        [pipeline],
        [...paramArgs(params), '--json'],
      )) as { runId: string };
      return { runId: run.runId };
    },
    async setPaused(pipeline, paused) {
      await runCli(bin, storeRoot, ['pipelines', paused ? 'pause' : 'unpause'], [pipeline]);
    },
    async lastRuns(pipeline, limit): Promise<PipelineRunSummary[]> {
      const runs = (await runCli(
        bin,
        storeRoot,
        ['pipelines', 'runs'],
        [pipeline],
        [`--limit=${limit}`, '--json'],
      )) as Array<{
        runId: string;
        state: string;
        logicalDate: number | null;
        startedAt: number | null;
        endedAt: number | null;
      }>;
      return runs.map((r) => ({
        id: r.runId,
        state: r.state,
        logicalDate: r.logicalDate === null ? null : new Date(r.logicalDate).toISOString(),
        startTime: r.startedAt,
        endTime: r.endedAt,
      }));
    },
  };
}
