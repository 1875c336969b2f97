/**
 * data — the notebook-facing table layer: CSV/Parquet IO over nodejs-polars (`io`), conversions
 * between table shapes (`frame`) and the Float64 matrix/vector views estimators use (`matrix`).
 */
export * from './io.js';
export * from './frame.js';
export * from './matrix.js';
// Both frame and matrix define a polars check; the public one is frame's (typed as a real DataFrame).
export { isPolarsDataFrame } from './frame.js';
