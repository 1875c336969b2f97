/**
 * tracking/filter — the run-search filter language (MLflow's, plus `or` and parentheses): tokenizing,
 * parsing into a `FilterExpr`, type-checking values against their entity, evaluating against a `RunView`,
 * and printing an expression back to text. Pure functions; the tracking store calls them.
 *
 * Grammar (keywords case-insensitive; `and` binds tighter than `or`):
 *   filter     := and ('or' and)*            and := primary ('and' primary)*
 *   primary    := '(' filter ')' | comparison   (at most MAX_FILTER_DEPTH nested parentheses)
 *   comparison := key op value | key ['not'] 'in' '(' value (',' value)* ')'
 *   key        := entity '.' name   name unquoted (letters, digits, _ . - / :, e.g. tags.mlflow.source.name)
 *                                   or quoted right after the dot: metrics.`val loss`, tags."mlflow.runName"
 *   entity     := metrics | params | tags | attributes  (aliases: metric, param, parameter(s), tag, attr, run)
 *   value      := 'string' | "string" | number          (number: 3, -1, 0.5, .5, 1e-3)
 * Strings and quoted keys: the quote character is written twice ('it''s') or after a backslash ('it\'s');
 * `\\` is one backslash; a backslash before any other character is kept, so `\%` and `\_` reach LIKE.
 * `<>` is accepted for `!=`.
 *
 * Semantics (MLflow's unless marked):
 * - metrics (latest value) compare numerically with = != < <= > >=; a NaN metric never matches.
 * - params and tags compare as strings with = != LIKE ILIKE IN, NOT IN (IN on them is a cellar extension);
 *   a bare number is an error (quote it). Cellar extension: `params.x < 0.5` (< <= > >= with a number)
 *   compares numerically, and a param whose whole value is not a decimal number does not match.
 * - LIKE is case-sensitive, ILIKE is not; `%` is any run of characters, `_` exactly one, `\` escapes.
 * - attributes: run_id, run_name (alias `run name`), experiment_id, parent_run_id are strings; status takes
 *   = != IN, NOT IN with RUNNING, SCHEDULED, FINISHED, FAILED, KILLED (case-insensitive); start_time
 *   (alias created) and end_time are epoch milliseconds, compared numerically.
 * - A run without the key (or with a null attribute) matches no comparison, not even != or NOT IN.
 */
import { CellarError, type ErrorCode } from '../errors.js';
import { RUN_STATUSES } from './types.js';

/** The four kinds of data a run-search key can name. */
export type Entity = 'metrics' | 'params' | 'tags' | 'attributes';
/** The comparison operators of the filter language. */
export type CompareOp = '=' | '!=' | '<' | '<=' | '>' | '>=' | 'LIKE' | 'ILIKE' | 'IN' | 'NOT IN';
/**
 * A parsed filter: comparisons combined with `and` / `or`. As `parseFilter` builds it, attribute keys are
 * canonical (`start_time`, never `created`), status values upper-case, and IN / NOT IN values arrays.
 */
export type FilterExpr =
  | { kind: 'and' | 'or'; left: FilterExpr; right: FilterExpr }
  | {
      kind: 'compare';
      entity: Entity;
      key: string;
      op: CompareOp;
      value: string | number | Array<string | number>;
    };
/** What a filter is evaluated against. metrics = latest value per key. */
export interface RunView {
  runId: string;
  runName: string | null;
  status: string;
  startTime: number;
  endTime: number | null;
  experimentId: string;
  parentRunId: string | null;
  metrics: Record<string, number>;
  params: Record<string, string>;
  tags: Record<string, string>;
}

/** Deepest parenthesis nesting a filter may use; deeper input is refused before it can exhaust the stack. */
export const MAX_FILTER_DEPTH = 100;

