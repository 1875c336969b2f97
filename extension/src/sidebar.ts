/**
 * sidebar — the cellar sidebar widget: runs of the current notebook's experiment, registered models with
 * their aliases, and pipelines with schedules and last runs (trigger / pause when a scheduler exists).
 *
 * When it refreshes: while visible, right after each cell of the followed notebook finishes, after every
 * Log run / Register model / Export pipeline, when the notebook changes, on the Refresh button, and every
 * `refreshSeconds` while the notebook has a RUNNING run. The kernel answers one request at a time, between
 * cells (tslab runs executions one after another), so a poll is skipped while the kernel is busy and never
 * piles up; each answered poll costs one silent execution (tslab counts it in its execution counter).
 */
import { Notification } from '@jupyterlab/apputils';
import { NotebookActions, type INotebookTracker, type NotebookPanel } from '@jupyterlab/notebook';
import { Widget } from '@lumino/widgets';
import { isTypeScriptNotebook, liveKernel } from './kernel.js';
import type { ModelSummary, PipelinesResult, RunsResult, SchedulerActionResult } from './protocol.js';
import type { DocumentLike } from './render/dom.js';
import { emptySidebarState, renderSidebar, type SidebarState } from './render/sidebar-view.js';
import type { CellarActivity, ICellar } from './token.js';

/** How many periodic run refreshes pass between refreshes of the models and pipelines sections. */
const FULL_REFRESH_EVERY = 6;

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The sidebar widget. */
export class CellarSidebar extends Widget {
  private state: SidebarState = emptySidebarState(null);
  private panel: NotebookPanel | null = null;
  private inFlight = false;
  private queued: { full: boolean } | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  private ticks = 0;

  /** Creates the sidebar following `tracker`'s current notebook. */
  constructor(
    private readonly cellar: ICellar,
    tracker: INotebookTracker,
  ) {
    super();
    this.id = 'cellar-sidebar';
    this.addClass('cellar-Sidebar');
    this.title.caption = 'cellar: runs, models and pipelines';
    tracker.currentChanged.connect(() => this.follow(tracker.currentWidget), this);
    NotebookActions.executed.connect((_sender, { notebook }) => {
      if (this.panel && notebook === this.panel.content) this.refresh({ full: false });
    }, this);
    cellar.activity.connect((_sender, activity: CellarActivity) => this.onActivity(activity), this);
    cellar.settingsChanged.connect(() => this.restartTimer(), this);
    this.follow(tracker.currentWidget);
  }

  /** Highlights a run (after Log run) and refreshes everything. */
  private onActivity(activity: CellarActivity): void {
    if (activity.kind === 'run') this.state = { ...this.state, highlightRunId: activity.id };
    this.refresh({ full: true, force: true });
  }

  private follow(panel: NotebookPanel | null): void {
    if (panel === this.panel) return;
    this.panel?.sessionContext.kernelChanged.disconnect(this.reset, this);
    this.panel = panel;
    if (panel) {
      // The kernel (and the saved kernel spec) may only be known once the notebook and its session load.
      panel.sessionContext.kernelChanged.connect(this.reset, this);
      void panel.context.ready.then(() => {
        if (this.panel === panel) this.reset();
      });
    }
    this.reset();
  }

  /** Starts over for the followed notebook: empty state, then a full refresh if it is a TypeScript notebook. */
  private reset(): void {
    const panel = this.panel;
    const typescript = panel !== null && isTypeScriptNotebook(panel);
    this.state = emptySidebarState(typescript ? panel.context.path : null);
    this.render();
    if (typescript) this.refresh({ full: true });
  }

  protected override onAfterShow(): void {
    this.restartTimer();
    this.refresh({ full: true });
  }

  protected override onAfterHide(): void {
    this.stopTimer();
  }

  override dispose(): void {
    this.stopTimer();
    super.dispose();
  }

