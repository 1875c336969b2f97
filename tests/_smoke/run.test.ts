import { executeNotebook } from '../helpers/jupyter.js';
test('deadline', async () => {
  await expect(executeNotebook('/tmp/smoke/slow.ipynb', { timeoutMs: 6000 })).rejects.toThrow(/did not finish within 6000 ms/);
  const r = await executeNotebook('/tmp/smoke/slow.ipynb', { timeoutMs: 60000, cellTimeoutSeconds: 3 });
  console.log(r.errors().map(e => e.ename + ' ' + e.evalue.slice(0, 200)));
}, 120000);
