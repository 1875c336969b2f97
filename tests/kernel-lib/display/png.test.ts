/**
 * toPng: the UNSUPPORTED paths, and the chromium path with a stand-in plotly.js (a script defining
 * `Plotly.newPlot`/`Plotly.toImage` that draws on a canvas), since plotly.js-dist-min is optional.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import {
  closePngRenderer,
  scatter,
  setDisplaySink,
  toPng,
  plotPng,
} from '../../../kernel-lib/display/index.js';
import { CellarError } from '../../../kernel-lib/errors.js';

const resolvable = (name: string): boolean => {
  try {
    createRequire(path.join(process.cwd(), 'x.js')).resolve(name);
    return true;
  } catch {
    return false;
  }
};

const FAKE_PLOTLY = `
window.Plotly = {
  newPlot: async (el, data, layout) => { el.dataset.traces = String(data.length); el.dataset.title = layout.title; },
  toImage: async (el, o) => {
    const c = document.createElement('canvas');
    c.width = o.width * o.scale; c.height = o.height * o.scale;
    const ctx = c.getContext('2d');
    ctx.fillStyle = '#1f77b4'; ctx.fillRect(0, 0, Number(el.dataset.traces) * 10, 10);
    return c.toDataURL('image/png');
  },
};`;

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cellar-png-'));
  fs.writeFileSync(path.join(dir, 'fake-plotly.js'), FAKE_PLOTLY);
});
afterAll(async () => {
  await closePngRenderer();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(CellarError);
    return (e as CellarError).code;
  }
  return undefined;
}

it('is UNSUPPORTED, naming what to install, when plotly.js is missing', async () => {
  await expect(toPng(scatter([1], [1]), { plotlyJs: path.join(dir, 'missing.js') })).rejects.toThrow(
    /npm install plotly\.js-dist-min/,
  );
  if (!resolvable('plotly.js-dist-min')) {
    expect(await codeOf(toPng(scatter([1], [1])))).toBe('UNSUPPORTED');
  }
});

it('is UNSUPPORTED when chromium is missing', async () => {
  const code = await codeOf(
    toPng(scatter([1], [1]), {
      plotlyJs: path.join(dir, 'fake-plotly.js'),
      chromium: path.join(dir, 'no-chromium'),
    }),
  );
  expect(code).toBe('UNSUPPORTED');
});

const canRender = fs.existsSync('/usr/bin/chromium') && resolvable('playwright-core');
it('renders a PNG in chromium, writes it atomically and can display it', async () => {
  expect(canRender).toBe(true); // chromium comes from scripts/install-system.sh, playwright-core from npm
  const target = path.join(dir, 'out', 'fig.png');
  const plotlyJs = path.join(dir, 'fake-plotly.js');
  const png = await toPng(scatter([1, 2], [3, 4], { title: 't' }), {
    path: target,
    plotlyJs,
    width: 320,
    height: 200,
  });
  expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
  expect(png.readUInt32BE(16)).toBe(320); // IHDR width
  expect(png.readUInt32BE(20)).toBe(200); // IHDR height
  expect(fs.readFileSync(target)).toEqual(png);
  expect(fs.readdirSync(path.dirname(target))).toEqual(['fig.png']);

  const shown: Record<string, unknown>[] = [];
  setDisplaySink((bundle) => shown.push(bundle));
  try {
    const bundle = await plotPng(scatter([1], [1]), { plotlyJs, width: 100, height: 50 });
    expect(shown).toEqual([bundle]);
    expect(Buffer.from(String(bundle['image/png']), 'base64').readUInt32BE(16)).toBe(100);
  } finally {
    setDisplaySink(null);
  }
});