  private stopTimer(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private restartTimer(): void {
    this.stopTimer();
    const seconds = this.cellar.settings.refreshSeconds;
    if (seconds <= 0 || !this.isVisible) return;
    this.timer = setInterval(() => this.tick(), seconds * 1000);
  }

  /** A periodic poll: only while a run is RUNNING (metrics can still change) and the kernel is idle. */
  private tick(): void {
    const running = this.state.runs?.runs.some((r) => r.status === 'RUNNING') ?? false;
    if (!running) return;
    this.ticks += 1;
    this.refresh({ full: this.ticks % FULL_REFRESH_EVERY === 0 });
  }

  private render(): void {
    const actions = {
      refresh: () => this.refresh({ full: true, force: true }),
      trigger: (name: string) => void this.schedulerAction('triggerPipeline', { name }),
      setPaused: (name: string, paused: boolean) =>
        void this.schedulerAction('pausePipeline', { name, paused }),
    };
    const content = renderSidebar(document as unknown as DocumentLike, this.state, actions);
    this.node.replaceChildren(content as unknown as Node);
  }

  /**
   * Refreshes the runs (and with `full`, the models and pipelines). Skipped while hidden or while the kernel
   * is busy unless `force`; a refresh requested while one is running is queued once.
   */
  refresh(options: { full: boolean; force?: boolean }): void {
    const panel = this.panel;
    if (!panel || !isTypeScriptNotebook(panel) || (!this.isVisible && !options.force)) return;
    if (this.inFlight) {
      this.queued = { full: (this.queued?.full ?? false) || options.full };
      return;
    }
    const kernel = liveKernel(panel);
    if (!kernel) {
      this.state = { ...this.state, errors: { all: 'The notebook has no running kernel.' } };
      this.render();
      return;
    }
    if (kernel.status === 'busy' && !options.force) return;
    void this.load(panel, options.full);
  }

  private async load(panel: NotebookPanel, full: boolean): Promise<void> {
    this.inFlight = true;
    this.state = { ...this.state, loading: true };
    this.render();
    const client = this.cellar.clientFor(panel);
    const args = this.cellar.argsFor(panel);
    const errors: SidebarState['errors'] = {};
    let { runs, models, pipelines } = this.state;
    try {
      runs = await client.request<RunsResult>('listRuns', args);
    } catch (e) {
      errors.runs = messageOf(e);
    }
    if (full || models === null) {
      try {
        models = await client.request<ModelSummary[]>('listModels', args);
      } catch (e) {
        errors.models = messageOf(e);
      }
    }
    if (full || pipelines === null) {
      try {
        pipelines = await client.request<PipelinesResult>('listPipelines', args);
      } catch (e) {
        errors.pipelines = messageOf(e);
      }
    }
    this.inFlight = false;
    if (panel !== this.panel) return; // the user switched notebooks meanwhile
    const ok = !errors.runs || !errors.models || !errors.pipelines;
    this.state = {
      ...this.state,
      runs,
      models,
      pipelines,
      errors,
      loading: false,
      updatedAt: ok ? Date.now() : this.state.updatedAt,
    };
    this.render();
    const queued = this.queued;
    this.queued = null;
    if (queued) this.refresh({ full: queued.full });
  }

  private async schedulerAction(
    op: 'triggerPipeline' | 'pausePipeline',
    args: Record<string, unknown>,
  ): Promise<void> {
    const panel = this.panel;
    if (!panel) return;
    try {
      const result = await this.cellar
        .clientFor(panel)
        .request<SchedulerActionResult>(op, { ...this.cellar.argsFor(panel), ...args });
      const what =
        op === 'triggerPipeline'
          ? `triggered (run ${result.runId ?? '?'})`
          : result.paused
            ? 'paused'
            : 'resumed';
      Notification.success(`Pipeline ${result.name} ${what}.`, { autoClose: 5000 });
    } catch (e) {
      Notification.error(`Pipeline action failed: ${messageOf(e)}`, { autoClose: false });
    }
    this.refresh({ full: true, force: true });
  }
}
