// Headless Debian Chromium driven by playwright-core for browser tests: a fresh profile per browser, the
// flags that work on these machines, console errors collected for assertion messages, screenshots kept in
// tests/artifacts/e2e/. close() removes the profile and leaves no browser process behind.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { ARTIFACTS_DIR } from './server.js';

/** Debian's Chromium (installed by scripts/install-system.sh); never a browser downloaded by Playwright. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

/** Options of {@link openBrowser}. */
export interface OpenBrowserOptions {
  /** Viewport of new pages (default 1400×900). */
  viewport?: { width: number; height: number };
}

/** A running headless Chromium with one fresh profile. */
export interface LabBrowser {
  context: BrowserContext;
  /** A new page whose console errors, uncaught exceptions and failed requests are recorded in `problems`. */
  newPage(): Promise<Page>;
  /** What went wrong in the pages so far (console errors, page errors, HTTP ≥ 400 responses), in order. */
  problems: string[];
  /** Closes the browser and removes its profile. Idempotent. */
  close(): Promise<void>;
}

/**
 * Launches Debian's Chromium headless with a fresh user-data-dir.
 * @throws Error when /usr/bin/chromium is missing or does not start.
 * @example
 * const browser = await openBrowser();
 * const page = await browser.newPage();
 */
export async function openBrowser(options: OpenBrowserOptions = {}): Promise<LabBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'cellar-e2e-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: CHROMIUM_FLAGS,
      viewport: options.viewport ?? { width: 1400, height: 900 },
      timeout: 60_000,
    });
  } catch (error) {
    rmSync(profile, { recursive: true, force: true });
    throw new Error(
      `could not start ${CHROMIUM_PATH} (Debian package chromium, installed by scripts/install-system.sh): ${String(error)}`,
    );
  }
  const problems: string[] = [];
  let closed: Promise<void> | undefined;
  return {
    context,
    problems,
    async newPage() {
      const page = await context.newPage();
      page.on('console', (message) => {
        if (message.type() === 'error') problems.push(`console.error: ${message.text()}`);
      });
      page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
      page.on('response', (response) => {
        if (response.status() >= 400)
          problems.push(`HTTP ${response.status()} ${stripToken(response.url())}`);
      });
      return page;
    },
    close() {
      closed ??= context
        .close()
        .catch(() => undefined)
        .finally(() => rmSync(profile, { recursive: true, force: true }));
      return closed;
    },
  };
}

/**
 * Saves a full-window PNG of the page as tests/artifacts/e2e/<name>.png and returns its path.
 * @example
 * await screenshot(page, 'smoke-after-run');
 */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const path = join(ARTIFACTS_DIR, `${name.replace(/[^a-zA-Z0-9._-]+/g, '-')}.png`);
  await page.screenshot({ path });
  return path;
}

function stripToken(url: string): string {
  return url.replace(/([?&]token=)[^&]+/, '$1…');
}
