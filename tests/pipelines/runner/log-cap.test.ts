/**
 * A step attempt's log has a size cap: a real step printing more than the cap keeps the head and the tail of
 * its output, and the log says how much was cut. The cap comes from the option, else CELLAR_MAX_STEP_LOG_BYTES.
 */
import { readFileSync, statSync } from 'node:fs';
import { CellarError } from '../../../kernel-lib/errors.js';
import { closeAllEmbedded } from '../../../kernel-lib/store/open.js';
import {
  DEFAULT_MAX_STEP_LOG_BYTES,
  MAX_STEP_LOG_BYTES_ENV,
  resolveMaxLogBytes,
} from '../../../pipelines/runner/log-cap.js';
import { runPipeline } from '../../../pipelines/scheduler/api.js';
import { cleanupTmp } from '../../helpers/tmp.js';
import { makeStore, workerScript, writePipeline } from '../../fixtures/pipelines/fixture.js';

afterEach(() => {
  closeAllEmbedded();
  cleanupTmp();
  delete process.env[MAX_STEP_LOG_BYTES_ENV];
});

/** A step printing `lines` numbered lines of ~100 bytes (about 100 × lines bytes), then END, then maybe failing. */
function noisy(root: string, name: string, lines: number, fail: boolean): void {
  writePipeline(root, {
    name,
    steps: [
      {
        name: 'noisy',
        code:
          `console.log('FIRST LINE');\n` +
          `const pad = 'x'.repeat(90);\n` +
          `for (let i = 0; i < ${lines}; i++) process.stdout.write('line ' + String(i).padStart(7, '0') + ' ' + pad + '\\n');\n` +
          `console.error('LAST LINE');\n` +
          (fail ? `throw new Error('failed after printing');\n` : 'return {};'),
      },
    ],
  });
}

test('a step printing far more than the cap keeps the head and the tail and says what was cut', async () => {
  const root = makeStore();
  noisy(root, 'noisy', 30_000, false); // ~3 MB of output
  const cap = 64 * 1024;
  const summary = await runPipeline({
    store: root,
    name: 'noisy',
    workerScript: workerScript(),
    maxLogBytes: cap,
  });
  expect(summary.run.state).toBe('success');
  const path = summary.attempts[0]!.logPath;
  const log = readFileSync(path, 'utf8');
  expect(statSync(path).size).toBeLessThan(cap + 1024); // the cap plus the two notice lines
  expect(log.startsWith('FIRST LINE\nline 0000000 ')).toBe(true);
  expect(log).toContain('reached half of its cap of 65536 bytes');
  const cut = /\[cellar\] (\d+) bytes of output were cut here; the last (\d+) follow\n/.exec(log);
  expect(cut).not.toBeNull();
  const total = 'FIRST LINE\n'.length + 30_000 * 104 + 'LAST LINE\n'.length;
  expect(Number(cut![1]) + Number(cut![2]) + cap / 2).toBe(total); // head + cut + tail = everything printed
  expect(log.endsWith('line 0029999 ' + 'x'.repeat(90) + '\nLAST LINE\n')).toBe(true);
});

test('the cap comes from CELLAR_MAX_STEP_LOG_BYTES; a failing step keeps its error at the end of the log', async () => {
  const root = makeStore();
  noisy(root, 'failing', 5_000, true); // ~0.5 MB, then an error
  process.env[MAX_STEP_LOG_BYTES_ENV] = String(16 * 1024);
  const summary = await runPipeline({ store: root, name: 'failing', workerScript: workerScript() });
  expect(summary.run.state).toBe('failed');
  const path = summary.attempts[0]!.logPath;
  expect(statSync(path).size).toBeLessThan(16 * 1024 + 1024);
  const log = readFileSync(path, 'utf8');
  expect(log.startsWith('FIRST LINE\n')).toBe(true);
  expect(log).toMatch(/bytes of output were cut here/);
  expect(log).toMatch(/\[cellar\] step "noisy" failed: Error: failed after printing/);
});

test('a small log is kept whole, with no notice', async () => {
  const root = makeStore();
  noisy(root, 'small', 10, false);
  const summary = await runPipeline({
    store: root,
    name: 'small',
    workerScript: workerScript(),
    maxLogBytes: 4096,
  });
  const log = readFileSync(summary.attempts[0]!.logPath, 'utf8');
  expect(log).not.toContain('[cellar]');
  expect(log.split('\n')).toHaveLength(13); // FIRST, 10 lines, LAST, and the final empty string
});

test('the cap is validated: a whole number of bytes of at least 1024', () => {
  expect(resolveMaxLogBytes(undefined, {})).toBe(DEFAULT_MAX_STEP_LOG_BYTES);
  expect(resolveMaxLogBytes(undefined, { [MAX_STEP_LOG_BYTES_ENV]: '2048' })).toBe(2048);
  expect(resolveMaxLogBytes('4096', { [MAX_STEP_LOG_BYTES_ENV]: '2048' })).toBe(4096);
  for (const bad of ['12abc', '-5', '10', '1e9', 1.5]) {
    let err: unknown;
    try {
      resolveMaxLogBytes(bad);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CellarError);
    expect((err as CellarError).code).toBe('INVALID_PARAMETER');
  }
});
