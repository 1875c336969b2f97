/**
 * The bridge's request/response envelope as the JupyterLab extension relies on it: every request gets
 * exactly one JSON reply with the same id, errors carry cellar's stable codes, and `handle` emits the reply
 * as a display bundle under the bridge MIME type.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  BRIDGE_MIME,
  BRIDGE_OPS,
  handle,
  handleBridgeRequest,
  type BridgeResponse,
  type StatusResult,
} from '../../../kernel-lib/bridge/index.js';
import { setDisplaySink, type MimeBundle } from '../../../kernel-lib/display/sink.js';
import { activeRun, endRun, getStore, startRun, useStore } from '../../../kernel-lib/index.js';
import { cleanupTmp, makeTmp } from '../../helpers/tmp.js';
import { ok } from './helpers.js';

let storeDir: string;
beforeEach(() => {
  storeDir = makeTmp();
  useStore(storeDir);
});
afterEach(async () => {
  setDisplaySink(null);
  while (activeRun()) await endRun('KILLED');
  getStore().close();
  cleanupTmp();
});

test('a request is answered with its id and a JSON result', async () => {
  const reply = await handleBridgeRequest({ id: 'abc-1', op: 'status', args: {} });
  expect(reply.id).toBe('abc-1');
  expect(reply.ok).toBe(true);
  const status = (reply as { result: StatusResult }).result;
  expect(status.storeRoot).toBe(join(storeDir, '.cellar'));
  expect(status.activeRun).toBeNull();
  expect(status.protocol).toBe(1);
  expect(JSON.parse(JSON.stringify(reply))).toEqual(reply);
});

test('malformed requests become error replies, never exceptions', async () => {
  const cases: Array<[unknown, string]> = [
    [null, 'INVALID_INPUT'],
    ['status', 'INVALID_INPUT'],
    [{ op: 'status' }, 'INVALID_INPUT'],
    [{ id: 'x'.repeat(500), op: 'status' }, 'INVALID_INPUT'],
    [{ id: '1', op: 'dropTables' }, 'UNSUPPORTED'],
    [{ id: '1', op: 'toString' }, 'UNSUPPORTED'],
    [{ id: '1', op: 'status', args: [] }, 'INVALID_INPUT'],
    [{ id: '1', op: 'registerModel', args: { name: 42 } }, 'INVALID_PARAMETER'],
    [{ id: '1', op: 'logRun', args: { notebook: { cells: [] } } }, 'INVALID_INPUT'],
  ];
  for (const [request, code] of cases) {
    const reply = await handleBridgeRequest(request);
    expect({ request, ok: reply.ok, code: reply.ok ? null : reply.error.code }).toEqual({
      request,
      ok: false,
      code,
    });
  }
});

test('an unknown operation names the operations the kernel answers', async () => {
  const reply = await handleBridgeRequest({ id: '7', op: 'deleteEverything' });
  expect(reply).toMatchObject({ id: '7', ok: false, error: { code: 'UNSUPPORTED' } });
  if (!reply.ok) for (const op of BRIDGE_OPS) expect(reply.error.message).toContain(op);
});

test('handle() shows the reply as one display bundle under the bridge MIME type', async () => {
  const shown: Array<{ bundle: MimeBundle; primary: string }> = [];
  setDisplaySink((bundle, primary) => shown.push({ bundle, primary }));
  await expect(handle(JSON.stringify({ id: 'r-1', op: 'status' }))).resolves.toBeUndefined();
  expect(shown).toHaveLength(1);
  expect(shown[0]!.primary).toBe(BRIDGE_MIME);
  const reply = shown[0]!.bundle[BRIDGE_MIME] as BridgeResponse;
  expect(reply).toMatchObject({ id: 'r-1', ok: true });
  expect(typeof shown[0]!.bundle['text/plain']).toBe('string');
});

test('handle() answers text that is not JSON with an INVALID_INPUT reply', async () => {
  const shown: MimeBundle[] = [];
  setDisplaySink((bundle) => shown.push(bundle));
  await handle('{"id": "1", op:');
  expect(shown[0]![BRIDGE_MIME]).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
});

test('text with quotes, backslashes, newlines and script tags survives the round trip', async () => {
  const shown: MimeBundle[] = [];
  setDisplaySink((bundle) => shown.push(bundle));
  const name = 'a "quoted" \\ name </script><script>alert(1)</script> ü';
  const note = 'line 1\nline 2 \u2028 `${x}`';
  const run = await startRun({ experiment: 'round-trip', runName: name });
  await run.logParam('note', note);
  await handle(JSON.stringify({ id: 'q', op: 'status' }));
  const reply = shown[0]![BRIDGE_MIME] as { ok: true; result: StatusResult };
  expect(reply.result.activeRun?.name).toBe(name);
  expect(reply.result.activeRun?.params['note']).toBe(note);
  expect(reply.result.activeRun?.id).toBe(run.id);
});

test('status reports the active run, the notebook experiment and what the kernel can do', async () => {
  const run = await startRun({ experiment: 'driver-training', runName: 'live' });
  const status = await ok<StatusResult>('status');
  expect(status.activeRun).toMatchObject({ id: run.id, name: 'live', status: 'RUNNING' });
  expect(status.activeRun?.experimentName).toBe('driver-training');
  expect(status.experiment).toBe('driver-training');
  expect(typeof status.capabilities.export).toBe('boolean');
  expect(status.capabilities.scheduler).toBe(true); // the `cellar` command of this repository is resolvable from here
});

test('storeUri selects another store, relative to the notebook folder', async () => {
  const project = makeTmp();
  const status = await ok<StatusResult>('status', { storeUri: 'sub/store', createStore: true }, project);
  expect(status.storeRoot).toBe(join(project, 'sub', 'store', '.cellar'));
  const viaUri = await ok<StatusResult>(
    'status',
    { storeUri: `sqlite://${join(project, 'other')}`, createStore: true },
    project,
  );
  expect(viaUri.storeRoot).toBe(join(project, 'other', '.cellar'));
  // now that they exist, naming them is enough
  expect((await ok<StatusResult>('status', { storeUri: 'sub/store' }, project)).storeRoot).toBe(
    status.storeRoot,
  );
});

test('a storeUri naming no store is NOT_FOUND and creates nothing, unless createStore is set', async () => {
  const project = makeTmp();
  const reply = await handleBridgeRequest(
    { id: '9', op: 'status', args: { storeUri: 'typo/store' } },
    { cwd: project },
  );
  expect(reply).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
  expect(existsSync(join(project, 'typo'))).toBe(false);
});
