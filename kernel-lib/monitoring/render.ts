/**
 * monitoring/render — how a monitoring report looks: an aligned text table (terminal), an HTML card with
 * offline SVG histograms (notebook), and a self-contained HTML page with Plotly histograms (Plotly's code is
 * embedded in the page, so it opens without network). Every name from the store is escaped.
 */
import { readFileSync } from 'node:fs';
import { escapeHtml } from '../display/escape.js';
import { resolveModule } from '../display/png.js';
import { figureToSvg } from '../display/svg.js';
import type { Figure } from '../display/figure.js';
import type { ColumnDrift } from './drift.js';
import type { MonitorReportData } from './report.js';

function num(v: number | null | undefined, digits = 4): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '-';
  if (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e6)) return v.toExponential(2);
  return String(Number(v.toFixed(digits)));
}

function pct(v: number | null | undefined): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '-' : `${(100 * v).toFixed(1)}%`;
}

function signedPct(v: number): string {
  return `${v >= 0 ? '+' : ''}${(100 * v).toFixed(1)} pts`;
}

const HEADERS = [
  'FEATURE',
  'KIND',
  'PSI',
  'TEST',
  'STATISTIC',
  'P-VALUE',
  'NULLS',
  'NULL CHANGE',
  'OUT OF RANGE',
  'DRIFT',
];

function rowCells(d: ColumnDrift): string[] {
  const test = d.ks ? 'KS' : d.chiSquare ? 'chi2' : '-';
  const t = d.ks ?? d.chiSquare;
  return [
    d.name,
    d.kind,
    num(d.psi),
    test,
    num(t?.statistic),
    num(t?.pValue),
    pct(d.nullRate),
    signedPct(d.nullRateChange),
    pct(d.outOfRange),
    d.drifted ? 'YES' : 'no',
  ];
}

function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/g;
const safe = (s: string): string =>
  s.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);

/** The report as text for a terminal. */
export function renderText(r: MonitorReportData): string {
  const lines = [
    `${safe(r.model)} version ${r.version} (${safe(r.reference)}): ${r.rows} logged predictions` +
      `${r.window.since ? ` since ${r.window.since}` : ''}, reference ${r.referenceRows} training rows`,
  ];
  if (r.rows === 0) {
    lines.push('No predictions logged in this window.');
  } else {
    const rows = r.features.map(rowCells).map((c) => c.map(safe));
    if (r.prediction) rows.push(rowCells(r.prediction));
    lines.push('', table(HEADERS, rows));
  }
  if (r.performance) {
    const p = r.performance;
    const tr = p.training;
    lines.push(
      '',
      `Live performance on ${p.n} labelled predictions: RMSE ${num(p.rmse)}, MAE ${num(p.mae)}, R2 ${num(p.r2)}` +
        ` (training RMSE ${num(tr.training_rmse)}, test RMSE ${num(tr.test_rmse)})`,
    );
  }
  lines.push(
    '',
    r.drifted.length ? `DRIFT: ${r.drifted.map(safe).join(', ')}` : 'No drift above the thresholds.',
  );
  return lines.join('\n') + '\n';
}

function driftFigure(d: ColumnDrift): Figure {
  const h = d.histogram;
  const x = h.categories ?? (h.edges ?? []).slice(0, -1).map((e, i) => (e + h.edges![i + 1]!) / 2);
  return {
    data: [
      { type: 'bar', name: 'training', x, y: h.reference, opacity: 0.6 },
      { type: 'bar', name: 'served', x, y: h.current, opacity: 0.6 },
    ],
    layout: {
      title: d.name,
      barmode: 'overlay',
      width: 420,
      height: 260,
      yaxis: { title: 'share' },
      margin: { l: 50, r: 10, t: 40, b: 40 },
    },
  };
}

