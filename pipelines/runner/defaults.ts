/**
 * runner/defaults — the runner's default limits, in a module with no imports so the CLI can show them in
 * `--help` without loading the worker pool.
 */

/** Default of WorkerPoolOptions.maxStepsPerWorker. */
export const DEFAULT_MAX_STEPS_PER_WORKER = 100;
