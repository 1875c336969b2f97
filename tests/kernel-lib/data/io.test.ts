import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pl from 'nodejs-polars';
import {
  readCsv,
  readParquet,
  writeCsv,
  writeParquet,
  writeFileAtomic,
} from '../../../kernel-lib/data/io.js';
import { toRows } from '../../../kernel-lib/data/frame.js';
import { CellarError } from '../../../kernel-lib/errors.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cellar-io-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const sample = () =>
  pl.DataFrame({
    x: [0.1 + 0.2, 1 / 3, null, -1e-300],
    name: ['a', null, '<script>alert(1)</script>', 'd,e "q"'],
    ts: [
      new Date('2024-01-01T10:00:00.123Z'),
      null,
      new Date('1999-12-31T23:59:59.999Z'),
      new Date('2024-06-30T00:00:00Z'),
    ],
    flag: [true, false, null, true],
  });

function expectCellarError(fn: () => unknown, code: string, text?: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(CellarError);
  expect((caught as CellarError).code).toBe(code);
  if (text) expect((caught as CellarError).message).toContain(text);
}

function leftovers(d: string): string[] {
  return fs.readdirSync(d).filter((f) => f.endsWith('.tmp'));
}

describe.each([
  ['CSV', 'data.csv', writeCsv, readCsv],
  ['Parquet', 'data.parquet', writeParquet, readParquet],
] as const)('%s round trip', (_kind, file, write, read) => {
  it('keeps Float64 values bit for bit, nulls, strings and UTC instants', () => {
    const target = path.join(dir, file);
    write(sample(), target);
    const back = read(target);
    expect(back.columns).toEqual(['x', 'name', 'ts', 'flag']);
    expect(String(back.getColumn('x').dtype)).toContain('Float64');
    const rows = toRows(back);
    expect(rows[0]!.x).toBe(0.30000000000000004);
    expect(rows[1]!.x).toBe(1 / 3);
    expect(rows[2]!.x).toBeNull();
    expect(rows[3]!.x).toBe(-1e-300);
    expect(rows.map((r) => r.name)).toEqual(['a', null, '<script>alert(1)</script>', 'd,e "q"']);
    expect(rows[0]!.ts).toBeInstanceOf(Date);
    expect((rows[0]!.ts as Date).toISOString()).toBe('2024-01-01T10:00:00.123Z');
    expect(rows[1]!.ts).toBeNull();
    expect((rows[2]!.ts as Date).toISOString()).toBe('1999-12-31T23:59:59.999Z');
    expect(rows.map((r) => r.flag)).toEqual([true, false, null, true]);
    expect(leftovers(dir)).toEqual([]);
  });

  it('accepts row objects and creates missing parent directories', () => {
    const target = path.join(dir, 'nested', 'deeper', file);
    write([{ a: 1.5 }, { a: 2.5 }], target);
    expect(toRows(read(target))).toEqual([{ a: 1.5 }, { a: 2.5 }]);
  });

  it('replaces an existing file', () => {
    const target = path.join(dir, file);
    write([{ a: 1 }], target);
    write([{ a: 2 }, { a: 3 }], target);
    expect(toRows(read(target)).map((r) => r.a)).toEqual([2, 3]);
    expect(leftovers(dir)).toEqual([]);
  });

  it('reports a missing file as NOT_FOUND naming the path', () => {
    expectCellarError(() => read(path.join(dir, 'nope', file)), 'NOT_FOUND', path.join(dir, 'nope', file));
  });

  it('reports a directory as INVALID_INPUT', () => {
    expectCellarError(() => read(dir), 'INVALID_INPUT', 'directory');
  });

  it('refuses to write onto a directory and leaves nothing behind', () => {
    const target = path.join(dir, 'adir');
    fs.mkdirSync(target);
    expectCellarError(() => write([{ a: 1 }], target), 'INVALID_PATH');
    expect(fs.statSync(target).isDirectory()).toBe(true);
    expect(leftovers(dir)).toEqual([]);
  });

  it('rejects something that is not a table before touching the target', () => {
    const target = path.join(dir, file);
    write([{ a: 1 }], target);
    const before = fs.readFileSync(target);
    expectCellarError(() => write(42 as never, target), 'INVALID_INPUT');
    expect(fs.readFileSync(target)).toEqual(before);
  });
});

