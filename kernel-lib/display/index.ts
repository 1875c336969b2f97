/**
 * display — rich notebook output: Plotly figures (`plot`, with an offline SVG fallback, and optional
 * PNGs), figure builders and HTML tables of DataFrames. The only module of cellar that knows about
 * tslab (see `sink`); outside a notebook the helpers return their MIME bundles and print nothing.
 */
export { escapeHtml } from './escape.js';
export {
  bar,
  figureSummary,
  histogram,
  line,
  normalizeFigure,
  scatter,
  type AxisLayout,
  type DataArray,
  type Figure,
  type FigureInput,
  type Layout,
  type PlotlyFigure,
  type Trace,
  type TraceOptions,
} from './figure.js';
export { figureBundle, plot, plotHtml, PLOTLY_MIME, type HtmlBundle, type PlotBundle } from './plot.js';
export { closePngRenderer, plotPng, toPng, type PngOptions } from './png.js';
export { displayBundle, isInsideTslab, setDisplaySink, type DisplaySink, type MimeBundle } from './sink.js';
export { figureToSvg, type SvgOptions } from './svg.js';
export { table, tableHtml, type TableBundle, type TableOptions } from './table.js';
