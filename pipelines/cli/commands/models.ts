/**
 * cli/commands/models — `cellar models list|show|alias`: the model registry from the terminal.
 */
import type { Command } from 'commander';
import type { CliContext } from '../main.js';
import { iso, printFields, printJson, printTable } from '../output.js';

/** Registers `cellar models …`. */
export function registerModelsCommands(program: Command, ctx: CliContext): void {
  const models = program.command('models').description('list, inspect and alias registered models');

  models
    .command('list')
    .description('list registered models with their latest version and aliases')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const store = (await import('../../../kernel-lib/sdk.js')).openStore(ctx.storeDir());
      const list = await store.registry.listRegisteredModels();
      if (opts.json) {
        printJson(ctx.io, list);
        return;
      }
      printTable(
        ctx.io,
        ['NAME', 'LATEST', 'ALIASES', 'UPDATED'],
        list.map((m) => [
          m.name,
          m.latestVersion,
          Object.entries(m.aliases)
            .map(([a, v]) => `@${a}=v${v}`)
            .join(' '),
          iso(m.updatedAt),
        ]),
      );
    });

  models
    .command('show')
    .description('show a registered model and its versions')
    .argument('<name>', 'registered model name')
    .option('--json', 'print JSON')
    .action(async (name: string, opts: { json?: boolean }) => {
      const store = (await import('../../../kernel-lib/sdk.js')).openStore(ctx.storeDir());
      const model = await store.registry.getRegisteredModel(name);
      const versions = await store.registry.listModelVersions(name);
      if (opts.json) {
        printJson(ctx.io, { ...model, versions });
        return;
      }
      printFields(ctx.io, [
        ['name', model.name],
        ['description', model.description],
        ['latest version', model.latestVersion],
        ['created', iso(model.createdAt)],
      ]);
      ctx.io.out('\n');
      printTable(
        ctx.io,
        ['VERSION', 'ALIASES', 'RUN ID', 'CREATED', 'DIGEST'],
        versions.map((v) => [
          v.version,
          v.aliases.map((a) => `@${a}`).join(' '),
          v.runId,
          iso(v.createdAt),
          v.artifactDigest.slice(0, 12),
        ]),
      );
    });

  models
    .command('alias')
    .description('point an alias (e.g. champion) at a version, or remove it with --delete')
    .argument('<name>', 'registered model name')
    .argument('<alias>', 'alias, e.g. champion')
    .argument('[version]', 'version number')
    .option('--delete', 'remove the alias')
    .option('--json', 'print JSON')
    .action(
      async (
        name: string,
        alias: string,
        version: string | undefined,
        opts: { delete?: boolean; json?: boolean },
      ) => {
        const store = (await import('../../../kernel-lib/sdk.js')).openStore(ctx.storeDir());
        if (opts.delete) {
          await store.registry.deleteAlias(name, alias);
          if (opts.json) printJson(ctx.io, { name, alias, deleted: true });
          else ctx.io.out(`Removed alias @${alias} of ${name}\n`);
          return;
        }
        const v = (await import('../../../kernel-lib/registry/sqlite-registry-store.js')).validateVersion(
          version ?? '',
        );
        await store.setAlias(name, alias, v);
        if (opts.json) printJson(ctx.io, { name, alias, version: v });
        else ctx.io.out(`${name}@${alias} -> version ${v}\n`);
      },
    );
}
