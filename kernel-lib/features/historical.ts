/**
 * features/historical — `getHistoricalFeatures`: resolves feature references (or a feature service) against
 * the registry, parses the entity rows, checks output column names, and returns a lazy `RetrievalJob` that runs
 * the point-in-time join on an `OfflineStore` and hands the training data back as rows, a polars DataFrame,
 * or a Parquet/CSV file. The output keeps every entity row, in order, with all its columns, then the features.
 */
import { resolve } from 'node:path';
import { pl } from '../data/polars.js';
import type { DataFrame, Series } from 'nodejs-polars';
import { CellarError } from '../errors.js';
import { toRows as frameToRows, toDataFrame as anyToDataFrame } from '../data/frame.js';
import { writeCsv, writeParquet } from '../data/io.js';
import type { SqliteDb } from '../store/sqlite.js';
import { readEntityInput, type EntityInput, type EntitySource } from './entity-input.js';
import { noteRetrievedFeatures } from './lineage.js';
import { get, list } from './registry.js';
import type { HistoricalJoinResult, OfflineStore, ValueColumn, ViewRequest } from './stores.js';
import {
  parseFeatureRef,
  type EntityDef,
  type FeatureRef,
  type FeatureServiceDef,
  type FeatureViewDef,
} from './types.js';

/** Options of `getHistoricalFeatures`. */
export interface HistoricalFeaturesOptions extends EntitySource {
  /** `"view:feature"` references, a feature service name, or a feature service definition. */
  features: readonly string[] | string | FeatureServiceDef;
  /** Name output columns `view__feature` (Feast's convention) instead of `feature`. */
  fullFeatureNames?: boolean;
  /** Only use feature rows created at or before the entity timestamp, so later backfills do not leak. */
  filterByCreatedTimestamp?: boolean;
}

/** One requested feature and its output column. */
export interface ResolvedFeature extends FeatureRef {
  column: string;
}

/** The feature references of a request, resolved against the registry. */
export interface ResolvedFeatures {
  features: Array<FeatureRef>;
  /** One entry per view, in order of first reference. */
  views: ViewRequest[];
}

/**
 * Resolves feature references (or a service) against the registered views and entities.
 *
 * @throws CellarError INVALID_PARAMETER naming every unknown reference; NOT_FOUND for an unknown feature service
 */
export function resolveFeatures(
  db: SqliteDb,
  features: HistoricalFeaturesOptions['features'],
): ResolvedFeatures {
  let refs: readonly string[];
  if (typeof features === 'string') {
    const svc = get(db, 'featureService', features);
    if (!svc) {
      const names = list(db, 'featureService').map((s) => s.name);
      throw new CellarError(
        'NOT_FOUND',
        `No feature service named "${features}"` +
          (names.length ? ` (registered: ${names.join(', ')}).` : '; none is registered.') +
          ' For single features pass an array such as ["driver_stats:conv_rate"].',
        { featureService: features },
      );
    }
    refs = svc.spec.features;
  } else if (Array.isArray(features)) {
    refs = features;
  } else if (
    features &&
    typeof features === 'object' &&
    (features as FeatureServiceDef).kind === 'featureService'
  ) {
    refs = (features as FeatureServiceDef).features;
  } else {
    throw new CellarError(
      'INVALID_PARAMETER',
      'features must be an array of "view:feature" references or a feature service (name or definition).',
    );
  }
  if (refs.length === 0)
    throw new CellarError(
      'INVALID_PARAMETER',
      'Ask for at least one feature, e.g. ["driver_stats:conv_rate"].',
    );
  const views = new Map<string, FeatureViewDef>();
  for (const v of list(db, 'featureView')) views.set(v.name, v.spec as FeatureViewDef);
  const entities = new Map<string, EntityDef>();
  for (const e of list(db, 'entity')) entities.set(e.name, e.spec as EntityDef);
  const unknown: string[] = [];
  const seen = new Set<string>();
  const out: FeatureRef[] = [];
  const requests = new Map<string, ViewRequest>();
  for (const ref of refs) {
    const parsed = parseFeatureRef(ref);
    const view = views.get(parsed.view);
    if (!view || !(parsed.feature in view.schema)) {
      unknown.push(
        `"${ref}"` +
          (view
            ? ` (view "${parsed.view}" has ${Object.keys(view.schema).join(', ')})`
            : ` (no feature view "${parsed.view}")`),
      );
      continue;
    }
    if (seen.has(ref)) continue;
    seen.add(ref);
    out.push(parsed);
    let req = requests.get(view.name);
    if (!req) {
      const joinKeys = view.entities.flatMap((e) => {
        const ent = entities.get(e);
        if (!ent)
          throw new CellarError(
            'INVALID_STATE',
            `Feature view "${view.name}" uses entity "${e}", which is not registered; apply it.`,
          );
        return ent.joinKeys;
      });
      req = { view, features: [], joinKeys: [...new Set(joinKeys)] };
      requests.set(view.name, req);
    }
    req.features.push(parsed.feature);
  }
  if (unknown.length > 0) {
    const known = [...views.keys()];
    throw new CellarError(
      'INVALID_PARAMETER',
      `Unknown feature reference${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}. ` +
        (known.length
          ? `Registered feature views: ${known.join(', ')}.`
          : 'No feature view is registered: apply your definitions first.'),
      { unknown: unknown.length },
    );
  }
  return { features: out, views: [...requests.values()] };
}

