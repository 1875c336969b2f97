/**
 * tracking/sqlite-reap — marks RUNNING runs whose owning process is gone as KILLED. Only RUNNING rows with
 * an owner are read (a partial index holds them) and only owners other than this process are checked (a
 * signal-0 probe and /proc), so not only opening the store but every read of runs can afford it: a
 * long-lived process (kernel, scheduler, server) then sees a run whose process was killed as KILLED.
 */
import { currentProcess, isProcessAlive } from '../store/process.js';
import { cachedStatement, type SqliteDb, writeTx } from '../store/sqlite.js';

/** Marks the dead owners' RUNNING runs (or only `runId`) KILLED; returns their ids. Read-only connections skip. */
export function reapDeadRunsInDb(db: SqliteDb, runId?: string): string[] {
  if (db.readonly) return [];
  const me = currentProcess();
  const rows = cachedStatement(
    db,
    "SELECT run_id, owner_host, owner_pid, owner_started FROM runs WHERE status = 'RUNNING' AND owner_pid IS NOT NULL" +
      (runId === undefined ? '' : ' AND run_id = ?'),
  ).all(...(runId === undefined ? [] : [runId])) as Array<{
    run_id: string;
    owner_host: string;
    owner_pid: number;
    owner_started: string | null;
  }>;
  const dead = rows.filter(
    (r) =>
      !(r.owner_pid === me.pid && r.owner_host === me.host && (r.owner_started ?? '') === me.started) &&
      !isProcessAlive({ host: r.owner_host, pid: r.owner_pid, started: r.owner_started ?? '' }),
  );
  if (dead.length === 0) return [];
  const now = Date.now();
  writeTx(db, 'mark runs of dead processes KILLED', () => {
    const update = cachedStatement(
      db,
      "UPDATE runs SET status = 'KILLED', end_time = ?, owner_pid = NULL WHERE run_id = ? AND status = 'RUNNING' AND owner_pid = ?",
    );
    for (const r of dead) update.run(now, r.run_id, r.owner_pid);
  });
  return dead.map((r) => r.run_id);
}
