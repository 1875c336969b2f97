/**
 * render/sidebar-view — what the cellar sidebar shows, as a pure function of its state: the runs of the
 * notebook's experiment (status, latest metrics; the active run marked), registered models with their
 * aliases, and pipelines with their schedule, steps and last runs (with Trigger / Pause buttons when a
 * scheduler is available). All values are rendered as text.
 */
import { formatNumber, formatTime, shortId, stepGraphLines } from '../format.js';
import type { ModelSummary, PipelinesResult, RunSummary, RunsResult } from '../protocol.js';
import { h, type DocumentLike, type ElementLike } from './dom.js';

/** Everything the sidebar displays. */
export interface SidebarState {
  /** The notebook the sidebar follows, or null when the current widget is not a TypeScript notebook. */
  notebookPath: string | null;
  runs: RunsResult | null;
  models: ModelSummary[] | null;
  pipelines: PipelinesResult | null;
  /** Per-section error messages of the last refresh. */
  errors: { runs?: string; models?: string; pipelines?: string; all?: string };
  /** Epoch ms of the last successful refresh. */
  updatedAt: number | null;
  loading: boolean;
  /** A run to highlight (e.g. the one "Log run" just logged). */
  highlightRunId: string | null;
}

/** What the sidebar's buttons do. */
export interface SidebarActions {
  refresh(): void;
  trigger(pipeline: string): void;
  setPaused(pipeline: string, paused: boolean): void;
}

/** An empty state for `notebookPath`. */
export function emptySidebarState(notebookPath: string | null): SidebarState {
  return {
    notebookPath,
    runs: null,
    models: null,
    pipelines: null,
    errors: {},
    updatedAt: null,
    loading: false,
    highlightRunId: null,
  };
}

const PREFERRED_METRICS = ['rmse', 'mae', 'r2', 'test_rmse', 'test_mae', 'test_r2'];

/** Up to `max` metrics of a run, preferred names first, training metrics last. */
export function headlineMetrics(metrics: Record<string, number>, max = 4): Array<[string, number]> {
  const rank = (k: string): number => {
    const i = PREFERRED_METRICS.indexOf(k);
    if (i >= 0) return i;
    return k.startsWith('training_') ? 200 : 100;
  };
  return Object.entries(metrics)
    .sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b))
    .slice(0, max);
}

function section(
  doc: DocumentLike,
  title: string,
  subtitle: string | null,
  ...children: ElementLike[]
): ElementLike {
  return h(
    doc,
    'section',
    { className: 'cellar-SidebarSection' },
    h(
      doc,
      'h3',
      { className: 'cellar-SidebarHeading', text: title },
      subtitle ? h(doc, 'span', { className: 'cellar-Muted', text: ` · ${subtitle}` }) : null,
    ),
    ...children,
  );
}

function note(doc: DocumentLike, text: string, error = false): ElementLike {
  return h(doc, 'div', { className: error ? 'cellar-SidebarError' : 'cellar-Muted', text });
}

function runItem(doc: DocumentLike, run: RunSummary, active: boolean, highlighted: boolean): ElementLike {
  const classes = ['cellar-RunItem'];
  if (active) classes.push('cellar-mod-active');
  if (highlighted) classes.push('cellar-mod-highlight');
  const metrics = headlineMetrics(run.metrics);
  const params = Object.entries(run.params)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  const item = h(
    doc,
    'li',
    {
      className: classes.join(' '),
      title: params === '' ? run.id : `${run.id}\n${params}`,
      attrs: { 'data-run-id': run.id },
    },
    h(
      doc,
      'div',
      { className: 'cellar-RunItem-title' },
      h(doc, 'span', {
        className: `cellar-Status cellar-Status-${run.status.toLowerCase().replace(/[^a-z]/g, '')}`,
        text: run.status,
      }),
      h(doc, 'span', { className: 'cellar-RunItem-name', text: run.name ?? shortId(run.id) }),
    ),
    metrics.length > 0
      ? h(doc, 'div', {
          className: 'cellar-RunItem-metrics',
          text: metrics.map(([k, v]) => `${k} ${formatNumber(v)}`).join(' · '),
        })
      : null,
    h(doc, 'div', { className: 'cellar-Muted', text: `${formatTime(run.startTime)} · ${shortId(run.id)}` }),
  );
  return item;
}

function runsSection(doc: DocumentLike, state: SidebarState): ElementLike {
  const r = state.runs;
  const children: ElementLike[] = [];
  if (state.errors.runs) children.push(note(doc, state.errors.runs, true));
  if (r === null) {
    if (!state.errors.runs) children.push(note(doc, state.loading ? 'Loading…' : 'No data yet.'));
  } else if (r.experiment === null) {
    children.push(note(doc, 'This notebook has no experiment yet: start a run, or click Log run.'));
  } else if (r.runs.length === 0) {
    children.push(note(doc, `No runs in "${r.experiment.name}" yet.`));
  } else {
    children.push(
      h(
        doc,
        'ul',
        { className: 'cellar-RunList' },
        ...r.runs.map((run) => runItem(doc, run, run.id === r.activeRunId, run.id === state.highlightRunId)),
      ),
    );
  }
  return section(doc, 'Runs', r?.experiment?.name ?? null, ...children);
}

