/**
 * display/scale — axis arithmetic for the static SVG renderer: "nice" linear ticks, calendar-aware
 * date ticks (UTC) and the tick label formats that go with them. Pure functions, no DOM.
 */

/** Ticks of an axis and how to label them. */
export interface Ticks {
  /** Tick positions in data units (numbers, or epoch milliseconds on a date axis). */
  values: number[];
  /** The label of a tick value. */
  format: (v: number) => string;
}

/** A step of 1, 2, 5 × 10^k close to `span / target`. */
export function niceStep(span: number, target: number): number {
  if (!(span > 0) || !Number.isFinite(span)) return 1;
  const raw = span / Math.max(1, target);
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const norm = raw / mag;
  const mult = norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10;
  return mult * mag;
}

/** Widens `[min, max]` to multiples of a nice step (a zero-width domain gets a unit around it). */
export function niceDomain(min: number, max: number, target = 6): [number, number] {
  if (min === max) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    return [min - pad, max + pad];
  }
  const step = niceStep(max - min, target);
  return [Math.floor(min / step + 1e-9) * step, Math.ceil(max / step - 1e-9) * step];
}

/** Linear ticks within `[min, max]`, about `target` of them, labelled with just enough decimals. */
export function linearTicks(min: number, max: number, target = 6): Ticks {
  const step = niceStep(max - min, target);
  const values: number[] = [];
  const first = Math.ceil(min / step - 1e-9);
  for (let i = first; i * step <= max + step * 1e-9 && values.length < 50; i++) {
    values.push(roundTo(i * step, step));
  }
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  const big = Math.max(Math.abs(min), Math.abs(max));
  const format =
    big >= 1e6 || (big > 0 && big < 1e-4)
      ? (v: number) => (v === 0 ? '0' : trimExp(v.toExponential(2)))
      : (v: number) => v.toFixed(Math.min(decimals, 10));
  return { values, format };
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const FIXED_STEPS = [
  SECOND,
  2 * SECOND,
  5 * SECOND,
  10 * SECOND,
  15 * SECOND,
  30 * SECOND,
  MINUTE,
  2 * MINUTE,
  5 * MINUTE,
  10 * MINUTE,
  15 * MINUTE,
  30 * MINUTE,
  HOUR,
  2 * HOUR,
  3 * HOUR,
  6 * HOUR,
  12 * HOUR,
  DAY,
  2 * DAY,
  7 * DAY,
  14 * DAY,
];
const MONTH_STEPS = [1, 2, 3, 6];

/** Date ticks (UTC) within `[minMs, maxMs]`: seconds … weeks on fixed steps, then months, then years. */
export function dateTicks(minMs: number, maxMs: number, target = 6): Ticks {
  const span = Math.max(maxMs - minMs, SECOND);
  const raw = span / Math.max(1, target);
  const values: number[] = [];
  const fixed = FIXED_STEPS.find((s) => s >= raw);
  if (fixed !== undefined) {
    for (let t = Math.ceil(minMs / fixed) * fixed; t <= maxMs && values.length < 50; t += fixed)
      values.push(t);
    const fmt = fixed >= DAY ? formatDay : fixed >= MINUTE ? formatMinute : formatSecond;
    return { values, format: span > DAY && fixed < DAY ? (v) => `${formatDay(v)} ${fmt(v)}` : fmt };
  }
  const months = MONTH_STEPS.find((m) => m * 30 * DAY >= raw);
  if (months !== undefined) {
    const start = new Date(minMs);
    let y = start.getUTCFullYear();
    let m = Math.ceil((start.getUTCMonth() + (isMonthStart(start) ? 0 : 1)) / months) * months;
    for (;;) {
      y += Math.floor(m / 12);
      m %= 12;
      const t = Date.UTC(y, m, 1);
      if (t > maxMs || values.length >= 50) break;
      if (t >= minMs) values.push(t);
      m += months;
    }
    return { values, format: formatMonth };
  }
  const years = Math.max(1, niceStep(span / (365.25 * DAY), target));
  const firstYear = Math.ceil(new Date(minMs).getUTCFullYear() / years) * years;
  for (let y = firstYear; values.length < 50; y += years) {
    const t = Date.UTC(y, 0, 1);
    if (t > maxMs) break;
    if (t >= minMs) values.push(t);
  }
  return { values, format: (v) => String(new Date(v).getUTCFullYear()) };
}

/** A compact label for a data value shown in a tooltip or table (numbers with up to 6 significant digits). */
export function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
  return String(Number(v.toPrecision(6)));
}

function isMonthStart(d: Date): boolean {
  return d.getUTCDate() === 1 && d.getUTCHours() === 0 && d.getUTCMinutes() === 0 && d.getUTCSeconds() === 0;
}

function formatDay(v: number): string {
  return new Date(v).toISOString().slice(0, 10);
}

function formatMonth(v: number): string {
  return new Date(v).toISOString().slice(0, 7);
}

function formatMinute(v: number): string {
  return new Date(v).toISOString().slice(11, 16);
}

function formatSecond(v: number): string {
  return new Date(v).toISOString().slice(11, 19);
}

function roundTo(v: number, step: number): number {
  const decimals = Math.max(0, -Math.floor(Math.log10(step)) + 2);
  return Number(v.toFixed(Math.min(decimals, 20)));
}

function trimExp(s: string): string {
  return s.replace(/\.?0+e/, 'e').replace('e+', 'e');
}
