/** PNG rendering with the real plotly.js bundle in Debian chromium (the fallback for viewers without Plotly). */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { closePngRenderer, scatter, toPng } from '../../../kernel-lib/display/index.js';
import { cleanupTmp, makeTmp } from '../../helpers/tmp.js';

afterAll(async () => {
  await closePngRenderer();
  cleanupTmp();
});

test('a scatter figure renders to a real PNG file with plotly.js', async () => {
  expect(existsSync('/usr/bin/chromium')).toBe(true); // installed by scripts/install-system.sh
  const out = join(makeTmp(), 'fig.png');
  const png = await toPng(scatter([1, 2, 3, 4], [10, 11, 9, 14], { name: 'rmse' }), {
    path: out,
    width: 400,
    height: 300,
  });
  expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  expect(png.readUInt32BE(16)).toBeGreaterThanOrEqual(400); // IHDR width (device scale may enlarge it)
  expect(readFileSync(out).equals(png)).toBe(true);
  expect(png.length).toBeGreaterThan(2000); // a drawn chart, not an empty canvas
}, 60_000);
