/**
 * runner/worker — the script the worker pool forks (compiled to dist/cjs/pipelines/runner/worker.js). It only
 * starts the worker protocol of worker-main; see there.
 */
import { startWorker } from './worker-main.js';

startWorker();
