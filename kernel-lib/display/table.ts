/**
 * display/table — DataFrames (and anything `toDataFrame` accepts) as HTML tables: column names with
 * their types, the first and last rows when there are more than `maxRows`, and the shape. Every
 * name and value is escaped, so a run name containing `<script>` shows up as text.
 */
import type { DataFrame } from 'nodejs-polars';
import { toDataFrame, toRows, type DataFrameLike } from '../data/frame.js';
import { CellarError } from '../errors.js';
import { escapeHtml } from './escape.js';
import { formatValue } from './scale.js';
import { displayBundle, type MimeBundle } from './sink.js';

/** Options of `table` and `tableHtml`. */
export interface TableOptions {
  /** Rows shown; above this the first and last `maxRows / 2` are shown. Default 50. */
  maxRows?: number;
  /** Columns shown; the rest are counted in the summary. Default 40. */
  maxColumns?: number;
  /** A caption above the table. */
  title?: string;
}

/** The bundle `table` emits and returns. */
export interface TableBundle extends MimeBundle {
  'text/html': string;
  'text/plain': string;
}

const MAX_CELL_CHARS = 200;
const CELL = 'padding:2px 8px;border-bottom:1px solid #ddd;white-space:nowrap';

/**
 * Renders a table as an HTML string (see `table`) without displaying it.
 *
 * @throws CellarError INVALID_PARAMETER for a bad `maxRows`/`maxColumns`; INVALID_INPUT when `data`
 *   is not a table.
 */
export function tableHtml(data: DataFrameLike, opts: TableOptions = {}): string {
  return htmlOf(tableView(data, opts), opts.title);
}

function htmlOf(view: TableView, title: string | undefined): string {
  const { df, columns, head, tail, hiddenRows } = view;
  const dtypes = columns.map((c) => shortType(String(df.getColumn(c).dtype)));
  const out: string[] = ['<div class="cellar-table" style="max-width:100%;overflow-x:auto">'];
  if (title !== undefined) out.push(`<div class="cellar-table-title"><b>${escapeHtml(title)}</b></div>`);
  out.push('<table style="border-collapse:collapse;font-size:12px;font-family:monospace">');
  out.push(`<thead><tr><th style="${CELL}"></th>`);
  columns.forEach((c, j) => {
    out.push(
      `<th style="${CELL};text-align:left">${escapeHtml(c)}<br><span style="font-weight:normal;color:#777">` +
        `${escapeHtml(dtypes[j])}</span></th>`,
    );
  });
  out.push('</tr></thead><tbody>');
  const row = (r: Record<string, unknown>, index: number): void => {
    out.push(`<tr><td style="${CELL};color:#777">${index}</td>`);
    columns.forEach((c, j) => out.push(cell(r[c], dtypes[j] ?? '')));
    out.push('</tr>');
  };
  head.forEach((r, i) => row(r, i));
  if (hiddenRows > 0) {
    out.push(
      `<tr><td style="${CELL};color:#777" colspan="${columns.length + 1}">… ${hiddenRows} more rows …</td></tr>`,
    );
  }
  const tailStart = df.height - tail.length;
  tail.forEach((r, i) => row(r, tailStart + i));
  out.push('</tbody></table>');
  out.push(
    `<div class="cellar-table-shape" style="color:#777;font-size:11px">${escapeHtml(summary(view))}</div>`,
  );
  out.push('</div>');
  return out.join('');
}

/**
 * Shows a DataFrame (or rows, columns, a danfo frame) as an HTML table with its shape, as
 * `text/html` plus a `text/plain` summary; returns that bundle. Outside tslab nothing is printed.
 *
 * @throws CellarError INVALID_PARAMETER for a bad `maxRows`/`maxColumns`; INVALID_INPUT when `data`
 *   is not a table.
 * @example
 * table(readParquet('data/driver_stats.parquet'), { maxRows: 20 });
 */
export function table(data: DataFrameLike, opts: TableOptions = {}): TableBundle {
  const view = tableView(data, opts);
  return displayBundle({ 'text/html': htmlOf(view, opts.title), 'text/plain': summary(view) }, 'text/html');
}

interface TableView {
  df: DataFrame;
  columns: string[];
  head: Record<string, unknown>[];
  tail: Record<string, unknown>[];
  hiddenRows: number;
  hiddenColumns: number;
}

