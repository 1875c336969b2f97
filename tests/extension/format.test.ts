/**
 * The extension's pure helpers (extension/src/format.ts): numbers and times as the UI shows them, export
 * problems grouped by cell, kernel detection, schedule checks, settings with defaults, links and names.
 */
import {
  commonArgs,
  DEFAULT_SETTINGS,
  exportProblems,
  formatDuration,
  formatNumber,
  formatTime,
  isTypeScriptKernel,
  pipelineNameFor,
  platformLink,
  problemsByCell,
  readSettings,
  scheduleProblem,
  stepGraphLines,
} from '../../extension/src/format.js';

test('numbers and times', () => {
  expect(formatNumber(0.421337)).toBe('0.4213');
  expect(formatNumber(12)).toBe('12');
  expect(formatNumber(1234567.8)).toBe('1.235e+6');
  expect(formatNumber(0.00001234)).toBe('1.234e-5');
  expect(formatNumber(Number.NaN)).toBe('—');
  expect(formatNumber(null)).toBe('—');
  expect(formatTime(Date.UTC(2026, 10, 25, 13, 5, 9))).toBe('2026-11-25 13:05:09');
  expect(formatDuration(0, 65_000, 0)).toBe('1 min 5 s');
  expect(formatDuration(0, null, 3 * 3_600_000 + 120_000)).toBe('3 h 2 min');
});

test('export problems are grouped by cell; the rest belongs to the notebook', () => {
  const problems = exportProblems({
    errors: [
      { cell: 3, step: 'train', message: 'reads `model`' },
      { cell: 3, message: 'second' },
      { cell: null, message: 'no step' },
      { cell: 99, message: 'out of range' },
      { message: 42 },
      'junk',
    ],
  });
  expect(problems).toHaveLength(4);
  const grouped = problemsByCell(problems, 10);
  expect([...grouped.cells.entries()]).toEqual([[3, ['reads `model` (step train)', 'second']]]);
  expect(grouped.notebook).toEqual(['no step', 'out of range']);
  expect(exportProblems(undefined)).toEqual([]);
});

test('TypeScript kernels are recognised by language or spec name', () => {
  expect(isTypeScriptKernel({ name: 'tslab' })).toBe(true);
  expect(isTypeScriptKernel({ name: 'tslab-dev' })).toBe(true);
  expect(isTypeScriptKernel({ name: 'python3' })).toBe(false);
  expect(isTypeScriptKernel({ name: 'whatever', language: 'TypeScript' })).toBe(true);
  expect(isTypeScriptKernel({ name: 'jslab', language: 'javascript' })).toBe(false);
  expect(isTypeScriptKernel({})).toBe(false);
});

test('schedules: empty, cron and macros pass; typos are explained', () => {
  expect(scheduleProblem('')).toBeNull();
  expect(scheduleProblem('0 3 * * *')).toBeNull();
  expect(scheduleProblem('*/15 9-17 * * mon-fri')).toBeNull();
  expect(scheduleProblem('@daily')).toBeNull();
  expect(scheduleProblem('0 3 * *')).toMatch(/5 fields/);
  expect(scheduleProblem('0 3 * * ?x')).toMatch(/not a valid cron field/);
});

test('settings fall back to defaults for missing or wrong values', () => {
  expect(readSettings(null)).toEqual(DEFAULT_SETTINGS);
  expect(
    readSettings({
      storeUri: ' /data ',
      includeOutputs: false,
      refreshSeconds: -3,
      platformUrl: 'http://h:1/',
      x: 1,
    }),
  ).toEqual({
    ...DEFAULT_SETTINGS,
    storeUri: '/data',
    includeOutputs: false,
    refreshSeconds: 0,
    platformUrl: 'http://h:1',
  });
  expect(readSettings({ includeOutputs: 'no', refreshSeconds: 'x' })).toEqual(DEFAULT_SETTINGS);
  expect(commonArgs(DEFAULT_SETTINGS, 'a.ipynb')).toEqual({ notebookPath: 'a.ipynb' });
  expect(commonArgs({ ...DEFAULT_SETTINGS, storeUri: 's', defaultExperiment: 'e' }, 'a.ipynb')).toEqual({
    notebookPath: 'a.ipynb',
    storeUri: 's',
    defaultExperiment: 'e',
  });
});

test('links only for http(s) web UIs, with encoded segments', () => {
  expect(platformLink(DEFAULT_SETTINGS, 'runs', 'x')).toBeNull();
  expect(platformLink({ ...DEFAULT_SETTINGS, platformUrl: 'javascript:alert(1)' }, 'runs', 'x')).toBeNull();
  expect(
    platformLink({ ...DEFAULT_SETTINGS, platformUrl: 'http://127.0.0.1:7070' }, 'models', 'a b/c', 3),
  ).toBe('http://127.0.0.1:7070/models/a%20b%2Fc/3');
});

test('pipeline names from notebook paths, step graphs as lines', () => {
  expect(pipelineNameFor('work/Driver Training.ipynb')).toBe('driver-training');
  expect(pipelineNameFor('.ipynb')).toBe('pipeline');
  expect(
    stepGraphLines([
      { name: 'load', upstream: [], cells: [], inputs: {} },
      { name: 'train', upstream: ['load', 'features'], cells: [], inputs: {} },
    ]),
  ).toEqual(['load', 'train ← load, features']);
});
