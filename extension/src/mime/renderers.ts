/**
 * mime/renderers — output renderers for cellar's MIME types: run card, model card, feature-join summary
 * (built by render/cards.ts, text only) and Plotly figures (`application/vnd.plotly.v1+json`, drawn by
 * plotly.js from the `plotly.js-dist-min` package, which is loaded on the first figure only).
 */
import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { Widget } from '@lumino/widgets';
import type { Message } from '@lumino/messaging';
import {
  FEATURE_JOIN_MIME,
  MODEL_MIME,
  renderFeatureJoin,
  renderInvalid,
  renderModelCard,
  renderRunCard,
  RUN_MIME,
} from '../render/cards.js';
import type { DocumentLike, ElementLike } from '../render/dom.js';

/** MIME type of Plotly figures. */
export const PLOTLY_MIME = 'application/vnd.plotly.v1+json';

type RenderCard = (doc: DocumentLike, data: never) => ElementLike;

const CARDS: Record<
  string,
  { kind: string; render: RenderCard; check: (d: Record<string, unknown>) => string | null }
> = {
  [RUN_MIME]: {
    kind: 'run',
    render: renderRunCard as RenderCard,
    check: (d) => (typeof d['id'] === 'string' ? null : 'it has no "id"'),
  },
  [MODEL_MIME]: {
    kind: 'model',
    render: renderModelCard as RenderCard,
    check: (d) => (typeof d['name'] === 'string' ? null : 'it has no "name"'),
  },
  [FEATURE_JOIN_MIME]: {
    kind: 'feature join',
    render: renderFeatureJoin as RenderCard,
    check: (d) => (typeof d['rows'] === 'number' ? null : 'it has no "rows" count'),
  },
};

/** Renders one of cellar's cards from its JSON. */
export class CardRenderer extends Widget implements IRenderMime.IRenderer {
  constructor(private readonly mimeType: string) {
    super();
    this.addClass('cellar-CardOutput');
  }

  async renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    const spec = CARDS[this.mimeType]!;
    let data: unknown = model.data[this.mimeType];
    if (typeof data === 'string') {
      try {
        data = JSON.parse(data);
      } catch {
        data = null;
      }
    }
    const doc = document as unknown as DocumentLike;
    let el: ElementLike;
    if (data === null || typeof data !== 'object' || Array.isArray(data)) {
      el = renderInvalid(doc, spec.kind, 'its data is not a JSON object');
    } else {
      const problem = spec.check(data as Record<string, unknown>);
      el = problem ? renderInvalid(doc, spec.kind, problem) : spec.render(doc, data as never);
    }
    this.node.replaceChildren(el as unknown as Node);
  }
}

interface PlotlyApi {
  newPlot(node: HTMLElement, data: unknown, layout?: unknown, config?: unknown): Promise<unknown>;
  purge(node: HTMLElement): void;
  Plots: { resize(node: HTMLElement): void };
}

let plotlyLoad: Promise<PlotlyApi> | null = null;

/** Loads plotly.js once, on the first figure. */
function loadPlotly(): Promise<PlotlyApi> {
  plotlyLoad ??= import('plotly.js-dist-min').then(
    (m: { default?: unknown }) => (m.default ?? m) as PlotlyApi,
  );
  return plotlyLoad;
}

/** Renders a Plotly figure (`{ data, layout, config? }`). */
export class PlotlyRenderer extends Widget implements IRenderMime.IRenderer {
  private plotted = false;

  constructor() {
    super();
    this.addClass('cellar-Plotly');
  }

  async renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    let figure = model.data[PLOTLY_MIME] as unknown;
    if (typeof figure === 'string') figure = JSON.parse(figure);
    const f = (figure ?? {}) as {
      data?: unknown;
      layout?: Record<string, unknown>;
      config?: Record<string, unknown>;
    };
    try {
      const Plotly = await loadPlotly();
      if (this.plotted) Plotly.purge(this.node);
      const layout = { autosize: true, ...(f.layout ?? {}) };
      await Plotly.newPlot(this.node, Array.isArray(f.data) ? f.data : [], layout, {
        responsive: true,
        displaylogo: false,
        ...(f.config ?? {}),
      });
      this.plotted = true;
    } catch (e) {
      const message = document.createElement('div');
      message.className = 'cellar-Card cellar-mod-invalid';
      message.textContent = `Cannot draw this Plotly figure: ${e instanceof Error ? e.message : String(e)}`;
      this.node.replaceChildren(message);
    }
  }

  protected override onResize(msg: Widget.ResizeMessage): void {
    super.onResize(msg);
    this.resizePlot();
  }

  protected override onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this.resizePlot();
  }

  override dispose(): void {
    if (this.plotted && plotlyLoad)
      void plotlyLoad.then((Plotly) => Plotly.purge(this.node)).catch(() => undefined);
    super.dispose();
  }

  private resizePlot(): void {
    if (!this.plotted || !plotlyLoad || !this.isVisible) return;
    void plotlyLoad.then((Plotly) => Plotly.Plots.resize(this.node)).catch(() => undefined);
  }
}

/** Renderer factory of the three cards. */
export const cardFactory: IRenderMime.IRendererFactory = {
  safe: true,
  mimeTypes: [RUN_MIME, MODEL_MIME, FEATURE_JOIN_MIME],
  defaultRank: 40,
  createRenderer: (options) => new CardRenderer(options.mimeType),
};

/** Renderer factory of Plotly figures. */
export const plotlyFactory: IRenderMime.IRendererFactory = {
  safe: true,
  mimeTypes: [PLOTLY_MIME],
  defaultRank: 40,
  createRenderer: () => new PlotlyRenderer(),
};
