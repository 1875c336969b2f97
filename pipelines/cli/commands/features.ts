/**
 * cli/commands/features — `cellar features plan|apply|list|describe|join`: the feature registry and training
 * data from the terminal. Definitions come from a `.json` file (an array of definitions) or a module (`.ts`,
 * `.js`, `.mjs`, …) exporting them; modules are compiled with TypeScript's `transpileModule` to CommonJS in a
 * temp directory and loaded with `require` (never `eval`), with `import … from "cellar"` pointed at this package.
 */
import { mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, extname, isAbsolute, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { CellarError } from '../../../kernel-lib/errors.js';
import type { FeatureStore } from '../../../kernel-lib/features/feature-store.js';
import type { DefinitionKind, Plan } from '../../../kernel-lib/features/registry.js';
import type { ViewFreshness } from '../../../kernel-lib/monitoring/freshness.js';
import type { CliContext } from '../main.js';
import { iso, printFields, printJson, printTable } from '../output.js';

/** The feature store of `--store`, loaded when a command runs (so `cellar --help` does not load it). */
async function openFeatureStore(ctx: CliContext): Promise<FeatureStore> {
  const { featureStore } = await import('../../../kernel-lib/features/feature-store.js');
  return featureStore(ctx.storeDir());
}

const KINDS = new Set(['entity', 'featureView', 'featureService']);
const MODULE_EXTS = new Set(['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs']);

function isDefinition(x: unknown): boolean {
  return (
    x !== null && typeof x === 'object' && !Array.isArray(x) && KINDS.has((x as { kind?: string }).kind ?? '')
  );
}

/** Collects definitions from a loaded module: the default export (array or one) and named exports, deduplicated. */
export function definitionsFromModule(mod: Record<string, unknown>): unknown[] {
  const out: unknown[] = [];
  const seen = new Set<unknown>();
  const add = (v: unknown): void => {
    for (const d of Array.isArray(v) ? v : [v]) {
      if (isDefinition(d) && !seen.has(d)) {
        seen.add(d);
        out.push(d);
      }
    }
  };
  add(mod.default);
  for (const [k, v] of Object.entries(mod)) if (k !== 'default') add(v);
  // Definitions rebuilt from JSON are equal but not identical: drop exact repeats.
  const keyed = new Map<string, unknown>();
  for (const d of out) {
    const key = JSON.stringify(d);
    if (!keyed.has(key)) keyed.set(key, d);
  }
  return [...keyed.values()];
}

/** Finds this package's CommonJS entry, for `"cellar"` imports in a definitions module. */
function cellarEntry(fromDir: string): string | null {
  for (const base of [process.cwd(), fromDir]) {
    try {
      return createRequire(join(base, 'noop.js')).resolve('cellar');
    } catch {
      /* not installed there */
    }
  }
  let dir = process.argv[1] ? dirname(realpathSync(process.argv[1])) : process.cwd();
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'cellar') {
          const entry = join(dir, 'dist', 'cjs', 'kernel-lib', 'index.js');
          return existsSync(entry) ? entry : null;
        }
      } catch {
        /* unreadable package.json: keep walking */
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

async function loadModule(file: string): Promise<Record<string, unknown>> {
  let ts: typeof import('typescript');
  try {
    ts = (await import('typescript')).default ?? (await import('typescript'));
  } catch {
    throw new CellarError(
      'UNSUPPORTED',
      `Loading ${file} needs the "typescript" package (npm install -D typescript), or write the definitions as JSON.`,
    );
  }
  const source = readFileSync(file, 'utf8');
  const out = ts.transpileModule(source, {
    // .mjs/.mts would keep ESM syntax: compile them under a .js/.ts name so the output is CommonJS.
    fileName: file.replace(/\.[mc]([jt]s)$/i, '.$1'),
    compilerOptions: {
      module: ts.ModuleKind.CommonJS,
      target: ts.ScriptTarget.ES2022,
      esModuleInterop: true,
    },
  });
  const dir = dirname(file);
  let missingCellar = false;
  const code = out.outputText.replace(
    /\brequire\((["'])([^"'\n]+)\1\)/g,
    (whole, _q: string, spec: string) => {
      if (spec === 'cellar') {
        const entry = cellarEntry(dir);
        if (!entry) {
          missingCellar = true;
          return whole;
        }
        return `require(${JSON.stringify(entry)})`;
      }
      if (spec.startsWith('./') || spec.startsWith('../'))
        return `require(${JSON.stringify(resolve(dir, spec))})`;
      return whole;
    },
  );
  if (missingCellar) {
    throw new CellarError(
      'UNSUPPORTED',
      `${file} imports "cellar", but the built package was not found: run \`npm run build\` in cellar.`,
    );
  }
  const tmp = mkdtempSync(join(tmpdir(), 'cellar-defs-'));
  const compiled = join(tmp, 'definitions.cjs');
  try {
    writeFileSync(compiled, code, { mode: 0o600 });
    return createRequire(compiled)(compiled) as Record<string, unknown>;
  } catch (e) {
    if (e instanceof CellarError) throw e;
    throw new CellarError(
      'INVALID_INPUT',
      `Cannot load definitions from ${file}: ${(e as Error).message.split('\n')[0]}`,
      { path: file },
    );
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * Reads feature definitions from a `.json` file (an array, relative source paths resolved against the file's
 * folder) or a module exporting them (default export array, or named exports).
 *
 * @throws CellarError NOT_FOUND for a missing file; INVALID_INPUT for unparsable content or a file without definitions
 */
export async function loadDefinitions(path: string): Promise<unknown[]> {
  const file = resolve(path);
  if (!existsSync(file)) throw new CellarError('NOT_FOUND', `Definitions file not found: ${path}.`, { path });
  const ext = extname(file).toLowerCase();
  let defs: unknown[];
  if (ext === '.json') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new CellarError('INVALID_INPUT', `${path} is not valid JSON: ${(e as Error).message}.`, { path });
    }
    const list = Array.isArray(parsed) ? parsed : (parsed as { definitions?: unknown })?.definitions;
    if (!Array.isArray(list))
      throw new CellarError('INVALID_INPUT', `${path} must hold a JSON array of definitions.`, { path });
    defs = list.map((d) => {
      const src = (d as { source?: { path?: unknown } })?.source;
      if (isDefinition(d) && src && typeof src.path === 'string' && !isAbsolute(src.path)) {
        return { ...(d as object), source: { ...src, path: resolve(dirname(file), src.path) } };
      }
      return d;
    });
  } else if (MODULE_EXTS.has(ext)) {
    defs = definitionsFromModule(await loadModule(file));
  } else {
    throw new CellarError(
      'INVALID_PARAMETER',
      `Cannot read definitions from ${path}: use a .json, .ts, .js or .mjs file.`,
      { path },
    );
  }
  if (defs.length === 0) {
    throw new CellarError('INVALID_INPUT', `${path} defines no entity, feature view or feature service.`, {
      path,
    });
  }
  return defs;
}

function printPlan(ctx: CliContext, plan: Plan, applied: boolean): void {
  printTable(
    ctx.io,
    ['ACTION', 'KIND', 'NAME', 'VERSION', 'CHANGES'],
    plan.items.map((i) => [
      i.action,
      i.kind,
      i.name,
      i.action === 'update' ? `${i.previousVersion} -> ${i.version}` : i.version,
      i.changes.map((c) => `${c.path}: ${JSON.stringify(c.before)} -> ${JSON.stringify(c.after)}`).join('; '),
    ]),
  );
  const n = (a: string): number => plan.items.filter((i) => i.action === a).length;
  const verb = applied ? '' : ' (nothing written; run `cellar features apply` to apply)';
  ctx.io.out(`${n('create')} to create, ${n('update')} to update, ${n('unchanged')} unchanged${verb}\n`);
}

function kindOption(kind: string | undefined): DefinitionKind | undefined {
  if (kind === undefined) return undefined;
  const map: Record<string, DefinitionKind> = {
    entity: 'entity',
    featureview: 'featureView',
    view: 'featureView',
    featureservice: 'featureService',
    service: 'featureService',
  };
  const k = map[kind.toLowerCase().replace(/[-_]/g, '')];
  if (!k)
    throw new CellarError('INVALID_PARAMETER', `--kind ${kind} is not a kind: use entity, view or service.`);
  return k;
}

function summary(spec: Record<string, unknown>): string {
  switch (spec.kind) {
    case 'entity':
      return `join keys: ${(spec.joinKeys as string[]).join(', ')}`;
    case 'featureView':
      return `${Object.keys(spec.schema as object).join(', ')} <- ${(spec.source as { path: string }).path}`;
    default:
      return (spec.features as string[]).join(', ');
  }
}

/** Registers `cellar features …` and returns the group (other modules add subcommands to it). */
export function registerFeaturesCommands(program: Command, ctx: CliContext): Command {
  const features = program
    .command('features')
    .description('feature definitions (plan, apply, list, describe) and training data (join)');

  features
    .command('plan')
    .description('show what `features apply` would change, without writing')
    .argument('<file>', 'definitions: .json array, or a .ts/.js/.mjs module exporting definitions')
    .option('--json', 'print JSON')
    .action(async (file: string, opts: { json?: boolean }) => {
      const defs = await loadDefinitions(file);
      const plan = await (await openFeatureStore(ctx)).plan(defs);
      if (opts.json) printJson(ctx.io, plan);
      else printPlan(ctx, plan, false);
    });

  features
    .command('apply')
    .description('register the definitions of a file (a new version per changed definition; all or nothing)')
    .argument('<file>', 'definitions: .json array, or a .ts/.js/.mjs module exporting definitions')
    .option('--skip-source-check', 'do not check that source files exist and have the declared columns')
    .option('--json', 'print JSON')
    .action(async (file: string, opts: { json?: boolean; skipSourceCheck?: boolean }) => {
      const defs = await loadDefinitions(file);
      const plan = await (
        await openFeatureStore(ctx)
      ).apply(defs, opts.skipSourceCheck ? { validateSources: false } : {});
      if (opts.json) printJson(ctx.io, plan);
      else printPlan(ctx, plan, true);
    });

  features
    .command('list')
    .description('list registered entities, feature views and feature services (latest versions)')
    .option('--kind <kind>', 'only this kind: entity, view or service')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean; kind?: string }) => {
      const db = (await openFeatureStore(ctx)).db;
      const [{ list }, { featureFreshness }] = await Promise.all([
        import('../../../kernel-lib/features/registry.js'),
        import('../../../kernel-lib/monitoring/freshness.js'),
      ]);
      const defs = list(db, kindOption(opts.kind));
      const fresh = new Map(featureFreshness(db).map((f) => [f.view, f]));
      if (opts.json) {
        printJson(
          ctx.io,
          defs.map((d) =>
            fresh.has(d.name) && d.kind === 'featureView' ? { ...d, freshness: fresh.get(d.name) } : d,
          ),
        );
        return;
      }
      printTable(
        ctx.io,
        ['KIND', 'NAME', 'VERSION', 'CREATED', 'DETAILS', 'FRESHNESS'],
        defs.map((d) => [
          d.kind,
          d.name,
          d.version,
          iso(d.createdAt),
          summary(d.spec as unknown as Record<string, unknown>),
          d.kind === 'featureView' ? freshnessText(fresh.get(d.name)) : '',
        ]),
      );
    });

  features
    .command('describe')
    .description('show a definition with its version history')
    .argument('<name>', 'entity, feature view or feature service name')
    .option('--kind <kind>', 'entity, view or service (when several kinds share the name)')
    .option('--json', 'print JSON')
    .action(async (name: string, opts: { json?: boolean; kind?: string }) => {
      const d = await (await openFeatureStore(ctx)).describe(name, kindOption(opts.kind));
      if (opts.json) {
        printJson(ctx.io, d);
        return;
      }
      const spec = d.latest.spec as unknown as Record<string, unknown>;
      const fields: Array<[string, unknown]> = [
        ['kind', d.kind],
        ['name', d.name],
        ['version', d.latest.version],
        ['created', iso(d.latest.createdAt)],
      ];
      for (const [k, v] of Object.entries(spec)) {
        if (k !== 'kind' && k !== 'name') fields.push([k, typeof v === 'object' ? JSON.stringify(v) : v]);
      }
      fields.push(['used by', d.referencedBy.map((r) => `${r.kind} ${r.name}`).join(', ')]);
      printFields(ctx.io, fields);
      ctx.io.out('\n');
      printTable(
        ctx.io,
        ['VERSION', 'CREATED', 'SPEC HASH'],
        d.versions.map((v) => [v.version, iso(v.createdAt), v.specHash.slice(0, 12)]),
      );
    });

  features
    .command('join')
    .description('point-in-time join of entity rows with features, written as training data')
    .requiredOption('--entities <file>', 'entity rows: .csv or .parquet with join keys and event_timestamp')
    .option('--features <refs>', 'comma-separated view:feature references')
    .option('--service <name>', 'a feature service instead of --features')
    .option('--full-feature-names', 'name columns view__feature')
    .option('--timestamp-column <name>', 'timestamp column of the entity rows', 'event_timestamp')
    .option('--filter-by-created', 'ignore feature rows created after the entity timestamp')
    .requiredOption('--out <file>', 'output: .parquet or .csv')
    .option('--json', 'print JSON')
    .action(
      async (opts: {
        entities: string;
        features?: string;
        service?: string;
        fullFeatureNames?: boolean;
        timestampColumn: string;
        filterByCreated?: boolean;
        out: string;
        json?: boolean;
      }) => {
        if ((opts.features === undefined) === (opts.service === undefined)) {
          throw new CellarError(
            'INVALID_PARAMETER',
            'Pass either --features view:feature,… or --service name.',
          );
        }
        const outExt = extname(opts.out).toLowerCase();
        if (outExt !== '.parquet' && outExt !== '.csv') {
          throw new CellarError('INVALID_PARAMETER', `--out ${opts.out}: name it .parquet or .csv.`);
        }
        const inExt = extname(opts.entities).toLowerCase();
        const { readCsv, readParquet } = await import('../../../kernel-lib/data/io.js');
        const entityDf =
          inExt === '.parquet'
            ? readParquet(opts.entities)
            : inExt === '.csv' || inExt === '.tsv'
              ? readCsv(opts.entities)
              : null;
        if (entityDf === null)
          throw new CellarError(
            'INVALID_PARAMETER',
            `--entities ${opts.entities}: use a .csv or .parquet file.`,
          );
        const refs = opts.features
          ?.split(',')
          .map((s) => s.trim())
          .filter((s) => s !== '');
        const store = await openFeatureStore(ctx);
        const job = store.getHistoricalFeatures({
          entityDf,
          features: refs ?? opts.service!,
          fullFeatureNames: opts.fullFeatureNames ?? false,
          filterByCreatedTimestamp: opts.filterByCreated ?? false,
          timestampColumn: opts.timestampColumn,
        });
        const out = outExt === '.csv' ? await job.toCsv(opts.out) : await job.toParquet(opts.out);
        await store.close();
        const result = {
          out,
          rows: entityDf.height,
          entityColumns: job.entityColumns,
          featureColumns: job.featureColumns,
        };
        if (opts.json) printJson(ctx.io, result);
        else
          ctx.io.out(
            `Wrote ${result.rows} rows (${[...result.entityColumns, ...result.featureColumns].join(', ')}) to ${out}\n`,
          );
      },
    );
  return features;
}

/** "newest value 42s old" (and "STALE" past the TTL), or "not materialized". */
function freshnessText(f: ViewFreshness | undefined): string {
  if (!f || f.ageSeconds === null) return 'not materialized';
  const age = f.ageSeconds;
  const text =
    age < 120
      ? `${Math.round(age)}s`
      : age < 7200
        ? `${Math.round(age / 60)}m`
        : age < 172800
          ? `${Math.round(age / 3600)}h`
          : `${Math.round(age / 86400)}d`;
  return `newest ${text} old${f.stale ? ' STALE (past TTL)' : ''}`;
}
