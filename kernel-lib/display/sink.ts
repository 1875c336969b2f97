/**
 * display/sink — where display bundles go. This is the only place in cellar that knows about tslab.
 *
 * Inside a tslab kernel (detected by the `globalThis.__tslab__` object tslab's executor installs),
 * tslab is reached lazily through the kernel's own `require('tslab')` hook, so the very tslab
 * instance that owns the Jupyter connection is used. A whole multi-MIME bundle (e.g. Plotly JSON
 * plus an HTML fallback plus text) is sent as ONE `display_data` message through the function tslab
 * keeps for its public `display` API (`lastWriteDisplayData` of its `jupyter` module); tslab's public
 * `display.raw(mime, data)` only sends one MIME type, so it is the fallback when that internal hook
 * is not found (then only the bundle's primary MIME type is shown).
 *
 * Outside tslab (plain Node, scripts, jest) nothing is printed and nothing is required: the display
 * helpers just return the bundle, whose `util.inspect` form (REPL, console.log) is its text/plain.
 * Tests and other front ends can route bundles anywhere with `setDisplaySink`.
 */
import Module, { createRequire } from 'node:module';
import path from 'node:path';
import { inspect } from 'node:util';

/** A Jupyter MIME bundle: MIME type → data (strings, or JSON for `application/*+json` types). */
export type MimeBundle = Record<string, unknown>;

/** Receives each bundle to display; `primary` is the MIME type to keep if only one can be shown. */
export type DisplaySink = (bundle: MimeBundle, primary: string) => void;

interface TslabPublic {
  display: { raw(contentType: string, data: unknown): unknown };
}

type DisplayWriter = (
  msg: { data: MimeBundle; metadata: object; transient: object },
  update: boolean,
) => void;

let customSink: DisplaySink | null = null;
let tslabCache: { pub: TslabPublic; writer: () => DisplayWriter | null } | null | undefined;

/**
 * Routes every bundle to `sink` instead of tslab (for tests and other front ends); `null` restores
 * the default (tslab when running inside it, nowhere otherwise). Returns the previous custom sink.
 *
 * @example
 * const shown: MimeBundle[] = [];
 * setDisplaySink((bundle) => shown.push(bundle));
 */
export function setDisplaySink(sink: DisplaySink | null): DisplaySink | null {
  const previous = customSink;
  customSink = sink;
  return previous;
}

/** True when this code runs inside a tslab kernel. */
export function isInsideTslab(): boolean {
  const g = globalThis as { __tslab__?: unknown };
  return g.__tslab__ !== undefined && g.__tslab__ !== null;
}

/**
 * Shows a MIME bundle: sends it to the custom sink, or to tslab inside a notebook, or nowhere in
 * plain Node. Returns the same bundle, given a text form for `console.log`/REPL display (its
 * `text/plain`), so a helper can end with `return displayBundle(bundle, primary)`.
 *
 * @example
 * displayBundle({ 'text/html': '<b>done</b>', 'text/plain': 'done' }, 'text/html');
 */
export function displayBundle<T extends MimeBundle>(bundle: T, primary: string): T {
  withTextForm(bundle);
  if (customSink) {
    customSink(bundle, primary);
    return bundle;
  }
  const tslab = findTslab();
  if (tslab) {
    try {
      const writer = tslab.writer();
      if (writer) writer({ data: plainBundle(bundle), metadata: {}, transient: {} }, false);
      else if (bundle[primary] !== undefined) tslab.pub.display.raw(primary, bundle[primary]);
      // Shown richly already: tslab's echo of the cell's last expression would print the summary a second time.
      withTextForm(bundle, '');
    } catch (e) {
      // A display failure must not fail the user's cell; the returned bundle still prints as text.
      process.stderr.write(
        `cellar: could not display ${primary} output (${e instanceof Error ? e.message : e})\n`,
      );
    }
  }
  return bundle;
}

/** Makes `util.inspect` (console.log, REPL, tslab's echo of the last expression) print text/plain only. */
function withTextForm(bundle: MimeBundle, override?: string): void {
  const text =
    override ??
    (typeof bundle['text/plain'] === 'string' ? bundle['text/plain'] : Object.keys(bundle).join(', '));
  Object.defineProperty(bundle, inspect.custom, { value: () => text, enumerable: false, configurable: true });
}

function plainBundle(bundle: MimeBundle): MimeBundle {
  return Object.fromEntries(Object.entries(bundle));
}

/** Looks tslab up once (only inside a tslab kernel); null when it cannot be reached. */
function findTslab(): { pub: TslabPublic; writer: () => DisplayWriter | null } | null {
  if (!isInsideTslab()) return null;
  if (tslabCache !== undefined) return tslabCache;
  tslabCache = null;
  const hook = (globalThis as { __tslab__?: { require?: unknown } }).__tslab__?.require;
  const candidates: (() => unknown)[] = [];
  if (typeof hook === 'function') candidates.push(() => (hook as (id: string) => unknown)('tslab'));
  candidates.push(() => cwdRequire()('tslab'));
  for (const load of candidates) {
    let pub: unknown;
    try {
      pub = load();
    } catch {
      continue;
    }
    if (isTslabPublic(pub)) {
      tslabCache = { pub, writer: writerOf(pub) };
      break;
    }
  }
  return tslabCache;
}

function isTslabPublic(x: unknown): x is TslabPublic {
  const display = (x as { display?: { raw?: unknown } } | null)?.display;
  return typeof display?.raw === 'function';
}

/**
 * tslab's public module sits next to its `jupyter` module, which holds the current cell's
 * display-data writer; find that module in the CommonJS cache by the public module's file name.
 */
function writerOf(pub: TslabPublic): () => DisplayWriter | null {
  let jupyter: { lastWriteDisplayData?: unknown } | undefined;
  // `require.cache` is the CommonJS loader's `Module._cache`; both are read in case a host (e.g. a
  // test runner) wraps `require`.
  const caches: unknown[] = [(Module as unknown as { _cache?: unknown })._cache];
  try {
    caches.push(cwdRequire().cache);
  } catch {
    // no CommonJS loader cache reachable
  }
  for (const c of caches) {
    if (jupyter || c === null || typeof c !== 'object') continue;
    const cache = c as Record<string, { exports?: unknown } | undefined>;
    for (const [file, mod] of Object.entries(cache)) {
      if (mod?.exports !== pub) continue;
      const sibling = cache[path.join(path.dirname(file), 'jupyter.js')]?.exports;
      if (sibling && typeof sibling === 'object' && 'lastWriteDisplayData' in sibling) {
        jupyter = sibling as { lastWriteDisplayData?: unknown };
        break;
      }
    }
  }
  return () => {
    const w = jupyter?.lastWriteDisplayData;
    return typeof w === 'function' ? (w as DisplayWriter) : null;
  };
}

function cwdRequire(): NodeJS.Require {
  return createRequire(path.join(process.cwd(), 'cellar-display.js'));
}

/** Forgets the cached tslab lookup (tests only). */
export function resetTslabLookupForTests(): void {
  tslabCache = undefined;
}
