/**
 * monitoring/freshness — feature freshness: per feature view, the age of the newest value materialized
 * into the online store, against the view's TTL. `cellar features list` prints it; the `/metrics` endpoints
 * of `cellar serve` and `cellar up` can export it as gauges (`freshnessMetrics`).
 */
import type { SqliteDb } from '../store/sqlite.js';

/** Freshness of one feature view. */
export interface ViewFreshness {
  view: string;
  /** Event time of the newest online value (epoch ms), null when nothing is materialized. */
  newestEventTs: number | null;
  /** now − newestEventTs in seconds (null when nothing is materialized). */
  ageSeconds: number | null;
  /** The view's TTL in seconds (0 = none). */
  ttlSeconds: number;
  /** True when a TTL is set and the newest value is older than it (online reads return OUTSIDE_MAX_AGE). */
  stale: boolean;
  /** Entities with an online value. */
  entities: number;
}

function ttlOf(spec: unknown): number {
  const ttl = (spec as { ttlMs?: unknown } | null)?.ttlMs;
  return typeof ttl === 'number' && Number.isFinite(ttl) ? ttl / 1000 : 0;
}

/**
 * Freshness of every registered feature view (latest definitions) from the embedded online store.
 */
export function featureFreshness(db: SqliteDb, now = Date.now()): ViewFreshness[] {
  const views = db
    .prepare(
      `SELECT d.name, d.spec_json FROM feature_definitions d
       WHERE d.kind = 'featureView' AND d.deleted_at IS NULL
         AND d.version = (SELECT MAX(version) FROM feature_definitions x WHERE x.kind = d.kind AND x.name = d.name)
       ORDER BY d.name`,
    )
    .all() as Array<{ name: string; spec_json: string }>;
  const newest = db.prepare('SELECT MAX(event_ts) AS ts, COUNT(*) AS n FROM online_features WHERE view = ?');
  return views.map((v) => {
    const row = newest.get(v.name) as { ts: number | null; n: number };
    const ttlSeconds = ttlOf(JSON.parse(v.spec_json));
    const ageSeconds = row.ts === null ? null : Math.max(0, (now - row.ts) / 1000);
    return {
      view: v.name,
      newestEventTs: row.ts,
      ageSeconds,
      ttlSeconds,
      stale: ttlSeconds > 0 && (ageSeconds === null || ageSeconds > ttlSeconds),
      entities: row.n,
    };
  });
}

/** Prometheus metric name of the freshness gauge. */
export const FRESHNESS_METRIC = 'cellar_feature_view_age_seconds';
/** Prometheus metric name of the TTL gauge. */
export const TTL_METRIC = 'cellar_feature_view_ttl_seconds';

/**
 * Freshness as Prometheus text exposition lines (`cellar_feature_view_age_seconds{view="…"}` and
 * `cellar_feature_view_ttl_seconds{view="…"}`), for a server's `/metrics`.
 */
export function freshnessMetrics(db: SqliteDb, now = Date.now()): string {
  const rows = featureFreshness(db, now);
  const esc = (s: string): string => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
  const lines = [
    `# HELP ${FRESHNESS_METRIC} Age of the newest materialized value of a feature view.`,
    `# TYPE ${FRESHNESS_METRIC} gauge`,
    ...rows
      .filter((r) => r.ageSeconds !== null)
      .map((r) => `${FRESHNESS_METRIC}{view="${esc(r.view)}"} ${r.ageSeconds}`),
    `# HELP ${TTL_METRIC} TTL of a feature view (0 = none).`,
    `# TYPE ${TTL_METRIC} gauge`,
    ...rows.map((r) => `${TTL_METRIC}{view="${esc(r.view)}"} ${r.ttlSeconds}`),
  ];
  return lines.join('\n') + '\n';
}
