/**
 * render/dom — the small DOM surface the extension's views are built with, and `h`, which builds elements
 * from it. Every piece of user data (run names, params, tags, messages) goes in through `textContent`;
 * nothing here ever sets `innerHTML`, so HTML or script in a run name is shown as text. Views take a
 * `DocumentLike` so tests can render them with a tiny fake document (no browser, no jsdom) — the real
 * `document` is passed in the browser.
 */

/** The element operations views use (a subset of the DOM's `HTMLElement`). */
export interface ElementLike {
  className: string;
  textContent: string | null;
  title: string;
  appendChild(child: ElementLike): unknown;
  setAttribute(name: string, value: string): void;
  addEventListener(type: string, listener: (event: unknown) => void): void;
}

/** Creates elements (a subset of the DOM's `Document`). */
export interface DocumentLike {
  createElement(tag: string): ElementLike;
}

/** Options of {@link h}. */
export interface ElementOptions {
  /** Space-separated CSS classes (`cellar-Name` …). */
  className?: string;
  /** Text content (set with `textContent`, never parsed as HTML). */
  text?: string;
  /** Tooltip. */
  title?: string;
  /** Attributes (`href` only for http(s) URLs, see {@link safeHref}). */
  attrs?: Record<string, string>;
  /** Click handler. */
  onClick?: (event: unknown) => void;
}

/** A child of {@link h}: an element, text (wrapped in a span) or nothing. */
export type Child = ElementLike | string | null | undefined | false;

/**
 * Builds `<tag>` with options and children; strings become `<span>` elements with that text.
 *
 * @example
 * h(document, 'div', { className: 'cellar-RunCard' }, h(document, 'b', { text: run.name }))
 */
export function h(
  doc: DocumentLike,
  tag: string,
  options: ElementOptions = {},
  ...children: Child[]
): ElementLike {
  const el = doc.createElement(tag);
  if (options.className) el.className = options.className;
  if (options.title !== undefined) el.title = options.title;
  for (const [k, v] of Object.entries(options.attrs ?? {})) {
    if (/^on/i.test(k)) continue; // never an inline handler
    if (k === 'href' && safeHref(v) === null) continue;
    el.setAttribute(k, v);
  }
  if (options.text !== undefined) el.textContent = options.text;
  if (options.onClick) el.addEventListener('click', options.onClick);
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (typeof child === 'string') {
      const span = doc.createElement('span');
      span.textContent = child;
      el.appendChild(span);
    } else {
      el.appendChild(child);
    }
  }
  return el;
}

/** `url` when it is an absolute http(s) URL, else null (no `javascript:`, `data:` or relative links). */
export function safeHref(url: string): string | null {
  return /^https?:\/\/[^\s]+$/i.test(url.trim()) ? url.trim() : null;
}

/** A two-column table of label → value rows (values as text). */
export function keyValueTable(
  doc: DocumentLike,
  rows: ReadonlyArray<readonly [string, string]>,
  className = 'cellar-KeyValue',
): ElementLike {
  const table = h(doc, 'table', { className });
  const body = h(doc, 'tbody');
  for (const [k, v] of rows)
    body.appendChild(h(doc, 'tr', {}, h(doc, 'th', { text: k }), h(doc, 'td', { text: v })));
  table.appendChild(body);
  return table;
}

/** A table with a header row and text cells. */
export function dataTable(
  doc: DocumentLike,
  header: readonly string[],
  rows: ReadonlyArray<readonly string[]>,
  className = 'cellar-Table',
): ElementLike {
  const table = h(doc, 'table', { className });
  const head = h(doc, 'thead');
  head.appendChild(h(doc, 'tr', {}, ...header.map((c) => h(doc, 'th', { text: c }))));
  const body = h(doc, 'tbody');
  for (const row of rows) body.appendChild(h(doc, 'tr', {}, ...row.map((c) => h(doc, 'td', { text: c }))));
  table.appendChild(head);
  table.appendChild(body);
  return table;
}
