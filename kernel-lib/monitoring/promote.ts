/**
 * monitoring/promote — the CI/CD gate: re-evaluates a candidate version and the current holder of an alias
 * (e.g. @champion) on the same held-out data, records the comparison as a run, and moves the alias to the
 * candidate only when it wins by the required margin. `cellar promote` is a thin CLI over `promote`.
 */
import type { CellarStore } from '../client.js';
import { CellarError, isCellarError } from '../errors.js';
import { toMatrix, toVector } from '../data/matrix.js';
import { datasetFingerprint } from '../ml/fingerprint.js';
import { regressionMetrics } from '../ml/metrics.js';
import type { ModelVersion } from '../registry/types.js';
import { resolveModelVersion } from './resolve.js';

/** Metrics `promote` can compare, and whether lower is better. */
const METRICS: Record<string, { key: 'rmse' | 'mae' | 'r2'; lowerIsBetter: boolean }> = {
  rmse: { key: 'rmse', lowerIsBetter: true },
  mae: { key: 'mae', lowerIsBetter: true },
  r2: { key: 'r2', lowerIsBetter: false },
};

/** Options of {@link promote}. */
export interface PromoteOptions {
  /** Registered model name. */
  model: string;
  /** `@challenger` (an alias), `latest`, or a version number. */
  candidate: string;
  /** `test_rmse`, `rmse`, `test_mae`, `mae`, `test_r2` or `r2`. */
  metric: string;
  /** The alias the candidate must beat and that moves on success (default `champion`). */
  mustBeat?: string;
  /** Required margin: `1%` (relative to the champion's value) or an absolute number such as `0.005`. Default 0. */
  by?: string | number;
  /** Held-out rows with the model's features and the target; without it the runs' logged metrics are compared. */
  data?: unknown;
  /** Target column of `data` (default: the one column that is neither a feature nor an id/timestamp). */
  target?: string;
  /** Where `data` came from (recorded with the comparison). */
  dataLabel?: string;
  /** Experiment of the comparison run (default `cellar-promotions`). */
  experiment?: string;
  /** Compare and record, but do not move the alias. */
  dryRun?: boolean;
}

/** The outcome of {@link promote}. */
export interface PromoteResult {
  promoted: boolean;
  model: string;
  alias: string;
  metric: string;
  candidate: { version: number; value: number };
  champion: { version: number; value: number } | null;
  /** The value the candidate had to reach. */
  required: number | null;
  basis: 'held-out data' | 'logged metrics';
  rows: number | null;
  runId: string;
  reason: string;
}

function parseMargin(by: string | number | undefined): { relative: boolean; value: number } {
  if (by === undefined) return { relative: false, value: 0 };
  const text = String(by).trim();
  const m = /^(\d+(?:\.\d+)?)(%?)$/.exec(text);
  if (!m) throw new CellarError('INVALID_PARAMETER', `--by must look like 1% or 0.005, got "${text}".`);
  return m[2] ? { relative: true, value: Number(m[1]) / 100 } : { relative: false, value: Number(m[1]) };
}

function metricOf(name: string): { key: 'rmse' | 'mae' | 'r2'; lowerIsBetter: boolean } {
  const m = METRICS[name.replace(/^test_/, '')];
  if (!m)
    throw new CellarError(
      'INVALID_PARAMETER',
      `--metric must be test_rmse, test_mae or test_r2 (got "${name}").`,
    );
  return m;
}

async function candidateVersion(store: CellarStore, model: string, candidate: string): Promise<ModelVersion> {
  const c = candidate.trim();
  if (c.startsWith('@')) return resolveModelVersion(store, `${model}${c}`);
  if (c === 'latest' || /^\d+$/.test(c)) return resolveModelVersion(store, `${model}/${c}`);
  throw new CellarError(
    'INVALID_PARAMETER',
    `--candidate must be @alias, latest or a version number, got "${candidate}".`,
  );
}

function targetColumn(columns: string[], features: string[], given: string | undefined): string {
  if (given !== undefined) {
    if (!columns.includes(given))
      throw new CellarError(
        'INVALID_INPUT',
        `The data has no target column "${given}" (columns: ${columns.join(', ')}).`,
      );
    return given;
  }
  const rest = columns.filter(
    (c) => !features.includes(c) && !/(^id$|_id$|timestamp|^datetime$|^date$|_ts$)/i.test(c),
  );
  if (rest.length !== 1) {
    throw new CellarError(
      'INVALID_PARAMETER',
      `Cannot tell the target column (candidates: ${rest.join(', ') || 'none'}); pass --target.`,
    );
  }
  return rest[0]!;
}

function columnNames(data: unknown): string[] {
  const d = data as { columns?: unknown } | unknown[];
  if (Array.isArray(d))
    return d.length && typeof d[0] === 'object' && d[0] !== null ? Object.keys(d[0] as object) : [];
  if (d && typeof d === 'object' && Array.isArray((d as { columns?: unknown }).columns))
    return (d as { columns: string[] }).columns;
  if (d && typeof d === 'object') return Object.keys(d);
  return [];
}

function columnOf(data: unknown, name: string): unknown {
  if (Array.isArray(data)) return data.map((r) => (r as Record<string, unknown>)[name]);
  const df = data as { getColumn?: (n: string) => unknown } & Record<string, unknown>;
  return typeof df.getColumn === 'function' ? df.getColumn(name) : df[name];
}

