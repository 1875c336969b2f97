/**
 * ml/hooks — the fit-event bus. Every cellar estimator announces a successful `fit` here, so tracking
 * can autolog runs without ml importing tracking. A listener may say when it wants events (`when`): the
 * event — the training data's fingerprint, predictions and training metrics — is built only when some
 * listener wants it, so a fit outside an autologged run costs what the estimator alone costs.
 * Listeners live in this module's state (not on `globalThis`), so a pipeline worker that drops a step's
 * modules also drops the step's listeners, and nothing of cellar outlives the step.
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
  /** Mean of each training column (what serving imputes for a missing feature). */
  featureMeans?: Record<string, number>;
  /** The training data as fitted (not to be modified): for reference statistics of the model (monitoring). */
  training?: { columns: Float64Array[]; target: Float64Array; prediction: Float64Array };
}

/** A function called with each FitEvent. */
export type FitListener = (e: FitEvent) => void;

/** Options of {@link addFitListener}. */
export interface FitListenerOptions {
  /**
   * Asked before each fit: the listener receives the event only when this returns true (default: always).
   * Events nobody wants are never built.
   */
  when?: () => boolean;
}

interface Subscription {
  fn: FitListener;
  when: (() => boolean) | undefined;
}

const subscriptions = new Set<Subscription>();

/** The last successful fit of this process, whether or not anyone listened. */
export interface FitRecord {
  className: string;
  /** The fitted model (with its dataset fingerprint when a listener asked for the event). */
  model: ModelJSON;
  /** Epoch milliseconds. */
  at: number;
}
let lastRecord: FitRecord | null = null;

/**
 * Registers `fn` to be called after every successful estimator fit (or, with `when`, after the fits that
 * happen while `when()` is true), and returns a function that unregisters it. A listener that throws does
 * not break `fit`: the error is reported with `console.warn`.
 *
 * @example
 * const stop = addFitListener((e) => console.log(e.className, e.trainingMetrics.rmse));
 * new ElasticNet().fit(X, y); // logs "ElasticNet 0.93…"
 * stop();
 */
export function addFitListener(fn: FitListener, opts: FitListenerOptions = {}): () => void {
  // A new object per call, so registering the same function twice yields two independent subscriptions.
  const entry: Subscription = { fn, when: opts.when };
  subscriptions.add(entry);
  return () => {
    subscriptions.delete(entry);
  };
}

function interested(): Subscription[] {
  const wanted: Subscription[] = [];
  for (const s of subscriptions) if (s.when === undefined || s.when()) wanted.push(s);
  return wanted;
}

/** True when at least one fit listener wants the next fit's event (estimators skip the event's cost otherwise). */
export function hasFitListeners(): boolean {
  for (const s of subscriptions) if (s.when === undefined || s.when()) return true;
  return false;
}

/**
 * Builds the event with `make` (only if some listener wants it) and delivers it to those listeners; listener
 * errors are caught and reported with a one-line `console.warn`. Returns the event, or null when nobody
 * wanted one.
 */
export function emitFitEvent(make: () => FitEvent): FitEvent | null {
  const wanted = interested();
  if (wanted.length === 0) return null;
  const event = make();
  for (const { fn } of wanted) {
    try {
      fn(event);
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      console.warn(
        `cellar: a fit listener failed for ${event.className} (${msg}); the model was fitted anyway`,
      );
    }
  }
  return event;
}

/** Records a successful fit as this process's last one (cheap: the model JSON only). */
export function recordFit(record: FitRecord): void {
  lastRecord = record;
}

/** The last successful fit of this process, or null before any. */
export function lastFitRecord(): FitRecord | null {
  return lastRecord;
}
