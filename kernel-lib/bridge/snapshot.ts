/**
 * bridge/snapshot — what "Log run" stores about the notebook: the notebook document (with or without its
 * outputs) and the git commit of the notebook's folder. Git is run with `execFile` (no shell), so nothing
 * in a path can be interpreted as a command.
 */
import { execFile } from 'node:child_process';
import type { NotebookDoc } from './args.js';

/**
 * A copy of the notebook without outputs: code cells keep their source and metadata, `outputs` becomes
 * empty and `execution_count` null — still a valid nbformat 4 document.
 */
export function withoutOutputs(notebook: NotebookDoc): NotebookDoc {
  return {
    ...notebook,
    cells: notebook.cells.map((cell) =>
      cell['cell_type'] === 'code' ? { ...cell, outputs: [], execution_count: null } : { ...cell },
    ),
  };
}

/** The notebook as it is stored: with outputs, or without them when `includeOutputs` is false. */
export function notebookSnapshot(notebook: NotebookDoc, includeOutputs: boolean): NotebookDoc {
  return includeOutputs ? notebook : withoutOutputs(notebook);
}

/**
 * The commit checked out in the git work tree that contains `dir` (`git rev-parse HEAD`), or null when
 * `dir` is not in a repository, the repository has no commit yet, or git is not installed.
 */
export function gitCommit(dir: string, timeoutMs = 5000): Promise<string | null> {
  return new Promise((resolve) => {
    try {
      execFile(
        'git',
        ['rev-parse', '--verify', '--quiet', 'HEAD'],
        {
          cwd: dir,
          timeout: timeoutMs,
          windowsHide: true,
          env: { ...process.env, GIT_TERMINAL_PROMPT: '0' },
        },
        (error, stdout) => {
          const text = String(stdout ?? '').trim();
          resolve(!error && /^[0-9a-f]{40}([0-9a-f]{24})?$/.test(text) ? text : null);
        },
      );
    } catch {
      resolve(null);
    }
  });
}