/**
 * Names the output columns and checks they clash neither with each other nor with the entity columns.
 *
 * @throws CellarError INVALID_PARAMETER naming the clashing column
 */
export function outputColumns(
  features: FeatureRef[],
  entityColumns: readonly string[],
  fullFeatureNames: boolean,
): ResolvedFeature[] {
  const byName = new Map<string, FeatureRef>();
  const entitySet = new Set(entityColumns);
  return features.map((f) => {
    const column = fullFeatureNames ? `${f.view}__${f.feature}` : f.feature;
    const other = byName.get(column);
    if (other) {
      throw new CellarError(
        'INVALID_PARAMETER',
        `Feature "${column}" comes from both "${other.view}" and "${f.view}". Pass fullFeatureNames: true to get ` +
          `"${other.view}__${f.feature}" and "${f.view}__${f.feature}", or ask for one of them.`,
        { column },
      );
    }
    if (entitySet.has(column)) {
      throw new CellarError(
        'INVALID_PARAMETER',
        `Feature "${f.view}:${f.feature}" would be named "${column}", which is already a column of the entity rows. ` +
          (fullFeatureNames
            ? 'Rename that entity column.'
            : 'Pass fullFeatureNames: true or rename the entity column.'),
        { column },
      );
    }
    byName.set(column, f);
    return { ...f, column };
  });
}

interface PreparedJob {
  input: EntityInput;
  features: ResolvedFeature[];
  views: ViewRequest[];
  filterByCreatedTimestamp: boolean;
}

/**
 * Prepares a historical retrieval: validates everything that can be checked without reading feature data
 * and returns a lazy job. Validation errors surface when the job is consumed (`toRows()` etc. reject).
 *
 * @example
 * const job = getHistoricalFeatures(db, offline, { entityRows: orders, features: ['driver_stats:conv_rate'] })
 * const rows = await job.toRows()
 */
export function getHistoricalFeatures(
  db: SqliteDb,
  offline: OfflineStore,
  opts: HistoricalFeaturesOptions,
): RetrievalJob {
  try {
    if (opts === null || typeof opts !== 'object') {
      throw new CellarError(
        'INVALID_PARAMETER',
        'getHistoricalFeatures takes { entityRows | entityDf, features, fullFeatureNames? }.',
      );
    }
    const resolved = resolveFeatures(db, opts.features);
    const joinKeys = [...new Set(resolved.views.flatMap((v) => v.joinKeys))];
    const input = readEntityInput(opts, joinKeys);
    const features = outputColumns(resolved.features, input.columns, opts.fullFeatureNames ?? false);
    return new RetrievalJob(offline, {
      job: {
        input,
        features,
        views: resolved.views,
        filterByCreatedTimestamp: opts.filterByCreatedTimestamp ?? false,
      },
    });
  } catch (error) {
    return new RetrievalJob(offline, { error });
  }
}

function valueAt(col: ValueColumn, i: number): unknown {
  if (col.nulls[i] === 1) return null;
  const v = col.data[i];
  if (v === null || v === undefined) return null;
  if (col.dtype === 'timestamp') return new Date(v as number);
  return v;
}

function featureSeries(name: string, col: ValueColumn): Series {
  const hasNulls = col.nulls.some((b) => b === 1);
  const withNulls = (): unknown[] =>
    Array.from(col.data as ArrayLike<unknown>, (v, i) => (col.nulls[i] === 1 ? null : (v ?? null)));
  switch (col.dtype) {
    case 'float64':
    case 'float32':
      return col.data instanceof Float64Array && !hasNulls
        ? pl.Series(name, col.data, pl.Float64)
        : pl.Series(name, withNulls(), pl.Float64);
    case 'int64':
    case 'int32':
      return pl.Series(name, withNulls(), pl.Float64).cast(pl.Int64);
    case 'timestamp':
      return pl.Series(name, withNulls(), pl.Float64).cast(pl.Int64).cast(pl.Datetime('ms'));
    case 'bool':
      return pl.Series(name, withNulls(), pl.Bool);
    default:
      return pl.Series(
        name,
        withNulls().map((v) => (v === null ? null : String(v))),
        pl.Utf8,
      );
  }
}

/**
 * The result of `getHistoricalFeatures`: runs the point-in-time join once, on first use, and returns the
 * training data — every entity row in its original order with its columns (timestamps as UTC instants), then
 * one column per requested feature (null where no feature row matched).
 */
export class RetrievalJob {
  private result: Promise<HistoricalJoinResult> | null = null;

  /** Made by `getHistoricalFeatures` (with the prepared request, or the error that made it invalid). */
  constructor(
    private readonly offline: OfflineStore,
    private readonly prepared: { job: PreparedJob } | { error: unknown },
  ) {}

