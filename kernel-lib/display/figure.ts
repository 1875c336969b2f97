/**
 * display/figure — Plotly figure objects: their types, the builders a notebook user calls
 * (`scatter`, `line`, `bar`, `histogram`), normalisation of whatever `plot` receives into one
 * JSON-safe `{ data, layout }` (typed arrays, polars Series and Dates become plain JSON values), and
 * the one-line text summary used as the `text/plain` form of a figure.
 */
import { CellarError } from '../errors.js';

/** A column of values: an array, a typed array, or anything with `toArray()` (e.g. a polars Series). */
export type DataArray = ArrayLike<unknown> | { toArray(): unknown[] };

/** A Plotly trace. Only common fields are typed; any other Plotly attribute passes through unchanged. */
export interface Trace {
  /** Plotly trace type; Plotly's default is `scatter`. */
  type?: string;
  /** Legend name. */
  name?: string;
  x?: DataArray;
  y?: DataArray;
  /** For scatter traces: `markers`, `lines`, `lines+markers`. */
  mode?: string;
  marker?: { color?: unknown; size?: unknown; [key: string]: unknown };
  line?: { color?: unknown; width?: unknown; [key: string]: unknown };
  /** For histograms: the maximum number of bins. */
  nbinsx?: number;
  [key: string]: unknown;
}

/** A Plotly axis layout (subset). */
export interface AxisLayout {
  title?: string | { text?: string };
  range?: [unknown, unknown];
  type?: string;
  [key: string]: unknown;
}

/** A Plotly layout (subset; other attributes pass through). */
export interface Layout {
  title?: string | { text?: string };
  xaxis?: AxisLayout;
  yaxis?: AxisLayout;
  width?: number;
  height?: number;
  barmode?: string;
  showlegend?: boolean;
  [key: string]: unknown;
}

/** A Plotly figure. */
export interface Figure {
  data: Trace[];
  layout?: Layout;
}

/** What `plot` and the renderers accept: a figure, one trace, or a list of traces and figures. */
export type FigureInput = Figure | Trace | readonly (Trace | Figure)[];

/** A JSON-safe figure exactly as sent in the `application/vnd.plotly.v1+json` bundle. */
export interface PlotlyFigure {
  data: Record<string, unknown>[];
  layout: Record<string, unknown>;
}

/** Options shared by the figure builders. */
export interface TraceOptions {
  /** Legend name of the trace. */
  name?: string;
  /** CSS colour of the markers/bars/line, e.g. `#1f77b4` or `teal`. */
  color?: string;
  /** Figure title. */
  title?: string;
  /** x axis title. */
  xTitle?: string;
  /** y axis title. */
  yTitle?: string;
  /** Extra layout attributes merged into the figure's layout. */
  layout?: Layout;
}

/**
 * A scatter plot figure (markers by default).
 *
 * @example
 * plot(scatter(df.getColumn('conv_rate'), df.getColumn('trip_completed'), { title: 'conversion vs trips' }));
 */
export function scatter(
  x: DataArray,
  y: DataArray,
  opts: TraceOptions & { mode?: 'markers' | 'lines' | 'lines+markers'; size?: number } = {},
): Figure {
  const trace: Trace = { type: 'scatter', mode: opts.mode ?? 'markers', x: toPlain(x), y: toPlain(y) };
  if (opts.name !== undefined) trace.name = opts.name;
  if (opts.color !== undefined || opts.size !== undefined) {
    trace.marker = {};
    if (opts.color !== undefined) trace.marker.color = opts.color;
    if (opts.size !== undefined) trace.marker.size = opts.size;
  }
  if (opts.color !== undefined && trace.mode !== 'markers') trace.line = { color: opts.color };
  return { data: [trace], layout: builderLayout(opts) };
}

/**
 * A line chart figure (a scatter trace in `lines` mode).
 *
 * @example
 * plot(line(steps, losses, { name: 'train loss', xTitle: 'step', yTitle: 'loss' }));
 */
export function line(x: DataArray, y: DataArray, opts: TraceOptions & { markers?: boolean } = {}): Figure {
  return scatter(x, y, { ...opts, mode: opts.markers ? 'lines+markers' : 'lines' });
}

/**
 * A bar chart figure: one bar per x value (categories or numbers).
 *
 * @example
 * plot(bar(['rmse', 'mae'], [0.41, 0.33], { title: 'metrics' }));
 */
export function bar(x: DataArray, y: DataArray, opts: TraceOptions = {}): Figure {
  const trace: Trace = { type: 'bar', x: toPlain(x), y: toPlain(y) };
  if (opts.name !== undefined) trace.name = opts.name;
  if (opts.color !== undefined) trace.marker = { color: opts.color };
  return { data: [trace], layout: builderLayout(opts) };
}

/**
 * A histogram figure of `values` (Plotly bins them; the static fallback uses the same bin count).
 *
 * @example
 * plot(histogram(residuals, { nbins: 30, title: 'residuals' }));
 */
export function histogram(values: DataArray, opts: TraceOptions & { nbins?: number } = {}): Figure {
  const trace: Trace = { type: 'histogram', x: toPlain(values) };
  if (opts.name !== undefined) trace.name = opts.name;
  if (opts.nbins !== undefined) trace.nbinsx = opts.nbins;
  if (opts.color !== undefined) trace.marker = { color: opts.color };
  return { data: [trace], layout: builderLayout(opts) };
}

