/**
 * exporter/notebook — reads and validates a Jupyter notebook for export: nbformat 4 structure, a
 * TypeScript kernel, and each cell's type, source text and tags. Everything malformed is an
 * INVALID_INPUT error that says what to fix; nothing here looks at the code itself.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { CellarError } from '../errors.js';

/** The largest notebook file accepted (outputs included). */
export const MAX_NOTEBOOK_BYTES = 100 * 1024 * 1024;

/** One cell of a notebook, as the exporter sees it. */
export interface NotebookCell {
  /** Index in the notebook's `cells` array (0-based; what error messages call "cell N"). */
  index: number;
  type: 'code' | 'markdown' | 'raw';
  /** The cell's source text, joined. */
  source: string;
  /** `metadata.tags`, trimmed, in order. */
  tags: string[];
}

/** A validated notebook. */
export interface ParsedNotebook {
  cells: NotebookCell[];
  /** The kernel spec name (e.g. `tslab`). */
  kernel: string;
  /** Absolute path of the file it was read from, or null for an in-memory notebook. */
  path: string | null;
  /** The notebook as stored in a pipeline version: the file's bytes, or the object as JSON. */
  bytes: Buffer;
  /** sha256 (hex) of `bytes`. */
  digest: string;
}

/** Kernel spec names of TypeScript kernels (tslab registers `tslab`; other TS kernels use these forms). */
const TS_KERNEL_NAMES = /^(tslab|typescript|ts|jslab-ts|deno-ts|itypescript)([-_.].*)?$/i;