// prettier-ignore
const ENTITY_ALIASES: Record<string, Entity> = {
  metric: 'metrics', metrics: 'metrics', param: 'params', params: 'params', parameter: 'params',
  parameters: 'params', tag: 'tags', tags: 'tags', attribute: 'attributes', attributes: 'attributes',
  attr: 'attributes', run: 'attributes',
};
type Attr = string | number | null;
// prettier-ignore
const ATTRIBUTES: Record<string, (run: RunView) => Attr> = {
  run_id: (r) => r.runId, run_name: (r) => r.runName,
  status: (r) => (typeof r.status === 'string' ? r.status.toUpperCase() : r.status),
  start_time: (r) => r.startTime, end_time: (r) => r.endTime,
  experiment_id: (r) => r.experimentId, parent_run_id: (r) => r.parentRunId,
};
const ATTRIBUTE_ALIASES: Record<string, string> = { created: 'start_time', 'run name': 'run_name' };
/** Own-property lookup, so that names like `constructor` or `__proto__` never resolve to Object internals. */
const own = <T>(o: Record<string, T>, k: string): T | undefined => (Object.hasOwn(o, k) ? o[k] : undefined);
const attributeKey = (name: string) => {
  const lower = name.toLowerCase();
  return own(ATTRIBUTES, lower) ? lower : own(ATTRIBUTE_ALIASES, lower);
};
const NUMERIC_OPS: CompareOp[] = ['=', '!=', '<', '<=', '>', '>='];
const STRING_OPS: CompareOp[] = ['=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'];
const KEYWORDS = new Set(['AND', 'OR', 'NOT', 'IN', 'LIKE', 'ILIKE']);
const WORD_START = /[\p{L}_]/u;
const WORD_PART = /[\p{L}\p{N}_.\-/:]/u;
const NUMBER = /-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/y;
const NUMERIC_STRING = /^\s*[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*$/;

/** @internal A token of the filter / order-by language. */
export interface Token {
  kind: 'key' | 'word' | 'string' | 'number' | 'op' | 'punct' | 'eof';
  /** Source text (empty for `eof`) and its offset. */
  text: string;
  pos: number;
  /** String value, operator, punctuation or upper-cased word; `num` for numbers. */
  str: string;
  num: number;
  /** For `key` tokens: the entity word as typed, and the key (unquoted). */
  entityText: string;
  key: string;
}

/** @internal What is being parsed, for errors: the text, the error code, and what to call it. */
export interface Source {
  text: string;
  code: ErrorCode;
  label: string;
}

/**
 * @internal Throws `src.code` with a message naming the bad token and its column, the source line with a
 * caret under the token, and details `{ position (0-based offset), line, column (1-based), token }`.
 */
export function syntaxError(
  src: Source,
  at: { pos: number; text: string },
  problem: string,
  hint = '',
): never {
  const { text } = src;
  const { pos, text: token } = at;
  const lineStart = text.lastIndexOf('\n', pos - 1) + 1;
  const lineEnd = text.includes('\n', pos) ? text.indexOf('\n', pos) : text.length;
  const line = text.slice(0, lineStart).split('\n').length;
  const column = pos - lineStart + 1;
  const where = text.includes('\n') ? `line ${line}, column ${column}` : `column ${column}`;
  // Show about 100 characters of the line around the error so that huge filters stay readable.
  const from = Math.max(lineStart, pos - 60);
  const to = Math.min(lineEnd, pos + Math.max(token.length, 1) + 40);
  const lead = from > lineStart ? '…' : '';
  const shown = lead + text.slice(from, to).replace(/[\t\r\v\f]/g, ' ') + (to < lineEnd ? '…' : '');
  const caret =
    ' '.repeat(lead.length + pos - from) + '^'.repeat(Math.max(1, Math.min(token.length, to - pos)));
  const message = `Invalid ${src.label}: ${problem} at ${where}.${hint && ' ' + hint}\n  ${shown}\n  ${caret}`;
  throw new CellarError(src.code, message, { position: pos, line, column, token });
}

/** @internal How a token is named in messages. */
export function describeToken(tok: Token): string {
  if (tok.kind === 'eof') return 'the end of the input';
  const text = tok.text.length > 40 ? `${tok.text.slice(0, 40)}…` : tok.text;
  return tok.kind === 'string' ? text : `'${text}'`; // a string token shows its own quotes
}

function charAt(s: string, i: number): string {
  const cp = s.codePointAt(i);
  return cp === undefined ? '' : String.fromCodePoint(cp);
}

function wordEnd(s: string, i: number): number {
  while (i < s.length && WORD_PART.test(charAt(s, i))) i += charAt(s, i).length;
  return i;
}

/** Reads the quoted text whose opening quote is at `start`; returns the unescaped value and end offset. */
function readQuoted(src: Source, start: number, what: string): { value: string; end: number } {
  const s = src.text;
  const q = s[start];
  let out = '';
  for (let i = start + 1; i < s.length; i++) {
    const c = s[i];
    if ((c === '\\' && (s[i + 1] === q || s[i + 1] === '\\')) || (c === q && s[i + 1] === q)) out += s[++i];
    else if (c === q) return { value: out, end: i + 1 };
    else out += c;
  }
  const at = { pos: start, text: s.slice(start, start + 20) };
  return syntaxError(src, at, `unterminated ${what} starting`, `Close it with ${q}.`);
}

/** @internal Splits filter or order-by text into tokens, ending with an `eof` token. */
export function tokenize(src: Source): Token[] {
  const s = src.text;
  const out: Token[] = [];
  const push = (kind: Token['kind'], pos: number, end: number, more: Partial<Token> = {}) =>
    out.push({ kind, text: s.slice(pos, end), pos, str: '', num: NaN, entityText: '', key: '', ...more });
  const fail = (pos: number, text: string, problem: string, hint = '') =>
    syntaxError(src, { pos, text }, problem, hint);
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    NUMBER.lastIndex = i;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '(' || c === ')' || c === ',') {
      push('punct', i, ++i, { str: c });
    } else if (c === "'" || c === '"') {
      const { value, end } = readQuoted(src, i, 'string');
      push('string', i, (i = end), { str: value });
    } else if (/[!<>=]/.test(c)) {
      const two = s.slice(i, i + 2);
      if (two === '==') fail(i, two, `unexpected '=='`, 'Use a single = to test equality.');
      const op = ['!=', '<>', '<=', '>='].includes(two) ? two : c;
      if (op === '!') fail(i, c, `unexpected '!'`, 'Use != to test inequality, or NOT IN.');
      push('op', i, (i += op.length), { str: op === '<>' ? '!=' : op });
    } else if (/[\d.-]/.test(c) && NUMBER.exec(s)) {
      const end = NUMBER.lastIndex;
      const bad = wordEnd(s, end);
      if (bad > end) fail(i, s.slice(i, bad), `malformed number '${s.slice(i, bad)}'`, 'Quote text values.');
      const num = Number(s.slice(i, end));
      if (!Number.isFinite(num)) fail(i, s.slice(i, end), 'number out of range');
      push('number', i, (i = end), { num });
    } else if (WORD_START.test(charAt(s, i))) {
      let j = wordEnd(s, i);
      const word = s.slice(i, j);
      const dot = word.indexOf('.');
      const entityText = word.slice(0, dot);
      if (dot < 0) push('word', i, j, { str: word.toUpperCase() });
      else if (dot < word.length - 1) push('key', i, j, { entityText, key: word.slice(dot + 1) });
      else if (dot === word.length - 1 && /["'`]/.test(s[j] ?? '')) {
        const { value, end } = readQuoted(src, j, 'quoted key');
        if (value === '') fail(j, s.slice(j, end), 'empty key');
        push('key', i, (j = end), { entityText, key: value });
      } else fail(i, word, `missing key after '${word}'`, `Write e.g. ${word}rmse or ${word}\`val loss\`.`);
      i = j;
    } else {
      const ch = charAt(s, i);
      const hints: Record<string, string> = { '&': 'Use AND.', '|': 'Use OR.' };
      hints['`'] = 'Backticks quote a key right after its entity, e.g. metrics.`val loss`.';
      fail(i, ch, `unexpected character '${ch}'`, hints[ch] ?? '');
    }
  }
  push('eof', s.length, s.length);
  return out;
}

