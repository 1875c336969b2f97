/** Reading pipeline versions from the store's files: references, latest, validation, hostile names. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CellarError } from '../../../kernel-lib/errors.js';
import { closeAllEmbedded } from '../../../kernel-lib/store/open.js';
import {
  listPipelineNames,
  loadPipelineVersion,
  parsePipelineRef,
  validatePipelineSpec,
} from '../../../pipelines/runner/version.js';
import { cleanupTmp } from '../../helpers/tmp.js';
import { makeStore, writePipeline } from '../../fixtures/pipelines/fixture.js';

afterEach(() => {
  closeAllEmbedded();
  cleanupTmp();
});

function errorOf(fn: () => unknown): CellarError {
  try {
    fn();
  } catch (e) {
    if (e instanceof CellarError) return e;
    throw e;
  }
  throw new Error('expected an error');
}

test('references: name, name@N, name@vN, name@latest; hostile names refused', () => {
  expect(parsePipelineRef('driver-training')).toEqual({ name: 'driver-training', version: 'latest' });
  expect(parsePipelineRef('driver-training@3')).toEqual({ name: 'driver-training', version: 3 });
  expect(parsePipelineRef('p@v12')).toEqual({ name: 'p', version: 12 });
  expect(parsePipelineRef('p@latest')).toEqual({ name: 'p', version: 'latest' });
  for (const bad of ['../etc', 'a/b', 'p@0', 'p@x', '', 'p@-1', '..']) {
    expect(errorOf(() => parsePipelineRef(bad)).code).toBe('INVALID_PARAMETER');
  }
});

test('loads a version and resolves latest to the highest number', () => {
  const root = makeStore();
  const step = { name: 'a', code: 'return {};' };
  writePipeline(root, { name: 'p', version: 1, steps: [step] });
  writePipeline(root, {
    name: 'p',
    version: 2,
    steps: [step, { name: 'b', upstream: ['a'], code: 'return {};' }],
  });
  mkdirSync(join(root, 'pipelines', 'p', '.tmp-123'), { recursive: true }); // an exporter's unfinished folder
  expect(loadPipelineVersion(root, 'p', 'latest').spec.version).toBe(2);
  expect(loadPipelineVersion(root, 'p', 1).spec.steps).toHaveLength(1);
  expect(listPipelineNames(root)).toEqual(['p']);
  expect(errorOf(() => loadPipelineVersion(root, 'p', 3)).code).toBe('NOT_FOUND');
  expect(errorOf(() => loadPipelineVersion(root, 'nope', 'latest')).code).toBe('NOT_FOUND');
});

test('a spec the runner cannot execute is INVALID_INPUT naming the problem', () => {
  const root = makeStore();
  const spec = writePipeline(root, {
    name: 'p',
    steps: [{ name: 'a', outputs: ['x'], code: 'return { x: 1 };' }],
  });
  const broken = (patch: object): CellarError => errorOf(() => validatePipelineSpec({ ...spec, ...patch }));
  expect(broken({ format: 'other' }).code).toBe('INVALID_INPUT');
  expect(broken({ steps: [{ ...spec.steps[0], file: '../../escape.js' }] }).message).toContain(
    'inside the version',
  );
  expect(broken({ steps: [{ ...spec.steps[0], upstream: ['later'] }] }).message).toContain('topological');
  expect(broken({ steps: [{ ...spec.steps[0], triggerRule: 'sometimes' }] }).message).toContain(
    'triggerRule',
  );
  expect(broken({ parameters: [{ name: 'a', type: 'date', default: 1 }] }).message).toContain('type');
  writeFileSync(join(root, 'pipelines', 'p', '1', 'pipeline.json'), '{not json');
  expect(errorOf(() => loadPipelineVersion(root, 'p', 1)).code).toBe('INVALID_INPUT');
});
