/**
 * display/plot — shows Plotly figures in a notebook. `plot` emits one display message carrying the
 * Plotly JSON (`application/vnd.plotly.v1+json`, rendered interactively where a Plotly renderer is
 * installed), a self-contained SVG rendering as `text/html` (for viewers without one; no network
 * needed) and a one-line `text/plain` summary. `plotHtml` emits only the static rendering.
 */
import { escapeHtml } from './escape.js';
import {
  figureSummary,
  normalizeFigure,
  titleText,
  type FigureInput,
  type Layout,
  type PlotlyFigure,
} from './figure.js';
import { displayBundle, type MimeBundle } from './sink.js';
import { figureToSvg } from './svg.js';

/** The MIME type of Plotly figures in Jupyter. */
export const PLOTLY_MIME = 'application/vnd.plotly.v1+json';

/** The bundle `plot` emits and returns. */
export interface PlotBundle extends MimeBundle {
  'application/vnd.plotly.v1+json': PlotlyFigure;
  'text/html': string;
  'text/plain': string;
}

/** The bundle `plotHtml` emits and returns. */
export interface HtmlBundle extends MimeBundle {
  'text/html': string;
  'text/plain': string;
}

/**
 * Builds the display bundle of a figure without showing it: the Plotly JSON, the static SVG
 * fallback as HTML and a text summary.
 *
 * @throws CellarError INVALID_INPUT when the input is not a figure, a trace or a list of them.
 */
export function figureBundle(figure: FigureInput, layout?: Layout): PlotBundle {
  const fig = normalizeFigure(figure, layout);
  return {
    [PLOTLY_MIME]: fig,
    'text/html': fallbackHtml(fig),
    'text/plain': figureSummary(fig),
  };
}

/**
 * Shows a Plotly figure (or traces plus a layout) in the notebook as one display message with the
 * Plotly JSON, an offline SVG fallback as HTML and a text summary; returns that bundle. Outside
 * tslab nothing is printed and the bundle is just returned.
 *
 * @throws CellarError INVALID_INPUT when the input is not a figure, a trace or a list of them.
 * @example
 * plot(line(steps, losses, { name: 'loss' }));
 * plot([{ x: [1, 2, 3], y: [2, 4, 8], type: 'scatter', name: 'a' }], { title: 'growth' });
 */
export function plot(figure: FigureInput, layout?: Layout): PlotBundle {
  return displayBundle(figureBundle(figure, layout), PLOTLY_MIME);
}

/**
 * Shows only the static, self-contained SVG rendering of a figure (as `text/html`), for viewers
 * and exports where the Plotly MIME type is preferred but cannot be rendered; returns the bundle.
 *
 * @throws CellarError INVALID_INPUT when the input is not a figure, a trace or a list of them.
 * @example
 * plotHtml(histogram(residuals, { title: 'residuals' }));
 */
export function plotHtml(figure: FigureInput, layout?: Layout): HtmlBundle {
  const fig = normalizeFigure(figure, layout);
  return displayBundle({ 'text/html': fallbackHtml(fig), 'text/plain': figureSummary(fig) }, 'text/html');
}

function fallbackHtml(fig: PlotlyFigure): string {
  const label = escapeHtml(titleText(fig.layout.title) ?? 'figure');
  return `<div class="cellar-plot" data-title="${label}" style="max-width:100%;overflow-x:auto">${figureToSvg(fig)}</div>`;
}
