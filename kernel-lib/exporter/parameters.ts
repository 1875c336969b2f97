/**
 * exporter/parameters — reads the `pipeline-parameters` cell: each top-level `const|let|var name = <literal>`
 * becomes a parameter whose type and default come from the literal (number, string, boolean, or a
 * JSON-able array/object literal → `json`). Defaults are read as data from the syntax tree, never
 * evaluated, so a string such as "$(id)" is just characters; steps receive values through `ctx.params`.
 */
import ts from 'typescript';
import type { ParameterSpec, ParameterType } from './spec.js';
import type { NotebookCell } from './notebook.js';
import type { ProblemList } from './problems.js';

class NotLiteral extends Error {}

/** Evaluates a literal expression (numbers, strings, booleans, null, arrays, objects) without running code. */
function literalValue(expr: ts.Expression): unknown {
  if (ts.isParenthesizedExpression(expr) || ts.isAsExpression(expr) || ts.isSatisfiesExpression(expr)) {
    return literalValue(expr.expression);
  }
  if (ts.isNumericLiteral(expr)) return Number(expr.text);
  if (ts.isStringLiteral(expr) || ts.isNoSubstitutionTemplateLiteral(expr)) return expr.text;
  if (expr.kind === ts.SyntaxKind.TrueKeyword) return true;
  if (expr.kind === ts.SyntaxKind.FalseKeyword) return false;
  if (expr.kind === ts.SyntaxKind.NullKeyword) return null;
  if (ts.isPrefixUnaryExpression(expr) && ts.isNumericLiteral(expr.operand)) {
    if (expr.operator === ts.SyntaxKind.MinusToken) return -Number(expr.operand.text);
    if (expr.operator === ts.SyntaxKind.PlusToken) return Number(expr.operand.text);
  }
  if (ts.isArrayLiteralExpression(expr)) {
    return expr.elements.map((e) => {
      if (ts.isSpreadElement(e) || ts.isOmittedExpression(e)) throw new NotLiteral();
      return literalValue(e);
    });
  }
  if (ts.isObjectLiteralExpression(expr)) {
    const out: Record<string, unknown> = {};
    for (const p of expr.properties) {
      if (!ts.isPropertyAssignment(p)) throw new NotLiteral();
      const key = p.name;
      let name: string;
      if (ts.isIdentifier(key) || ts.isStringLiteral(key) || ts.isNumericLiteral(key)) name = key.text;
      else throw new NotLiteral();
      Object.defineProperty(out, name, {
        value: literalValue(p.initializer),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  throw new NotLiteral();
}

function typeOf(value: unknown): ParameterType {
  if (typeof value === 'number') return 'number';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'boolean';
  return 'json';
}

/**
 * Reads the parameters declared in the `pipeline-parameters` cells, in order. Anything else in those
 * cells (statements, non-literal values, destructuring, duplicates) is reported as a problem.
 */
export function readParameters(cells: NotebookCell[], problems: ProblemList): ParameterSpec[] {
  const params: ParameterSpec[] = [];
  const seen = new Map<string, number>();
  for (const cell of cells) {
    const sf = ts.createSourceFile(
      `cell-${cell.index}.ts`,
      cell.source,
      ts.ScriptTarget.ES2022,
      true,
      ts.ScriptKind.TS,
    );
    const diags = (sf as unknown as { parseDiagnostics?: ts.Diagnostic[] }).parseDiagnostics ?? [];
    if (diags.length > 0) {
      const d = diags[0]!;
      const line = d.start === undefined ? 1 : sf.getLineAndCharacterOfPosition(d.start).line + 1;
      problems.add(
        cell.index,
        `syntax error at line ${line}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`,
      );
      continue;
    }
    for (const st of sf.statements) {
      const line = sf.getLineAndCharacterOfPosition(st.getStart(sf)).line + 1;
      if (!ts.isVariableStatement(st)) {
        if (ts.isInterfaceDeclaration(st) || ts.isTypeAliasDeclaration(st) || ts.isEmptyStatement(st))
          continue;
        problems.add(
          cell.index,
          `line ${line}: the pipeline-parameters cell may only declare parameters (e.g. "const alpha = 0.5"); ` +
            'move other code into a step.',
        );
        continue;
      }
      for (const decl of st.declarationList.declarations) {
        if (!ts.isIdentifier(decl.name)) {
          problems.add(
            cell.index,
            `line ${line}: declare each parameter by name ("const seed = 42"), not by destructuring.`,
          );
          continue;
        }
        const name = decl.name.text;
        if (decl.initializer === undefined) {
          problems.add(
            cell.index,
            `line ${line}: parameter "${name}" needs a default value (e.g. "const ${name} = 1").`,
          );
          continue;
        }
        let value: unknown;
        try {
          value = literalValue(decl.initializer);
        } catch (e) {
          if (!(e instanceof NotLiteral)) throw e;
          problems.add(
            cell.index,
            `line ${line}: parameter "${name}" must have a literal default (a number, string, boolean, or an ` +
              'array/object of those), not an expression: pipeline parameters are data.',
          );
          continue;
        }
        if (typeof value === 'number' && !Number.isFinite(value)) {
          problems.add(cell.index, `line ${line}: parameter "${name}" must be a finite number.`);
          continue;
        }
        if (seen.has(name)) {
          problems.add(
            cell.index,
            `parameter "${name}" is declared twice (first in cell ${seen.get(name)}).`,
          );
          continue;
        }
        seen.set(name, cell.index);
        params.push({ name, type: typeOf(value), default: value });
      }
    }
  }
  return params;
}