function invalid(message: string, details?: Record<string, unknown>): CellarError {
  return new CellarError('INVALID_INPUT', message, details);
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Joins nbformat's multiline text (a string or an array of strings). */
function joinSource(source: unknown, index: number): string {
  if (typeof source === 'string') return source;
  if (Array.isArray(source) && source.every((s) => typeof s === 'string')) return source.join('');
  throw invalid(`Cell ${index} has no valid "source": nbformat 4 needs a string or an array of strings.`, {
    cell: index,
  });
}

function readTags(metadata: unknown, index: number): string[] {
  if (metadata === undefined) return [];
  if (!isObject(metadata))
    throw invalid(`Cell ${index} has a "metadata" that is not an object.`, { cell: index });
  const tags = metadata['tags'];
  if (tags === undefined) return [];
  if (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string')) {
    throw invalid(`Cell ${index} has "metadata.tags" that is not an array of strings.`, { cell: index });
  }
  return tags.map((t) => t.trim()).filter((t) => t !== '');
}

/**
 * Checks that the notebook runs on a TypeScript kernel. A notebook of another language (a Python notebook,
 * say) cannot be exported: its cells are not TypeScript.
 */
function checkKernel(metadata: Record<string, unknown>): string {
  const spec = isObject(metadata['kernelspec']) ? metadata['kernelspec'] : undefined;
  const info = isObject(metadata['language_info']) ? metadata['language_info'] : undefined;
  const name = typeof spec?.['name'] === 'string' ? spec['name'] : '';
  const language = typeof spec?.['language'] === 'string' ? spec['language'].toLowerCase() : '';
  const infoName = typeof info?.['name'] === 'string' ? info['name'].toLowerCase() : '';
  const declared = language || infoName;
  if (declared !== '' && declared !== 'typescript') {
    throw invalid(
      `The notebook's kernel is ${JSON.stringify(name || declared)} (language ${JSON.stringify(declared)}), ` +
        'not TypeScript: only notebooks on the tslab TypeScript kernel can be exported. Switch the kernel ' +
        'to TypeScript (tslab) and re-run the notebook.',
      { kernel: name || null, language: declared },
    );
  }
  if (name !== '' && !TS_KERNEL_NAMES.test(name) && declared !== 'typescript') {
    throw invalid(
      `The notebook's kernel ${JSON.stringify(name)} is not a TypeScript kernel: only notebooks on the ` +
        'tslab TypeScript kernel can be exported.',
      { kernel: name },
    );
  }
  if (name === '' && declared === '') {
    throw invalid(
      'The notebook does not say which kernel it uses (metadata.kernelspec is missing): open it with the ' +
        'TypeScript (tslab) kernel and save it, then export again.',
    );
  }
  return name || 'typescript';
}

/**
 * Validates an nbformat 4 notebook object and returns its cells.
 *
 * @throws CellarError INVALID_INPUT when it is not nbformat 4, a cell is malformed, or the kernel is not
 * TypeScript.
 */
export function validateNotebook(
  nb: unknown,
): Pick<ParsedNotebook, 'cells' | 'kernel'> & { notebook: Record<string, unknown> } {
  if (!isObject(nb)) throw invalid('A notebook must be a JSON object (nbformat 4).');
  if (nb['nbformat'] !== 4) {
    throw invalid(
      `Only nbformat 4 notebooks can be exported; this one has nbformat ${JSON.stringify(nb['nbformat'] ?? null)}. ` +
        'Open and save it with JupyterLab to upgrade it.',
      { nbformat: nb['nbformat'] ?? null },
    );
  }
  const metadata = nb['metadata'] === undefined ? {} : nb['metadata'];
  if (!isObject(metadata)) throw invalid('The notebook\'s "metadata" must be an object.');
  if (!Array.isArray(nb['cells'])) throw invalid('The notebook has no "cells" array.');
  const kernel = checkKernel(metadata);
  const cells = (nb['cells'] as unknown[]).map((raw, index): NotebookCell => {
    if (!isObject(raw)) throw invalid(`Cell ${index} is not an object.`, { cell: index });
    const type = raw['cell_type'];
    if (type !== 'code' && type !== 'markdown' && type !== 'raw') {
      throw invalid(
        `Cell ${index} has cell_type ${JSON.stringify(type ?? null)}; nbformat 4 allows code, markdown and raw.`,
        { cell: index },
      );
    }
    return { index, type, source: joinSource(raw['source'], index), tags: readTags(raw['metadata'], index) };
  });
  return { cells, kernel, notebook: nb };
}

/**
 * Reads a notebook from a path (or takes a notebook object), validates it and computes the digest of
 * the bytes that a pipeline version stores.
 *
 * @throws CellarError NOT_FOUND when the file does not exist, INVALID_INPUT when it is not valid JSON or
 * not a valid TypeScript nbformat 4 notebook, RESOURCE_TOO_LARGE above {@link MAX_NOTEBOOK_BYTES}.
 */
export function readNotebook(input: string | object, notebookPath?: string | null): ParsedNotebook {
  let bytes: Buffer;
  let path: string | null;
  let parsed: unknown;
  if (typeof input === 'string') {
    path = resolve(input);
    let size: number;
    try {
      const st = statSync(path);
      if (!st.isFile()) throw invalid(`${path} is not a file: pass the path of an .ipynb notebook.`);
      size = st.size;
    } catch (e) {
      if (e instanceof CellarError) throw e;
      throw new CellarError('NOT_FOUND', `Notebook ${path} does not exist.`, { path });
    }
    if (size > MAX_NOTEBOOK_BYTES) {
      throw new CellarError(
        'RESOURCE_TOO_LARGE',
        `Notebook ${path} is ${size} bytes; the limit is ${MAX_NOTEBOOK_BYTES}. Clear its outputs and retry.`,
      );
    }
    bytes = readFileSync(path);
    try {
      parsed = JSON.parse(bytes.toString('utf8'));
    } catch (e) {
      throw invalid(`${path} is not a valid notebook: its JSON does not parse (${(e as Error).message}).`, {
        path,
      });
    }
  } else {
    if (input === null || typeof input !== 'object')
      throw invalid('Pass a notebook path or a notebook object.');
    path = notebookPath ? resolve(notebookPath) : null;
    parsed = input;
    let text: string | undefined;
    try {
      text = JSON.stringify(input, null, 1);
    } catch (e) {
      throw invalid(`The notebook object cannot be written as JSON (${(e as Error).message}).`);
    }
    if (text === undefined) throw invalid('The notebook object cannot be written as JSON.');
    bytes = Buffer.from(text + '\n', 'utf8');
  }
  const { cells, kernel } = validateNotebook(parsed);
  return { cells, kernel, path, bytes, digest: createHash('sha256').update(bytes).digest('hex') };
}