/**
 * @internal Resolves a key token (`metrics.rmse`, `run.created`, …) to its entity and canonical key;
 * explains bare names, keywords, unknown entities and unknown attributes.
 */
export function resolveKey(src: Source, tok: Token, example: string): { entity: Entity; key: string } {
  if (tok.kind === 'word' && !KEYWORDS.has(tok.str) && tok.str !== 'ASC' && tok.str !== 'DESC') {
    const attr = attributeKey(tok.text);
    const t = tok.text;
    const hint = attr
      ? `Did you mean attributes.${attr}?`
      : `Prefix it with its entity: metrics.${t}, params.${t}, tags.${t} or attributes.<name>.`;
    syntaxError(src, tok, `key '${t}' has no entity prefix`, hint);
  }
  if (tok.kind !== 'key') {
    const quoted = tok.kind === 'string' && tok.str.includes('.');
    const hint = quoted ? 'Quote only the key after its entity, e.g. metrics.`val loss`.' : '';
    syntaxError(src, tok, `expected a key like ${example}, got ${describeToken(tok)}`, hint);
  }
  const entity = own(ENTITY_ALIASES, tok.entityText.toLowerCase());
  if (!entity) {
    const at = { pos: tok.pos, text: tok.entityText };
    const hint = 'Keys start with metrics., params., tags. or attributes.';
    syntaxError(src, at, `unknown entity '${tok.entityText}' in ${tok.text}`, hint);
  }
  if (entity !== 'attributes') return { entity, key: tok.key };
  const key = attributeKey(tok.key);
  if (!key) {
    const hint = `Attributes are ${Object.keys(ATTRIBUTES).join(', ')}.`;
    syntaxError(src, tok, `unknown attribute '${tok.key}'`, hint);
  }
  return { entity, key };
}

