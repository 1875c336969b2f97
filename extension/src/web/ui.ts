/**
 * web/ui — the web app's small UI toolkit over `render/dom.ts`'s `h` (user text only ever goes through
 * `textContent`): elements, in-app links, loading/empty/error states, number and time formatting, and line
 * charts drawn by Plotly (loaded as /static/plotly.min.js; no hand-rolled charting).
 */
import { h, type Child, type ElementOptions } from '../render/dom.js';

/** A child of {@link el}: an element, text (wrapped in a span) or nothing. */
export type WebChild = HTMLElement | string | null | undefined | false;

/** Builds an element of the real document. */
export function el(tag: string, options: ElementOptions = {}, ...children: WebChild[]): HTMLElement {
  return h(document as never, tag, options, ...(children as Child[])) as unknown as HTMLElement;
}

/** A link inside the app (`#/…`) or to an API download (`/api/…`); the URL is built by the caller with encoded parts. */
export function link(href: string, text: string, className = 'cellar-Link'): HTMLElement {
  const a = el('a', { className, text });
  if (href.startsWith('#/') || href.startsWith('/api/')) (a as HTMLAnchorElement).href = href;
  return a;
}

/** A "loading…" placeholder. */
export function loading(what: string): HTMLElement {
  return el('div', { className: 'cellar-Loading', text: `Loading ${what}…`, attrs: { role: 'status' } });
}

/** An empty state with a hint of what to do. */
export function empty(message: string): HTMLElement {
  return el('div', { className: 'cellar-Empty', text: message });
}

/** An error shown where it happened. */
export function errorBox(e: unknown): HTMLElement {
  const err = e as { code?: string; message?: string };
  const text = err && err.message ? `${err.code ? `${err.code}: ` : ''}${err.message}` : String(e);
  return el('div', { className: 'cellar-Error', text, attrs: { role: 'alert' } });
}

/** Replaces the children of `node`. */
export function setChildren(node: HTMLElement, ...children: HTMLElement[]): void {
  node.replaceChildren(...children);
}

/**
 * A page that is a title over one card per item (models, pipelines): loading state, empty state, the error in
 * place, and a `refresh` that renders the page again after a change.
 */
export async function cardListPage<T>(
  root: HTMLElement,
  title: string,
  load: () => Promise<T[]>,
  opts: { card: (item: T, refresh: () => void) => HTMLElement; emptyText: string },
): Promise<void> {
  setChildren(root, el('h1', { text: title }), loading(title.toLowerCase()));
  try {
    const items = await load();
    const refresh = (): void => void cardListPage(root, title, load, opts);
    const cards = items.map((item) => opts.card(item, refresh));
    setChildren(root, el('h1', { text: title }), ...(cards.length ? cards : [empty(opts.emptyText)]));
  } catch (e) {
    setChildren(root, el('h1', { text: title }), errorBox(e));
  }
}

/** A table with a header row of labels and the given body rows. */
export function dataTable(header: string[], ...rows: HTMLElement[]): HTMLElement {
  return el(
    'table',
    { className: 'cellar-Table' },
    el('thead', {}, el('tr', {}, ...header.map((t) => el('th', { text: t })))),
    el('tbody', {}, ...rows),
  );
}

/** A number with up to 4 significant decimals. */
export function num(v: number | undefined): string {
  if (v === undefined) return '';
  return Math.abs(v) >= 1e5 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(3) : String(+v.toFixed(4));
}

/** An epoch-ms time as `YYYY-MM-DD HH:MM:SS` (UTC). */
export function time(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '';
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
}

/** A duration in ms as text. */
export function duration(start: number | null, end: number | null): string {
  if (start === null) return '';
  const ms = (end ?? Date.now()) - start;
  return ms < 1000
    ? `${ms} ms`
    : ms < 60_000
      ? `${(ms / 1000).toFixed(1)} s`
      : `${(ms / 60_000).toFixed(1)} min`;
}

interface PlotlyLike {
  newPlot(
    node: HTMLElement,
    data: unknown[],
    layout: Record<string, unknown>,
    config: Record<string, unknown>,
  ): Promise<unknown>;
}

/** Draws a line chart with Plotly; shows an error in place when Plotly is missing. */
export function lineChart(
  node: HTMLElement,
  title: string,
  series: Array<{ name: string; x: number[]; y: number[] }>,
): void {
  const plotly = (window as unknown as { Plotly?: PlotlyLike }).Plotly;
  if (!plotly) {
    node.replaceChildren(errorBox(new Error('Plotly did not load; charts are unavailable.')));
    return;
  }
  const dark = document.documentElement.dataset.theme === 'dark';
  void plotly.newPlot(
    node,
    series.map((s) => ({ type: 'scatter', mode: 'lines+markers', name: s.name, x: s.x, y: s.y })),
    {
      title: { text: title, font: { size: 14 } },
      margin: { l: 48, r: 16, t: 36, b: 36 },
      height: 260,
      paper_bgcolor: 'rgba(0,0,0,0)',
      plot_bgcolor: 'rgba(0,0,0,0)',
      font: { color: dark ? '#d8dee9' : '#1f2933' },
      xaxis: { title: { text: 'step' }, gridcolor: dark ? '#2e3742' : '#e4e7eb' },
      yaxis: { gridcolor: dark ? '#2e3742' : '#e4e7eb', zerolinecolor: dark ? '#3e4a57' : '#cbd2d9' },
    },
    { displaylogo: false, responsive: true },
  );
}
