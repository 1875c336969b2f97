/**
 * format — small pure helpers that turn cellar data into the text the extension shows: numbers, times,
 * step graphs, export problems grouped by cell, kernel detection, cron checks and the extension's settings.
 * Pure TypeScript: no DOM, no JupyterLab imports.
 */
import type { PlanStep } from './protocol.js';

/** A metric value with 4 significant digits (integers as they are), e.g. `0.4213`, `1.235e+6`. */
export function formatNumber(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  if (Number.isInteger(value) && Math.abs(value) < 1e6) return String(value);
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 1e-3 || abs >= 1e6)) return value.toExponential(3);
  return String(Number(value.toPrecision(4)));
}

/** An epoch-ms time as `YYYY-MM-DD HH:MM:SS` UTC, or `—`. */
export function formatTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
}

/** A duration between two epoch-ms times (`12 s`, `3 min 5 s`, `2 h 4 min`); `now` for running ones. */
export function formatDuration(start: number, end: number | null, now: number): string {
  const ms = Math.max(0, (end ?? now) - start);
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** The first 8 characters of a run id. */
export function shortId(id: string): string {
  return id.slice(0, 8);
}

/** The step graph as lines `load`, `train ← load`, in the given (topological) order. */
export function stepGraphLines(steps: readonly PlanStep[]): string[] {
  return steps.map((s) => (s.upstream.length > 0 ? `${s.name} ← ${s.upstream.join(', ')}` : s.name));
}

/** One problem found by the exporter: its cell index (null: the whole notebook), step and message. */
export interface ExportProblem {
  cell: number | null;
  step?: string;
  message: string;
}

/** Reads `details.errors` of an export error; anything malformed is skipped. */
export function exportProblems(details: Record<string, unknown> | undefined): ExportProblem[] {
  const errors = details?.['errors'];
  if (!Array.isArray(errors)) return [];
  const out: ExportProblem[] = [];
  for (const e of errors) {
    if (e === null || typeof e !== 'object') continue;
    const r = e as Record<string, unknown>;
    if (typeof r['message'] !== 'string') continue;
    const cell = typeof r['cell'] === 'number' && Number.isInteger(r['cell']) ? r['cell'] : null;
    out.push(
      typeof r['step'] === 'string'
        ? { cell, step: r['step'], message: r['message'] }
        : { cell, message: r['message'] },
    );
  }
  return out;
}

/**
 * Groups problems by the cell they point at. Problems without a cell, or with an index outside
 * `[0, cellCount)`, go to `notebook`.
 */
export function problemsByCell(
  problems: readonly ExportProblem[],
  cellCount: number,
): { cells: Map<number, string[]>; notebook: string[] } {
  const cells = new Map<number, string[]>();
  const notebook: string[] = [];
  for (const p of problems) {
    const text = p.step ? `${p.message} (step ${p.step})` : p.message;
    if (p.cell === null || p.cell < 0 || p.cell >= cellCount) notebook.push(text);
    else cells.set(p.cell, [...(cells.get(p.cell) ?? []), text]);
  }
  return { cells, notebook };
}

/** What is known about a notebook's kernel: the kernel spec name and language, live or from metadata. */
export interface KernelDescription {
  name?: string | null;
  language?: string | null;
}

/** True for TypeScript kernels (tslab and other `typescript` kernels), the ones cellar's bridge runs in. */
export function isTypeScriptKernel(kernel: KernelDescription): boolean {
  const language = (kernel.language ?? '').toLowerCase();
  if (language !== '') return language === 'typescript';
  return /^(tslab|typescript)([-_.].*)?$/i.test(kernel.name ?? '');
}

const CRON_FIELD = /^(\*|\d+(-\d+)?)(\/\d+)?(,(\*|\d+(-\d+)?)(\/\d+)?)*$/;
const CRON_NAMES = /^[a-z]{3}(-[a-z]{3})?(,[a-z]{3}(-[a-z]{3})?)*$/i;

/**
 * Why `text` is not a 5-field cron expression (minute hour day month weekday), or null when it looks like
 * one (or is empty, meaning "no schedule"). The exporter checks it fully; this catches typos early.
 */
export function scheduleProblem(text: string): string | null {
  const t = text.trim();
  if (t === '') return null;
  if (/^@(hourly|daily|weekly|monthly|yearly|annually)$/.test(t)) return null;
  const fields = t.split(/\s+/);
  if (fields.length !== 5) {
    return `A schedule is a cron expression with 5 fields (minute hour day month weekday), e.g. "0 3 * * *"; got ${fields.length}.`;
  }
  const bad = fields.find((f) => !CRON_FIELD.test(f) && !CRON_NAMES.test(f));
  return bad === undefined ? null : `"${bad}" is not a valid cron field.`;
}

/** The extension's settings (schema: extension/schema/plugin.json). */
export interface CellarSettings {
  /** Store URI or directory; empty: the kernel's default store. */
  storeUri: string;
  /** Experiment used when the notebook has none yet; empty: the kernel's default. */
  defaultExperiment: string;
  /** Whether "Log run" stores cell outputs in the snapshot. */
  includeOutputs: boolean;
  /** Seconds between sidebar refreshes while it is visible (0: only on demand). */
  refreshSeconds: number;
  /** Base URL of cellar's web UI for links (empty: no links). */
  platformUrl: string;
}

/** Defaults of {@link CellarSettings}. */
export const DEFAULT_SETTINGS: CellarSettings = {
  storeUri: '',
  defaultExperiment: '',
  includeOutputs: true,
  refreshSeconds: 5,
  platformUrl: '',
};

/** Reads settings from the registry's composite value, falling back to defaults for missing or bad fields. */
export function readSettings(composite: Record<string, unknown> | null | undefined): CellarSettings {
  const c = composite ?? {};
  const str = (k: keyof CellarSettings): string =>
    typeof c[k] === 'string' ? (c[k] as string).trim() : (DEFAULT_SETTINGS[k] as string);
  const refresh =
    typeof c['refreshSeconds'] === 'number' ? c['refreshSeconds'] : DEFAULT_SETTINGS.refreshSeconds;
  return {
    storeUri: str('storeUri'),
    defaultExperiment: str('defaultExperiment'),
    includeOutputs:
      typeof c['includeOutputs'] === 'boolean' ? c['includeOutputs'] : DEFAULT_SETTINGS.includeOutputs,
    refreshSeconds: Number.isFinite(refresh)
      ? Math.min(3600, Math.max(0, refresh))
      : DEFAULT_SETTINGS.refreshSeconds,
    platformUrl: str('platformUrl').replace(/\/+$/, ''),
  };
}

/** The arguments every bridge request carries from the settings and the notebook. */
export function commonArgs(settings: CellarSettings, notebookPath: string): Record<string, unknown> {
  const args: Record<string, unknown> = { notebookPath };
  if (settings.storeUri !== '') args['storeUri'] = settings.storeUri;
  if (settings.defaultExperiment !== '') args['defaultExperiment'] = settings.defaultExperiment;
  return args;
}

/** A web UI link (`<platformUrl>/runs/<id>` …), or null when no platform URL is set or it is not http(s). */
export function platformLink(settings: CellarSettings, ...segments: Array<string | number>): string | null {
  if (!/^https?:\/\//i.test(settings.platformUrl)) return null;
  return [settings.platformUrl, ...segments.map((s) => encodeURIComponent(String(s)))].join('/');
}

/** A default pipeline name from a notebook path: `work/Driver Training.ipynb` → `driver-training`. */
export function pipelineNameFor(notebookPath: string): string {
  const base = (notebookPath.split('/').pop() ?? '').replace(/\.ipynb$/i, '');
  const name = base
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^[-_]+/, '')
    .replace(/-+$/, '')
    .slice(0, 64);
  return name === '' ? 'pipeline' : name;
}
