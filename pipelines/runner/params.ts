/**
 * runner/params — pipeline parameters: `k=v` assignments from the command line (or values from code) checked
 * against the names and types of the spec's `pipeline-parameters` cell, with defaults applied. Values are
 * data: they travel to a step as JSON and are never spliced into code or a shell command, so a string such as
 * `$(id)` or one holding quotes and newlines reaches the step byte for byte.
 */
import { CellarError } from '../../kernel-lib/errors.js';
import { validateParameterName, type ParameterSpec } from '../../kernel-lib/exporter/spec.js';

const NUMBER_TEXT = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/**
 * Splits `name=value` assignments (at the first `=`; the value is kept exactly, including `=`, quotes and
 * newlines).
 *
 * @throws CellarError INVALID_PARAMETER for a missing `=`, a bad name or a name given twice.
 * @example
 * parseParamAssignments(['alpha=0.5', 'note=a=b']) // { alpha: '0.5', note: 'a=b' }
 */
export function parseParamAssignments(assignments: readonly string[]): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const a of assignments) {
    const eq = a.indexOf('=');
    if (eq <= 0) {
      throw new CellarError('INVALID_PARAMETER', `Parameter "${a}" must be written name=value.`, {
        assignment: a,
      });
    }
    const name = validateParameterName(a.slice(0, eq));
    if (name in out) {
      throw new CellarError('INVALID_PARAMETER', `Parameter "${name}" is given twice.`, { name });
    }
    out[name] = a.slice(eq + 1);
  }
  return { ...out };
}

function typeError(p: ParameterSpec, value: unknown, hint: string): CellarError {
  const shown = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return new CellarError(
    'INVALID_PARAMETER',
    `Parameter "${p.name}" is a ${p.type}; ${shown.slice(0, 80)} is not (${hint}).`,
    { name: p.name, type: p.type },
  );
}

function fromText(p: ParameterSpec, text: string): unknown {
  switch (p.type) {
    case 'string':
      return text;
    case 'number': {
      const n = Number(text);
      if (!NUMBER_TEXT.test(text.trim()) || !Number.isFinite(n)) throw typeError(p, text, 'write e.g. 0.5');
      return n;
    }
    case 'boolean':
      if (text === 'true') return true;
      if (text === 'false') return false;
      throw typeError(p, text, 'write true or false');
    case 'json':
      try {
        return JSON.parse(text) as unknown;
      } catch (e) {
        throw typeError(p, text, `not valid JSON: ${(e as Error).message}`);
      }
  }
}

function checkValue(p: ParameterSpec, value: unknown): unknown {
  if (typeof value === 'string' && p.type !== 'string') return fromText(p, value);
  switch (p.type) {
    case 'string':
      if (typeof value !== 'string') throw typeError(p, value, 'pass a string');
      return value;
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value))
        throw typeError(p, value, 'pass a finite number');
      return value;
    case 'boolean':
      if (typeof value !== 'boolean') throw typeError(p, value, 'pass true or false');
      return value;
    case 'json': {
      let text: string | undefined;
      try {
        text = JSON.stringify(value);
      } catch {
        text = undefined;
      }
      if (text === undefined) throw typeError(p, value, 'pass a JSON-able value');
      return JSON.parse(text) as unknown;
    }
  }
}

/**
 * Checks parameter values against the spec and applies defaults. `values` may hold text (from
 * `--param k=v`, converted by the declared type) or typed values (from code).
 *
 * @throws CellarError INVALID_PARAMETER for an unknown name (listing the known ones) or a value of the wrong type.
 * @example
 * resolveParams(spec.parameters, { alpha: '0.7' }) // { alpha: 0.7, l1_ratio: 0.1 }
 */
export function resolveParams(
  declared: readonly ParameterSpec[],
  values: Record<string, unknown> = {},
): Record<string, unknown> {
  const byName = new Map(declared.map((p) => [p.name, p]));
  for (const name of Object.keys(values)) {
    if (!byName.has(name)) {
      const known = declared.map((p) => p.name).join(', ') || 'none';
      throw new CellarError(
        'INVALID_PARAMETER',
        `Unknown parameter "${name}"; this pipeline's parameters are: ${known}.`,
        { name },
      );
    }
  }
  const out: Record<string, unknown> = {};
  for (const p of declared) {
    out[p.name] = Object.prototype.hasOwnProperty.call(values, p.name)
      ? checkValue(p, values[p.name])
      : p.default;
  }
  return out;
}
