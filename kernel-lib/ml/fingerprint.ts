/**
 * ml/fingerprint — a stable content hash of a training dataset (feature names, Float64 values of X and
 * y), used to link runs and models to the exact data they were fitted on.
 */
import { createHash } from 'node:crypto';

function bytesOf(a: Float64Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/**
 * sha256 (hex) over: the UTF-8 JSON of `featureNames`, then the raw Float64 bytes (little-endian on every platform Node runs on) of each
 * X column in order, then those of `y` (when given). Equal data gives an equal fingerprint whatever the
 * input shape was (rows, columns or DataFrame), because all are hashed as Float64 columns.
 *
 * @example
 * datasetFingerprint(['a'], [Float64Array.of(1, 2)], Float64Array.of(3, 4)); // '5c1f…' (64 hex chars)
 */
export function datasetFingerprint(
  featureNames: string[],
  columns: Float64Array[],
  y?: Float64Array,
): string {
  const h = createHash('sha256');
  h.update(JSON.stringify(featureNames), 'utf8');
  for (const c of columns) h.update(bytesOf(c));
  if (y) h.update(bytesOf(y));
  return h.digest('hex');
}
