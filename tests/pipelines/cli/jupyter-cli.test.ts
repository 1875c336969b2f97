/** `cellar jupyter install`: the built labextension and the tslab kernel spec land in a Jupyter data directory. */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanupTmp, makeTmp, REPO_ROOT } from '../../helpers/tmp.js';

afterEach(cleanupTmp);

test('installs the extension and the kernel spec; jupyter sees both', () => {
  const data = makeTmp();
  const bin = join(REPO_ROOT, 'bin', 'cellar.cjs');
  const res = spawnSync(process.execPath, [bin, 'jupyter', 'install', '--data-dir', data, '--json'], {
    encoding: 'utf8',
  });
  expect(res.stderr).toBe('');
  expect(res.status).toBe(0);
  const out = JSON.parse(res.stdout);
  expect(out.extension).toBe(join(data, 'labextensions', 'cellar-jupyterlab'));
  const pkg = JSON.parse(readFileSync(join(out.extension, 'package.json'), 'utf8'));
  expect(pkg.name).toBe('cellar-jupyterlab');
  expect(existsSync(join(out.extension, 'static'))).toBe(true);
  const spec = JSON.parse(readFileSync(join(data, 'kernels', 'tslab', 'kernel.json'), 'utf8'));
  expect(spec.language).toBe('typescript');
  expect(existsSync(spec.argv[0])).toBe(true);
  // Debian's jupyter (installed by scripts/install-system.sh) lists the kernel from that data dir
  const list = spawnSync('/usr/bin/python3', ['-m', 'jupyter', 'kernelspec', 'list', '--json'], {
    encoding: 'utf8',
    env: { ...process.env, JUPYTER_DATA_DIR: data, JUPYTER_PATH: data },
  });
  expect(list.status).toBe(0);
  expect(Object.keys(JSON.parse(list.stdout).kernelspecs)).toContain('tslab');
  // idempotent
  const again = spawnSync(process.execPath, [bin, 'jupyter', 'install', '--data-dir', data], {
    encoding: 'utf8',
  });
  expect(again.status).toBe(0);
  expect(again.stdout).toContain('Restart JupyterLab');
});
