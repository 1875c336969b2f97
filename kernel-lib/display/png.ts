/**
 * display/png — optional PNG rendering of Plotly figures with the real plotly.js in a headless
 * Debian chromium driven by playwright-core. Nothing here is a dependency of cellar: plotly.js
 * (`plotly.js-dist-min`), playwright-core and chromium are looked up when `toPng` is first called,
 * and a missing piece is an `UNSUPPORTED` error saying what to install. One browser is kept alive
 * between calls (cold start is seconds, a figure then takes a fraction of a second) and closed after
 * 60 s idle in a notebook, 1 s in a script (so it can exit), or by `closePngRenderer()`. Pages load
 * nothing from the network.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { writeFileAtomic } from '../data/io.js';
import { CellarError } from '../errors.js';
import { normalizeFigure, type FigureInput, type Layout } from './figure.js';
import { displayBundle, isInsideTslab, type MimeBundle } from './sink.js';

/** Options of `toPng`. */
export interface PngOptions {
  /** Also write the PNG to this file (atomically). */
  path?: string;
  /** Image width in CSS pixels; default the layout's width or 700. */
  width?: number;
  /** Image height in CSS pixels; default the layout's height or 450. */
  height?: number;
  /** Device pixel ratio of the image; default 1. */
  scale?: number;
  /** Path of a plotly.js bundle to use instead of the installed `plotly.js-dist-min`. */
  plotlyJs?: string;
  /** Chromium executable; default `$CELLAR_CHROMIUM` or `/usr/bin/chromium`. */
  chromium?: string;
}

interface PwPage {
  route(url: string, handler: (route: { abort(): Promise<void> }) => unknown): Promise<void>;
  setContent(html: string): Promise<void>;
  addScriptTag(options: { content: string }): Promise<unknown>;
  evaluate(expression: string): Promise<unknown>;
  close(): Promise<void>;
}
interface PwBrowser {
  newPage(): Promise<PwPage>;
  close(): Promise<void>;
  isConnected(): boolean;
}
interface PwChromium {
  launch(options: { executablePath: string; headless: boolean; args: string[] }): Promise<PwBrowser>;
}

/** Idle time before the browser closes: long in a notebook, short in scripts so they can exit. */
const IDLE_CLOSE_MS_NOTEBOOK = 60_000;
const IDLE_CLOSE_MS_SCRIPT = 1_000;
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

let browser: { exe: string; promise: Promise<PwBrowser> } | null = null;
let idleTimer: NodeJS.Timeout | null = null;
const plotlySources = new Map<string, string>();

/**
 * Renders a figure to PNG bytes with plotly.js in headless chromium; with a path (or `opts.path`)
 * the PNG is also written there.
 *
 * @throws CellarError UNSUPPORTED when plotly.js-dist-min, playwright-core or chromium is missing
 *   (the message says what to install); INVALID_INPUT for a bad figure or a plotly.js failure.
 * @example
 * const png = await toPng(line(steps, losses), 'loss.png');
 */
export async function toPng(figure: FigureInput, pathOrOptions?: string | PngOptions): Promise<Buffer> {
  const opts: PngOptions =
    typeof pathOrOptions === 'string' ? { path: pathOrOptions } : (pathOrOptions ?? {});
  const fig = normalizeFigure(figure);
  const plotlyFile = opts.plotlyJs ?? resolveModule('plotly.js-dist-min');
  if (plotlyFile === null || !fs.existsSync(plotlyFile)) {
    throw new CellarError(
      'UNSUPPORTED',
      'toPng needs plotly.js: run `npm install plotly.js-dist-min` in your project (PNG rendering also ' +
        'needs `npm install playwright-core` and Debian chromium: `apt-get install chromium`). ' +
        'Without them, plot() still shows the interactive figure and an offline SVG fallback.',
    );
  }
  const exe = opts.chromium ?? process.env.CELLAR_CHROMIUM ?? '/usr/bin/chromium';
  const page = await (await getBrowser(exe)).newPage();
  try {
    await page.route('**/*', (route) => route.abort());
    await page.setContent(
      '<!doctype html><html><body style="margin:0"><div id="cellar-plot"></div></body></html>',
    );
    await page.addScriptTag({ content: plotlySource(plotlyFile) });
    const width = positive(opts.width) ?? positive(fig.layout.width) ?? 700;
    const height = positive(opts.height) ?? positive(fig.layout.height) ?? 450;
    const scale = positive(opts.scale) ?? 1;
    const layout: Layout = { ...fig.layout, width, height };
    const expression =
      '(async () => { const el = document.getElementById("cellar-plot");' +
      `await Plotly.newPlot(el, ${JSON.stringify(fig.data)}, ${JSON.stringify(layout)}, { staticPlot: true });` +
      `return await Plotly.toImage(el, { format: "png", width: ${width}, height: ${height}, scale: ${scale} }); })()`;
    let url: unknown;
    try {
      url = await page.evaluate(expression);
    } catch (e) {
      throw new CellarError('INVALID_INPUT', `plotly.js could not render the figure: ${firstLine(e)}.`);
    }
    const match = typeof url === 'string' ? /^data:image\/png;base64,(.*)$/s.exec(url) : null;
    if (!match) throw new CellarError('INVALID_INPUT', 'plotly.js returned no PNG image for the figure.');
    const png = Buffer.from(match[1] ?? '', 'base64');
    if (opts.path !== undefined) writeFileAtomic(opts.path, png);
    return png;
  } finally {
    await page.close().catch(() => undefined);
    scheduleIdleClose();
  }
}

