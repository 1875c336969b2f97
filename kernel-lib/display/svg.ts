/**
 * display/svg — a small, dependency-free renderer of the common Plotly trace types (scatter with
 * lines and/or markers, bar, histogram) into a self-contained inline SVG: axes with ticks, axis
 * titles, the figure title and a legend. It is the offline fallback shown by viewers that do not
 * render `application/vnd.plotly.v1+json`; it references no external resource (no URLs, no fonts,
 * no scripts). Other trace types are listed as "not shown" under the chart.
 */
import { escapeHtml } from './escape.js';
import { normalizeFigure, titleText, type FigureInput, type PlotlyFigure } from './figure.js';
import { dateTicks, formatValue, linearTicks, niceDomain, type Ticks } from './scale.js';
import {
  categoriesOf,
  numericBarWidth,
  prepare,
  rangeOf,
  xExtent,
  xKindOf,
  yExtent,
  type XVal,
} from './svg-model.js';

/** Options of `figureToSvg`. */
export interface SvgOptions {
  /** Width in pixels; default the layout's width or 640. */
  width?: number;
  /** Height in pixels; default the layout's height or 400. */
  height?: number;
  /** Add the SVG namespace so the result is a valid standalone `.svg` file; default false (inline HTML). */
  standalone?: boolean;
}

const MAX_MARKERS = 5000;
const MAX_TOOLTIPS = 500;

/**
 * Renders a figure as an inline SVG string (see the module comment for what is drawn). Every text
 * from the figure is escaped; colours that are not plain CSS colours are replaced by the palette.
 *
 * @example
 * const svg = figureToSvg(scatter([1, 2, 3], [2, 4, 8]), { standalone: true });
 */
