/** Pipeline parameters: name=value parsing, validation against the spec's declared names and types, defaults. */
import { CellarError } from '../../../kernel-lib/errors.js';
import type { ParameterSpec } from '../../../kernel-lib/exporter/spec.js';
import { parseParamAssignments, resolveParams } from '../../../pipelines/runner/params.js';

const declared: ParameterSpec[] = [
  { name: 'alpha', type: 'number', default: 0.5 },
  { name: 'label', type: 'string', default: 'x' },
  { name: 'verbose', type: 'boolean', default: false },
  { name: 'grid', type: 'json', default: [1, 2] },
];

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return e instanceof CellarError ? e.code : 'NOT_CELLAR';
  }
  return 'NO_ERROR';
}

test('assignments split at the first = and keep the value exactly', () => {
  const hostile = 'a=$(id) `whoami` "q" \'s\'\nline2; rm -rf /';
  expect(parseParamAssignments(['alpha=0.7', `label=${hostile}`, 'grid=[1,{"a":"="}]'])).toEqual({
    alpha: '0.7',
    label: hostile,
    grid: '[1,{"a":"="}]',
  });
  expect(parseParamAssignments(['label='])).toEqual({ label: '' });
});

test('malformed assignments are INVALID_PARAMETER', () => {
  expect(code(() => parseParamAssignments(['alpha']))).toBe('INVALID_PARAMETER');
  expect(code(() => parseParamAssignments(['=1']))).toBe('INVALID_PARAMETER');
  expect(code(() => parseParamAssignments(['a-b=1']))).toBe('INVALID_PARAMETER');
  expect(code(() => parseParamAssignments(['alpha=1', 'alpha=2']))).toBe('INVALID_PARAMETER');
});

test('values are converted by the declared type and defaults fill the rest', () => {
  expect(resolveParams(declared, { alpha: '0.7', verbose: 'true', grid: '{"k":[1]}' })).toEqual({
    alpha: 0.7,
    label: 'x',
    verbose: true,
    grid: { k: [1] },
  });
  expect(resolveParams(declared, { alpha: 2, label: '$(id)\n`x`' })).toMatchObject({
    alpha: 2,
    label: '$(id)\n`x`',
  });
  expect(resolveParams(declared)).toEqual({ alpha: 0.5, label: 'x', verbose: false, grid: [1, 2] });
});

test('unknown names and wrong types are refused, naming the parameter', () => {
  let err: unknown;
  try {
    resolveParams(declared, { alhpa: '1' });
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(CellarError);
  expect((err as CellarError).code).toBe('INVALID_PARAMETER');
  expect((err as CellarError).message).toContain('alhpa');
  expect((err as CellarError).message).toContain('alpha, label, verbose, grid');
  expect(code(() => resolveParams(declared, { alpha: 'abc' }))).toBe('INVALID_PARAMETER');
  expect(code(() => resolveParams(declared, { alpha: '1e400' }))).toBe('INVALID_PARAMETER');
  expect(code(() => resolveParams(declared, { alpha: '$(id)' }))).toBe('INVALID_PARAMETER');
  expect(code(() => resolveParams(declared, { verbose: 'yes' }))).toBe('INVALID_PARAMETER');
  expect(code(() => resolveParams(declared, { grid: '{oops' }))).toBe('INVALID_PARAMETER');
  expect(code(() => resolveParams(declared, { label: 3 }))).toBe('INVALID_PARAMETER');
  expect(code(() => resolveParams(declared, { alpha: NaN }))).toBe('INVALID_PARAMETER');
});
