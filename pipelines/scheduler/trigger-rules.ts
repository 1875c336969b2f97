/**
 * scheduler/trigger-rules — whether a queued task may run, given the states of its upstream tasks (Airflow's
 * trigger rules):
 * - all_success (default): runs when every upstream succeeded; upstream_failed as soon as one failed or
 *   was upstream_failed; skipped when one was skipped (and none failed);
 * - all_done: runs once every upstream is done, whatever the outcome;
 * - one_failed: runs as soon as one upstream failed (or was upstream_failed); skipped when all finished and
 *   none failed.
 */
import type { TriggerRule } from '../../kernel-lib/exporter/spec.js';

/** States of a task instance. */
export type TaskState =
  'queued' | 'running' | 'success' | 'failed' | 'up_for_retry' | 'upstream_failed' | 'skipped';

/** States a task never leaves. */
export const FINISHED_TASK_STATES: ReadonlySet<TaskState> = new Set([
  'success',
  'failed',
  'upstream_failed',
  'skipped',
]);

/** What to do with a queued task. */
export type TriggerDecision = 'wait' | 'run' | 'upstream_failed' | 'skipped';

/** Applies `rule` to the upstream states (pure). */
export function decideTrigger(rule: TriggerRule, upstream: readonly TaskState[]): TriggerDecision {
  const done = upstream.every((s) => FINISHED_TASK_STATES.has(s));
  const anyFailed = upstream.some((s) => s === 'failed' || s === 'upstream_failed');
  switch (rule) {
    case 'all_done':
      return done ? 'run' : 'wait';
    case 'one_failed':
      if (anyFailed) return 'run';
      return done ? 'skipped' : 'wait';
    case 'all_success':
    default:
      if (anyFailed) return 'upstream_failed';
      if (!done) return 'wait';
      return upstream.some((s) => s === 'skipped') ? 'skipped' : 'run';
  }
}
