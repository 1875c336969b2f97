/**
 * tracking/autolog — turns estimator fits into tracked runs (MLflow's autolog for cellar estimators).
 * Inside an active run, every `fit` logs the estimator's params, training metrics (`training_rmse`,
 * `training_mae`, `training_r2`), the model JSON at `model/model.json`, the estimator class as tags and the
 * training data's fingerprint as a run input. A second fit whose params differ from the ones already
 * logged (params are write-once) is logged to a nested child run instead of failing.
 * Also `evaluate`, which logs test metrics of any model with `predict`.
 */
import { CellarError } from '../errors.js';
import { addFitListener, lastFitRecord, type FitEvent } from '../ml/hooks.js';
import { regressionMetrics } from '../ml/metrics.js';
import type { ModelJSON } from '../ml/model-json.js';
import { retrievedBindings } from '../features/lineage.js';
import { REFERENCE_STATS_FILE, referenceStats } from '../monitoring/reference.js';
import { SERVING_ARTIFACT, type FeatureBinding } from '../serving/spec.js';
import { activeRun, type ActiveRun, type ArtifactInput } from './run.js';
import { setOwn, stringifyParam } from './validate.js';

/** Autolog settings. */
export interface AutologOptions {
  /** Turn autolog off (default: on). */
  disable?: boolean;
  /** Log the fitted model as `model/model.json` (default true). */
  logModels?: boolean;
  /** Record the training data's fingerprint as a run input (default true). */
  logDatasets?: boolean;
  /** Print a line when autolog cannot log (default true). */
  warn?: boolean;
}

const config: Required<AutologOptions> = { disable: false, logModels: true, logDatasets: true, warn: true };

/** The last model fitted in this process and the run it was logged to (the extension's "Register model"). */
export interface LastFit {
  className: string;
  model: ModelJSON;
  runId: string | null;
  at: number;
}
let lastFit: LastFit | null = null;

/**
 * Configures autolog. It is on by default: every cellar estimator `fit` inside an active run is logged.
 *
 * @example
 * autolog({ logModels: false }) // keep params and metrics, skip the model artifact
 * autolog({ disable: true })    // turn it off
 */
export function autolog(opts: AutologOptions = {}): Required<AutologOptions> {
  for (const key of Object.keys(opts) as Array<keyof AutologOptions>) {
    if (!(key in config)) throw new CellarError('INVALID_PARAMETER', `Unknown autolog option "${key}".`);
    if (typeof opts[key] !== 'boolean')
      throw new CellarError('INVALID_PARAMETER', `autolog option "${key}" must be true or false.`);
  }
  Object.assign(config, opts);
  return { ...config };
}

/** The last model fitted in this process (whether or not a run was active). */
export function getLastFit(): LastFit | null {
  // Fits outside an autologged run are only recorded by ml (no event is built for them).
  const record = lastFitRecord();
  if (record === null) return null;
  if (lastFit === null || lastFit.model !== record.model) {
    lastFit = { className: record.className, model: record.model, runId: null, at: record.at };
  }
  return lastFit;
}

/** Drops non-finite values (e.g. R² of a constant target), which the store refuses. */
function finiteOnly(metrics: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(metrics).filter(([, v]) => Number.isFinite(v)));
}

async function logFit(run: ActiveRun, e: FitEvent, features: FeatureBinding[]): Promise<void> {
  const params: Record<string, string> = {};
  for (const [k, v] of Object.entries(e.params)) setOwn(params, k, stringifyParam(k, v));
  const existing = (await run.info()).params;
  const conflicts = Object.entries(params).some(([k, v]) => Object.hasOwn(existing, k) && existing[k] !== v);
  let target = run;
  if (conflicts && run.spawnChild) {
    target = await run.spawnChild(`${e.className}-fit`);
  }
  await target.logParams(params);
  await target.logMetrics(
    finiteOnly({
      training_rmse: e.trainingMetrics.rmse,
      training_mae: e.trainingMetrics.mae,
      training_r2: e.trainingMetrics.r2,
    }),
  );
  await target.setTags({
    estimator_name: e.className,
    estimator_class: `cellar.ml.${e.className}`,
    'cellar.dataset.fingerprint': e.datasetFingerprint,
  });
  if (config.logModels) {
    await target.logArtifact({
      name: 'model/model.json',
      data: JSON.stringify(e.model, null, 2),
      kind: 'model',
    });
    // What serving needs: the online feature of each input column (when it came from getHistoricalFeatures)
    // and the training means that the `impute` policy fills in.
    await target.logArtifact({
      name: SERVING_ARTIFACT,
      data: JSON.stringify({
        features,
        trainingMeans: e.featureMeans ?? {},
      }),
      kind: 'model',
    });
    if (e.training) await target.logArtifact(referenceStatsArtifact(e, e.training));
  }
  if (config.logDatasets) {
    await target.logInput({
      fingerprint: e.datasetFingerprint,
      context: 'training',
      nRows: e.nRows,
      nCols: e.nCols,
      schema: e.model.signature,
    });
  }
  if (lastFit && lastFit.model === e.model) lastFit.runId = target.id;
  if (target !== run) await target.end('FINISHED');
}