/**
 * Renders a figure to PNG (see `toPng`) and shows it as an `image/png` display; returns the bundle.
 *
 * @throws CellarError UNSUPPORTED when the PNG renderer is not installed (see `toPng`).
 * @example
 * await plotPng(bar(['rmse', 'mae'], [0.41, 0.33]));
 */
export async function plotPng(figure: FigureInput, opts: PngOptions = {}): Promise<MimeBundle> {
  const png = await toPng(figure, opts);
  const fig = normalizeFigure(figure);
  return displayBundle(
    { 'image/png': png.toString('base64'), 'text/plain': `PNG figure (${fig.data.length} traces)` },
    'image/png',
  );
}

/** Closes the browser kept alive by `toPng` (it also closes by itself when idle, see the module comment). */
export async function closePngRenderer(): Promise<void> {
  if (idleTimer) clearTimeout(idleTimer);
  idleTimer = null;
  const current = browser;
  browser = null;
  if (current) await (await current.promise.catch(() => null))?.close().catch(() => undefined);
}

async function getBrowser(exe: string): Promise<PwBrowser> {
  if (idleTimer) clearTimeout(idleTimer);
  idleTimer = null;
  if (browser && browser.exe === exe) {
    const b = await browser.promise.catch(() => null);
    if (b?.isConnected()) return b;
  }
  await closePngRenderer();
  const playwrightFile = resolveModule('playwright-core');
  if (playwrightFile === null) {
    throw new CellarError(
      'UNSUPPORTED',
      'toPng needs playwright-core: run `npm install playwright-core` (and `apt-get install chromium`; never ' +
        '`npx playwright install`).',
    );
  }
  if (!fs.existsSync(exe)) {
    throw new CellarError(
      'UNSUPPORTED',
      `toPng needs chromium at ${exe}: run \`apt-get install chromium\` or set CELLAR_CHROMIUM to a chromium binary.`,
    );
  }
  const { chromium } = createRequire(playwrightFile)(playwrightFile) as { chromium: PwChromium };
  const promise = chromium.launch({ executablePath: exe, headless: true, args: CHROMIUM_ARGS });
  browser = { exe, promise };
  try {
    return await promise;
  } catch (e) {
    browser = null;
    throw new CellarError('UNSUPPORTED', `Could not start chromium (${exe}) for toPng: ${firstLine(e)}.`);
  }
}

function scheduleIdleClose(): void {
  if (idleTimer) clearTimeout(idleTimer);
  const idle = isInsideTslab() ? IDLE_CLOSE_MS_NOTEBOOK : IDLE_CLOSE_MS_SCRIPT;
  idleTimer = setTimeout(() => void closePngRenderer(), idle);
  idleTimer.unref();
}

function plotlySource(file: string): string {
  let src = plotlySources.get(file);
  if (src === undefined) {
    src = fs.readFileSync(file, 'utf8');
    plotlySources.set(file, src);
  }
  return src;
}

/** Resolves an optional package from the working directory (the notebook's project) or the main script. */
export function resolveModule(name: string): string | null {
  const bases = [path.join(process.cwd(), 'cellar-resolve.js')];
  if (process.argv[1]) bases.push(path.resolve(process.argv[1]));
  for (const base of bases) {
    try {
      return createRequire(base).resolve(name);
    } catch {
      // try the next base
    }
  }
  return null;
}

function positive(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : undefined;
}

function firstLine(e: unknown): string {
  return ((e instanceof Error ? e.message : String(e)).split('\n')[0] ?? '').replace(/[.\s]+$/, '');
}
