/**
 * The cell-tag actions of the extension (extension/src/tags.ts): marking steps, `prev:` steps and blocks
 * edits only the pipeline vocabulary, keeps the user's own tags, and produces names the exporter accepts.
 */
import {
  cellLabel,
  clearPipelineTags,
  prevStepsOf,
  readTags,
  setPrev,
  setStep,
  stepNameOf,
  stepNameProblem,
  stepsBefore,
  suggestStepName,
  toggleBlock,
} from '../../extension/src/tags.js';
import { NAME_PATTERN } from '../../kernel-lib/exporter/tags.js';

test('marking a step replaces other pipeline tags and keeps the user tags and prev', () => {
  const tags = ['mine', 'imports', 'prev:load', 'step:old'];
  expect(setStep(tags, 'train')).toEqual(['mine', 'step:train', 'prev:load']);
  expect(stepNameOf(setStep(tags, 'train'))).toBe('train');
  expect(() => setStep([], 'Train Model')).toThrow(/not a valid step name/);
});

test('prev steps are set, replaced and cleared', () => {
  expect(setPrev(['step:train'], ['load', 'features', 'load'])).toEqual([
    'step:train',
    'prev:load',
    'prev:features',
  ]);
  expect(prevStepsOf(setPrev(['step:train', 'prev:x'], ['load']))).toEqual(['load']);
  expect(setPrev(['step:train', 'prev:x'], [])).toEqual(['step:train']);
});

test('block tags toggle and exclude steps', () => {
  expect(toggleBlock(['step:a', 'prev:b', 'mine'], 'pipeline-parameters')).toEqual([
    'mine',
    'pipeline-parameters',
  ]);
  expect(toggleBlock(['pipeline-parameters', 'mine'], 'pipeline-parameters')).toEqual(['mine']);
  expect(toggleBlock(['imports'], 'functions')).toEqual(['functions']);
  expect(clearPipelineTags(['skip', 'mine', 'step:x', 'prev:y'])).toEqual(['mine']);
});

test('suggested step names are valid for the exporter', () => {
  for (const typed of ['Train Model!', '  Load-Data ', '_x', 'Ünïcode step', 'a'.repeat(80)]) {
    const name = suggestStepName(typed);
    expect(name === null || NAME_PATTERN.test(name)).toBe(true);
  }
  expect(suggestStepName('Train Model!')).toBe('train-model');
  expect(suggestStepName('!!!')).toBeNull();
  expect(stepNameProblem('train')).toBeNull();
  expect(stepNameProblem('')).toMatch(/needs a name/);
});

test('steps above a cell are offered as prev choices, in order', () => {
  const cells = [['imports'], ['step:load'], [], ['step:features'], ['step:load'], ['step:train']];
  expect(stepsBefore(cells, 5)).toEqual(['load', 'features']);
  expect(stepsBefore(cells, 1)).toEqual([]);
});

test('labels describe the tagged cells', () => {
  expect(cellLabel(['step:train', 'prev:load', 'prev:features'])).toBe('step: train ← load, features');
  expect(cellLabel(['step:load'])).toBe('step: load');
  expect(cellLabel(['pipeline-metrics'])).toBe('pipeline-metrics');
  expect(cellLabel(['mine'])).toBeNull();
  expect(readTags(['a', 3, null, 'b'])).toEqual(['a', 'b']);
  expect(readTags('step:x')).toEqual([]);
});
