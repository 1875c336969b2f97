/**
 * exporter/tags — Kale's cell-tag vocabulary for TypeScript notebooks. Sorts the code cells into the
 * `imports`, `functions`, `pipeline-parameters` and `pipeline-metrics` blocks and the `step:<name>`
 * steps (with their `prev:<name>` tags), dropping `skip` cells. An untagged code cell continues the block
 * of the cell above it (as in Kale). cellar adds three optional step settings as tags: `retries:<n>`,
 * `timeout:<duration>` (e.g. `90s`, `5m`) and `trigger:<all_success|all_done|one_failed>`.
 * Markdown and raw cells are ignored, and so are tags that are not part of the vocabulary.
 */
import type { TriggerRule } from './spec.js';
import type { NotebookCell } from './notebook.js';
import type { ProblemList } from './problems.js';

import { NAME_PATTERN, suggestName } from './names.js';

/** Names of steps (and pipelines): one rule, in exporter/names. */
export { NAME_PATTERN, suggestName };

/** The kind of block a code cell belongs to. */
export type BlockKind = 'imports' | 'functions' | 'parameters' | 'metrics' | 'step' | 'skip' | 'transform';

/** A `prev:<name>` tag and the cell that carries it. */
export interface PrevTag {
  name: string;
  cell: number;
}

/** One `step:<name>` step: its cells in notebook order and its explicit settings. */
export interface StepBlock {
  name: string;
  cells: NotebookCell[];
  prev: PrevTag[];
  retries?: number;
  timeoutMs?: number;
  triggerRule?: TriggerRule;
}

/** The code cells of a notebook sorted by block. */
export interface TaggedNotebook {
  imports: NotebookCell[];
  functions: NotebookCell[];
  parameters: NotebookCell[];
  metrics: NotebookCell[];
  /** Steps in notebook order. */
  steps: StepBlock[];
  /** Cells left out with `skip` (and untagged cells below them). */
  skipped: NotebookCell[];
  /** `serving:transform` cells: the request-time transform exported for `cellar serve` (not a step). */
  transforms: NotebookCell[];
}

const BLOCK_TAGS: Record<string, BlockKind> = {
  imports: 'imports',
  functions: 'functions',
  'pipeline-parameters': 'parameters',
  'pipeline-metrics': 'metrics',
  'serving:transform': 'transform',
};

const TRIGGER_RULES: readonly TriggerRule[] = ['all_success', 'all_done', 'one_failed'];
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parses a duration such as `1500ms`, `90s`, `5m` or `2h` into milliseconds.
 *
 * @returns the milliseconds, or null when the text is not a duration.
 */
export function parseDuration(text: string): number | null {
  const m = DURATION.exec(text.trim());
  if (!m) return null;
  const ms = Math.round(Number(m[1]) * UNIT_MS[m[2]!]!);
  return Number.isSafeInteger(ms) ? ms : null;
}

interface CellTags {
  block: { kind: BlockKind; step?: string } | null;
  prev: string[];
  settings: Array<{ key: 'retries' | 'timeout' | 'trigger'; value: string }>;
}

/** Reads one cell's tags, reporting malformed ones. */
function readCellTags(cell: NotebookCell, problems: ProblemList): CellTags {
  const blocks: Array<{ kind: BlockKind; step?: string; tag: string }> = [];
  const out: CellTags = { block: null, prev: [], settings: [] };
  let skip = false;
  let invalidStep = false;
  for (const tag of cell.tags) {
    if (tag === 'skip') skip = true;
    else if (BLOCK_TAGS[tag] !== undefined) blocks.push({ kind: BLOCK_TAGS[tag]!, tag });
    else if (tag.startsWith('step:')) {
      const name = tag.slice(5).trim();
      if (!NAME_PATTERN.test(name)) {
        problems.add(
          cell.index,
          `tag "${tag}" has an invalid step name: use 1-64 lower-case letters, digits, "_" or "-", ` +
            `starting with a letter or digit (e.g. "step:${suggestName(name)}").`,
        );
        invalidStep = true;
        continue;
      }
      blocks.push({ kind: 'step', step: name, tag });
    } else if (tag.startsWith('prev:')) {
      const name = tag.slice(5).trim();
      if (!NAME_PATTERN.test(name)) problems.add(cell.index, `tag "${tag}" does not name a valid step.`);
      else out.prev.push(name);
    } else if (tag.startsWith('retries:')) out.settings.push({ key: 'retries', value: tag.slice(8).trim() });
    else if (tag.startsWith('timeout:')) out.settings.push({ key: 'timeout', value: tag.slice(8).trim() });
    else if (tag.startsWith('trigger:')) out.settings.push({ key: 'trigger', value: tag.slice(8).trim() });
  }
  // A cell whose only step tag is invalid is left out (its problem is reported), with the cells it continues.
  if (skip || (invalidStep && blocks.length === 0))
    return { block: { kind: 'skip' }, prev: [], settings: [] };
  const distinct = [...new Map(blocks.map((b) => [b.tag, b])).values()];
  if (distinct.length > 1) {
    problems.add(
      cell.index,
      `the cell has conflicting tags ${distinct.map((b) => `"${b.tag}"`).join(', ')}: a cell belongs to one block.`,
    );
  }
  if (distinct.length >= 1) out.block = { kind: distinct[0]!.kind, step: distinct[0]!.step! };
  return out;
}

