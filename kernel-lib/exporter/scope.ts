/**
 * exporter/scope — what one notebook cell declares at top level and which names it reads from outside,
 * found with the TypeScript compiler API (parser only, no type checker, so it is fast and needs no
 * project). A name counts as read when it appears in a value position and no enclosing scope of the
 * cell declares it: property names, object keys, labels, type positions (annotations, interfaces,
 * `typeof x` in a type, `implements`) and locally scoped names are not reads. Globals are filtered
 * later, by the caller.
 */
import ts from 'typescript';

/** How a top-level name was declared; functions, classes and imports cannot cross step boundaries. */
export type DeclarationKind = 'variable' | 'function' | 'class' | 'import' | 'enum' | 'namespace';

/** What a cell declares and reads. */
export interface CellScope {
  /** Top-level value declarations, in source order: name → kind. */
  declared: Map<string, DeclarationKind>;
  /** Line (1-based) of each top-level declaration. */
  declaredAt: Map<string, number>;
  /** Free names read (or assigned) by the cell, in first-use order, with the line of the first use. */
  reads: Map<string, number>;
  /** Syntax errors, as `line N: message`. */
  syntaxErrors: string[];
  /** Top-level `import` declarations (allowed only in the imports cell). */
  imports: ts.ImportDeclaration[];
  /** Top-level statements that are `import x = require(…)` or carry `export`. */
  moduleStatements: Array<{ line: number; text: string }>;
  /** The parsed cell. */
  sourceFile: ts.SourceFile;
}

type ScopeNode = ts.Node;

function isFunctionLike(node: ts.Node): boolean {
  return (
    ts.isFunctionDeclaration(node) ||
    ts.isFunctionExpression(node) ||
    ts.isArrowFunction(node) ||
    ts.isMethodDeclaration(node) ||
    ts.isConstructorDeclaration(node) ||
    ts.isGetAccessorDeclaration(node) ||
    ts.isSetAccessorDeclaration(node) ||
    ts.isClassStaticBlockDeclaration(node)
  );
}

function isBlockScope(node: ts.Node): boolean {
  return (
    ts.isBlock(node) ||
    ts.isSourceFile(node) ||
    ts.isForStatement(node) ||
    ts.isForInStatement(node) ||
    ts.isForOfStatement(node) ||
    ts.isCaseBlock(node) ||
    ts.isModuleBlock(node) ||
    isFunctionLike(node)
  );
}

function nearest(node: ts.Node, pred: (n: ts.Node) => boolean): ScopeNode {
  let n: ts.Node | undefined = node;
  while (n !== undefined && !pred(n)) n = n.parent;
  return n ?? node.getSourceFile();
}

function bindingNames(name: ts.BindingName, out: ts.Identifier[]): void {
  if (ts.isIdentifier(name)) out.push(name);
  else
    for (const el of name.elements) {
      if (!ts.isOmittedExpression(el)) bindingNames(el.name, out);
    }
}

function lineOf(sf: ts.SourceFile, node: ts.Node): number {
  return sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
}

/** True when `node` starts a subtree that only holds types (annotations, interfaces, type aliases, …). */
function isTypeOnly(node: ts.Node): boolean {
  if (ts.isInterfaceDeclaration(node) || ts.isTypeAliasDeclaration(node)) return true;
  if (ts.isHeritageClause(node)) return node.token === ts.SyntaxKind.ImplementsKeyword;
  if (ts.isExpressionWithTypeArguments(node)) {
    // `class A extends B<T>`: B is a value; in interfaces and `implements` it is a type.
    const clause = node.parent;
    return !(
      ts.isHeritageClause(clause) &&
      clause.token === ts.SyntaxKind.ExtendsKeyword &&
      (ts.isClassDeclaration(clause.parent) || ts.isClassExpression(clause.parent))
    );
  }
  if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) return true;
  if (ts.isImportEqualsDeclaration(node)) return true;
  return ts.isTypeNode(node) || ts.isTypeParameterDeclaration(node);
}

