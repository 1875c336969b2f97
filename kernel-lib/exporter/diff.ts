/**
 * exporter/diff — what changed between two versions of a pipeline: run settings, parameters, metrics,
 * steps added or removed, and for each changed step its changed fields and a unified diff of its
 * generated TypeScript source.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ParameterSpec, PipelineSpec, StepSpec } from './spec.js';
import { getPipelineVersion, type StoreRef, type StoredPipelineVersion } from './store.js';

/** A changed scalar setting. */
export interface SettingChange {
  field: 'schedule' | 'catchup' | 'maxActiveRuns' | 'lockfileDigest';
  from: unknown;
  to: unknown;
}

/** A step present in both versions that differs. */
export interface StepChange {
  name: string;
  /** Changed StepSpec fields (e.g. `upstream`, `retries`) plus `source` when the code changed. */
  fields: string[];
  /** Unified diff of `steps/<name>.ts` ('' when the source is unchanged). */
  sourceDiff: string;
}

/** The difference between two pipeline versions. */
export interface PipelineDiff {
  name: string;
  from: { version: number; hash: string };
  to: { version: number; hash: string };
  /** True when both versions have the same content hash. */
  identical: boolean;
  settings: SettingChange[];
  parameters: {
    added: ParameterSpec[];
    removed: ParameterSpec[];
    changed: Array<{ from: ParameterSpec; to: ParameterSpec }>;
  };
  metrics: { added: string[]; removed: string[] };
  steps: { added: string[]; removed: string[]; changed: StepChange[] };
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** Longest-common-subsequence table over lines (fine for step sources; large inputs fall back to replace-all). */
function lineOps(a: string[], b: string[]): Array<{ op: ' ' | '-' | '+'; line: string }> {
  if (a.length * b.length > 4_000_000) {
    return [
      ...a.map((line) => ({ op: '-' as const, line })),
      ...b.map((line) => ({ op: '+' as const, line })),
    ];
  }
  const n = a.length;
  const m = b.length;
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const ops: Array<{ op: ' ' | '-' | '+'; line: string }> = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      ops.push({ op: ' ', line: a[i]! });
      i++;
      j++;
    } else if (lcs[i + 1]![j]! >= lcs[i]![j + 1]!) ops.push({ op: '-', line: a[i++]! });
    else ops.push({ op: '+', line: b[j++]! });
  }
  while (i < n) ops.push({ op: '-', line: a[i++]! });
  while (j < m) ops.push({ op: '+', line: b[j++]! });
  return ops;
}

/**
 * A unified diff (3 lines of context) between two texts; '' when they are equal.
 *
 * @example
 * unifiedDiff('a\nb\n', 'a\nc\n', 'v1', 'v2')
 */
export function unifiedDiff(before: string, after: string, fromLabel: string, toLabel: string): string {
  if (before === after) return '';
  const ops = lineOps(before.split('\n'), after.split('\n'));
  const context = 3;
  const changed = ops.map((o, k) => (o.op !== ' ' ? k : -1)).filter((k) => k >= 0);
  const out = [`--- ${fromLabel}`, `+++ ${toLabel}`];
  let k = 0;
  while (k < changed.length) {
    let end = k;
    while (end + 1 < changed.length && changed[end + 1]! - changed[end]! <= 2 * context) end++;
    const lo = Math.max(0, changed[k]! - context);
    const hi = Math.min(ops.length - 1, changed[end]! + context);
    let aStart = 1;
    let bStart = 1;
    for (let x = 0; x < lo; x++) {
      if (ops[x]!.op !== '+') aStart++;
      if (ops[x]!.op !== '-') bStart++;
    }
    const hunk = ops.slice(lo, hi + 1);
    const aLen = hunk.filter((o) => o.op !== '+').length;
    const bLen = hunk.filter((o) => o.op !== '-').length;
    out.push(`@@ -${aStart},${aLen} +${bStart},${bLen} @@`, ...hunk.map((o) => o.op + o.line));
    k = end + 1;
  }
  return out.join('\n') + '\n';
}

function readSource(v: StoredPipelineVersion, step: StepSpec): string {
  try {
    return readFileSync(join(v.dir, step.sourceFile), 'utf8');
  } catch {
    return '';
  }
}

/** Compares two specs (and the step sources in their folders). */
export function diffVersions(a: StoredPipelineVersion, b: StoredPipelineVersion): PipelineDiff {
  const sa: PipelineSpec = a.spec;
  const sb: PipelineSpec = b.spec;
  const settings: SettingChange[] = [];
  for (const field of ['schedule', 'catchup', 'maxActiveRuns', 'lockfileDigest'] as const) {
    if (!same(sa[field], sb[field])) settings.push({ field, from: sa[field], to: sb[field] });
  }
  const pa = new Map(sa.parameters.map((p) => [p.name, p]));
  const pb = new Map(sb.parameters.map((p) => [p.name, p]));
  const parameters: PipelineDiff['parameters'] = {
    added: sb.parameters.filter((p) => !pa.has(p.name)),
    removed: sa.parameters.filter((p) => !pb.has(p.name)),
    changed: sb.parameters
      .filter((p) => pa.has(p.name) && !same(pa.get(p.name), p))
      .map((p) => ({ from: pa.get(p.name)!, to: p })),
  };
  const ma = new Set(sa.metrics.map((m) => m.name));
  const mb = new Set(sb.metrics.map((m) => m.name));
  const stepsA = new Map(sa.steps.map((s) => [s.name, s]));
  const stepsB = new Map(sb.steps.map((s) => [s.name, s]));
  const changed: StepChange[] = [];
  for (const step of sb.steps) {
    const before = stepsA.get(step.name);
    if (before === undefined) continue;
    const fields = (
      ['upstream', 'inputs', 'outputs', 'parameters', 'retries', 'timeoutMs', 'triggerRule'] as const
    ).filter((f) => !same(before[f], step[f]));
    const sourceDiff = unifiedDiff(
      readSource(a, before),
      readSource(b, step),
      `${a.name}@${a.version}/${before.sourceFile}`,
      `${b.name}@${b.version}/${step.sourceFile}`,
    );
    const all: string[] = [...fields];
    if (sourceDiff !== '') all.push('source');
    if (all.length > 0) changed.push({ name: step.name, fields: all, sourceDiff });
  }
  return {
    name: b.name,
    from: { version: a.version, hash: a.hash },
    to: { version: b.version, hash: b.hash },
    identical: a.hash === b.hash,
    settings,
    parameters,
    metrics: { added: [...mb].filter((m) => !ma.has(m)), removed: [...ma].filter((m) => !mb.has(m)) },
    steps: {
      added: sb.steps.filter((s) => !stepsA.has(s.name)).map((s) => s.name),
      removed: sa.steps.filter((s) => !stepsB.has(s.name)).map((s) => s.name),
      changed,
    },
  };
}

/**
 * Compares two versions of a pipeline.
 *
 * @example
 * const d = diffPipelineVersions(undefined, 'driver-training', 1, 2)
 * d.steps.changed.map((s) => s.name)
 * @throws CellarError NOT_FOUND for an unknown pipeline or version.
 */
export function diffPipelineVersions(
  store: StoreRef | undefined,
  name: string,
  a: number | 'latest' | string,
  b: number | 'latest' | string,
): PipelineDiff {
  return diffVersions(getPipelineVersion(store, name, a), getPipelineVersion(store, name, b));
}
