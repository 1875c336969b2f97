/**
 * scheduler/backoff — when a failed task is retried: exponential backoff capped at a maximum, with
 * deterministic jitter (a hash of run id, step and try number), so that retries of many tasks spread out
 * but a given retry is always scheduled the same way (reproducible in tests and after a restart).
 */
import { createHash } from 'node:crypto';

/** How retries are spaced. */
export interface RetryPolicy {
  /** Delay before the first retry, before jitter (ms). */
  baseDelayMs: number;
  /** No retry waits longer than this (ms). */
  maxDelayMs: number;
}

/** Default: 1 s, doubling, at most 5 minutes. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { baseDelayMs: 1_000, maxDelayMs: 300_000 };

/** A number in [0, 1) derived from the run id, the step and the try number. */
export function jitterFraction(runId: string, step: string, tryNumber: number): number {
  const digest = createHash('sha256').update(`${runId}\u0000${step}\u0000${tryNumber}`).digest();
  return digest.readUInt32BE(0) / 2 ** 32;
}

/**
 * The delay before retrying after attempt `tryNumber` (1-based) failed: d = min(max, base·2^(try-1)), then
 * "equal jitter": d/2 + fraction·d/2. Never more than `maxDelayMs`, never less than half the capped delay.
 */
export function retryDelayMs(policy: RetryPolicy, runId: string, step: string, tryNumber: number): number {
  const exp = policy.baseDelayMs * 2 ** Math.min(Math.max(tryNumber - 1, 0), 40);
  const capped = Math.min(policy.maxDelayMs, exp);
  return Math.floor(capped / 2 + (jitterFraction(runId, step, tryNumber) * capped) / 2);
}