/** True when an identifier occurrence is a read (or write) of a variable rather than a name or a label. */
function isValueReference(id: ts.Identifier): boolean {
  const p = id.parent;
  if (p === undefined) return false;
  if (ts.isPropertyAccessExpression(p)) return p.expression === id;
  if (ts.isQualifiedName(p)) return false;
  if (ts.isBindingElement(p)) return p.initializer === id;
  if (ts.isPropertyAssignment(p)) return p.initializer === id;
  if (ts.isShorthandPropertyAssignment(p)) return true;
  if (
    ts.isVariableDeclaration(p) ||
    ts.isParameter(p) ||
    ts.isFunctionDeclaration(p) ||
    ts.isFunctionExpression(p) ||
    ts.isClassDeclaration(p) ||
    ts.isClassExpression(p) ||
    ts.isEnumDeclaration(p) ||
    ts.isEnumMember(p) ||
    ts.isModuleDeclaration(p) ||
    ts.isPropertyDeclaration(p) ||
    ts.isMethodDeclaration(p) ||
    ts.isGetAccessorDeclaration(p) ||
    ts.isSetAccessorDeclaration(p) ||
    ts.isPropertySignature(p) ||
    ts.isMethodSignature(p)
  ) {
    return (p as { name?: ts.Node }).name !== id;
  }
  if (
    ts.isImportClause(p) ||
    ts.isImportSpecifier(p) ||
    ts.isNamespaceImport(p) ||
    ts.isExportSpecifier(p) ||
    ts.isLabeledStatement(p) ||
    ts.isBreakOrContinueStatement(p) ||
    ts.isMetaProperty(p) ||
    ts.isJsxAttribute(p)
  ) {
    return false;
  }
  return true;
}

/**
 * Analyzes one cell's TypeScript source: its top-level declarations (const/let/var including
 * destructuring, functions, classes, enums, imports) and the free names it reads.
 *
 * @example
 * analyzeCell('const { a, b: [c] } = f(x); function g() { return y }').reads // Map { f, x, y }
 */