function modelsSection(doc: DocumentLike, state: SidebarState): ElementLike {
  const children: ElementLike[] = [];
  if (state.errors.models) children.push(note(doc, state.errors.models, true));
  const models = state.models;
  if (models !== null && models.length === 0) children.push(note(doc, 'No registered models yet.'));
  if (models !== null && models.length > 0) {
    children.push(
      h(
        doc,
        'ul',
        { className: 'cellar-ModelList' },
        ...models.map((m) =>
          h(
            doc,
            'li',
            { className: 'cellar-ModelItem', title: m.description, attrs: { 'data-model': m.name } },
            h(doc, 'span', { className: 'cellar-ModelItem-name', text: m.name }),
            h(doc, 'span', {
              className: 'cellar-Muted',
              text: m.latestVersion === null ? ' (no versions)' : ` v${m.latestVersion}`,
            }),
            ...Object.entries(m.aliases)
              .sort(([a], [b]) => a.localeCompare(b))
              .map(([alias, v]) => h(doc, 'span', { className: 'cellar-Alias', text: `@${alias} → v${v}` })),
          ),
        ),
      ),
    );
  }
  return section(doc, 'Models', null, ...children);
}

function pipelinesSection(doc: DocumentLike, state: SidebarState, actions: SidebarActions): ElementLike {
  const children: ElementLike[] = [];
  if (state.errors.pipelines) children.push(note(doc, state.errors.pipelines, true));
  const p = state.pipelines;
  if (p !== null && p.pipelines.length === 0) children.push(note(doc, 'No pipelines exported yet.'));
  if (p !== null && p.pipelines.length > 0) {
    const items = p.pipelines.map((pl) => {
      const buttons: ElementLike[] = [];
      if (p.scheduler) {
        buttons.push(
          h(doc, 'button', {
            className: 'cellar-Button',
            text: 'Trigger',
            onClick: () => actions.trigger(pl.name),
            attrs: { type: 'button' },
          }),
        );
        buttons.push(
          h(doc, 'button', {
            className: 'cellar-Button',
            text: pl.paused ? 'Resume' : 'Pause',
            onClick: () => actions.setPaused(pl.name, !pl.paused),
            attrs: { type: 'button' },
          }),
        );
      }
      return h(
        doc,
        'li',
        { className: 'cellar-PipelineItem', attrs: { 'data-pipeline': pl.name } },
        h(
          doc,
          'div',
          { className: 'cellar-PipelineItem-title' },
          h(doc, 'span', { className: 'cellar-PipelineItem-name', text: pl.name }),
          h(doc, 'span', {
            className: 'cellar-Muted',
            text: ` v${pl.latestVersion} · ${pl.schedule ?? 'manual'}${pl.paused ? ' · paused' : ''}`,
          }),
        ),
        h(doc, 'div', {
          className: 'cellar-PipelineItem-steps',
          text: stepGraphLines(pl.steps).join('  |  '),
        }),
        pl.lastRuns.length > 0
          ? h(
              doc,
              'div',
              { className: 'cellar-PipelineItem-runs' },
              ...pl.lastRuns.map((r) =>
                h(doc, 'span', {
                  className: `cellar-Status cellar-Status-${r.state.toLowerCase().replace(/[^a-z]/g, '')}`,
                  text: r.state,
                  title: r.logicalDate ?? r.id,
                }),
              ),
            )
          : null,
        buttons.length > 0 ? h(doc, 'div', { className: 'cellar-PipelineItem-actions' }, ...buttons) : null,
      );
    });
    children.push(h(doc, 'ul', { className: 'cellar-PipelineList' }, ...items));
    if (!p.scheduler)
      children.push(note(doc, 'No scheduler is available to this kernel: trigger and pause are off.'));
  }
  return section(doc, 'Pipelines', null, ...children);
}

/** Renders the whole sidebar content for `state`. */
export function renderSidebar(doc: DocumentLike, state: SidebarState, actions: SidebarActions): ElementLike {
  const toolbar = h(
    doc,
    'div',
    { className: 'cellar-SidebarToolbar' },
    h(doc, 'span', {
      className: 'cellar-SidebarNotebook',
      text: state.notebookPath ?? 'No TypeScript notebook',
    }),
    h(doc, 'button', {
      className: 'cellar-Button',
      text: state.loading ? 'Refreshing…' : 'Refresh',
      onClick: () => actions.refresh(),
      attrs: { type: 'button' },
    }),
  );
  const root = h(doc, 'div', { className: 'cellar-SidebarContent' }, toolbar);
  if (state.notebookPath === null) {
    root.appendChild(note(doc, 'Open a TypeScript (tslab) notebook to see its runs, models and pipelines.'));
    return root;
  }
  if (state.errors.all) root.appendChild(note(doc, state.errors.all, true));
  root.appendChild(runsSection(doc, state));
  root.appendChild(modelsSection(doc, state));
  root.appendChild(pipelinesSection(doc, state, actions));
  if (state.updatedAt !== null) root.appendChild(note(doc, `Updated ${formatTime(state.updatedAt)} UTC`));
  return root;
}