function allowedOps(entity: Entity, key: string): CompareOp[] {
  if (entity === 'metrics' || key === 'start_time' || key === 'end_time') return NUMERIC_OPS;
  if (entity === 'params') return [...NUMERIC_OPS, ...STRING_OPS.slice(2)];
  return entity === 'attributes' && key === 'status' ? ['=', '!=', 'IN', 'NOT IN'] : STRING_OPS;
}

/** Recursive descent over the tokens; recursion depth is bounded by MAX_FILTER_DEPTH parentheses. */
function parseTokens(src: Source, toks: Token[]): FilterExpr {
  let i = 0;
  const fail: (t: Token, problem: string, hint?: string) => never = (t, problem, hint) =>
    syntaxError(src, t, problem, hint);
  const is = (kind: Token['kind'], str: string, t = toks[i]) => t.kind === kind && t.str === str;

  const parseOr = (depth: number): FilterExpr => {
    let left = parseAnd(depth);
    while (is('word', 'OR')) {
      i++;
      left = { kind: 'or', left, right: parseAnd(depth) };
    }
    return left;
  };
  const parseAnd = (depth: number): FilterExpr => {
    let left = parsePrimary(depth);
    while (is('word', 'AND')) {
      i++;
      left = { kind: 'and', left, right: parsePrimary(depth) };
    }
    return left;
  };
  const parsePrimary = (depth: number): FilterExpr => {
    const open = toks[i];
    if (!is('punct', '(')) return parseComparison();
    if (depth >= MAX_FILTER_DEPTH) fail(open, `parentheses nested deeper than ${MAX_FILTER_DEPTH} levels`);
    i++;
    const inner = parseOr(depth + 1);
    if (!is('punct', ')')) {
      fail(toks[i], `expected ')' to close the '(' at column ${open.pos + 1}, got ${describeToken(toks[i])}`);
    }
    i++;
    return inner;
  };

  const parseComparison = (): FilterExpr => {
    const keyTok = toks[i];
    if (keyTok.kind === 'eof' || is('punct', ')')) {
      const after = i > 0 ? ` after '${toks[i - 1].text}'` : '';
      fail(keyTok, `expected a comparison such as metrics.rmse < 0.5${after}, got ${describeToken(keyTok)}`);
    }
    const { entity, key } = resolveKey(src, keyTok, 'metrics.rmse');
    const opTok = toks[++i];
    let op: CompareOp | undefined;
    if (opTok.kind === 'op' || (opTok.kind === 'word' && ['LIKE', 'ILIKE', 'IN'].includes(opTok.str))) {
      op = opTok.str as CompareOp;
    } else if (is('word', 'NOT')) {
      const next = toks[++i];
      if (!is('word', 'IN', next)) {
        fail(next, `expected IN after NOT, got ${describeToken(next)}`, 'NOT only exists as NOT IN.');
      }
      op = 'NOT IN';
    } else {
      const ops = '=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN';
      fail(
        opTok,
        `expected a comparison operator (${ops}) after ${keyTok.text}, got ${describeToken(opTok)}`,
      );
    }
    i++;
    const allowed = allowedOps(entity, key);
    if (!allowed.includes(op)) {
      const what = entity === 'attributes' ? `attributes.${key}` : entity;
      const verb = entity === 'attributes' ? 'supports' : 'support';
      fail(opTok, `${op} cannot be used with ${what}`, `${what} ${verb} ${allowed.join(', ')}.`);
    }
    const subject = `${keyTok.text} ${op}`;
    if (op !== 'IN' && op !== 'NOT IN') {
      return { kind: 'compare', entity, key, op, value: parseValue(entity, key, op, subject) };
    }
    if (!is('punct', '(')) {
      const hint = `Write ${subject} ('a', 'b').`;
      fail(toks[i], `expected '(' after ${subject}, got ${describeToken(toks[i])}`, hint);
    }
    if (is('punct', ')', toks[++i])) {
      fail(toks[i], `empty ${op} list after ${keyTok.text}`, 'Put at least one value in it.');
    }
    const values: Array<string | number> = [parseValue(entity, key, op, subject)];
    while (is('punct', ',')) {
      i++;
      values.push(parseValue(entity, key, op, subject));
    }
    if (!is('punct', ')')) {
      fail(toks[i], `expected ',' or ')' in the ${op} list, got ${describeToken(toks[i])}`);
    }
    i++;
    return { kind: 'compare', entity, key, op, value: values };
  };

  /** Reads one literal and checks that it has the type `entity.key op` needs. */
  const parseValue = (entity: Entity, key: string, op: CompareOp, subject: string): string | number => {
    const t = toks[i];
    const numeric = allowedOps(entity, key) === NUMERIC_OPS || (entity === 'params' && /^[<>]/.test(op));
    const expected = `expected a ${numeric ? 'number' : 'quoted string'} after ${subject}, got ${describeToken(t)}`;
    if (t.kind !== 'string' && t.kind !== 'number') {
      const unquoted = t.kind === 'word' && !KEYWORDS.has(t.str) && !numeric;
      fail(t, expected, unquoted ? `Quote text values: '${t.text}'.` : '');
    }
    i++;
    const what = entity === 'attributes' ? `attributes.${key}` : entity;
    const verb = entity === 'attributes' ? 'holds' : 'hold';
    if (numeric && t.kind === 'string') {
      const ms = entity === 'attributes' ? ' (epoch milliseconds)' : '';
      const why =
        entity === 'params' ? `${op} on a param compares numerically` : `${what} ${verb} numbers${ms}`;
      const hint = NUMERIC_STRING.test(t.str) ? `Remove the quotes: ${t.str.trim()}.` : 'Use a number.';
      fail(t, `${why}: ${expected}`, hint);
    }
    if (!numeric && t.kind === 'number') {
      fail(t, `${what} ${verb} strings: ${expected}`, `Quote it: '${t.text}'.`);
    }
    if (entity === 'attributes' && key === 'status') {
      if (!(RUN_STATUSES as readonly string[]).includes(t.str.toUpperCase())) {
        fail(t, `unknown run status ${describeToken(t)}`, `Statuses are ${RUN_STATUSES.join(', ')}.`);
      }
      return t.str.toUpperCase();
    }
    return t.kind === 'number' ? t.num : t.str;
  };

  const expr = parseOr(0);
  const t = toks[i];
  if (is('punct', ')')) fail(t, `unbalanced ')'`, 'Remove it or add the matching (.');
  if (t.kind !== 'eof') {
    fail(t, `expected AND, OR or the end of the filter after '${toks[i - 1].text}', got ${describeToken(t)}`);
  }
  return expr;
}

