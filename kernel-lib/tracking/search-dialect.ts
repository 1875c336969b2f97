/**
 * tracking/search-dialect — the SQL dialects run search compiles to. Everything that differs between
 * databases (parameter placeholders, integer-to-text casts, cellar's LIKE/ILIKE and numeric-string rules,
 * the page clause) lives here, so the compiler in search-sql.ts emits the same query shape for the
 * embedded SQLite store today and for a PostgreSQL store later.
 *
 * SQLite has no built-in way to reproduce three of cellar's rules exactly (LIKE over code points with `\`
 * escapes, ILIKE with JavaScript's Unicode case folding, "a param whose whole value is a decimal number"),
 * so its dialect calls three deterministic functions that `registerSearchFunctions` installs on the
 * connection; they run the same code as the in-memory evaluator (filter.ts).
 */
import { likeMatches, numericParam } from './filter.js';

/** How run search is written for one database. */
export interface SearchDialect {
  /** Dialect name, for messages and statement caches. */
  readonly name: 'sqlite' | 'postgres';
  /** The placeholder of the `n`-th parameter (1-based, in the order parameters appear in the text). */
  param(n: number): string;
  /** An integer column as text (attributes.experiment_id compares and sorts as a string). */
  integerAsText(expr: string): string;
  /** True when the text `expr` matches the cellar LIKE (or ILIKE) pattern in `pattern`; NULL for NULL. */
  like(expr: string, pattern: string, caseInsensitive: boolean): string;
  /** The number a decimal string `expr` holds (`'0.5'`, `' -3 '`, `'1e-4'`), else NULL. */
  numeric(expr: string): string;
  /** A text expression as it sorts: by code point (PostgreSQL needs `COLLATE "C"` for that). */
  textOrder(expr: string): string;
  /** The page clause. */
  page(limit: string, offset: string): string;
}

/** The embedded store's dialect (needs {@link registerSearchFunctions} on the connection). */
export const SQLITE_DIALECT: SearchDialect = {
  name: 'sqlite',
  param: () => '?',
  integerAsText: (expr) => `CAST(${expr} AS TEXT)`,
  like: (expr, pattern, ci) => `${ci ? 'cellar_ilike' : 'cellar_like'}(${expr}, ${pattern})`,
  numeric: (expr) => `cellar_numeric(${expr})`,
  textOrder: (expr) => expr, // BINARY collation: UTF-8 bytes, i.e. code points
  page: (limit, offset) => `LIMIT ${limit} OFFSET ${offset}`,
};

/** The subset of a better-sqlite3 connection that function registration needs. */
interface FunctionHost {
  function(
    name: string,
    options: { deterministic: boolean; varargs: boolean },
    fn: (...args: unknown[]) => unknown,
  ): unknown;
}

const registered = new WeakSet<object>();

/**
 * Installs `cellar_like`, `cellar_ilike` and `cellar_numeric` on a SQLite connection (once per connection).
 * They return NULL for a NULL input, so a missing value matches nothing, as in the in-memory evaluator.
 */
export function registerSearchFunctions(db: FunctionHost): void {
  if (registered.has(db)) return;
  const opts = { deterministic: true, varargs: false };
  const like =
    (ci: boolean) =>
    (value: unknown, pattern: unknown): number | null =>
      typeof value === 'string' && typeof pattern === 'string'
        ? Number(likeMatches(pattern, value, ci))
        : null;
  db.function('cellar_like', opts, like(false) as (...args: unknown[]) => unknown);
  db.function('cellar_ilike', opts, like(true) as (...args: unknown[]) => unknown);
  db.function('cellar_numeric', opts, ((value: unknown) =>
    typeof value === 'string' ? numericParam(value) : null) as (...args: unknown[]) => unknown);
  registered.add(db);
}
