/**
 * display/svg-model — turns a normalised Plotly figure into what the SVG renderer draws: the x axis
 * kind (linear, date or category), one drawable series per supported trace (points, bars or
 * histogram bins), the data extents, and safe colours. Pure functions, no markup.
 */
import { escapeHtml } from './escape.js';
import type { PlotlyFigure } from './figure.js';
import { niceStep } from './scale.js';

/** Plotly's classic default colour sequence. */
export const PALETTE = [
  '#1f77b4',
  '#ff7f0e',
  '#2ca02c',
  '#d62728',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#bcbd22',
  '#17becf',
];

/** How the x axis maps values: numbers, UTC dates (epoch ms) or categories (strings). */
export type XKind = 'linear' | 'date' | 'category';
/** An x value after preparation: a number (linear/date axis) or a category. */
export type XVal = number | string;

/** One drawable series: scatter points, bars (also categorical histograms) or histogram bins. */
export interface Series {
  kind: 'scatter' | 'bar' | 'hist';
  name: string;
  color: string;
  lines: boolean;
  markers: boolean;
  size: number;
  points: { x: XVal; y: number | null }[];
  bins: { x0: number; x1: number; count: number }[];
  barIndex: number;
}

const DATE_RE = /^\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?$/;

/** The x axis kind: the layout's `xaxis.type` if set, else inferred from the x values. */
export function xKindOf(fig: PlotlyFigure, forced: unknown): XKind {
  if (forced === 'category' || forced === 'date' || forced === 'linear') return forced;
  let numeric = true;
  let dates = true;
  let any = false;
  for (const t of fig.data) {
    const type = traceType(t);
    if (type === null) continue;
    const xs = Array.isArray(t.x) ? t.x : type === 'histogram' && Array.isArray(t.y) ? t.y : [];
    for (const v of xs) {
      if (v === null) continue;
      any = true;
      if (typeof v !== 'number') numeric = false;
      if (typeof v !== 'string' || !DATE_RE.test(v)) dates = false;
    }
  }
  return !any || numeric ? 'linear' : dates ? 'date' : 'category';
}

function traceType(t: Record<string, unknown>): 'scatter' | 'bar' | 'histogram' | null {
  const type = t.type ?? 'scatter';
  return type === 'scatter' || type === 'scattergl'
    ? 'scatter'
    : type === 'bar' || type === 'histogram'
      ? type
      : null;
}

/** One drawable series per supported trace; unsupported traces are described in `skipped`. */
export function prepare(fig: PlotlyFigure, kind: XKind, skipped: string[]): Series[] {
  const out: Series[] = [];
  let barIndex = 0;
  fig.data.forEach((t, i) => {
    const type = traceType(t);
    const name = typeof t.name === 'string' ? t.name : `trace ${i}`;
    if (type === null) {
      skipped.push(
        `${typeof t.type === 'string' ? t.type : 'unknown'} trace "${name}" not shown in this static preview`,
      );
      return;
    }
    const marker = (t.marker ?? {}) as Record<string, unknown>;
    const lineAttr = (t.line ?? {}) as Record<string, unknown>;
    const color =
      safeColor(type === 'scatter' && t.mode === 'lines' ? (lineAttr.color ?? marker.color) : marker.color) ??
      PALETTE[i % PALETTE.length]!;
    const s: Series = {
      kind: 'scatter',
      name,
      color,
      lines: false,
      markers: false,
      size: 6,
      points: [],
      bins: [],
      barIndex: 0,
    };
    if (type === 'histogram') {
      const values = (Array.isArray(t.x) ? t.x : Array.isArray(t.y) ? t.y : []).filter((v) => v !== null);
      if (kind === 'category') {
        const counts = new Map<string, number>();
        for (const v of values) counts.set(String(v), (counts.get(String(v)) ?? 0) + 1);
        s.kind = 'bar';
        s.barIndex = barIndex++;
        s.points = [...counts].map(([x, y]) => ({ x, y }));
      } else {
        s.kind = 'hist';
        const nums = values.map((v) => xNumber(v, kind)).filter((v): v is number => v !== null);
        s.bins = bin(nums, typeof t.nbinsx === 'number' ? t.nbinsx : undefined);
      }
    } else {
      const ys = Array.isArray(t.y) ? t.y : [];
      const xs = Array.isArray(t.x) ? t.x : ys.map((_, j) => j);
      const len = Math.min(xs.length, ys.length);
      for (let j = 0; j < len; j++) {
        const x = kind === 'category' ? (xs[j] === null ? null : String(xs[j])) : xNumber(xs[j], kind);
        const y = typeof ys[j] === 'number' ? (ys[j] as number) : null;
        if (x !== null) s.points.push({ x, y });
      }
      if (type === 'bar') {
        s.kind = 'bar';
        s.barIndex = barIndex++;
      } else {
        const mode = typeof t.mode === 'string' ? t.mode : len < 20 ? 'lines+markers' : 'lines';
        s.lines = mode.includes('lines');
        s.markers = mode.includes('markers');
        const size = Number(marker.size);
        if (Number.isFinite(size) && size > 0 && size < 100) s.size = size;
      }
    }
    out.push(s);
  });
  return out;
}