/** Whether the next fit is logged: autolog on and a run active (otherwise no fit event is even built). */
function wantsFit(): boolean {
  if (config.disable) return false;
  const run = activeRun();
  return run !== null && !run.isEnded;
}

/** The training data's reference statistics, logged next to the model (monitoring compares served data with them). */
function referenceStatsArtifact(e: FitEvent, t: NonNullable<FitEvent['training']>): ArtifactInput {
  const columns = Object.fromEntries(e.featureNames.map((n, i) => [n, t.columns[i]!]));
  const stats = referenceStats({
    columns,
    target: t.target,
    prediction: t.prediction,
    datasetFingerprint: e.datasetFingerprint,
  });
  return { name: `model/${REFERENCE_STATS_FILE}`, data: JSON.stringify(stats), kind: 'json' };
}

/** Why autolog could not log a run's fit (e.g. a full disk), by run id: what `registerModel` reports then. */
const autologFailures = new Map<string, unknown>();

/** The error that kept autolog from logging a fit of run `runId`, if any (this process only). */
export function autologFailure(runId: string): unknown {
  return autologFailures.get(runId);
}

function onFit(e: FitEvent): void {
  lastFit = { className: e.className, model: e.model, runId: null, at: Date.now() };
  const run = activeRun();
  if (!run || run.isEnded) return;
  lastFit.runId = run.id;
  const features = retrievedBindings(e.featureNames);
  run
    .enqueue(() => logFit(run, e, features))
    .catch((err: unknown) => {
      autologFailures.set(run.id, err);
      if (config.warn)
        console.warn(
          `cellar autolog: could not log the ${e.className} fit to run ${run.id}: ${(err as Error).message}`,
        );
    });
}

let installed = false;
/** Subscribes autolog to estimator fits (idempotent; done when the SDK loads). */
export function installAutolog(): void {
  if (installed) return;
  installed = true;
  addFitListener(onFit, { when: wantsFit });
}

/** Anything with a `predict` method (cellar estimators and loaded models). */
export interface Predictor {
  predict(X: unknown): ArrayLike<number>;
}

/**
 * Scores a model on held-out data and, when a run is active (or `run` is given), logs `<prefix>rmse`,
 * `<prefix>mae` and `<prefix>r2` (prefix defaults to `test_`). Returns the metrics.
 *
 * @example
 * const m = await evaluate(model, Xtest, ytest) // { rmse, mae, r2 }, logged as test_rmse, …
 * @throws CellarError INVALID_INPUT when lengths differ
 */
export async function evaluate(
  model: Predictor,
  X: unknown,
  y: ArrayLike<number> | unknown,
  opts: { prefix?: string; run?: ActiveRun | null; step?: number } = {},
): Promise<{ rmse: number; mae: number; r2: number }> {
  if (!model || typeof model.predict !== 'function') {
    throw new CellarError('INVALID_PARAMETER', 'evaluate needs a fitted model with a predict method.');
  }
  const pred = model.predict(X);
  const metrics = regressionMetrics(y, pred);
  const run = opts.run === undefined ? activeRun() : opts.run;
  if (run && !run.isEnded) {
    const prefix = opts.prefix ?? 'test_';
    await run.logMetrics(
      finiteOnly({
        [`${prefix}rmse`]: metrics.rmse,
        [`${prefix}mae`]: metrics.mae,
        [`${prefix}r2`]: metrics.r2,
      }),
      opts.step,
    );
  }
  return metrics;
}
