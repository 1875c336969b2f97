/**
 * server/mlflow-map — conversions between cellar's objects and MLflow's REST JSON (snake_case, tag lists,
 * versions as strings), and the small filters of MLflow's registry searches (`name = '…'`, `name LIKE '…'`,
 * `run_id = '…'`). Pure functions, used by the MLflow routes.
 */
import { CellarError } from '../../kernel-lib/errors.js';
import type { ModelVersion, RegisteredModel } from '../../kernel-lib/registry/types.js';
import type { Experiment, RunData } from '../../kernel-lib/tracking/types.js';

/** MLflow's `[{key, value}]` lists. */
export type KeyValues = Array<{ key: string; value: string }>;

/** A map as MLflow's key/value list. */
export function toKVs(map: Record<string, string>): KeyValues {
  return Object.entries(map).map(([key, value]) => ({ key, value }));
}

/** MLflow's key/value list as a map. */
export function fromKVs(list: KeyValues | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const { key, value } of list ?? []) out[key] = value;
  return out;
}

/** An experiment in MLflow's shape. */
export function mlflowExperiment(e: Experiment): Record<string, unknown> {
  return {
    experiment_id: e.id,
    name: e.name,
    artifact_location: `cellar-artifacts:/experiments/${e.id}`,
    lifecycle_stage: e.lifecycleStage,
    creation_time: e.createdAt,
    last_update_time: e.updatedAt,
    tags: toKVs(e.tags),
  };
}

/** A run's info in MLflow's shape. */
export function mlflowRunInfo(r: RunData): Record<string, unknown> {
  return {
    run_id: r.id,
    run_uuid: r.id,
    run_name: r.runName ?? '',
    experiment_id: r.experimentId,
    user_id: r.tags['mlflow.user'] ?? '',
    status: r.status,
    start_time: r.startTime,
    ...(r.endTime === null ? {} : { end_time: r.endTime }),
    artifact_uri: `runs:/${r.id}`,
    lifecycle_stage: r.lifecycleStage,
  };
}

/** A run in MLflow's shape (metrics: the latest value of each key). */
export function mlflowRun(r: RunData): Record<string, unknown> {
  const tags = { ...r.tags };
  if (r.runName !== null && tags['mlflow.runName'] === undefined) tags['mlflow.runName'] = r.runName;
  return {
    info: mlflowRunInfo(r),
    data: {
      metrics: Object.entries(r.metrics).map(([key, value]) => ({
        key,
        value,
        timestamp: r.endTime ?? r.startTime,
        step: 0,
      })),
      params: toKVs(r.params),
      tags: toKVs(tags),
    },
    inputs: { dataset_inputs: [] },
  };
}

/** A model version in MLflow's shape (version as a string, status READY). */
export function mlflowModelVersion(v: ModelVersion): Record<string, unknown> {
  return {
    name: v.name,
    version: String(v.version),
    creation_timestamp: v.createdAt,
    last_updated_timestamp: v.updatedAt,
    description: v.description,
    source: v.source,
    run_id: v.runId ?? '',
    status: 'READY',
    current_stage: 'None',
    tags: toKVs(v.tags),
    aliases: v.aliases,
  };
}

/** A registered model in MLflow's shape (latest version included when given). */
export function mlflowRegisteredModel(m: RegisteredModel, latest?: ModelVersion): Record<string, unknown> {
  return {
    name: m.name,
    creation_timestamp: m.createdAt,
    last_updated_timestamp: m.updatedAt,
    description: m.description,
    tags: toKVs(m.tags),
    aliases: Object.entries(m.aliases).map(([alias, version]) => ({ alias, version: String(version) })),
    latest_versions: latest ? [mlflowModelVersion(latest)] : [],
  };
}

/** Parses MLflow's version strings. */
export function parseVersion(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0)
    throw new CellarError('INVALID_PARAMETER', `Model version "${text}" is not a positive integer.`);
  return n;
}

/** Parses MLflow's view types (`ACTIVE_ONLY`, `DELETED_ONLY`, `ALL`, or their numbers 1/2/3). */
export function viewType(text: string | undefined): 'active' | 'deleted' | 'all' {
  const t = (text ?? 'ACTIVE_ONLY').toUpperCase();
  if (t === 'ACTIVE_ONLY' || t === '1') return 'active';
  if (t === 'DELETED_ONLY' || t === '2') return 'deleted';
  if (t === 'ALL' || t === '3') return 'all';
  throw new CellarError(
    'INVALID_PARAMETER',
    `Unknown view type "${text}"; use ACTIVE_ONLY, DELETED_ONLY or ALL.`,
  );
}

/** One `field op 'value'` clause of a registry search filter. */
interface Clause {
  field: string;
  op: '=' | '!=' | 'LIKE' | 'ILIKE';
  value: string;
}

/**
 * Parses the registry search filters MLflow clients send: clauses `name|run_id|source = '…'`, `!=`,
 * `LIKE`/`ILIKE` with `%` and `_`, joined by `and`.
 *
 * @throws CellarError INVALID_PARAMETER for anything else.
 */
export function parseRegistryFilter(filter: string | undefined, fields: string[]): Clause[] {
  const text = (filter ?? '').trim();
  if (text === '') return [];
  return text.split(/\s+and\s+/i).map((part) => {
    const m = /^\s*([A-Za-z_.]+)\s*(=|!=|LIKE|ILIKE)\s*(['"])(.*)\3\s*$/i.exec(part);
    if (!m || !fields.includes(m[1]!.toLowerCase())) {
      throw new CellarError(
        'INVALID_PARAMETER',
        `Unsupported filter "${part.trim()}": use ${fields.join(', ')} with =, !=, LIKE or ILIKE and a quoted value.`,
      );
    }
    return { field: m[1]!.toLowerCase(), op: m[2]!.toUpperCase() as Clause['op'], value: m[4]! };
  });
}

function likeRegex(pattern: string, flags: string): RegExp {
  const body = pattern
    .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    .replace(/%/g, '.*')
    .replace(/_/g, '.');
  return new RegExp(`^${body}$`, flags);
}

/** True when a record's fields satisfy every clause. */
export function matchesFilter(clauses: Clause[], record: Record<string, string>): boolean {
  return clauses.every((c) => {
    const v = record[c.field] ?? '';
    if (c.op === '=') return v === c.value;
    if (c.op === '!=') return v !== c.value;
    return likeRegex(c.value, c.op === 'ILIKE' ? 'i' : '').test(v);
  });
}

/** Pages a list with an offset token (MLflow's page_token is opaque to clients). */
export function pageOf<T>(
  items: T[],
  maxResults: number | undefined,
  token: string | undefined,
): {
  items: T[];
  next: string | undefined;
} {
  const start = token ? Number.parseInt(Buffer.from(token, 'base64url').toString('utf8'), 10) : 0;
  if (!Number.isInteger(start) || start < 0)
    throw new CellarError('INVALID_PARAMETER', `Invalid page_token "${token}".`);
  const size = Math.min(Math.max(1, maxResults ?? 1000), 50_000);
  const slice = items.slice(start, start + size);
  const next =
    start + size < items.length ? Buffer.from(String(start + size)).toString('base64url') : undefined;
  return { items: slice, next };
}