/** Applies `retries:`, `timeout:` and `trigger:` tags of a cell to its step. */
function applySettings(step: StepBlock, cell: NotebookCell, tags: CellTags, problems: ProblemList): void {
  for (const { key, value } of tags.settings) {
    let parsed: number | TriggerRule | null = null;
    if (key === 'retries') {
      parsed = /^\d{1,3}$/.test(value) && Number(value) <= 100 ? Number(value) : null;
      if (parsed === null)
        problems.add(cell.index, `tag "retries:${value}" needs a whole number from 0 to 100.`, step.name);
    } else if (key === 'timeout') {
      parsed = parseDuration(value);
      if (parsed === null)
        problems.add(cell.index, `tag "timeout:${value}" needs a duration such as 90s, 5m or 2h.`, step.name);
    } else {
      parsed = (TRIGGER_RULES as readonly string[]).includes(value) ? (value as TriggerRule) : null;
      if (parsed === null)
        problems.add(
          cell.index,
          `tag "trigger:${value}" must be one of ${TRIGGER_RULES.join(', ')}.`,
          step.name,
        );
    }
    if (parsed === null) continue;
    const field = key === 'retries' ? 'retries' : key === 'timeout' ? 'timeoutMs' : 'triggerRule';
    const before = step[field];
    if (before !== undefined && before !== parsed) {
      problems.add(
        cell.index,
        `step ${step.name} already has ${key} ${String(before)}; give it only one.`,
        step.name,
      );
      continue;
    }
    (step as unknown as Record<string, unknown>)[field] = parsed;
  }
}

/** True for a tag of the pipeline vocabulary (a block, a step, `prev:` or `skip`). */
function isPipelineTag(tag: string): boolean {
  return (
    BLOCK_TAGS[tag] !== undefined || tag === 'skip' || tag.startsWith('step:') || tag.startsWith('prev:')
  );
}

const NO_PIPELINE_TAGS =
  'the notebook has no pipeline tags. Tag its code cells in JupyterLab (View → Show cell tags, or the cellar ' +
  'sidebar): "imports" on the import cell, "step:<name>" on the first cell of each step (e.g. "step:train"), ' +
  'optionally "pipeline-parameters", "pipeline-metrics", "prev:<name>" and "skip"; untagged cells join the ' +
  'step above them.';

/**
 * Sorts the code cells of a notebook into blocks and steps, recording every tag problem (duplicate or
 * invalid step names, conflicting tags, `prev:` outside a step, an untagged first cell, no step at all).
 * `prev:` names are checked later, when all steps are known.
 */
export function classifyCells(cells: NotebookCell[], problems: ProblemList): TaggedNotebook {
  const out: TaggedNotebook = {
    imports: [],
    functions: [],
    parameters: [],
    metrics: [],
    steps: [],
    skipped: [],
    transforms: [],
  };
  if (!cells.some((c) => c.type === 'code' && c.tags.some(isPipelineTag))) {
    problems.add(null, NO_PIPELINE_TAGS); // once, not once per untagged cell
    return out;
  }
  const byName = new Map<string, StepBlock>();
  let current: { kind: BlockKind; step?: StepBlock } | null = null;
  for (const cell of cells) {
    if (cell.type !== 'code' || cell.source.trim() === '') continue;
    const tags = readCellTags(cell, problems);
    if (tags.block !== null) {
      if (tags.block.kind === 'step') {
        const name = tags.block.step!;
        const existing = byName.get(name);
        if (existing !== undefined && current?.step !== existing) {
          problems.add(
            cell.index,
            `step "${name}" is already defined by cell ${existing.cells[0]!.index}: a step is one run of ` +
              'adjacent cells. Rename this one or move it next to the first.',
            name,
          );
          current = { kind: 'skip' };
          continue;
        }
        if (existing === undefined) {
          const step: StepBlock = { name, cells: [], prev: [] };
          byName.set(name, step);
          out.steps.push(step);
          current = { kind: 'step', step };
        }
      } else current = { kind: tags.block.kind };
    } else if (current === null) {
      problems.add(
        cell.index,
        'this code cell has no tag and no tagged cell above it: tag it (imports, functions, ' +
          'pipeline-parameters, step:<name>, …) or tag it "skip" to leave it out of the pipeline.',
      );
      continue;
    }
    const block: { kind: BlockKind; step?: StepBlock } = current!;
    if (block.kind === 'step') {
      const step = block.step!;
      step.cells.push(cell);
      for (const name of tags.prev) step.prev.push({ name, cell: cell.index });
      applySettings(step, cell, tags, problems);
      continue;
    }
    if ((tags.prev.length > 0 || tags.settings.length > 0) && block.kind !== 'skip') {
      problems.add(
        cell.index,
        'prev:, retries:, timeout: and trigger: tags belong on step cells; this cell is not part of a step.',
      );
    }
    if (block.kind === 'imports') out.imports.push(cell);
    else if (block.kind === 'functions') out.functions.push(cell);
    else if (block.kind === 'parameters') out.parameters.push(cell);
    else if (block.kind === 'metrics') out.metrics.push(cell);
    else if (block.kind === 'transform') out.transforms.push(cell);
    else out.skipped.push(cell);
  }
  if (out.steps.length === 0 && problems.empty) {
    problems.add(
      null,
      'the notebook has no step: tag at least one code cell "step:<name>" (e.g. "step:train").',
    );
  }
  return out;
}
