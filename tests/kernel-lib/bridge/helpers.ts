/**
 * tests/kernel-lib/bridge/helpers — shared fixtures of the bridge tests: nbformat 4 notebooks like the ones
 * JupyterLab sends, a seeded regression dataset, a bridge call that fails the test on an error reply, and
 * nbformat validation with Debian's python3-nbformat.
 */
import { spawnSync } from 'node:child_process';
import { handleBridgeRequest, type BridgeResponse } from '../../../kernel-lib/bridge/index.js';

/** Debian's Python (has nbformat). */
const SYSTEM_PYTHON = '/usr/bin/python3';

/** A notebook cell as JupyterLab's `toJSON()` produces it. */
export type Cell = Record<string, unknown>;

let cellCounter = 0;

/** A code cell with optional tags and outputs. */
export function codeCell(source: string, tags: string[] = [], outputs: unknown[] = []): Cell {
  cellCounter += 1;
  return {
    cell_type: 'code',
    id: `cell-${cellCounter}`,
    execution_count: outputs.length > 0 ? cellCounter : null,
    metadata: tags.length > 0 ? { tags } : {},
    outputs,
    source,
  };
}

/** A markdown cell. */
export function markdownCell(source: string): Cell {
  cellCounter += 1;
  return { cell_type: 'markdown', id: `cell-${cellCounter}`, metadata: {}, source };
}

/** A TypeScript (tslab) notebook document. */
export function notebookDoc(cells: Cell[]): {
  nbformat: number;
  nbformat_minor: number;
  metadata: Record<string, unknown>;
  cells: Cell[];
} {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: { name: 'tslab', display_name: 'TypeScript', language: 'typescript' },
      language_info: {
        name: 'typescript',
        file_extension: '.ts',
        mimetype: 'text/typescript',
        version: '3.7.2',
      },
    },
    cells,
  };
}

/** A notebook with a stream output and a rich output, as after "Run all". */
export function trainedNotebook(): ReturnType<typeof notebookDoc> {
  return notebookDoc([
    markdownCell('# Driver training <b>bold</b>'),
    codeCell("import { ElasticNet } from 'cellar';", ['imports']),
    codeCell(
      'const model = new ElasticNet({ alpha: 0.5, l1Ratio: 0.1 }).fit(X, y);',
      ['step:train'],
      [
        { output_type: 'stream', name: 'stdout', text: ['trained\n'] },
        {
          output_type: 'display_data',
          data: { 'text/plain': ['figure'], 'application/vnd.plotly.v1+json': { data: [], layout: {} } },
          metadata: {},
        },
      ],
    ),
  ]);
}

/** Seeded linear data: y = 2·x0 − x1 + 0.3·x2 + noise. */
export function regressionData(n = 120, seed = 7): { X: number[][]; y: number[] } {
  let s = seed;
  const rand = (): number => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  const X: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const row = [rand(), rand(), rand() * 10];
    X.push(row);
    y.push(2 * row[0]! - row[1]! + 0.3 * row[2]! + 0.05 * (rand() - 0.5));
  }
  return { X, y };
}

let requestCounter = 0;

/** Sends one request through the bridge and returns the raw response. */
export async function call(
  op: string,
  args: Record<string, unknown> = {},
  cwd?: string,
): Promise<BridgeResponse> {
  requestCounter += 1;
  return handleBridgeRequest({ id: `req-${requestCounter}`, op, args }, cwd === undefined ? {} : { cwd });
}

/** Sends one request and returns its result; an error reply fails the test with its message. */
export async function ok<T>(op: string, args: Record<string, unknown> = {}, cwd?: string): Promise<T> {
  const reply = await call(op, args, cwd);
  if (!reply.ok) throw new Error(`${op} failed: ${reply.error.code}: ${reply.error.message}`);
  return reply.result as T;
}

/** Sends one request that must fail and returns the error body. */
export async function fails(
  op: string,
  args: Record<string, unknown> = {},
  cwd?: string,
): Promise<{ code: string; message: string; details?: Record<string, unknown> }> {
  const reply = await call(op, args, cwd);
  if (reply.ok) throw new Error(`${op} was expected to fail but returned ${JSON.stringify(reply.result)}`);
  return reply.error;
}

/** Whether Debian's python3-nbformat is installed. */
export function hasNbformat(): boolean {
  return spawnSync(SYSTEM_PYTHON, ['-c', 'import nbformat'], { stdio: 'ignore' }).status === 0;
}

/**
 * Validates notebook JSON text against the nbformat 4 schema with python3-nbformat; returns '' when valid,
 * else the validator's message.
 */
export function nbformatProblems(text: string): string {
  const result = spawnSync(
    SYSTEM_PYTHON,
    [
      '-c',
      'import sys, nbformat\nnb = nbformat.reads(sys.stdin.read(), as_version=nbformat.NO_CONVERT)\n' +
        'assert nb.nbformat == 4, "not nbformat 4"\nnbformat.validate(nb)\n',
    ],
    { input: text, encoding: 'utf8', timeout: 60_000 },
  );
  return result.status === 0 ? '' : `${result.stderr}${result.stdout}`;
}
