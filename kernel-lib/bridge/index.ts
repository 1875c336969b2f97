/**
 * bridge — the kernel side of cellar's JupyterLab extension, exported from the package as `bridge`.
 *
 * The extension talks to cellar through the notebook's own kernel: it sends a silent execute request
 * `try { await require("cellar").bridge.handle("<request JSON>") } catch …` and reads the reply from the
 * `display_data` message (MIME `application/vnd.cellar.bridge+json`) that `handle` emits. There is no extra
 * server and no extra port: Jupyter's authentication covers the request, and the bridge runs with the
 * notebook's store, active run and last fitted model. `handleBridgeRequest` is the same logic as a plain
 * function (for tests and other front ends). Nothing here knows about tslab: replies go through
 * `display/sink`.
 */
import { CellarError } from '../errors.js';
import { displayBundle } from '../display/sink.js';
import type { BridgeContext, OpCall } from './context.js';
import { lastModel, listModels, listRunModels, registerModel } from './ops-models.js';
import {
  exportPipeline,
  listPipelines,
  pausePipeline,
  planExport,
  triggerPipeline,
} from './ops-pipelines.js';
import { listRuns, logRun, status } from './ops-runs.js';
import {
  BRIDGE_MIME,
  BRIDGE_OPS,
  type BridgeErrorBody,
  type BridgeOp,
  type BridgeResponse,
} from './protocol.js';

export * from './protocol.js';
export {
  setBridgeExporter,
  setBridgeScheduler,
  type BridgeSchedulerApi,
  type ExporterApi,
} from './ops-pipelines.js';
export { TAG_GIT_COMMIT, TAG_NOTEBOOK_PATH, TAG_SNAPSHOT, type BridgeContext } from './context.js';

const HANDLERS: Record<BridgeOp, (call: OpCall) => Promise<unknown>> = {
  status,
  logRun,
  listRunModels,
  lastModel,
  registerModel,
  planExport,
  exportPipeline,
  listRuns,
  listModels,
  listPipelines,
  triggerPipeline,
  pausePipeline,
};

/** Longest request id accepted (ids are echoed back, so they stay small). */
const MAX_ID_LENGTH = 200;

/** Makes a value plain JSON (drops undefined, turns non-finite numbers into null). */
function jsonSafe(value: unknown): unknown {
  const text = JSON.stringify(value, (_k, v: unknown) =>
    typeof v === 'number' && !Number.isFinite(v) ? null : typeof v === 'bigint' ? String(v) : v,
  );
  return text === undefined ? null : JSON.parse(text);
}

function errorBody(e: unknown): BridgeErrorBody {
  if (e instanceof CellarError) {
    const body: BridgeErrorBody = { code: e.code, message: e.message };
    if (e.details !== undefined) body.details = jsonSafe(e.details) as Record<string, unknown>;
    return body;
  }
  const message = e instanceof Error ? e.message : String(e);
  return { code: 'INTERNAL', message: `cellar bridge: unexpected error: ${message}` };
}

function checkRequest(request: unknown): { id: string; op: BridgeOp; args: Record<string, unknown> } {
  if (request === null || typeof request !== 'object' || Array.isArray(request)) {
    throw new CellarError('INVALID_INPUT', 'A bridge request must be an object { id, op, args }.');
  }
  const r = request as Record<string, unknown>;
  if (typeof r['id'] !== 'string' || r['id'] === '' || r['id'].length > MAX_ID_LENGTH) {
    throw new CellarError(
      'INVALID_INPUT',
      `A bridge request needs an "id" string of 1 to ${MAX_ID_LENGTH} characters.`,
    );
  }
  const op = r['op'];
  if (typeof op !== 'string' || !(BRIDGE_OPS as readonly string[]).includes(op)) {
    throw new CellarError(
      'UNSUPPORTED',
      `Unknown bridge operation ${JSON.stringify(op)}: this kernel's cellar answers ${BRIDGE_OPS.join(', ')}. ` +
        "If the extension is newer than the cellar package, update cellar in the notebook's folder.",
      { op: typeof op === 'string' ? op : null },
    );
  }
  const args = r['args'] ?? {};
  if (args === null || typeof args !== 'object' || Array.isArray(args)) {
    throw new CellarError('INVALID_INPUT', 'A bridge request\'s "args" must be an object.');
  }
  return { id: r['id'], op: op as BridgeOp, args: args as Record<string, unknown> };
}

/**
 * Answers one bridge request. Never throws: failures become `{ ok: false, error: { code, message, details } }`
 * with cellar's stable error codes, and results are plain JSON.
 *
 * @example
 * const reply = await bridge.handleBridgeRequest({ id: '1', op: 'status' }) // { id: '1', ok: true, result: { storeRoot, … } }
 */
export async function handleBridgeRequest(
  request: unknown,
  context: BridgeContext = {},
): Promise<BridgeResponse> {
  const rawId = (request as { id?: unknown } | null)?.id;
  const id = typeof rawId === 'string' ? rawId.slice(0, MAX_ID_LENGTH) : '';
  try {
    const checked = checkRequest(request);
    const result = await HANDLERS[checked.op]({
      op: checked.op,
      args: checked.args,
      cwd: context.cwd ?? process.cwd(),
    });
    return { id: checked.id, ok: true, result: jsonSafe(result) };
  } catch (e) {
    return { id, ok: false, error: errorBody(e) };
  }
}

/**
 * Answers a request given as JSON text and shows the response as a `display_data` output with MIME
 * {@link BRIDGE_MIME} (plus a one-line `text/plain`), which the extension reads. Never throws. This is
 * what the extension runs in the kernel; a user does not need to call it.
 *
 * @example
 * await bridge.handle('{"id":"1","op":"status"}')
 */
export async function handle(requestJson: string): Promise<void> {
  let response: BridgeResponse | undefined;
  let request: unknown;
  try {
    request = JSON.parse(String(requestJson));
  } catch (e) {
    response = {
      id: '',
      ok: false,
      error: {
        code: 'INVALID_INPUT',
        message: `The bridge request is not valid JSON: ${(e as Error).message}`,
      },
    };
  }
  response ??= await handleBridgeRequest(request);
  const summary = response.ok
    ? `cellar bridge: ${response.id} ok`
    : `cellar bridge: ${response.id} failed: ${response.error.code}: ${response.error.message}`;
  displayBundle({ [BRIDGE_MIME]: response, 'text/plain': summary }, BRIDGE_MIME);
}