function tableView(data: DataFrameLike, opts: TableOptions): TableView {
  const maxRows = limit(opts.maxRows, 50, 'maxRows');
  const maxColumns = limit(opts.maxColumns, 40, 'maxColumns');
  const df = toDataFrame(data);
  const columns = df.columns.slice(0, maxColumns);
  const shown = df.select(...columns);
  if (df.height <= maxRows) {
    return {
      df,
      columns,
      head: toRows(shown),
      tail: [],
      hiddenRows: 0,
      hiddenColumns: df.width - columns.length,
    };
  }
  const headCount = Math.ceil(maxRows / 2);
  const tailCount = maxRows - headCount;
  return {
    df,
    columns,
    head: toRows(shown.head(headCount)),
    tail: tailCount > 0 ? toRows(shown.tail(tailCount)) : [],
    hiddenRows: df.height - headCount - tailCount,
    hiddenColumns: df.width - columns.length,
  };
}

function summary(view: TableView): string {
  const { df } = view;
  const parts = [`DataFrame: ${df.height} rows × ${df.width} columns`];
  if (view.hiddenRows > 0) parts.push(`showing first ${view.head.length} and last ${view.tail.length} rows`);
  if (view.hiddenColumns > 0) parts.push(`${view.hiddenColumns} more columns not shown`);
  const types = df.columns.slice(0, 12).map((c) => `${c}: ${shortType(String(df.getColumn(c).dtype))}`);
  if (types.length) parts.push(types.join(', ') + (df.width > 12 ? ', …' : ''));
  return parts.join('; ');
}

function cell(v: unknown, dtype: string): string {
  if (v === null || v === undefined) return `<td style="${CELL};color:#aaa">null</td>`;
  const numeric = typeof v === 'number' || typeof v === 'bigint';
  const style = numeric ? `${CELL};text-align:right` : CELL;
  return `<td style="${style}">${escapeHtml(cellText(v, dtype))}</td>`;
}

function cellText(v: unknown, dtype: string): string {
  if (typeof v === 'number') return formatValue(v);
  if (Object.prototype.toString.call(v) === '[object Date]') {
    const d = v as Date;
    if (Number.isNaN(d.getTime())) return 'Invalid Date';
    const iso = d.toISOString();
    if (dtype === 'date') return iso.slice(0, 10);
    return iso.endsWith('.000Z')
      ? `${iso.slice(0, 10)} ${iso.slice(11, 19)}`
      : `${iso.slice(0, 10)} ${iso.slice(11, 23)}`;
  }
  let s: string;
  if (typeof v === 'string') s = v;
  else if (typeof v === 'object') {
    try {
      s = JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? String(x) : x)) ?? String(v);
    } catch {
      s = String(v);
    }
  } else s = String(v);
  return s.length > MAX_CELL_CHARS ? `${s.slice(0, MAX_CELL_CHARS - 1)}…` : s;
}

/** polars' short type names: `DataType(Float64)` → `f64`, `DataType(Datetime(ms,UTC))` → `datetime[ms, UTC]`. */
function shortType(t: string): string {
  const inner = t.replace(/^DataType\((.*)\)$/, '$1');
  const simple: Record<string, string> = {
    Float64: 'f64',
    Float32: 'f32',
    Int64: 'i64',
    Int32: 'i32',
    Int16: 'i16',
    Int8: 'i8',
    UInt64: 'u64',
    UInt32: 'u32',
    UInt16: 'u16',
    UInt8: 'u8',
    String: 'str',
    Utf8: 'str',
    Bool: 'bool',
    Date: 'date',
    Null: 'null',
  };
  if (simple[inner]) return simple[inner];
  const dt = /^Datetime\((\w+),\s*(.*)\)$/.exec(inner);
  if (dt) return dt[2] ? `datetime[${dt[1]}, ${dt[2]}]` : `datetime[${dt[1]}]`;
  return inner.toLowerCase();
}

function limit(v: number | undefined, dflt: number, name: string): number {
  if (v === undefined) return dflt;
  if (!Number.isInteger(v) || v < 1) {
    throw new CellarError(
      'INVALID_PARAMETER',
      `table: ${name} must be a positive integer, got ${String(v)}.`,
    );
  }
  return v;
}
