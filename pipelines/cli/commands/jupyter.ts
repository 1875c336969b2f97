/**
 * cli/commands/jupyter — `cellar jupyter install`: puts cellar's prebuilt JupyterLab extension and the tslab
 * (TypeScript) kernel spec into a Jupyter data directory, so a JupyterLab installed any way (pip, conda,
 * Debian) shows the cellar toolbar, sidebar and renderers and offers the TypeScript kernel.
 */
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { CellarError } from '../../../kernel-lib/errors.js';
import type { CliContext } from '../main.js';
import { printJson } from '../output.js';

/** Name of the labextension folder (the extension package's name). */
export const LABEXTENSION_NAME = 'cellar-jupyterlab';

/** Finds the cellar package directory: `CELLAR_PACKAGE_ROOT` (set by bin/cellar.cjs), else walking up from the main script. */
export function packageRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CELLAR_PACKAGE_ROOT) return resolve(env.CELLAR_PACKAGE_ROOT);
  const starts = [process.argv[1], process.cwd()].filter((s): s is string => typeof s === 'string');
  for (const start of starts) {
    let dir = existsSync(start) ? dirname(realpathSync(start)) : resolve(start);
    while (true) {
      const pkg = join(dir, 'package.json');
      if (existsSync(pkg)) {
        try {
          if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'cellar') return dir;
        } catch {
          // not a readable package.json: keep walking
        }
      }
      const parent = dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  throw new CellarError(
    'NOT_FOUND',
    'Cannot find the cellar package directory; set CELLAR_PACKAGE_ROOT to it.',
  );
}

/** Options of {@link installJupyter}. */
export interface JupyterInstallOptions {
  /** Explicit Jupyter data directory. */
  dataDir?: string;
  /** Install under `<prefix>/share/jupyter`. */
  prefix?: string;
  /** Install under the `sys.prefix` of this Python (e.g. a virtualenv's python). */
  sysPrefixPython?: string;
  /** Skip the kernel spec (extension only). */
  kernel?: boolean;
  /** Skip the extension (kernel spec only). */
  extension?: boolean;
}

/** Resolves the Jupyter data directory the options designate (default: the user's, `$JUPYTER_DATA_DIR` first). */
export function jupyterDataDir(opts: JupyterInstallOptions, env: NodeJS.ProcessEnv = process.env): string {
  if (opts.dataDir) return resolve(opts.dataDir);
  if (opts.prefix) return join(resolve(opts.prefix), 'share', 'jupyter');
  if (opts.sysPrefixPython) {
    let prefix: string;
    try {
      prefix = execFileSync(opts.sysPrefixPython, ['-c', 'import sys; print(sys.prefix)'], {
        encoding: 'utf8',
      }).trim();
    } catch (e) {
      throw new CellarError(
        'NOT_FOUND',
        `Cannot run ${opts.sysPrefixPython} to find its sys.prefix: ${(e as Error).message}`,
      );
    }
    return join(prefix, 'share', 'jupyter');
  }
  if (env.JUPYTER_DATA_DIR) return resolve(env.JUPYTER_DATA_DIR);
  return join(env.XDG_DATA_HOME ? resolve(env.XDG_DATA_HOME) : join(homedir(), '.local', 'share'), 'jupyter');
}

function copyDirAtomic(from: string, to: string): void {
  mkdirSync(dirname(to), { recursive: true });
  const tmp = `${to}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  cpSync(from, tmp, { recursive: true });
  rmSync(to, { recursive: true, force: true });
  renameSync(tmp, to);
}

/**
 * Installs the labextension and/or the tslab kernel spec. Returns what was written.
 *
 * @throws CellarError NOT_FOUND when the extension was not built or tslab is missing
 */
export function installJupyter(opts: JupyterInstallOptions = {}): {
  dataDir: string;
  extension: string | null;
  kernel: string | null;
} {
  const root = packageRoot();
  const dataDir = jupyterDataDir(opts);
  let extension: string | null = null;
  let kernel: string | null = null;
  if (opts.extension !== false) {
    const built = join(root, 'dist', 'labextensions', LABEXTENSION_NAME);
    if (!existsSync(join(built, 'package.json'))) {
      throw new CellarError(
        'NOT_FOUND',
        `The JupyterLab extension is not built (${built} is missing). Run \`bash scripts/build-extension.sh\` in ${root}.`,
      );
    }
    extension = join(dataDir, 'labextensions', LABEXTENSION_NAME);
    copyDirAtomic(built, extension);
  }
  if (opts.kernel !== false) {
    const tslab = [join(root, 'node_modules', '.bin', 'tslab'), join(root, '..', '.bin', 'tslab')].find((p) =>
      existsSync(p),
    );
    if (!tslab)
      throw new CellarError(
        'NOT_FOUND',
        `tslab is not installed next to cellar (${root}); run npm install there.`,
      );
    kernel = join(dataDir, 'kernels', 'tslab');
    mkdirSync(kernel, { recursive: true });
    // The same kernel.json `tslab install` writes (without needing Python's jupyter_client).
    const spec = {
      argv: [realpathSync(tslab), 'kernel', '--config-path', '{connection_file}'],
      display_name: 'TypeScript',
      language: 'typescript',
    };
    writeFileSync(join(kernel, 'kernel.json'), JSON.stringify(spec, null, 1) + '\n');
  }
  return { dataDir, extension, kernel };
}

/** Registers `cellar jupyter …`. */
export function registerJupyterCommands(program: Command, ctx: CliContext): void {
  const jupyter = program.command('jupyter').description('connect cellar to a JupyterLab installation');
  jupyter
    .command('install')
    .description(
      'install the cellar JupyterLab extension and the TypeScript (tslab) kernel into a Jupyter data directory',
    )
    .option(
      '--data-dir <dir>',
      'Jupyter data directory (default: $JUPYTER_DATA_DIR, else ~/.local/share/jupyter)',
    )
    .option('--prefix <dir>', 'install into <dir>/share/jupyter')
    .option('--sys-prefix <python>', "install into the sys.prefix of this Python (e.g. your venv's python)")
    .option('--no-kernel', 'skip the TypeScript kernel spec')
    .option('--no-extension', 'skip the JupyterLab extension')
    .option('--json', 'print JSON')
    .action(
      (opts: {
        dataDir?: string;
        prefix?: string;
        sysPrefix?: string;
        kernel: boolean;
        extension: boolean;
        json?: boolean;
      }) => {
        const result = installJupyter({
          ...(opts.dataDir === undefined ? {} : { dataDir: opts.dataDir }),
          ...(opts.prefix === undefined ? {} : { prefix: opts.prefix }),
          ...(opts.sysPrefix === undefined ? {} : { sysPrefixPython: opts.sysPrefix }),
          kernel: opts.kernel,
          extension: opts.extension,
        });
        if (opts.json) printJson(ctx.io, result);
        else {
          if (result.extension) ctx.io.out(`JupyterLab extension installed in ${result.extension}\n`);
          if (result.kernel) ctx.io.out(`TypeScript kernel (tslab) installed in ${result.kernel}\n`);
          ctx.io.out('Restart JupyterLab to load them.\n');
        }
      },
    );
}