describe('readCsv', () => {
  it('reads integers and floats, empty fields as nulls, dates as Datetime', () => {
    const f = path.join(dir, 'in.csv');
    fs.writeFileSync(f, 'id,v,when\n1,0.5,2024-01-02T03:04:05\n2,,2024-01-03T00:00:00\n');
    const df = readCsv(f);
    expect(df.height).toBe(2);
    expect(toRows(df)).toEqual([
      { id: 1, v: 0.5, when: new Date('2024-01-02T03:04:05Z') },
      { id: 2, v: null, when: new Date('2024-01-03T00:00:00Z') },
    ]);
  });

  it('infers a float column whose first rows look like integers', () => {
    const f = path.join(dir, 'late.csv');
    const lines = ['v', ...Array.from({ length: 12_000 }, (_, i) => String(i)), '0.25'];
    fs.writeFileSync(f, lines.join('\n') + '\n');
    const df = readCsv(f);
    expect(df.height).toBe(12_001);
    expect(toRows(df.tail(1))).toEqual([{ v: 0.25 }]);
  });

  it('reads a file without a .csv extension as a path, never as inline CSV text', () => {
    const f = path.join(dir, 'export.txt');
    fs.writeFileSync(f, 'a;b\n1;x\n');
    expect(toRows(readCsv(f, { sep: ';' }))).toEqual([{ a: 1, b: 'x' }]);
  });

  it('uses a tab separator for .tsv files and honours nullValues', () => {
    const f = path.join(dir, 'in.tsv');
    fs.writeFileSync(f, 'a\tb\n1\tNA\n');
    expect(toRows(readCsv(f, { nullValues: 'NA' }))).toEqual([{ a: 1, b: null }]);
  });

  it('reports malformed input (invalid UTF-8, empty file) as INVALID_INPUT', () => {
    const bad = path.join(dir, 'bad.csv');
    fs.writeFileSync(bad, Buffer.from([0x61, 0x0a, 0xff, 0xfe, 0xc3, 0x28, 0x0a]));
    expectCellarError(() => readCsv(bad), 'INVALID_INPUT', bad);
    const empty = path.join(dir, 'empty.csv');
    fs.writeFileSync(empty, '');
    expectCellarError(() => readCsv(empty), 'INVALID_INPUT', empty);
  });
});

describe('readParquet', () => {
  it('reports a file that is not Parquet as INVALID_INPUT', () => {
    const f = path.join(dir, 'fake.parquet');
    fs.writeFileSync(f, 'this is not parquet');
    expectCellarError(() => readParquet(f), 'INVALID_INPUT', f);
  });

  it('reads only the requested columns', () => {
    const f = path.join(dir, 'cols.parquet');
    writeParquet({ a: [1, 2], b: ['x', 'y'] }, f);
    expect(readParquet(f, { columns: ['b'] }).columns).toEqual(['b']);
  });
});

describe('atomic writes', () => {
  it('leaves the target unchanged and no temp file when polars fails mid-write', () => {
    const target = path.join(dir, 'keep.csv');
    fs.writeFileSync(target, 'a\n1\n');
    const nested = pl.DataFrame({ a: [[1, 2], [3]] }); // CSV cannot hold list columns
    expectCellarError(() => writeCsv(nested, target), 'INVALID_INPUT', 'keep.csv');
    expect(fs.readFileSync(target, 'utf8')).toBe('a\n1\n');
    expect(leftovers(dir)).toEqual([]);
  });

  it('writeFileAtomic writes bytes and text', () => {
    const f = path.join(dir, 'x', 'blob.bin');
    writeFileAtomic(f, new Uint8Array([1, 2, 3]));
    expect([...fs.readFileSync(f)]).toEqual([1, 2, 3]);
    writeFileAtomic(f, 'text');
    expect(fs.readFileSync(f, 'utf8')).toBe('text');
    expect(leftovers(path.dirname(f))).toEqual([]);
  });
});
