/**
 * runner/worker — the script the worker pool starts (compiled to dist/cjs/pipelines/runner/worker.js): a step
 * worker (worker-main), or, with `--cellar-launcher`, the launcher process that forks the pool's workers
 * (launcher-main). Only the module of the chosen role is loaded, to keep worker start-up short.
 */
import { LAUNCHER_FLAG } from './protocol.js';

if (process.argv.includes(LAUNCHER_FLAG)) {
  void import('./launcher-main.js').then((m) => m.startLauncher(process.argv[1]!));
} else {
  void import('./worker-main.js').then((m) => m.startWorker());
}
