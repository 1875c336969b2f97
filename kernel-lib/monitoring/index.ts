/**
 * monitoring — drift statistics (KS, PSI, chi-square, exact against scipy/numpy), reference statistics of
 * model versions, the prediction log and labels, drift/performance reports, training/serving skew, feature
 * freshness, and generated Prometheus rules and Grafana dashboards.
 */
export {
  ksTest,
  psi,
  chiSquareTest,
  type TestResult,
  type PsiOptions,
  type Sample,
  type CategoryCounts,
} from './stats.js';
export { referenceStats, type ReferenceInput } from './reference.js';
export {
  monitorReport,
  MonitorReport,
  type MonitorReportOptions,
  type MonitorReportData,
  type LivePerformance,
} from './report.js';
export { DEFAULT_THRESHOLDS, type ColumnDrift, type DriftThresholds } from './drift.js';
export { logPredictions, logLabels, getReferenceStats } from './sdk.js';
export { skewReport, type SkewReport, type SkewOptions, type FeatureSkew } from './skew.js';
export { featureFreshness, freshnessMetrics, type ViewFreshness } from './freshness.js';
export {
  prometheusRules,
  grafanaDashboard,
  driftMetrics,
  METRIC_NAMES,
  type AlertOptions,
  type DashboardOptions,
  type MetricNames,
} from './alerts.js';
export { SqliteMonitoringStore } from './sqlite-monitoring-store.js';
export type {
  ReferenceStats,
  NumericReference,
  CategoricalReference,
  ColumnReference,
  PredictionRow,
  PredictionQuery,
  PredictionSource,
  LabelRow,
  MonitoringStore,
  FeatureValue,
} from './types.js';