/**
 * Parses a run-search filter into an expression; empty or whitespace-only input gives `null` (match all).
 *
 * @throws CellarError `INVALID_FILTER` naming the bad token and its column, with a caret under it.
 * @example
 * parseFilter(`metrics.rmse < 0.5 and (params.model IN ('enet', 'ridge') or tags."mlflow.runName" LIKE 'base%')`)
 */
export function parseFilter(filter: string | undefined | null): FilterExpr | null {
  if (filter === undefined || filter === null) return null;
  if (typeof filter !== 'string') {
    throw new CellarError('INVALID_FILTER', `A filter must be a string, got ${typeof filter}.`);
  }
  if (filter.trim() === '') return null;
  const src: Source = { text: filter, code: 'INVALID_FILTER', label: 'filter' };
  return parseTokens(src, tokenize(src));
}

/** @internal The value of `entity.key` on `run`; `undefined` or `null` when the run has none. */
export function runValue(run: RunView, entity: Entity, key: string): Attr | undefined {
  if (entity === 'attributes') return own(ATTRIBUTES, key)?.(run);
  return own<string | number>(run[entity], key);
}

/** @internal A param's value as a number when the whole string is a decimal number (`0.5`, `-3`, `1e-4`). */
export function numericParam(value: string): number | null {
  return NUMERIC_STRING.test(value) ? Number(value) : null;
}

