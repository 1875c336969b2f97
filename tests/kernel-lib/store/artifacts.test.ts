/** The content-addressed blob store: atomic writes, digests, size limits, path rules and symlink escapes. */
import { existsSync, mkdirSync, readdirSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ArtifactStore,
  listLocalDirectory,
  validateArtifactPath,
} from '../../../kernel-lib/store/artifacts.js';
import { errorCodeOfSync as code } from '../../helpers/errors.js';
import { cleanupTmp, makeTmp } from '../../helpers/tmp.js';

afterEach(cleanupTmp);

test('artifact paths: relative POSIX paths only, also when percent-encoded', () => {
  expect(validateArtifactPath('model/model.json')).toBe('model/model.json');
  expect(validateArtifactPath('plots/')).toBe('plots');
  expect(validateArtifactPath('100%.txt')).toBe('100%.txt');
  for (const bad of [
    '',
    ' ',
    '..',
    '../a',
    'a/..',
    'a/../b',
    '/etc/passwd',
    '%2e%2e/a',
    '%2E%2E%2Fa',
    '%252e%252e/a',
    'a%2f..%2fb',
    'a\\b',
    'C:\\x',
    'a//b',
    './a',
    'a\0b',
  ]) {
    expect([bad, code(() => validateArtifactPath(bad))]).toEqual([bad, 'INVALID_PATH']);
  }
  expect(code(() => validateArtifactPath(42))).toBe('INVALID_PATH');
});

test('blobs are content-addressed, stored once and read back with their digest checked', () => {
  const root = makeTmp();
  const blobs = new ArtifactStore(root);
  const a = blobs.putBytes('hello');
  const b = blobs.putBytes(Buffer.from('hello'));
  expect(a).toEqual(b);
  expect(a.digest).toBe('2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824');
  expect(blobs.read(a.digest).toString()).toBe('hello');
  expect(readdirSync(join(root, 'artifacts', 'tmp'))).toEqual([]);
  const file = join(root, 'big.bin');
  writeFileSync(file, Buffer.alloc(3 << 20, 7));
  const f = blobs.putFile(file);
  expect(f.size).toBe(3 << 20);
  expect(blobs.read(f.digest).equals(Buffer.alloc(3 << 20, 7))).toBe(true);
  expect(readdirSync(join(root, 'artifacts', 'tmp'))).toEqual([]);
});

test('oversized artifacts are refused and leave nothing behind', () => {
  const root = makeTmp();
  const blobs = new ArtifactStore(root, { maxBytes: 1000 });
  expect(code(() => blobs.putBytes(Buffer.alloc(1001)))).toBe('RESOURCE_TOO_LARGE');
  const file = join(root, 'big.bin');
  writeFileSync(file, Buffer.alloc(5000));
  expect(code(() => blobs.putFile(file))).toBe('RESOURCE_TOO_LARGE');
  expect(existsSync(join(root, 'artifacts', 'sha256'))).toBe(false);
  expect(readdirSync(join(root, 'artifacts', 'tmp'))).toEqual([]);
  expect(code(() => blobs.putFile(join(root, 'missing.bin')))).toBe('NOT_FOUND');
});

test('a blob altered on disk, or replaced by a symlink out of the store, is refused on read', () => {
  const root = makeTmp();
  const blobs = new ArtifactStore(root);
  const a = blobs.putBytes('original');
  writeFileSync(blobs.pathOf(a.digest), 'tampered');
  expect(code(() => blobs.read(a.digest))).toBe('STORE_CORRUPT');
  const outside = join(makeTmp(), 'secret.txt');
  writeFileSync(outside, 'secret');
  const b = blobs.putBytes('second');
  unlinkSync(blobs.pathOf(b.digest));
  symlinkSync(outside, blobs.pathOf(b.digest));
  expect(code(() => blobs.read(b.digest))).toBe('STORE_CORRUPT');
  expect(code(() => blobs.read('../../etc/passwd'))).toBe('INVALID_INPUT');
});

test('logging a folder refuses symlinks that lead outside it', () => {
  const dir = makeTmp();
  mkdirSync(join(dir, 'sub'));
  writeFileSync(join(dir, 'a.txt'), 'a');
  writeFileSync(join(dir, 'sub', 'b.txt'), 'b');
  symlinkSync(join(dir, 'a.txt'), join(dir, 'sub', 'inside-link.txt'));
  expect(listLocalDirectory(dir).map((f) => f.rel)).toEqual(['a.txt', 'sub/b.txt', 'sub/inside-link.txt']);
  const outside = makeTmp();
  writeFileSync(join(outside, 'secret'), 's');
  symlinkSync(join(outside, 'secret'), join(dir, 'escape'));
  expect(code(() => listLocalDirectory(dir))).toBe('INVALID_PATH');
});
