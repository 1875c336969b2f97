/** `serve(model)` from a notebook: a child `cellar serve` that answers, then stops cleanly. */
import { openStore, serve } from '../../../kernel-lib/index.js';
import { closeAllEmbedded } from '../../../kernel-lib/store/open.js';
import { cleanupTmp, makeTmp } from '../../helpers/tmp.js';
import { buildServingStore } from '../../pipelines/serving/fixture.js';

afterAll(() => {
  closeAllEmbedded();
  cleanupTmp();
});

test('serve() starts a server for the notebook and stop() drains it', async () => {
  const fx = await buildServingStore(makeTmp('cellar-nbserve-'));
  const store = openStore(fx.dir);
  const srv = await serve('driver@champion', { store });
  try {
    expect(srv.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(srv.curl).toContain(`${srv.url}/invocations`);
    expect(srv.curl).toContain('"dataframe_records":[{"conv_rate":0,"acc_rate":0,"avg_daily_trips":0}]');
    const r = await fetch(`${srv.url}/invocations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ entities: [{ driver_id: 1001 }] }),
    });
    expect(r.status).toBe(200);
    expect(((await r.json()) as { predictions: number[] }).predictions[0]).toEqual(expect.any(Number));
  } finally {
    await srv.stop();
  }
  await expect(fetch(`${srv.url}/ping`)).rejects.toThrow();
  await expect(serve('nope@champion', { store })).rejects.toMatchObject({ code: 'NOT_FOUND' });
}, 120_000);