function summaryHtml(r: MonitorReportData): string {
  const rows = [...r.features, ...(r.prediction ? [r.prediction] : [])];
  const th = HEADERS.map((h) => `<th style="text-align:left;padding:2px 8px">${escapeHtml(h)}</th>`).join('');
  const body = rows
    .map((d) => {
      const cells = rowCells(d)
        .map((c) => `<td style="padding:2px 8px">${escapeHtml(c)}</td>`)
        .join('');
      return `<tr style="${d.drifted ? 'background:#fde2e1' : ''}">${cells}</tr>`;
    })
    .join('');
  const perf = r.performance
    ? `<p>Live performance on ${r.performance.n} labelled predictions: RMSE <b>${num(r.performance.rmse)}</b>, MAE ${num(
        r.performance.mae,
      )}, R² ${num(r.performance.r2)} (training RMSE ${num(r.performance.training.training_rmse)}, test RMSE ${num(
        r.performance.training.test_rmse,
      )})</p>`
    : '<p>No labels logged for this window yet.</p>';
  const verdict = r.drifted.length
    ? `<p style="color:#b00020"><b>Drift:</b> ${escapeHtml(r.drifted.join(', '))}</p>`
    : '<p style="color:#1b5e20">No drift above the thresholds.</p>';
  return (
    `<h3 style="margin:4px 0">${escapeHtml(r.model)} v${r.version} <span style="font-weight:normal;color:#666">` +
    `${escapeHtml(r.reference)}</span></h3>` +
    `<p>${r.rows} logged predictions${r.window.since ? ` since ${escapeHtml(r.window.since)}` : ''} until ${escapeHtml(
      r.window.until,
    )}; reference: ${r.referenceRows} training rows.</p>` +
    verdict +
    `<table style="border-collapse:collapse;font-family:monospace;font-size:12px"><thead><tr>${th}</tr></thead><tbody>${body}</tbody></table>` +
    perf
  );
}

/** The notebook card: summary table and one offline SVG histogram per column. */
export function renderCardHtml(r: MonitorReportData): string {
  const cols = [...r.features, ...(r.prediction ? [r.prediction] : [])];
  const plots = cols
    .map((d) => `<div style="display:inline-block">${figureToSvg(driftFigure(d))}</div>`)
    .join('');
  return `<div class="cellar-monitor" style="font-family:sans-serif;font-size:13px">${summaryHtml(r)}<div>${plots}</div></div>`;
}

function plotlySource(): string | null {
  const file = resolveModule('plotly.js-dist-min');
  if (!file) return null;
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/** `</script>` inside embedded JSON or code would end the script element early. */
function scriptSafe(text: string): string {
  return text.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}

/** A self-contained HTML page: the summary, Plotly histograms (Plotly embedded), and the report JSON. */
export function renderReportHtml(r: MonitorReportData): string {
  const cols = [...r.features, ...(r.prediction ? [r.prediction] : [])];
  const plotly = plotlySource();
  const figures = cols.map(driftFigure);
  const divs = cols
    .map((_, i) => `<div id="cellar-plot-${i}" class="cellar-plot" style="display:inline-block"></div>`)
    .join('');
  const fallback = plotly
    ? ''
    : cols.map((_, i) => `<div style="display:inline-block">${figureToSvg(figures[i]!)}</div>`).join('');
  const script = plotly
    ? `<script>${scriptSafe(plotly)}</script><script>const figures = ${scriptSafe(JSON.stringify(figures))};` +
      `figures.forEach((f, i) => Plotly.newPlot('cellar-plot-' + i, f.data, f.layout, {displaylogo: false}));</script>`
    : '';
  return (
    `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${escapeHtml(`${r.model} v${r.version} monitoring`)}</title>` +
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">` +
    `</head><body style="font-family:sans-serif;font-size:13px">${summaryHtml(r)}<div>${plotly ? divs : fallback}</div>` +
    `<script type="application/json" id="cellar-report">${scriptSafe(JSON.stringify(r))}</script>${script}</body></html>\n`
  );
}
