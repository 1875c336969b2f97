/**
 * features/online/materialize — copies the latest value per entity of each online feature view from the
 * offline store into the online store (`materialize` over an explicit window, `materializeIncremental` from
 * each view's watermark). Every source is read before anything is written, the online write is idempotent
 * (newer-wins), and a view's watermark (table `materialization_watermarks`) moves only after its online write
 * returned, so a crash in between is repaired by simply running again. Each run is recorded in
 * `materializations`.
 */
import { CellarError } from '../../errors.js';
import { writeTx, type SqliteDb } from '../../store/sqlite.js';
import {
  encodeEntityKey,
  type KeyValue,
  type LatestRows,
  type OfflineStore,
  type OnlineRow,
  type OnlineStore,
  type ValueColumn,
} from '../stores.js';
import type { FeatureViewDef } from '../types.js';

/** What `materialize` and `materializeIncremental` need. */
export interface MaterializeContext {
  offline: OfflineStore;
  online: OnlineStore;
  /** The store database holding watermarks and the run log. */
  db: SqliteDb;
  /** Feature views to consider; those with `online: false` are skipped. */
  views: FeatureViewDef[];
  /** The join keys of a view's entities, in order. */
  joinKeysOf(view: FeatureViewDef): string[];
  /** "Now" in epoch ms (default `Date.now()`); an `end` after it is rejected. */
  nowMs?: number;
}

/** The outcome for one view. */
export interface MaterializeResult {
  view: string;
  /** Entities whose latest value in the window was written (or re-written) to the online store. */
  rows: number;
  /** Of those, how many actually created or replaced a stored value (0 on an idempotent re-run). */
  updated: number;
  /** The window read: `startMs <= event ts < endMs`. */
  startMs: number;
  endMs: number;
}

function checkInstant(name: string, given: unknown): number {
  const value = given instanceof Date ? given.getTime() : given;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new CellarError(
      'INVALID_PARAMETER',
      `${name} must be a finite epoch-millisecond number or a Date, got ${String(value)}.`,
    );
  }
  return value;
}

function checkEnd(endMs: number, nowMs: number): void {
  if (endMs > nowMs) {
    throw new CellarError(
      'INVALID_PARAMETER',
      `end ${new Date(endMs).toISOString()} is in the future (now is ${new Date(nowMs).toISOString()}); ` +
        'materialize up to now at the latest, so later rows are not skipped by the next incremental run.',
    );
  }
}

/** The value of row `i` of a column as JSON-able data (null for nulls and non-finite numbers). */
function cell(col: ValueColumn, i: number): unknown {
  if (col.nulls[i] === 1) return null;
  const v = col.data[i];
  if (typeof v === 'number' && !Number.isFinite(v)) return null;
  return v ?? null;
}

/** Turns the offline store's latest rows of a view into online rows. */
export function latestToOnlineRows(latest: LatestRows, joinKeys: string[], features: string[]): OnlineRow[] {
  const keyCols = joinKeys.map((k) => {
    const col = latest.keys[k];
    if (!col) throw new CellarError('INTERNAL', `The offline store returned no column for join key "${k}".`);
    return col;
  });
  const rows: OnlineRow[] = new Array(latest.nRows);
  const values: KeyValue[] = new Array(joinKeys.length);
  for (let i = 0; i < latest.nRows; i++) {
    for (let j = 0; j < keyCols.length; j++) values[j] = keyCols[j]![i]!;
    const v: Record<string, unknown> = {};
    for (const f of features) {
      const col = latest.values[f];
      v[f] = col ? cell(col, i) : null;
    }
    const created = latest.created ? latest.created[i]! : NaN;
    rows[i] = {
      entityKey: encodeEntityKey(joinKeys, values),
      eventTs: latest.ts[i]!,
      createdTs: Number.isFinite(created) ? created : null,
      values: v,
    };
  }
  return rows;
}

interface Plan {
  view: FeatureViewDef;
  joinKeys: string[];
  startMs: number;
  endMs: number;
}

