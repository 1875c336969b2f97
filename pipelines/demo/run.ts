/**
 * demo/run — runs the main job's stages in order and prints one line per stage with its elapsed time
 * (progress lines of long stages indented below it), then what was made and the commands to look at it.
 * A stage that fails stops the job with its error; a stage whose capability is missing is skipped with
 * one line saying so (never faked).
 */
import { dirname } from 'node:path';
import type { CellarStore } from '../../kernel-lib/client.js';
import { DEMO_STAGES, StageSkipped, type DemoContext, type DemoStage } from './stages.js';

/** One stage's outcome. */
export interface StageResult {
  stage: string;
  status: 'done' | 'skipped';
  summary: string;
  seconds: number;
}

/** What {@link runDemo} returns. */
export interface DemoResult {
  stages: StageResult[];
  made: Record<string, unknown>;
  store: string;
  seconds: number;
}

/** Options of {@link runDemo}. */
export interface RunDemoOptions {
  store: CellarStore;
  packageRoot: string;
  /** Where the stage lines go (nothing printed when absent). */
  print?: (line: string) => void;
  stages?: readonly DemoStage[];
}

/**
 * Runs the workflow's stages on `store` and resolves to what each did.
 *
 * @throws the first failing stage's error (with the stage's name in its message)
 */
export async function runDemo(opts: RunDemoOptions): Promise<DemoResult> {
  const print = opts.print ?? ((): void => undefined);
  const stages = opts.stages ?? DEMO_STAGES;
  const ctx: DemoContext = {
    store: opts.store,
    project: dirname(opts.store.root),
    packageRoot: opts.packageRoot,
    progress: (text) => print(`        ${text}`),
    made: {},
  };
  const results: StageResult[] = [];
  const t0 = performance.now();
  for (const [i, stage] of stages.entries()) {
    const label = `[${i + 1}/${stages.length}] ${stage.name}`;
    print(`${label} …`);
    const started = performance.now();
    const seconds = (): number => Math.round((performance.now() - started) / 100) / 10;
    try {
      const summary = await stage.run(ctx);
      results.push({ stage: stage.name, status: 'done', summary, seconds: seconds() });
      print(`${label}: ${summary} (${seconds().toFixed(1)} s)`);
    } catch (e) {
      if (!(e instanceof StageSkipped)) {
        const err = e as Error;
        err.message = `demo stage "${stage.name}" failed: ${err.message}`;
        throw err;
      }
      results.push({ stage: stage.name, status: 'skipped', summary: e.message, seconds: seconds() });
      print(`${label}: skipped — ${e.message}`);
    }
  }
  return {
    stages: results,
    made: ctx.made,
    store: opts.store.root,
    seconds: Math.round((performance.now() - t0) / 100) / 10,
  };
}