/** The numeric position of an x value on a linear or date (epoch ms, UTC) axis, or null. */
export function xNumber(v: unknown, kind: XKind): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v !== 'string') return null;
  if (kind === 'date') {
    let s = v.replace(' ', 'T');
    if (!/(Z|[+-]\d{2}:?\d{2})$/.test(s)) s += s.length === 10 ? 'T00:00:00Z' : 'Z';
    const ms = Date.parse(s);
    return Number.isNaN(ms) ? null : ms;
  }
  const num = Number(v);
  return v.trim() !== '' && Number.isFinite(num) ? num : null;
}

/** Equal-width bins on a nice step, about `target` of them (Sturges' rule by default). */
function bin(values: number[], target?: number): { x0: number; x1: number; count: number }[] {
  if (values.length === 0) return [];
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const want = Math.min(200, Math.max(1, Math.round(target ?? Math.ceil(Math.log2(values.length)) + 1)));
  const width = min === max ? Math.max(Math.abs(min) * 0.1, 1) : niceStep(max - min, want);
  const start = min === max ? min - width / 2 : Math.floor(min / width) * width;
  const count = Math.max(1, Math.floor((max - start) / width) + 1);
  const counts = new Array<number>(count).fill(0);
  for (const v of values) counts[Math.min(count - 1, Math.floor((v - start) / width))]! += 1;
  return counts.map((c, i) => ({ x0: start + i * width, x1: start + (i + 1) * width, count: c }));
}

/** The categories of all series, in first-seen order. */
export function categoriesOf(series: Series[]): string[] {
  const seen = new Set<string>();
  for (const s of series) for (const p of s.points) seen.add(String(p.x));
  return [...seen];
}

/** Bar width on a numeric axis: 80 % of the smallest gap between bar positions. */
export function numericBarWidth(series: Series[]): number {
  const xs = [
    ...new Set(series.filter((s) => s.kind === 'bar').flatMap((s) => s.points.map((p) => p.x as number))),
  ];
  xs.sort((a, b) => a - b);
  let gap = Infinity;
  for (let i = 1; i < xs.length; i++) gap = Math.min(gap, xs[i]! - xs[i - 1]!);
  return Number.isFinite(gap) && gap > 0 ? gap * 0.8 : 0.8;
}

/** The x data extent of numeric series (scatter padded by 3 %, bars by half a bar). */
export function xExtent(series: Series[], barWidth: number): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  let padded = false;
  for (const s of series) {
    if (s.kind === 'hist') {
      for (const b of s.bins) {
        lo = Math.min(lo, b.x0);
        hi = Math.max(hi, b.x1);
      }
    }
    for (const p of s.points) {
      const x = p.x as number;
      const half = s.kind === 'bar' ? barWidth / 2 : 0;
      lo = Math.min(lo, x - half);
      hi = Math.max(hi, x + half);
      if (s.kind === 'scatter') padded = true;
    }
  }
  if (!Number.isFinite(lo)) return [0, 1];
  if (lo === hi) return [lo - 1, hi + 1];
  const pad = padded ? (hi - lo) * 0.03 : 0;
  return [lo - pad, hi + pad];
}

/** The y data extent; bars and histograms include 0, stacked bars their sums. */
export function yExtent(series: Series[], stacked: boolean): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  const sums = new Map<string, { pos: number; neg: number }>();
  for (const s of series) {
    if (s.kind !== 'scatter') {
      lo = Math.min(lo, 0);
      hi = Math.max(hi, 0);
    }
    for (const b of s.bins) hi = Math.max(hi, b.count);
    for (const p of s.points) {
      if (p.y === null) continue;
      let v = p.y;
      if (s.kind === 'bar' && stacked) {
        const acc = sums.get(String(p.x)) ?? { pos: 0, neg: 0 };
        if (v >= 0) v = acc.pos += v;
        else v = acc.neg += v;
        sums.set(String(p.x), acc);
      }
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  }
  return Number.isFinite(lo) ? [lo, hi] : [0, 1];
}

/** A user-given axis range `[a, b]` as numbers, or null when absent or invalid. */
export function rangeOf(range: unknown, kind: XKind): [number, number] | null {
  if (!Array.isArray(range) || range.length !== 2 || kind === 'category') return null;
  const a = xNumber(range[0], kind);
  const b = xNumber(range[1], kind);
  return a !== null && b !== null && a < b ? [a, b] : null;
}

/** Accepts only plain CSS colours (hex, rgb/rgba/hsl/hsla with numbers, or a keyword); else null. */
export function safeColor(c: unknown): string | null {
  if (typeof c !== 'string') return null;
  const s = c.trim();
  const ok =
    /^#[0-9a-fA-F]{3,8}$/.test(s) ||
    /^(rgb|rgba|hsl|hsla)\(\s*[-\d.%\s,]+\)$/.test(s) ||
    /^[a-zA-Z]{3,20}$/.test(s);
  return ok ? escapeHtml(s) : null;
}