/** Reads every window first (a bad source fails before anything is written), then writes view by view. */
async function run(ctx: MaterializeContext, plans: Plan[]): Promise<MaterializeResult[]> {
  const pulled: Array<{ plan: Plan; rows: OnlineRow[] }> = [];
  for (const plan of plans) {
    const features = Object.keys(plan.view.schema);
    if (plan.startMs >= plan.endMs) {
      pulled.push({ plan, rows: [] });
      continue;
    }
    const latest = await ctx.offline.pullLatest({
      view: plan.view,
      joinKeys: plan.joinKeys,
      features,
      startMs: plan.startMs,
      endMs: plan.endMs,
    });
    pulled.push({ plan, rows: latestToOnlineRows(latest, plan.joinKeys, features) });
  }
  const results: MaterializeResult[] = [];
  const upsertWatermark = ctx.db.prepare(
    `INSERT INTO materialization_watermarks (view, watermark, updated_at) VALUES (?, ?, ?)
     ON CONFLICT (view) DO UPDATE SET watermark = max(watermark, excluded.watermark), updated_at = excluded.updated_at`,
  );
  const record = ctx.db.prepare(
    'INSERT INTO materializations (view, start_ts, end_ts, rows, finished_at) VALUES (?, ?, ?, ?, ?)',
  );
  for (const { plan, rows } of pulled) {
    const updated = await ctx.online.write(plan.view.name, rows);
    // Only now, after the online write returned, does the watermark move.
    const finished = Date.now();
    writeTx(ctx.db, `record the materialization of view "${plan.view.name}"`, () => {
      upsertWatermark.run(plan.view.name, plan.endMs, finished);
      record.run(plan.view.name, plan.startMs, plan.endMs, rows.length, finished);
    });
    results.push({
      view: plan.view.name,
      rows: rows.length,
      updated,
      startMs: plan.startMs,
      endMs: plan.endMs,
    });
  }
  return results;
}

function onlineViews(ctx: MaterializeContext): Array<{ view: FeatureViewDef; joinKeys: string[] }> {
  return ctx.views.filter((v) => v.online).map((view) => ({ view, joinKeys: ctx.joinKeysOf(view) }));
}

/**
 * Writes, for every online view, the latest value per entity among source rows with
 * `startMs <= event ts < endMs` into the online store, then moves each view's watermark to (at least) `endMs`
 * and records the run. Idempotent: running it again leaves the same online state (an older row never replaces
 * a newer stored one).
 *
 * @throws CellarError INVALID_PARAMETER for a future or non-finite `endMs` or `startMs > endMs` (nothing written);
 * errors of the offline store (e.g. a missing source file) before anything is written.
 * @example
 * await materialize({ offline, online, db, views, joinKeysOf, startMs: Date.parse('2022-01-01T00:00:00Z'), endMs: Date.now() })
 */
export async function materialize(
  opts: MaterializeContext & { startMs: number; endMs: number },
): Promise<MaterializeResult[]> {
  const startMs = checkInstant('start', opts.startMs);
  const endMs = checkInstant('end', opts.endMs);
  checkEnd(endMs, opts.nowMs ?? Date.now());
  if (startMs > endMs) {
    throw new CellarError(
      'INVALID_PARAMETER',
      `start ${new Date(startMs).toISOString()} is after end ${new Date(endMs).toISOString()}.`,
    );
  }
  return run(
    opts,
    onlineViews(opts).map(({ view, joinKeys }) => ({ view, joinKeys, startMs, endMs })),
  );
}

/**
 * Like {@link materialize}, from each view's watermark (the end of its last materialization) up to `endMs`.
 * A view never materialized starts at `endMs - ttl`, or at 0 (the epoch) when its ttl is 0 (unbounded).
 * A view whose watermark is already at or after `endMs` writes nothing.
 *
 * @throws CellarError INVALID_PARAMETER for a future or non-finite `endMs` (nothing written).
 * @example
 * await materializeIncremental({ offline, online, db, views, joinKeysOf, endMs: Date.now() })
 */
export async function materializeIncremental(
  opts: MaterializeContext & { endMs: number },
): Promise<MaterializeResult[]> {
  const endMs = checkInstant('end', opts.endMs);
  checkEnd(endMs, opts.nowMs ?? Date.now());
  const get = opts.db.prepare('SELECT watermark FROM materialization_watermarks WHERE view = ?');
  const plans = onlineViews(opts).map(({ view, joinKeys }) => {
    const row = get.get(view.name) as { watermark: number } | undefined;
    const startMs = row ? row.watermark : view.ttlMs > 0 ? endMs - view.ttlMs : 0;
    return { view, joinKeys, startMs: Math.min(startMs, endMs), endMs };
  });
  return run(opts, plans);
}

/** The watermark of each view that has been materialized (epoch ms): where the next incremental run starts. */
export function readWatermarks(db: SqliteDb): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of db.prepare('SELECT view, watermark FROM materialization_watermarks').all() as Array<{
    view: string;
    watermark: number;
  }>) {
    out[r.view] = r.watermark;
  }
  return out;
}
