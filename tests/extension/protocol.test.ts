/**
 * The extension keeps its own copy of the bridge protocol (it is built as a separate package). These
 * checks fail — at typecheck for the types, at run time for the constants — when the copy and
 * kernel-lib/bridge/protocol.ts drift apart.
 */
import * as ext from '../../extension/src/protocol.js';
import * as kernel from '../../kernel-lib/bridge/protocol.js';

/** Compiles only when A and B are mutually assignable. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const checks: Array<true> = [
  true as Same<ext.BridgeRequest, kernel.BridgeRequest>,
  true as Same<ext.BridgeResponse, kernel.BridgeResponse>,
  true as Same<ext.BridgeOp, kernel.BridgeOp>,
  true as Same<ext.CommonArgs, kernel.CommonArgs>,
  true as Same<ext.RunSummary, kernel.RunSummary>,
  true as Same<ext.StatusResult, kernel.StatusResult>,
  true as Same<ext.LogRunResult, kernel.LogRunResult>,
  true as Same<ext.RunModelsResult, kernel.RunModelsResult>,
  true as Same<ext.LastModelResult, kernel.LastModelResult>,
  true as Same<ext.RegisterModelResult, kernel.RegisterModelResult>,
  true as Same<ext.RunsResult, kernel.RunsResult>,
  true as Same<ext.ModelSummary, kernel.ModelSummary>,
  true as Same<ext.ExportPlan, kernel.ExportPlan>,
  true as Same<ext.ExportResult, kernel.ExportResult>,
  true as Same<ext.PipelinesResult, kernel.PipelinesResult>,
  true as Same<ext.SchedulerActionResult, kernel.SchedulerActionResult>,
];

test('the two copies of the protocol agree', () => {
  expect(checks.every(Boolean)).toBe(true);
  expect(ext.BRIDGE_MIME).toBe(kernel.BRIDGE_MIME);
  expect(ext.BRIDGE_PROTOCOL_VERSION).toBe(kernel.BRIDGE_PROTOCOL_VERSION);
  expect([...ext.BRIDGE_OPS]).toEqual([...kernel.BRIDGE_OPS]);
});