/**
 * Turns a figure, a trace, or a list of traces/figures (plus an optional layout that overrides
 * theirs) into one JSON-safe Plotly figure: typed arrays and Series become arrays, Dates become UTC
 * date strings Plotly understands (`2024-01-31 12:00:00`), non-finite numbers become null.
 *
 * @throws CellarError INVALID_INPUT when the input is not a figure or trace, or contains a cycle.
 */
export function normalizeFigure(input: FigureInput, layout?: Layout): PlotlyFigure {
  const traces: unknown[] = [];
  const layouts: unknown[] = [];
  const add = (item: unknown): void => {
    if (isFigure(item)) {
      traces.push(...item.data);
      if (item.layout !== undefined) layouts.push(item.layout);
    } else if (item !== null && typeof item === 'object' && !Array.isArray(item)) {
      traces.push(item);
    } else {
      throw new CellarError(
        'INVALID_INPUT',
        `Cannot plot ${item === null ? 'null' : typeof item}: pass a figure ({ data, layout }), a trace ({ x, y, type }) or a list of them.`,
      );
    }
  };
  if (Array.isArray(input)) input.forEach(add);
  else add(input);
  if (layout !== undefined) layouts.push(layout);
  const merged: Record<string, unknown> = {};
  for (const l of layouts) Object.assign(merged, toJson(l, new WeakSet()));
  return {
    data: traces.map((t) => toJson(t, new WeakSet()) as Record<string, unknown>),
    layout: merged,
  };
}

/** The text of a title given as a string or as `{ text }`. */
export function titleText(title: unknown): string | undefined {
  if (typeof title === 'string') return title;
  if (title !== null && typeof title === 'object' && typeof (title as { text?: unknown }).text === 'string') {
    return (title as { text: string }).text;
  }
  return undefined;
}

/** A one-line summary of a figure, e.g. `Figure "loss": 2 traces — scatter "train" (100 points), bar (3 bars)`. */
export function figureSummary(fig: PlotlyFigure): string {
  const title = titleText(fig.layout.title);
  const parts = fig.data.map((t) => {
    const type = typeof t.type === 'string' ? t.type : 'scatter';
    const name = typeof t.name === 'string' ? ` "${t.name}"` : '';
    const n = Math.max(lengthOf(t.x), lengthOf(t.y));
    const unit = type === 'bar' ? 'bars' : type === 'histogram' ? 'values' : 'points';
    return `${type}${name} (${n} ${unit})`;
  });
  const count = `${fig.data.length} trace${fig.data.length === 1 ? '' : 's'}`;
  return `Figure${title ? ` "${title}"` : ''}: ${count}${parts.length ? ' — ' + parts.join(', ') : ''}`;
}

/** Formats a Date as the UTC date string Plotly parses (no zone suffix; Plotly ignores zones). */
export function plotlyDate(d: Date): string {
  const iso = d.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const date = iso.slice(0, 10);
  let time = iso.slice(11, 23);
  if (time === '00:00:00.000') return date;
  if (time.endsWith('.000')) time = time.slice(0, 8);
  return `${date} ${time}`;
}

function isFigure(x: unknown): x is Figure {
  return x !== null && typeof x === 'object' && Array.isArray((x as { data?: unknown }).data);
}

function builderLayout(opts: TraceOptions): Layout {
  const layout: Layout = {};
  if (opts.title !== undefined) layout.title = { text: opts.title };
  if (opts.xTitle !== undefined) layout.xaxis = { title: { text: opts.xTitle } };
  if (opts.yTitle !== undefined) layout.yaxis = { title: { text: opts.yTitle } };
  return { ...layout, ...opts.layout };
}

function toPlain(values: DataArray): unknown[] {
  if (
    values !== null &&
    typeof values === 'object' &&
    typeof (values as { toArray?: unknown }).toArray === 'function'
  ) {
    return (values as { toArray(): unknown[] }).toArray();
  }
  if (
    values === null ||
    typeof values !== 'object' ||
    typeof (values as ArrayLike<unknown>).length !== 'number'
  ) {
    throw new CellarError('INVALID_INPUT', 'Plot data must be an array, a typed array or a polars Series.');
  }
  return Array.from(values as ArrayLike<unknown>);
}

function lengthOf(v: unknown): number {
  return Array.isArray(v) ? v.length : 0;
}

/** Deep copy into JSON-safe values (see `normalizeFigure`). */
function toJson(v: unknown, seen: WeakSet<object>): unknown {
  switch (typeof v) {
    case 'number':
      return Number.isFinite(v) ? v : null;
    case 'bigint':
      return Number(v);
    case 'string':
    case 'boolean':
      return v;
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
  }
  if (v === null) return null;
  if (Object.prototype.toString.call(v) === '[object Date]') {
    const d = v as Date;
    return Number.isNaN(d.getTime()) ? null : plotlyDate(d);
  }
  const obj = v as object;
  if (seen.has(obj)) throw new CellarError('INVALID_INPUT', 'The figure contains a cycle; pass plain data.');
  seen.add(obj);
  try {
    if (ArrayBuffer.isView(obj) && !(obj instanceof DataView)) {
      return Array.from(obj as unknown as ArrayLike<unknown>, (x) => toJson(x, seen));
    }
    if (Array.isArray(obj)) return obj.map((x) => toJson(x, seen) ?? null);
    if (typeof (obj as { toArray?: unknown }).toArray === 'function') {
      return toJson((obj as { toArray(): unknown }).toArray(), seen);
    }
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(obj)) {
      const j = toJson(x, seen);
      if (j !== undefined) out[k] = j;
    }
    return out;
  } finally {
    seen.delete(obj);
  }
}
