/**
 * scheduler/due-runs — creates the scheduled runs whose data interval has ended. Where creation continues is
 * stored per pipeline (pipeline_state.next_interval_start), and the (pipeline, logical date) UNIQUE
 * constraint makes creation idempotent, so a restarted scheduler neither skips nor repeats an interval.
 * Runs are created lazily: never more queued + running runs of a pipeline than its maxActiveRuns.
 */
import { writeTx } from '../../kernel-lib/store/sqlite.js';
import type { PipelineSpec } from '../../kernel-lib/exporter/spec.js';
import { newRunId } from '../runner/ids.js';
import { firstFireAtOrAfter, intervalStartingAt, latestCompleteInterval } from './cron.js';
import type { PipelineRunRow, SchedulerState } from './state.js';

/**
 * Creates the due scheduled runs of one pipeline (its latest version `spec`, whose schedule was validated)
 * at time `now`, and returns them. With catchup, every interval from the first one starting at or after the
 * creation time of the version first scheduled; without, only the latest complete interval.
 */
export function createDueRuns(
  state: SchedulerState,
  spec: PipelineSpec,
  schedule: string,
  now: number,
  params: Record<string, unknown>,
): PipelineRunRow[] {
  const created: PipelineRunRow[] = [];
  const createdAt = Date.parse(spec.createdAt);
  const earliest = firstFireAtOrAfter(schedule, Number.isFinite(createdAt) ? createdAt : now);
  // The first time a pipeline is seen, scheduling starts at its version's creation (Airflow's start_date); then
  // it continues where it stopped, whatever later versions say.
  let start = state.pipelineState(spec.name).nextIntervalStart ?? earliest;
  for (let guard = 0; guard < 10_000; guard++) {
    if (!spec.catchup) {
      const latest = latestCompleteInterval(schedule, now);
      if (latest.start > start) start = latest.start;
    }
    const interval = intervalStartingAt(schedule, start);
    if (interval.end > now) break;
    if (state.countActiveRuns(spec.name) >= spec.maxActiveRuns) break;
    const run = writeTx(state.db, 'create a scheduled run', () => {
      state.setNextIntervalStart(spec.name, interval.end);
      if (state.findRunAt(spec.name, interval.start)) return null; // made earlier (e.g. by a backfill)
      return state.createRun({
        spec,
        runId: newRunId('scheduled', interval.start),
        runType: 'scheduled',
        logicalDate: interval.start,
        intervalStart: interval.start,
        intervalEnd: interval.end,
        params,
      });
    });
    if (run) created.push(run);
    start = interval.end;
  }
  return created;
}
