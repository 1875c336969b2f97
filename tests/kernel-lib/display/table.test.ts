import pl from 'nodejs-polars';
import { setDisplaySink, table, tableHtml, type MimeBundle } from '../../../kernel-lib/display/index.js';
import { CellarError } from '../../../kernel-lib/errors.js';

const XSS = '<script>alert(1)</script>';
const dataRows = (html: string): number => (html.match(/<tr><td/g) ?? []).length;

describe('table', () => {
  let shown: { bundle: MimeBundle; primary: string }[];
  beforeEach(() => {
    shown = [];
    setDisplaySink((bundle, primary) => shown.push({ bundle, primary }));
  });
  afterEach(() => {
    setDisplaySink(null);
  });

  it('emits an HTML table with a text summary of the shape', () => {
    const result = table(pl.DataFrame({ a: [1.5, null], b: ['x', 'y'] }));
    expect(shown).toEqual([{ bundle: result, primary: 'text/html' }]);
    expect(Object.keys(result).sort()).toEqual(['text/html', 'text/plain']);
    expect(result['text/plain']).toBe('DataFrame: 2 rows × 2 columns; a: f64, b: str');
    expect(result['text/html']).toContain('<table');
    expect(result['text/html']).toContain('>null</td>');
    expect(result['text/html']).toContain('2 rows × 2 columns');
  });

  it('escapes column names and values', () => {
    const html = tableHtml([{ [XSS]: XSS, ok: `"quoted" & 'single'` }], { title: XSS });
    expect(html).not.toContain('<script');
    expect(html.match(/&lt;script&gt;alert\(1\)&lt;\/script&gt;/g)).toHaveLength(4); // title, header, cell, shape summary
    expect(html).toContain('&quot;quoted&quot; &amp; &#39;single&#39;');
  });

  it('shows the first and last rows of a long table', () => {
    const df = pl.DataFrame({ i: Array.from({ length: 120 }, (_, k) => k) });
    const html = tableHtml(df, { maxRows: 10 });
    expect(dataRows(html)).toBe(11); // 5 + the "more rows" line + 5
    expect(html).toContain('110 more rows');
    expect(html).toContain('>119</td>');
    expect(html).not.toContain('>60</td>');
    expect(html).toContain('showing first 5 and last 5 rows');
  });

  it('shows at most maxRows rows by default (50)', () => {
    const html = tableHtml({ i: Array.from({ length: 51 }, (_, k) => k) });
    expect(dataRows(html)).toBe(51); // 25 + the "more rows" line + 25
  });

  it('formats Dates in UTC and Date columns as days', () => {
    const df = pl.DataFrame({
      t: [new Date('2024-03-04T05:06:07Z')],
      d: pl.Series('d', [new Date('2024-03-04T00:00:00Z')]).cast(pl.Date),
    });
    const html = tableHtml(df);
    expect(html).toContain('2024-03-04 05:06:07');
    expect(html).toMatch(/>2024-03-04<\/td>/);
  });

  it('rejects a bad maxRows with INVALID_PARAMETER', () => {
    expect(() => table([{ a: 1 }], { maxRows: 0 })).toThrow(CellarError);
    try {
      tableHtml([{ a: 1 }], { maxRows: 2.5 });
    } catch (e) {
      expect((e as CellarError).code).toBe('INVALID_PARAMETER');
    }
  });
});