type LikeItem = string | 1 | 2; // a literal code point, 1 = `_`, 2 = `%`

function compileLike(pattern: string): LikeItem[] {
  const items: LikeItem[] = [];
  const chars = Array.from(pattern);
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i];
    if (c === '\\' && i + 1 < chars.length) items.push(chars[++i]);
    else if (c !== '%') items.push(c === '_' ? 1 : c);
    else if (items[items.length - 1] !== 2) items.push(2);
  }
  return items;
}

/** Wildcard matching without regular expressions: O(value × pattern) at worst, no backtracking blow-up. */
function likeMatch(items: LikeItem[], value: string): boolean {
  const s = Array.from(value);
  let [si, pi, star, mark] = [0, 0, -1, 0];
  while (si < s.length) {
    if (pi < items.length && (items[pi] === 1 || items[pi] === s[si])) [si, pi] = [si + 1, pi + 1];
    else if (items[pi] === 2) [star, mark, pi] = [pi, si, pi + 1];
    else if (star >= 0) [pi, si, mark] = [star + 1, mark + 1, mark + 1];
    else return false;
  }
  while (items[pi] === 2) pi++;
  return pi === items.length;
}

const likeCache = new Map<string, LikeItem[]>();

/**
 * @internal True when `value` matches the LIKE pattern (ILIKE with `caseInsensitive`) exactly as a filter
 * evaluates it; compiled patterns are cached (SQL stores call this once per candidate row).
 */
export function likeMatches(pattern: string, value: string, caseInsensitive: boolean): boolean {
  const key = (caseInsensitive ? 'i' : 's') + pattern;
  let items = likeCache.get(key);
  if (!items) {
    if (likeCache.size >= 256) likeCache.clear();
    items = compileLike(caseInsensitive ? pattern.toLowerCase() : pattern);
    likeCache.set(key, items);
  }
  return likeMatch(items, caseInsensitive ? value.toLowerCase() : value);
}

type Predicate = (run: RunView) => boolean;
// prettier-ignore
const RELATIONS: Record<string, (a: number, b: number) => boolean> = {
  '=': (a, b) => a === b, '!=': (a, b) => a !== b, '<': (a, b) => a < b,
  '<=': (a, b) => a <= b, '>': (a, b) => a > b, '>=': (a, b) => a >= b,
};

function compileCompare(expr: Extract<FilterExpr, { kind: 'compare' }>): Predicate {
  const { entity, key, op, value } = expr;
  const present = (v: Attr | undefined): v is string | number =>
    v !== undefined && v !== null && !(typeof v === 'number' && Number.isNaN(v));
  if (op === 'LIKE' || op === 'ILIKE') {
    const fold = (s: string) => (op === 'ILIKE' ? s.toLowerCase() : s);
    const items = compileLike(fold(String(value)));
    return (run) => {
      const v = runValue(run, entity, key);
      return typeof v === 'string' && likeMatch(items, fold(v));
    };
  }
  if (op === 'IN' || op === 'NOT IN') {
    const set = new Set(Array.isArray(value) ? value : [value]);
    return (run) => {
      const v = runValue(run, entity, key);
      return present(v) && set.has(v) === (op === 'IN');
    };
  }
  const paramAsNumber = entity === 'params' && typeof value === 'number';
  // The relations behave the same on two strings; the typeof check keeps types from mixing.
  const rel = RELATIONS[op];
  const x = value as number;
  return (run) => {
    let v = runValue(run, entity, key);
    if (paramAsNumber && typeof v === 'string') v = numericParam(v);
    return present(v) && typeof v === typeof x && rel(v as number, x);
  };
}

