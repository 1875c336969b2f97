/**
 * The package root exports the public API only — what notebooks, scripts and the README use — and nothing of
 * cellar's internals (those are imported by path inside the package). Adding a name here is a decision about
 * the public API, not a side effect of `export *`.
 */
import * as cellar from '../../kernel-lib/index.js';

const PUBLIC = `ActiveRun CellarError CellarStore ERROR_CODES ElasticNet FeatureStore FileOfflineStore Lasso
  LinearRegression PostgresOfflineStore RedisOnlineStore RetrievalJob Ridge SqliteOnlineStore activeRun
  addFitListener autolog bridge createExperiment diffPipelineVersions display driverTrainingData endRun entity
  evaluate exportNotebook featureService featureStore featureView fileSource generateDriverData getExperiment
  getPipelineVersion getRun getStore isCellarError isPolarsDataFrame listModels listPipelineVersions
  listPipelines loadModel mae modelFromJSON mse openStore planExport postgresSource r2 readCsv readParquet
  registerModel regressionMetrics rmse searchRuns setAlias startRun toDataFrame toRows trainTestSplit useStore
  withRun writeCsv writeDemoData writeParquet
  serve predictBatch readPredictionLog
  ksTest psi chiSquareTest monitorReport MonitorReport logPredictions logLabels getReferenceStats skewReport
  featureFreshness prometheusRules grafanaDashboard`.split(/\s+/);

test('the package root exports exactly the public API', () => {
  expect(Object.keys(cellar).sort()).toEqual([...PUBLIC].sort());
});

test('internals stay out of the root (they are reachable by path only)', () => {
  for (const internal of [
    'httpStatusFor',
    'getLastFit',
    'locateStore',
    'parseModelUri',
    'parsePipelineRef',
    'hasFitListeners',
    'datasetFingerprint',
    'enetCoordinateDescent',
    'mulberry32',
    'toMatrix',
    'writeFileAtomic',
    'parseTtl',
    'checkSource',
  ]) {
    expect(cellar).not.toHaveProperty(internal);
  }
});