export function analyzeCell(source: string, fileName = 'cell.ts'): CellScope {
  const sf = ts.createSourceFile(fileName, source, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const scopes = new Map<ScopeNode, Set<string>>();
  const result: CellScope = {
    declared: new Map(),
    declaredAt: new Map(),
    reads: new Map(),
    syntaxErrors: [],
    imports: [],
    moduleStatements: [],
    sourceFile: sf,
  };
  const parseDiagnostics = (sf as unknown as { parseDiagnostics?: ts.Diagnostic[] }).parseDiagnostics ?? [];
  for (const d of parseDiagnostics) {
    const line = d.start === undefined ? 1 : sf.getLineAndCharacterOfPosition(d.start).line + 1;
    result.syntaxErrors.push(`line ${line}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
  }

  const declare = (scope: ScopeNode, id: ts.Identifier, kind: DeclarationKind): void => {
    let set = scopes.get(scope);
    if (set === undefined) scopes.set(scope, (set = new Set()));
    set.add(id.text);
    if (scope === sf && !result.declared.has(id.text)) {
      result.declared.set(id.text, kind);
      result.declaredAt.set(id.text, lineOf(sf, id));
    }
  };

  // Pass 1: every declaration, attached to the scope it belongs to (var to the function, let/const/class
  // to the block, parameters to the function, a function or class expression's own name to itself).
  const collect = (node: ts.Node): void => {
    if (isTypeOnly(node) && !ts.isImportDeclaration(node) && !ts.isImportEqualsDeclaration(node)) return;
    if (ts.isVariableDeclaration(node)) {
      const list = node.parent;
      const isVar = ts.isVariableDeclarationList(list) && (list.flags & ts.NodeFlags.BlockScoped) === 0;
      const scope = isVar
        ? nearest(list, (n) => isFunctionLike(n) || ts.isSourceFile(n))
        : nearest(list.parent, isBlockScope);
      const ids: ts.Identifier[] = [];
      bindingNames(node.name, ids);
      const fnInit =
        node.initializer !== undefined &&
        ts.isIdentifier(node.name) &&
        (ts.isArrowFunction(node.initializer) ||
          ts.isFunctionExpression(node.initializer) ||
          ts.isClassExpression(node.initializer));
      const kind: DeclarationKind = fnInit
        ? ts.isClassExpression(node.initializer!)
          ? 'class'
          : 'function'
        : 'variable';
      for (const id of ids) declare(scope, id, kind);
    } else if (ts.isParameter(node)) {
      const ids: ts.Identifier[] = [];
      bindingNames(node.name, ids);
      for (const id of ids) declare(node.parent, id, 'variable');
    } else if (ts.isFunctionDeclaration(node) && node.name) {
      declare(nearest(node.parent, isBlockScope), node.name, 'function');
    } else if (ts.isFunctionExpression(node) && node.name) {
      declare(node, node.name, 'function');
    } else if (ts.isClassDeclaration(node) && node.name) {
      declare(nearest(node.parent, isBlockScope), node.name, 'class');
    } else if (ts.isClassExpression(node) && node.name) {
      declare(node, node.name, 'class');
    } else if (ts.isEnumDeclaration(node)) {
      declare(nearest(node.parent, isBlockScope), node.name, 'enum');
    } else if (ts.isModuleDeclaration(node) && ts.isIdentifier(node.name)) {
      declare(nearest(node.parent, isBlockScope), node.name, 'namespace');
    } else if (ts.isCatchClause(node) && node.variableDeclaration) {
      const ids: ts.Identifier[] = [];
      bindingNames(node.variableDeclaration.name, ids);
      for (const id of ids) declare(node, id, 'variable');
      collect(node.block);
      return;
    } else if (ts.isImportDeclaration(node)) {
      if (node.parent === sf) result.imports.push(node);
      const clause = node.importClause;
      if (clause && !clause.isTypeOnly) {
        if (clause.name) declare(sf, clause.name, 'import');
        const nb = clause.namedBindings;
        if (nb && ts.isNamespaceImport(nb)) declare(sf, nb.name, 'import');
        else if (nb) for (const s of nb.elements) if (!s.isTypeOnly) declare(sf, s.name, 'import');
      }
      return;
    } else if (ts.isImportEqualsDeclaration(node)) {
      if (!node.isTypeOnly) declare(sf, node.name, 'import');
      if (node.parent === sf)
        result.moduleStatements.push({ line: lineOf(sf, node), text: 'import … = require(…)' });
      return;
    }
    ts.forEachChild(node, collect);
  };
  collect(sf);

  for (const st of sf.statements) {
    const mods = ts.canHaveModifiers(st) ? ts.getModifiers(st) : undefined;
    if (
      ts.isExportDeclaration(st) ||
      ts.isExportAssignment(st) ||
      mods?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)
    ) {
      result.moduleStatements.push({ line: lineOf(sf, st), text: 'export' });
    }
  }

  // Pass 2: every identifier in a value position that no enclosing scope declares is a free read.
  const resolve = (id: ts.Identifier): boolean => {
    for (let n: ts.Node | undefined = id.parent; n !== undefined; n = n.parent) {
      if (scopes.get(n)?.has(id.text)) return true;
    }
    return false;
  };
  const visit = (node: ts.Node): void => {
    if (isTypeOnly(node)) return;
    if (ts.isIdentifier(node)) {
      if (isValueReference(node) && !resolve(node) && !result.reads.has(node.text)) {
        result.reads.set(node.text, lineOf(sf, node));
      }
      return;
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return result;
}

/** ECMAScript and Node.js globals (a step may read them without any step defining them). */
const STANDARD_GLOBALS = [
  'undefined',
  'NaN',
  'Infinity',
  'globalThis',
  'arguments',
  'Object',
  'Function',
  'Array',
  'Number',
  'parseFloat',
  'parseInt',
  'Boolean',
  'String',
  'Symbol',
  'Date',
  'Promise',
  'RegExp',
  'Error',
  'AggregateError',
  'EvalError',
  'RangeError',
  'ReferenceError',
  'SyntaxError',
  'TypeError',
  'URIError',
  'JSON',
  'Math',
  'Intl',
  'ArrayBuffer',
  'SharedArrayBuffer',
  'Atomics',
  'DataView',
  'Uint8Array',
  'Int8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
  'BigInt',
  'Map',
  'Set',
  'WeakMap',
  'WeakSet',
  'WeakRef',
  'FinalizationRegistry',
  'Proxy',
  'Reflect',
  'decodeURI',
  'decodeURIComponent',
  'encodeURI',
  'encodeURIComponent',
  'escape',
  'unescape',
  'eval',
  'isFinite',
  'isNaN',
  'console',
  'process',
  'Buffer',
  'global',
  'require',
  'module',
  'exports',
  '__filename',
  '__dirname',
  'setTimeout',
  'clearTimeout',
  'setInterval',
  'clearInterval',
  'setImmediate',
  'clearImmediate',
  'queueMicrotask',
  'structuredClone',
  'URL',
  'URLSearchParams',
  'TextEncoder',
  'TextDecoder',
  'AbortController',
  'AbortSignal',
  'EventTarget',
  'Event',
  'fetch',
  'Headers',
  'Request',
  'Response',
  'FormData',
  'Blob',
  'performance',
  'crypto',
  'atob',
  'btoa',
  'BroadcastChannel',
  'MessageChannel',
  'MessagePort',
  'WebAssembly',
];

let globalsCache: Set<string> | undefined;

/** The names a step may read as globals: the standard list plus what this Node.js defines on globalThis. */
export function knownGlobals(): ReadonlySet<string> {
  if (globalsCache === undefined) {
    globalsCache = new Set([...STANDARD_GLOBALS, ...Object.getOwnPropertyNames(globalThis)]);
  }
  return globalsCache;
}