/** The operands of a chain of same-kind and/or nodes, in order, found without recursing down the chain. */
function chainOperands(expr: FilterExpr): FilterExpr[] {
  const out: FilterExpr[] = [];
  const stack: FilterExpr[] = [expr];
  while (stack.length > 0) {
    const e = stack.pop() as FilterExpr;
    if (e.kind === expr.kind && e.kind !== 'compare') stack.push(e.right, e.left);
    else out.push(e);
  }
  return out;
}

// Expressions are treated as immutable: each is compiled once and the predicate cached.
const compiled = new WeakMap<FilterExpr, Predicate>();

function compileExpr(expr: FilterExpr): Predicate {
  let pred = compiled.get(expr);
  if (pred) return pred;
  if (expr.kind === 'compare') pred = compileCompare(expr);
  else {
    const parts = chainOperands(expr).map(compileExpr);
    pred = expr.kind === 'and' ? (run) => parts.every((p) => p(run)) : (run) => parts.some((p) => p(run));
  }
  compiled.set(expr, pred);
  return pred;
}

/**
 * True when `run` satisfies `expr`; a `null` expression matches every run. An expression is compiled on
 * first use and cached (treat expressions as immutable), so calling this per run in a loop is cheap.
 *
 * @example
 * runs.filter((r) => evaluateFilter(parseFilter("metrics.r2 >= 0.8 or tags.stage = 'prod'"), r))
 */
export function evaluateFilter(expr: FilterExpr | null, run: RunView): boolean {
  return expr === null ? true : compileExpr(expr)(run);
}

/**
 * Parses `filter` once and returns a predicate over runs (an empty filter keeps every run).
 *
 * @throws CellarError `INVALID_FILTER` when the filter does not parse.
 * @example
 * const keep = compileFilter("params.alpha = '0.5' and metrics.rmse < 0.5"); runs.filter(keep)
 */
export function compileFilter(filter: string | undefined | null): (run: RunView) => boolean {
  const expr = parseFilter(filter);
  return expr === null ? () => true : compileExpr(expr);
}

/** @internal Prints a key so that `tokenize` reads it back unchanged (backtick-quoted when needed). */
export function formatKey(entity: Entity, key: string): string {
  if (/^[\p{L}\p{N}_][\p{L}\p{N}_.\-/:]*$/u.test(key) && !key.endsWith('.')) return `${entity}.${key}`;
  return `${entity}.\`${key.replace(/\\/g, '\\\\').replace(/`/g, '``')}\``;
}

function formatValue(v: string | number): string {
  if (typeof v === 'string') return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
  if (Number.isFinite(v)) return String(v);
  throw new CellarError('INVALID_FILTER', `A filter cannot express the number ${v}.`);
}

/**
 * Prints an expression as filter text that `parseFilter` turns back into the same expression.
 *
 * @throws CellarError `INVALID_FILTER` for a non-finite number, which the language cannot express.
 * @example
 * formatFilter(parseFilter('METRICS.rmse<0.5 AND params.alpha="0.5"')!) // "metrics.rmse < 0.5 and params.alpha = '0.5'"
 */
export function formatFilter(expr: FilterExpr): string {
  if (expr.kind === 'compare') {
    const { op, value: v } = expr;
    const list = Array.isArray(v) ? v : op === 'IN' || op === 'NOT IN' ? [v] : null;
    const value = list ? `(${list.map(formatValue).join(', ')})` : formatValue(v as string | number);
    return `${formatKey(expr.entity, expr.key)} ${op} ${value}`;
  }
  // Walk the left spine iteratively (parsed chains are left-deep and may be long).
  const operands: FilterExpr[] = [];
  let e: FilterExpr = expr;
  for (; e.kind !== 'compare' && e.kind === expr.kind; e = e.left) operands.push(e.right);
  operands.push(e);
  const parts = operands.reverse().map((operand) => {
    const text = formatFilter(operand);
    // `or` inside `and` needs grouping; a same-kind right operand is grouped so the tree shape round-trips.
    return operand.kind === 'or' || operand.kind === expr.kind ? `(${text})` : text;
  });
  return parts.join(` ${expr.kind} `);
}
