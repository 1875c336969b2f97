import { inspect } from 'node:util';
import {
  PLOTLY_MIME,
  bar,
  figureBundle,
  figureToSvg,
  histogram,
  line,
  plot,
  plotHtml,
  scatter,
  setDisplaySink,
  type MimeBundle,
} from '../../../kernel-lib/display/index.js';
import { CellarError } from '../../../kernel-lib/errors.js';

const count = (s: string, re: RegExp): number => (s.match(re) ?? []).length;
const points = (html: string): number => count(html, /class="cellar-point"/g);
const bars = (html: string): number => count(html, /class="cellar-bar"/g);
const EXTERNAL = /https?:|url\(|src=|href=|<script|xlink|@import/i;
const XSS = '<script>alert("x")</script>';

let shown: { bundle: MimeBundle; primary: string }[];
beforeEach(() => {
  shown = [];
  setDisplaySink((bundle, primary) => shown.push({ bundle, primary }));
});
afterEach(() => {
  setDisplaySink(null);
});

describe('plot', () => {
  it('emits one bundle with the Plotly JSON, an HTML fallback and a text summary', () => {
    const result = plot(scatter([1, 2, 3], [4, 5, 6], { name: 'a', title: 'T' }));
    expect(shown).toHaveLength(1);
    expect(shown[0]!.primary).toBe(PLOTLY_MIME);
    expect(shown[0]!.bundle).toBe(result);
    expect(Object.keys(result).sort()).toEqual([PLOTLY_MIME, 'text/html', 'text/plain'].sort());
    const fig = result[PLOTLY_MIME];
    expect(fig.data).toEqual([{ type: 'scatter', mode: 'markers', x: [1, 2, 3], y: [4, 5, 6], name: 'a' }]);
    expect(fig.layout).toEqual({ title: { text: 'T' } });
    expect(result['text/plain']).toBe('Figure "T": 1 trace — scatter "a" (3 points)');
    expect(result['text/html']).toContain('<svg');
  });

  it('sends JSON-safe data: typed arrays, Series-like objects, Dates and non-finite numbers', () => {
    const series = { toArray: () => [1, 2] };
    const fig = figureBundle([
      { type: 'scatter', x: new Float64Array([0.1 + 0.2, 2]), y: series },
      {
        type: 'scatter',
        x: [new Date('2024-01-02T00:00:00Z'), new Date('2024-01-02T03:04:05.678Z')],
        y: [NaN, Infinity],
      },
    ])[PLOTLY_MIME];
    expect(JSON.parse(JSON.stringify(fig))).toEqual(fig);
    expect(fig.data[0]!.x).toEqual([0.30000000000000004, 2]);
    expect(fig.data[0]!.y).toEqual([1, 2]);
    expect(fig.data[1]!.x).toEqual(['2024-01-02', '2024-01-02 03:04:05.678']);
    expect(fig.data[1]!.y).toEqual([null, null]);
  });

  it('accepts traces plus a layout, and lists of figures', () => {
    const fig = plot([scatter([1], [1]), bar(['a'], [2])], { title: 'both' })[PLOTLY_MIME];
    expect(fig.data.map((t) => t.type)).toEqual(['scatter', 'bar']);
    expect(fig.layout.title).toBe('both');
  });

  it('prints a short text form instead of the whole bundle', () => {
    const result = plot(line([1, 2], [3, 4]));
    expect(inspect(result)).toBe(result['text/plain']);
  });

  it('prints nothing and still returns the bundle outside tslab without a sink', () => {
    setDisplaySink(null);
    const out = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      const result = plot(bar(['a', 'b'], [1, 2]));
      expect(result['text/html']).toContain('<svg');
      expect(out).not.toHaveBeenCalled();
      expect(log).not.toHaveBeenCalled();
    } finally {
      out.mockRestore();
      log.mockRestore();
    }
  });

  it('rejects things that are not figures with INVALID_INPUT', () => {
    expect(() => plot(42 as never)).toThrow(CellarError);
    expect(() => plot([null] as never)).toThrow(/figure/);
  });

  it('plotHtml emits only the static rendering', () => {
    const result = plotHtml(histogram([1, 2, 2, 3]));
    expect(Object.keys(result).sort()).toEqual(['text/html', 'text/plain']);
    expect(shown[0]!.primary).toBe('text/html');
  });
});

