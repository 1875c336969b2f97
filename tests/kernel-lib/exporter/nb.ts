/**
 * tests/kernel-lib/exporter/nb — builds small nbformat 4 notebooks for exporter tests: each cell is
 * `[tags, source]` (tags as a space-separated string or an array) or `{ md: text }` for markdown.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A code cell `[tags, source]` or a markdown cell `{ md }`. */
export type CellDef = [string | string[], string] | { md: string };

/** A tslab notebook object with the given cells. */
export function notebook(
  cells: CellDef[],
  kernelspec: Record<string, string> = TSLAB,
): Record<string, unknown> {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec, language_info: { name: kernelspec.language ?? 'typescript' } },
    cells: cells.map((c, i) => {
      if (!Array.isArray(c)) return { cell_type: 'markdown', id: `m${i}`, metadata: {}, source: c.md };
      const [tags, source] = c;
      const list = typeof tags === 'string' ? tags.split(' ').filter((t) => t !== '') : tags;
      return {
        cell_type: 'code',
        id: `c${i}`,
        metadata: list.length > 0 ? { tags: list } : {},
        execution_count: null,
        outputs: [],
        source: source.split(/(?<=\n)/),
      };
    }),
  };
}

/** The tslab kernelspec. */
export const TSLAB = { name: 'tslab', display_name: 'TypeScript', language: 'typescript' };

/** Writes a notebook to `dir/name` and returns its path. */
export function writeNotebook(dir: string, cells: CellDef[], name = 'nb.ipynb'): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(notebook(cells), null, 1) + '\n');
  return path;
}