  private job(): PreparedJob {
    if ('error' in this.prepared) throw this.prepared.error;
    return this.prepared.job;
  }

  /** The output feature column names, in request order (empty when the request is invalid). */
  get featureColumns(): string[] {
    return 'job' in this.prepared ? this.prepared.job.features.map((f) => f.column) : [];
  }

  /** The entity columns, as given (empty when the request is invalid). */
  get entityColumns(): string[] {
    return 'job' in this.prepared ? [...this.prepared.job.input.columns] : [];
  }

  private run(): Promise<HistoricalJoinResult> {
    if (this.result === null) {
      const p = (async () => {
        const job = this.job();
        noteRetrievedFeatures(job.features.map((f) => ({ column: f.column, ref: `${f.view}:${f.feature}` })));
        if (job.input.frame.nRows === 0) return emptyResult(job);
        return this.offline.historicalJoin({
          entity: job.input.frame,
          views: job.views,
          filterByCreatedTimestamp: job.filterByCreatedTimestamp,
        });
      })();
      // A failed join (e.g. a missing source file) may succeed once fixed: do not keep the failure.
      p.catch(() => {
        if (this.result === p) this.result = null;
      });
      this.result = p;
    }
    return this.result;
  }

  private featureColumn(result: HistoricalJoinResult, f: ResolvedFeature): ValueColumn {
    const col = result[f.view]?.[f.feature];
    if (!col)
      throw new CellarError('INTERNAL', `The offline store returned no column for "${f.view}:${f.feature}".`);
    return col;
  }

  /**
   * The training data as plain objects: entity columns as given (the timestamp column as `Date`), then features.
   *
   * @throws CellarError for an invalid request or a source that cannot be read (naming the view and file)
   * @example
   * const rows = await store.getHistoricalFeatures({ entityRows: orders, features: ['driver_stats:conv_rate'] }).toRows()
   */
  async toRows(): Promise<Record<string, unknown>[]> {
    const result = await this.run();
    const { input, features } = this.job();
    const n = input.frame.nRows;
    const source = input.rows ?? (input.df ? frameToRows(input.df) : []);
    const cols = features.map((f) => this.featureColumn(result, f));
    const out: Record<string, unknown>[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const row: Record<string, unknown> = {};
      const given = source[i]!;
      for (const c of input.columns)
        row[c] = c === input.timestampColumn ? new Date(input.frame.ts[i]!) : (given[c] ?? null);
      features.forEach((f, j) => (row[f.column] = valueAt(cols[j]!, i)));
      out[i] = row;
    }
    return out;
  }

  /**
   * The training data as a polars DataFrame (float features Float64, integers Int64, timestamps Datetime(ms) UTC).
   *
   * @throws CellarError as `toRows`
   * @example
   * const df = await store.getHistoricalFeatures({ entityDf: orders, features: 'driver_activity' }).toDataFrame()
   */
  async toDataFrame(): Promise<DataFrame> {
    const result = await this.run();
    const { input, features } = this.job();
    const tsSeries = pl
      .Series(input.timestampColumn, input.frame.ts, pl.Float64)
      .cast(pl.Int64)
      .cast(pl.Datetime('ms'));
    let entity: DataFrame;
    if (input.df) {
      entity = input.df.withColumn(tsSeries);
    } else {
      const rows = input.rows ?? [];
      const ordered: Series[] = input.columns.map((c) =>
        c === input.timestampColumn
          ? tsSeries
          : anyToDataFrame({ [c]: rows.map((r) => r[c] ?? null) }).getColumn(c),
      );
      entity = pl.DataFrame(ordered);
    }
    const extra = features.map((f) => featureSeries(f.column, this.featureColumn(result, f)));
    return extra.length ? pl.DataFrame([...entity.getColumns(), ...extra]) : entity;
  }

  /**
   * Writes the training data to a Parquet file atomically (temp file, fsync, rename) and returns its absolute path.
   *
   * @throws CellarError as `toRows`; INVALID_PATH when the file cannot be written (an existing file is untouched)
   * @example
   * await job.toParquet('data/train.parquet')
   */
  async toParquet(path: string): Promise<string> {
    const df = await this.toDataFrame();
    writeParquet(df, path);
    return resolve(path);
  }

  /** Writes the training data to a CSV file atomically and returns its absolute path (timestamps as ISO-8601 UTC). */
  async toCsv(path: string): Promise<string> {
    const df = await this.toDataFrame();
    writeCsv(df, path);
    return resolve(path);
  }
}

function emptyResult(job: PreparedJob): HistoricalJoinResult {
  const out: HistoricalJoinResult = {};
  for (const v of job.views) {
    out[v.view.name] = {};
    for (const f of v.features) {
      const dtype = v.view.schema[f]!;
      const numeric = dtype !== 'string' && dtype !== 'bool';
      out[v.view.name]![f] = { dtype, data: numeric ? new Float64Array(0) : [], nulls: new Uint8Array(0) };
    }
  }
  return out;
}
