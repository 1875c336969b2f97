/** describeWithServer: a suite whose server is missing fails (so CI cannot go green without its servers). */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './tmp.js';

test('a suite whose server cannot start fails, naming the reason', () => {
  const res = spawnSync(
    process.execPath,
    [
      join(REPO_ROOT, 'node_modules', 'jest', 'bin', 'jest.js'),
      '--ci',
      '--testMatch',
      '**/fixtures/jest/missing-server.suite.ts',
      '--json',
    ],
    { cwd: REPO_ROOT, encoding: 'utf8', timeout: 120_000 },
  );
  const report = JSON.parse(res.stdout) as {
    numFailedTests: number;
    numPassedTests: number;
    testResults: Array<{ message: string }>;
  };
  expect(res.status).not.toBe(0);
  expect(report.numFailedTests).toBe(1);
  expect(report.numPassedTests).toBe(0);
  expect(report.testResults[0]!.message).toContain('redis-server is not installed');
}, 150_000);