async function loggedMetric(store: CellarStore, mv: ModelVersion, key: string): Promise<number> {
  if (!mv.runId)
    throw new CellarError(
      'INVALID_STATE',
      `${mv.name} v${mv.version} has no run to read test_${key} from; pass --on <dataset>.`,
    );
  const run = await store.tracking.getRun(mv.runId);
  const v = run.metrics[`test_${key}`];
  if (v === undefined)
    throw new CellarError(
      'INVALID_STATE',
      `The run of ${mv.name} v${mv.version} logged no test_${key}; pass --on <dataset> to re-evaluate.`,
    );
  return v;
}

/**
 * Compares a candidate version with the version an alias (default @champion) points at, on the same
 * held-out rows (or, without data, on the test metrics their runs logged), records the comparison as a run
 * in the `cellar-promotions` experiment, and moves the alias to the candidate only when it wins by `by`.
 * With no current holder of the alias, the candidate is promoted.
 *
 * @example
 * const r = await promote(store, { model: 'driver', candidate: '@challenger', metric: 'test_rmse', by: '1%', data: holdout })
 * @throws CellarError NOT_FOUND for an unknown model/version/alias, INVALID_PARAMETER for a bad metric or margin,
 *   INVALID_INPUT when the data lacks a feature or the target
 */
export async function promote(store: CellarStore, opts: PromoteOptions): Promise<PromoteResult> {
  const metric = metricOf(opts.metric);
  const alias = opts.mustBeat ?? 'champion';
  const margin = parseMargin(opts.by);
  const cand = await candidateVersion(store, opts.model, opts.candidate);
  let champ: ModelVersion | null = null;
  try {
    champ = await store.registry.getModelVersionByAlias(opts.model, alias);
  } catch (e) {
    if (!isCellarError(e, 'NOT_FOUND')) throw e;
  }
  let candValue: number;
  let champValue: number | null = null;
  let rows: number | null = null;
  let fingerprint: string | null = null;
  if (opts.data !== undefined) {
    const candModel = await store.loadModel(`models:/${cand.name}/${cand.version}`);
    const champModel = champ ? await store.loadModel(`models:/${champ.name}/${champ.version}`) : null;
    const features = [...new Set([...candModel.featureNames, ...(champModel?.featureNames ?? [])])];
    const target = targetColumn(columnNames(opts.data), features, opts.target);
    const y = toVector(columnOf(opts.data, target));
    const m = toMatrix(opts.data, { featureNames: features });
    rows = y.length;
    fingerprint = datasetFingerprint(m.featureNames, m.columns, y);
    candValue = regressionMetrics(y, candModel.predict(opts.data))[metric.key];
    if (champModel) champValue = regressionMetrics(y, champModel.predict(opts.data))[metric.key];
  } else {
    candValue = await loggedMetric(store, cand, metric.key);
    if (champ) champValue = await loggedMetric(store, champ, metric.key);
  }
  let required: number | null = null;
  let wins = true;
  let reason = `no version holds @${alias}`;
  if (champ && champValue !== null) {
    const delta = margin.relative ? margin.value * Math.abs(champValue) : margin.value;
    required = metric.lowerIsBetter ? champValue - delta : champValue + delta;
    const better = metric.lowerIsBetter ? candValue < champValue : candValue > champValue;
    const enough = metric.lowerIsBetter ? candValue <= required : candValue >= required;
    wins = cand.version !== champ.version && better && enough;
    reason =
      cand.version === champ.version
        ? `v${cand.version} already holds @${alias}`
        : `${opts.metric} ${candValue.toPrecision(6)} vs @${alias} v${champ.version} ${champValue.toPrecision(6)} (needed ${metric.lowerIsBetter ? 'below' : 'above'} ${champValue.toPrecision(6)}${delta > 0 ? ` by ${delta.toPrecision(3)}` : ''})`;
  }
  const promoted = wins && !opts.dryRun;
  const runId = await store.withRun(
    { experiment: opts.experiment ?? 'cellar-promotions', runName: `promote-${opts.model}-v${cand.version}` },
    async (run) => {
      await run.logParams({
        model: opts.model,
        candidate_version: cand.version,
        champion_version: champ ? champ.version : 'none',
        alias,
        metric: opts.metric,
        by: String(opts.by ?? 0),
        basis: opts.data !== undefined ? 'held-out data' : 'logged metrics',
        ...(opts.dataLabel ? { data: opts.dataLabel } : {}),
        ...(rows !== null ? { rows } : {}),
      });
      await run.logMetrics({
        [`candidate_${metric.key}`]: candValue,
        ...(champValue !== null ? { [`champion_${metric.key}`]: champValue } : {}),
      });
      await run.setTags({
        'cellar.promotion.decision': promoted ? 'promoted' : wins ? 'dry-run' : 'kept',
        ...(fingerprint ? { 'cellar.dataset.fingerprint': fingerprint } : {}),
      });
      return run.id;
    },
  );
  if (promoted) await store.setAlias(opts.model, alias, cand.version);
  return {
    promoted,
    model: opts.model,
    alias,
    metric: opts.metric,
    candidate: { version: cand.version, value: candValue },
    champion: champ && champValue !== null ? { version: champ.version, value: champValue } : null,
    required,
    basis: opts.data !== undefined ? 'held-out data' : 'logged metrics',
    rows,
    runId,
    reason,
  };
}
