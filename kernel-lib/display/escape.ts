/**
 * display/escape — the single HTML escaping function of cellar's display layer. Every user-provided
 * string (titles, names, labels, cell values, colours) goes through `escapeHtml` before it is put
 * into HTML or SVG text or attributes, so `<script>` in a run name shows up as text.
 */

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/**
 * Escapes `&`, `<`, `>`, `"` and `'` so any value can be placed in HTML/SVG text and in quoted
 * attribute values. Non-strings are converted with `String()` first.
 *
 * @example
 * escapeHtml('<script>alert(1)</script>'); // '&lt;script&gt;alert(1)&lt;/script&gt;'
 */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}
