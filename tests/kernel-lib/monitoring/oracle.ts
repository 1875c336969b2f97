/**
 * Runs Debian's scipy/numpy (/usr/bin/python3) on the cases a test generated and returns its answers:
 * the reference side of the statistics' oracle tests. Fails (never skips) when python or scipy is missing.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTmp } from '../../helpers/tmp.js';

/** Feeds `cases` as JSON to a Python script (reading `cases` from the file in sys.argv[1]) and parses its JSON stdout. */
export function runPython<T>(script: string, cases: unknown): T {
  const dir = makeTmp('cellar-oracle-');
  const file = join(dir, 'cases.json');
  writeFileSync(file, JSON.stringify(cases));
  const out = execFileSync('/usr/bin/python3', ['-c', script, file], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  return JSON.parse(out) as T;
}