describe('SVG fallback', () => {
  it('draws one marker per point and a line through them', () => {
    const html = figureBundle(
      scatter([1, 2, 3, 4, 5, 6, 7], [3, 1, 4, 1, 5, 9, 2], { mode: 'lines+markers' }),
    )['text/html'];
    expect(points(html)).toBe(7);
    const d = /class="cellar-line" d="([^"]+)"/.exec(html)![1]!;
    expect(count(d, /M/g)).toBe(1);
    expect(count(d, /L/g)).toBe(6);
  });

  it('breaks lines at nulls and skips null markers', () => {
    const svg = figureToSvg({
      data: [{ type: 'scatter', mode: 'lines+markers', x: [1, 2, 3, 4], y: [1, null, 3, 4] }],
    });
    expect(points(svg)).toBe(3);
    expect(count(/class="cellar-line" d="([^"]+)"/.exec(svg)![1]!, /M/g)).toBe(2);
  });

  it('draws one bar per category and trace', () => {
    const svg = figureToSvg([
      ...bar(['a', 'b', 'c', 'd'], [1, 2, 3, 4]).data,
      ...bar(['a', 'b', 'c', 'd'], [4, 3, 2, 1]).data,
    ]);
    expect(bars(svg)).toBe(8);
    for (const c of ['a', 'b', 'c', 'd']) expect(svg).toContain(`>${c}</text>`);
  });

  it('bins a histogram so the bar counts add up to the number of values', () => {
    const values = Array.from({ length: 100 }, (_, i) => i);
    const svg = figureToSvg(histogram(values, { nbins: 5 }));
    expect(bars(svg)).toBe(5);
    const counts = [...svg.matchAll(/class="cellar-bar"[^>]*><title>[^<]*, (\d+)<\/title>/g)].map((m) =>
      Number(m[1]),
    );
    expect(counts.reduce((a, b) => a + b, 0)).toBe(100);
  });

  it('draws axes with ticks, axis titles, the title and a legend', () => {
    const svg = figureToSvg({
      data: [
        { type: 'scatter', name: 'train', x: [0, 10], y: [0, 1] },
        { type: 'scatter', name: 'test', x: [0, 10], y: [1, 0] },
      ],
      layout: { title: 'Loss', xaxis: { title: { text: 'step' } }, yaxis: { title: 'value' } },
    });
    expect(count(svg, /class="cellar-xtick"/g)).toBeGreaterThanOrEqual(3);
    expect(count(svg, /class="cellar-ytick"/g)).toBeGreaterThanOrEqual(3);
    expect(svg).toMatch(/class="cellar-title"[^>]*>Loss</);
    expect(svg).toMatch(/class="cellar-xtitle"[^>]*>step</);
    expect(svg).toMatch(/class="cellar-ytitle"[^>]*>value</);
    expect(count(svg, /class="cellar-legend-item"/g)).toBe(2);
  });

  it('uses a date axis for Dates', () => {
    const days = [0, 1, 2, 3].map((d) => new Date(Date.UTC(2024, 0, 1 + d)));
    const svg = figureToSvg(line(days, [1, 2, 3, 4]));
    expect(svg).toMatch(/class="cellar-xtick"[^>]*>2024-01-0\d</);
  });

  it('escapes every user string and refuses unsafe colours', () => {
    const html = figureBundle(
      { data: [{ type: 'bar', name: XSS, x: [XSS], y: [1], marker: { color: 'red" onload="alert(1)' } }] },
      { title: XSS, xaxis: { title: XSS } },
    )['text/html'];
    expect(html).not.toContain('<script');
    expect(html).not.toContain('onload');
    expect(html).toContain('&lt;script&gt;');
  });

  it('references nothing external', () => {
    const html = figureBundle([
      ...scatter([1, 2], [3, 4]).data,
      ...histogram([1, 2, 3]).data,
      { type: 'pie', values: [1, 2], labels: ['a', 'b'] },
    ])['text/html'];
    expect(html).not.toMatch(EXTERNAL);
    expect(html).toContain('pie trace');
  });

  it('adds the SVG namespace only for standalone files', () => {
    expect(figureToSvg(scatter([1], [1]))).not.toContain('xmlns');
    expect(figureToSvg(scatter([1], [1]), { standalone: true })).toContain(
      'xmlns="http://www.w3.org/2000/svg"',
    );
  });
});

describe('builders', () => {
  it('build plain Plotly figures', () => {
    expect(line([1, 2], [3, 4], { name: 'l', color: '#ff0000', xTitle: 'x' })).toEqual({
      data: [
        {
          type: 'scatter',
          mode: 'lines',
          x: [1, 2],
          y: [3, 4],
          name: 'l',
          marker: { color: '#ff0000' },
          line: { color: '#ff0000' },
        },
      ],
      layout: { xaxis: { title: { text: 'x' } } },
    });
    expect(histogram(new Float64Array([1, 2]), { nbins: 3 }).data[0]).toEqual({
      type: 'histogram',
      x: [1, 2],
      nbinsx: 3,
    });
    expect(bar(['a'], [1]).data[0]).toEqual({ type: 'bar', x: ['a'], y: [1] });
  });
});