export function figureToSvg(input: FigureInput | PlotlyFigure, opts: SvgOptions = {}): string {
  const fig = normalizeFigure(input as FigureInput); // idempotent on an already normalised figure
  const layout = fig.layout;
  const width = positive(opts.width) ?? positive(layout.width) ?? 640;
  const height = positive(opts.height) ?? positive(layout.height) ?? 400;
  const xaxis = (layout.xaxis ?? {}) as Record<string, unknown>;
  const yaxis = (layout.yaxis ?? {}) as Record<string, unknown>;
  const skipped: string[] = [];
  const kind = xKindOf(fig, xaxis.type);
  const series = prepare(fig, kind, skipped);
  const barCount = series.filter((s) => s.kind === 'bar').length;
  const barmode = typeof layout.barmode === 'string' ? layout.barmode : 'group';

  const title = titleText(layout.title);
  const xTitle = titleText(xaxis.title);
  const yTitle = titleText(yaxis.title);
  const showLegend = typeof layout.showlegend === 'boolean' ? layout.showlegend : series.length > 1;
  const m = {
    top: title ? 44 : 16,
    right: showLegend ? Math.min(180, 40 + 7 * Math.max(...series.map((s) => s.name.length), 4)) : 20,
    bottom: 40 + (xTitle ? 20 : 0) + (skipped.length ? 16 : 0),
    left: 56 + (yTitle ? 20 : 0),
  };
  const plotW = Math.max(40, width - m.left - m.right);
  const plotH = Math.max(40, height - m.top - m.bottom);

  // x scale
  const categories = kind === 'category' ? categoriesOf(series) : [];
  const barWidth = kind === 'category' ? 1 : numericBarWidth(series);
  let [x0, x1] = kind === 'category' ? [0, Math.max(categories.length, 1)] : xExtent(series, barWidth);
  const xr = rangeOf(xaxis.range, kind);
  if (xr) [x0, x1] = xr;
  const xTicks: Ticks =
    kind === 'date'
      ? dateTicks(x0, x1)
      : kind === 'linear'
        ? linearTicks(x0, x1)
        : { values: [], format: String };
  const catIndex = new Map(categories.map((c, i) => [c, i]));
  const sx = (v: number): number => m.left + ((v - x0) / (x1 - x0 || 1)) * plotW;
  const xPos = (v: XVal): number =>
    kind === 'category' ? sx((catIndex.get(String(v)) ?? 0) + 0.5) : sx(v as number);

  // y scale
  const stacked = barmode === 'stack' || barmode === 'relative';
  let [y0, y1] = niceDomain(...yExtent(series, stacked));
  const yr = rangeOf(yaxis.range, 'linear');
  if (yr) [y0, y1] = yr;
  const yTicks = linearTicks(y0, y1);
  const sy = (v: number): number => m.top + plotH - ((v - y0) / (y1 - y0 || 1)) * plotH;
  const inX = (p: number): boolean => p >= m.left - 0.5 && p <= m.left + plotW + 0.5;
  const inY = (p: number): boolean => p >= m.top - 0.5 && p <= m.top + plotH + 0.5;

  const out: string[] = [];
  const ns = opts.standalone ? ' xmlns="http://www.w3.org/2000/svg"' : '';
  out.push(
    `<svg${ns} class="cellar-svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img"` +
      ` aria-label="${escapeHtml(title ?? 'chart')}" font-family="sans-serif" font-size="11">`,
  );
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(
    `<rect x="${n(m.left)}" y="${n(m.top)}" width="${n(plotW)}" height="${n(plotH)}" fill="#e5ecf6"/>`,
  );

  // grid, ticks and labels
  for (const v of yTicks.values) {
    const y = sy(v);
    if (!inY(y)) continue;
    out.push(
      `<line x1="${n(m.left)}" x2="${n(m.left + plotW)}" y1="${n(y)}" y2="${n(y)}" stroke="#ffffff"/>`,
    );
    out.push(text(m.left - 6, y + 4, yTicks.format(v), 'end', 'cellar-ytick'));
  }
  if (kind === 'category') {
    const every = Math.max(1, Math.ceil((categories.length * 60) / plotW));
    categories.forEach((c, i) => {
      if (i % every !== 0) return;
      out.push(text(sx(i + 0.5), m.top + plotH + 16, truncate(c, 14), 'middle', 'cellar-xtick'));
    });
  } else {
    for (const v of xTicks.values) {
      const x = sx(v);
      if (!inX(x)) continue;
      out.push(
        `<line x1="${n(x)}" x2="${n(x)}" y1="${n(m.top)}" y2="${n(m.top + plotH)}" stroke="#ffffff"/>`,
      );
      out.push(text(x, m.top + plotH + 16, xTicks.format(v), 'middle', 'cellar-xtick'));
    }
  }
  if (y0 < 0 && y1 > 0) {
    out.push(
      `<line x1="${n(m.left)}" x2="${n(m.left + plotW)}" y1="${n(sy(0))}" y2="${n(sy(0))}" stroke="#444444"/>`,
    );
  }

  // traces
  const stackBase = new Map<string, { pos: number; neg: number }>();
  for (const s of series) {
    if (s.kind === 'hist') {
      for (const b of s.bins) {
        const xa = sx(b.x0);
        const xb = sx(b.x1);
        if (!inX(xa) || !inX(xb)) continue;
        out.push(
          barRect(
            xa + 0.5,
            sy(b.count),
            xb - xa - 1,
            sy(0) - sy(b.count),
            s.color,
            series.length > 1 ? 0.7 : 1,
            tip(`${formatValue(b.x0)}–${formatValue(b.x1)}`, b.count),
          ),
        );
      }
    } else if (s.kind === 'bar') {
      const groups = stacked || barmode === 'overlay' ? 1 : barCount;
      const slot = stacked || barmode === 'overlay' ? 0 : s.barIndex;
      const full =
        kind === 'category' ? (plotW / Math.max(categories.length, 1)) * 0.8 : Math.abs(sx(barWidth) - sx(0));
      const w = full / groups;
      for (const p of s.points) {
        if (p.y === null) continue;
        const center = xPos(p.x);
        let base = 0;
        if (stacked) {
          const key = String(p.x);
          const acc = stackBase.get(key) ?? { pos: 0, neg: 0 };
          base = p.y >= 0 ? acc.pos : acc.neg;
          if (p.y >= 0) acc.pos += p.y;
          else acc.neg += p.y;
          stackBase.set(key, acc);
        }
        const left = center - full / 2 + slot * w;
        if (!inX(left) || !inX(left + w)) continue;
        const top = sy(Math.max(base, base + p.y));
        const bottom = sy(Math.min(base, base + p.y));
        out.push(
          barRect(left, top, w, bottom - top, s.color, barmode === 'overlay' ? 0.7 : 1, tip(p.x, p.y)),
        );
      }
    } else {
      const step = Math.max(1, Math.ceil(s.points.length / MAX_MARKERS));
      const pts = step === 1 ? s.points : s.points.filter((_, i) => i % step === 0);
      if (s.lines) {
        let d = '';
        let pen = false;
        for (const p of pts) {
          const px = p.y === null ? NaN : xPos(p.x);
          const py = p.y === null ? NaN : sy(p.y);
          if (!Number.isFinite(px) || !Number.isFinite(py) || !inX(px) || !inY(py)) {
            pen = false;
            continue;
          }
          d += `${pen ? 'L' : 'M'}${n(px)} ${n(py)}`;
          pen = true;
        }
        if (d)
          out.push(`<path class="cellar-line" d="${d}" fill="none" stroke="${s.color}" stroke-width="2"/>`);
      }
      if (s.markers) {
        const withTips = pts.length <= MAX_TOOLTIPS;
        for (const p of pts) {
          if (p.y === null) continue;
          const px = xPos(p.x);
          const py = sy(p.y);
          if (!Number.isFinite(px) || !inX(px) || !inY(py)) continue;
          const body = withTips ? `>${tip(p.x, p.y)}</circle>` : '/>';
          out.push(
            `<circle class="cellar-point" cx="${n(px)}" cy="${n(py)}" r="${n(s.size / 2)}" fill="${s.color}"${body}`,
          );
        }
      }
      if (step > 1) skipped.push(`${s.name}: every ${step}th of ${s.points.length} points shown`);
    }
  }

  // frame, titles, legend, notes
  out.push(
    `<line x1="${n(m.left)}" x2="${n(m.left + plotW)}" y1="${n(m.top + plotH)}" y2="${n(m.top + plotH)}" stroke="#444444"/>`,
  );
  out.push(
    `<line x1="${n(m.left)}" x2="${n(m.left)}" y1="${n(m.top)}" y2="${n(m.top + plotH)}" stroke="#444444"/>`,
  );
  if (title) out.push(text(width / 2, 26, title, 'middle', 'cellar-title', ' font-size="16"'));
  if (xTitle)
    out.push(
      text(m.left + plotW / 2, m.top + plotH + 36, xTitle, 'middle', 'cellar-xtitle', ' font-size="12"'),
    );
  if (yTitle) {
    const cx = 16;
    const cy = m.top + plotH / 2;
    out.push(
      text(
        cx,
        cy,
        yTitle,
        'middle',
        'cellar-ytitle',
        ` font-size="12" transform="rotate(-90 ${n(cx)} ${n(cy)})"`,
      ),
    );
  }
  if (showLegend) {
    series.forEach((s, i) => {
      const lx = m.left + plotW + 14;
      const ly = m.top + 8 + i * 20;
      const swatch =
        s.kind === 'scatter' && !s.markers
          ? `<line x1="${n(lx)}" x2="${n(lx + 16)}" y1="${n(ly)}" y2="${n(ly)}" stroke="${s.color}" stroke-width="2"/>`
          : s.kind === 'scatter'
            ? `<circle cx="${n(lx + 8)}" cy="${n(ly)}" r="4" fill="${s.color}"/>`
            : `<rect x="${n(lx + 2)}" y="${n(ly - 6)}" width="12" height="12" fill="${s.color}"/>`;
      out.push(
        `<g class="cellar-legend-item">${swatch}${text(lx + 22, ly + 4, truncate(s.name, 22), 'start', 'cellar-legend')}</g>`,
      );
    });
  }
  skipped.forEach((note, i) => {
    out.push(
      text(4, height - 6 - (skipped.length - 1 - i) * 14, note, 'start', 'cellar-note', ' fill="#777777"'),
    );
  });
  out.push('</svg>');
  return out.join('');
}

function barRect(
  x: number,
  y: number,
  w: number,
  h: number,
  color: string,
  opacity: number,
  title: string,
): string {
  const op = opacity < 1 ? ` fill-opacity="${opacity}"` : '';
  return `<rect class="cellar-bar" x="${n(x)}" y="${n(y)}" width="${n(Math.max(0, w))}" height="${n(Math.max(0, h))}" fill="${color}"${op}>${title}</rect>`;
}

function tip(x: XVal, y: number): string {
  const xs = typeof x === 'number' ? formatValue(x) : x;
  return `<title>${escapeHtml(`${xs}, ${formatValue(y)}`)}</title>`;
}

function text(x: number, y: number, s: string, anchor: string, cls: string, extra = ''): string {
  return `<text class="${cls}" x="${n(x)}" y="${n(y)}" text-anchor="${anchor}"${extra}>${escapeHtml(s)}</text>`;
}

function truncate(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

function positive(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : undefined;
}

function n(v: number): string {
  return String(Math.round(v * 100) / 100);
}
