/**
 * tags — the pipeline cell-tag vocabulary as the extension edits it (Kale's, as the exporter reads it):
 * `imports`, `functions`, `pipeline-parameters`, `pipeline-metrics`, `skip`, `step:<name>` and
 * `prev:<name>`. Pure functions over a cell's tag list; each returns a new list and leaves tags outside the
 * vocabulary alone. Pure TypeScript: no DOM, no JupyterLab imports.
 */

/** Step names: lower-case letters, digits, `_` and `-`, starting with a letter or digit (as the exporter). */
export const STEP_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** The block tags a cell can carry instead of a step. */
export const BLOCK_TAGS = [
  'imports',
  'functions',
  'pipeline-parameters',
  'pipeline-metrics',
  'skip',
] as const;

/** One of {@link BLOCK_TAGS}. */
export type BlockTag = (typeof BLOCK_TAGS)[number];

/** The tags of a cell from its metadata value (anything that is not a list of strings counts as none). */
export function readTags(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((t): t is string => typeof t === 'string') : [];
}

/** The step a cell starts (`step:<name>`), or null. */
export function stepNameOf(tags: readonly string[]): string | null {
  for (const t of tags) if (t.startsWith('step:')) return t.slice('step:'.length).trim();
  return null;
}

/** The `prev:<name>` steps of a cell. */
export function prevStepsOf(tags: readonly string[]): string[] {
  return tags.filter((t) => t.startsWith('prev:')).map((t) => t.slice('prev:'.length).trim());
}

/** The block tag of a cell, or null. */
export function blockTagOf(tags: readonly string[]): BlockTag | null {
  for (const t of tags) if ((BLOCK_TAGS as readonly string[]).includes(t)) return t as BlockTag;
  return null;
}

/**
 * Turns what a user typed into a valid step name (`Train Model!` → `train-model`), or returns null when
 * nothing usable is left.
 */
export function suggestStepName(text: string): string | null {
  const name = text
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^[-_]+/, '')
    .replace(/-+$/, '')
    .slice(0, 64);
  return STEP_NAME_PATTERN.test(name) ? name : null;
}

/** Why `name` is not a valid step name, or null when it is. */
export function stepNameProblem(name: string): string | null {
  if (name === '') return 'A step needs a name.';
  if (!STEP_NAME_PATTERN.test(name)) {
    return `"${name}" is not a valid step name: use lower-case letters, digits, "_" and "-" (at most 64), starting with a letter or digit.`;
  }
  return null;
}

function withoutStepAndBlocks(tags: readonly string[]): string[] {
  return tags.filter(
    (t) => !t.startsWith('step:') && !t.startsWith('prev:') && !(BLOCK_TAGS as readonly string[]).includes(t),
  );
}

/**
 * Makes the cell start step `name`: replaces any other `step:`/block tag; keeps `prev:` tags and the
 * user's own tags.
 *
 * @throws Error when `name` is not a valid step name
 */
export function setStep(tags: readonly string[], name: string): string[] {
  const problem = stepNameProblem(name);
  if (problem) throw new Error(problem);
  const prev = tags.filter((t) => t.startsWith('prev:'));
  return [...withoutStepAndBlocks(tags), `step:${name}`, ...prev];
}

/** Sets the cell's `prev:` tags to `names` (a step can depend on several steps); empty removes them. */
export function setPrev(tags: readonly string[], names: readonly string[]): string[] {
  for (const n of names) {
    const problem = stepNameProblem(n);
    if (problem) throw new Error(problem);
  }
  const unique = [...new Set(names)];
  return [...tags.filter((t) => !t.startsWith('prev:')), ...unique.map((n) => `prev:${n}`)];
}

/** Makes the cell a block (`imports`, `pipeline-parameters`, …), dropping its step tags; again removes it. */
export function toggleBlock(tags: readonly string[], block: BlockTag): string[] {
  if (tags.includes(block)) return tags.filter((t) => t !== block);
  return [...withoutStepAndBlocks(tags), block];
}

/** Removes every pipeline tag (step, prev and blocks), keeping the user's other tags. */
export function clearPipelineTags(tags: readonly string[]): string[] {
  return withoutStepAndBlocks(tags);
}

/** The steps defined above cell `index` (for `prev:` choices), in notebook order, without duplicates. */
export function stepsBefore(cellTags: ReadonlyArray<readonly string[]>, index: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < Math.min(index, cellTags.length); i++) {
    const name = stepNameOf(cellTags[i]!);
    if (name && !out.includes(name)) out.push(name);
  }
  return out;
}

/** The label shown on a cell: `step: train ← load, features`, a block name, or null for other cells. */
export function cellLabel(tags: readonly string[]): string | null {
  const step = stepNameOf(tags);
  if (step !== null) {
    const prev = prevStepsOf(tags);
    return prev.length > 0 ? `step: ${step} ← ${prev.join(', ')}` : `step: ${step}`;
  }
  const block = blockTagOf(tags);
  return block === null ? null : block;
}
