/**
 * ml/hooks — the fit-event bus. Every cellar estimator announces a successful `fit` here, so tracking
 * can autolog runs without ml importing tracking. Listeners live on a process-wide registry (keyed by a
 * global symbol) so the ESM and CommonJS builds of cellar loaded in one process share it.
 */
import type { ModelJSON, ModelParams } from './model-json.js';

/** What an estimator reports after a successful fit. */
export interface FitEvent {
  /** The estimator class, e.g. 'ElasticNet'. */
  className: string;
  /** snake_case parameters as MLflow/scikit-learn log them (`getParams()`). */
  params: ModelParams;
  featureNames: string[];
  nRows: number;
  nCols: number;
  /** The fitted model in cellar's model JSON format. */
  model: ModelJSON;
  /** sha256 hex of the training data (see `datasetFingerprint`). */
  datasetFingerprint: string;
  /** Metrics of the model on its own training data. */
  trainingMetrics: { rmse: number; mae: number; r2: number };
  /** The training data as fitted (not to be modified): for reference statistics of the model (monitoring). */
  training?: { columns: Float64Array[]; target: Float64Array; prediction: Float64Array };
}

/** A function called with each FitEvent. */
export type FitListener = (e: FitEvent) => void;

const REGISTRY_KEY = Symbol.for('cellar.ml.fitListeners');

function listeners(): Set<FitListener> {
  const g = globalThis as unknown as Record<symbol, Set<FitListener> | undefined>;
  let set = g[REGISTRY_KEY];
  if (set === undefined) {
    set = new Set<FitListener>();
    g[REGISTRY_KEY] = set;
  }
  return set;
}

/**
 * Registers `fn` to be called after every successful estimator fit, and returns a function that
 * unregisters it. A listener that throws does not break `fit`: the error is reported with `console.warn`.
 *
 * @example
 * const stop = addFitListener((e) => console.log(e.className, e.trainingMetrics.rmse));
 * new ElasticNet().fit(X, y); // logs "ElasticNet 0.93…"
 * stop();
 */
export function addFitListener(fn: FitListener): () => void {
  const set = listeners();
  // Wrap so that registering the same function twice yields two independent subscriptions.
  const entry: FitListener = (e) => fn(e);
  set.add(entry);
  return () => {
    set.delete(entry);
  };
}

/** True when at least one fit listener is registered (estimators skip the event's cost otherwise). */
export function hasFitListeners(): boolean {
  return listeners().size > 0;
}

/**
 * Builds the event with `make` (only if someone listens) and delivers it to every listener; listener
 * errors are caught and reported with a one-line `console.warn`.
 */
export function emitFitEvent(make: () => FitEvent): void {
  const set = listeners();
  if (set.size === 0) return;
  const event = make();
  for (const fn of [...set]) {
    try {
      fn(event);
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      console.warn(
        `cellar: a fit listener failed for ${event.className} (${msg}); the model was fitted anyway`,
      );
    }
  }
}
