/**
 * Reading feature sources (columns.ts) and turning timestamps into epoch milliseconds (timestamps.ts): what
 * the join receives from Parquet and CSV files, the errors a user sees for bad files and bad timestamps (naming
 * the column, the view and the file), float32 widening, entity-key coercion and the read cache.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pl from 'nodejs-polars';
import { CellarError } from '../../../kernel-lib/errors.js';
import { writeParquet } from '../../../kernel-lib/data/io.js';
import {
  clearSourceColumnCache,
  gatherValues,
  readSourceColumns,
  type ReadSourceOptions,
} from '../../../kernel-lib/features/columns.js';
import { coerceKeyValues } from '../../../kernel-lib/features/file-offline-store.js';
import { columnToEpochMs, toEpochMs } from '../../../kernel-lib/features/timestamps.js';
import { fileSource, type FeatureDtype, type FileSourceDef } from '../../../kernel-lib/features/types.js';
import { cleanupTmp, makeTmp } from '../../helpers/tmp.js';

const D1 = Date.UTC(2022, 11, 1);

function thrown(fn: () => unknown): CellarError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CellarError);
    return e as CellarError;
  }
  throw new Error('expected a CellarError');
}

afterAll(() => cleanupTmp());

describe('toEpochMs', () => {
  test('accepts Dates, epoch ms and ISO-8601 strings with a zone', () => {
    const opts = { column: 'event_timestamp' };
    expect(toEpochMs(new Date(D1), opts)).toBe(D1);
    expect(toEpochMs(D1, opts)).toBe(D1);
    expect(toEpochMs('2022-12-01T00:00:00Z', opts)).toBe(D1);
    expect(toEpochMs('2022-12-01T02:00:00+02:00', opts)).toBe(D1);
    expect(toEpochMs('2022-11-30 19:00-0500', opts)).toBe(D1);
    expect(toEpochMs('2022-12-01T00:00:00.250Z', opts)).toBe(D1 + 250);
    expect(toEpochMs('2022-12-01T00:00:00.0005Z', opts)).toBe(D1 + 0.5);
  });

  test('a zone-less string is INVALID_INPUT naming the column and the value, with a hint', () => {
    const e = thrown(() => toEpochMs('2022-12-01T00:00:00', { column: 'event_timestamp', row: 3 }));
    expect(e.code).toBe('INVALID_INPUT');
    expect(e.message).toContain('"event_timestamp"');
    expect(e.message).toContain('row 3');
    expect(e.message).toContain('"2022-12-01T00:00:00"');
    expect(e.message).toMatch(/zone.*Z/);
    expect(thrown(() => toEpochMs('2022-12-01', { column: 'ts' })).message).toContain('no time zone');
  });

  test('nulls, garbage, impossible dates and invalid Dates are INVALID_INPUT', () => {
    for (const bad of [
      null,
      undefined,
      'yesterday',
      '2022-02-30T00:00:00Z',
      '2022-12-01T25:00:00Z',
      new Date('x'),
      NaN,
      {},
    ]) {
      expect(thrown(() => toEpochMs(bad, { column: 'ts' })).code).toBe('INVALID_INPUT');
    }
  });
});

describe('columnToEpochMs', () => {
  const instant = [D1, D1 + 1500];

  test('reads polars Datetime of every unit, with or without a zone (naive = UTC), and Date columns', () => {
    const ms = pl.Series('t', instant).cast(pl.Int64).cast(pl.Datetime('ms'));
    expect(Array.from(columnToEpochMs(ms, 't'))).toEqual(instant);
    expect(Array.from(columnToEpochMs(ms.cast(pl.Datetime('us')), 't'))).toEqual(instant);
    expect(Array.from(columnToEpochMs(ms.cast(pl.Datetime('ns')), 't'))).toEqual(instant);
    const paris = pl.Series('t', [D1 * 1000], pl.Int64).cast(pl.Datetime('us', 'Europe/Paris'));
    expect(Array.from(columnToEpochMs(paris, 't'))).toEqual([D1]);
    const days = pl.Series('d', [19327], pl.Int32).cast(pl.Date);
    expect(Array.from(columnToEpochMs(days, 'd'))).toEqual([19327 * 86_400_000]);
  });

  test('reads integer epoch ms and zoned strings; rejects zone-less strings and nulls naming the row', () => {
    expect(Array.from(columnToEpochMs(pl.Series('t', instant, pl.Int64), 't'))).toEqual(instant);
    expect(
      Array.from(columnToEpochMs(pl.Series('t', ['2022-12-01T00:00:00Z', '2022-12-01T01:00:00+01:00']), 't')),
    ).toEqual([D1, D1]);
    const e = thrown(() =>
      columnToEpochMs(pl.Series('t', ['2022-12-01T00:00:00Z', '2022-12-01 00:00:00']), 'when'),
    );
    expect(e.message).toContain('"when", row 1');
    const n = thrown(() =>
      columnToEpochMs(pl.Series('t', [D1, null], pl.Float64).cast(pl.Int64).cast(pl.Datetime('ms')), 'when'),
    );
    expect(n.code).toBe('INVALID_INPUT');
    expect(n.message).toContain('row 1');
    expect(n.details).toMatchObject({ column: 'when', row: 1 });
  });

  test('with allowNulls, nulls become NaN; arrays of Dates, numbers and strings work too', () => {
    const s = pl.Series('t', [D1, null], pl.Float64).cast(pl.Int64).cast(pl.Datetime('ms'));
    expect(Array.from(columnToEpochMs(s, 'c', { allowNulls: true }))).toEqual([D1, NaN]);
    expect(Array.from(columnToEpochMs([new Date(D1), D1, '2022-12-01T00:00:00Z'], 'c'))).toEqual([
      D1,
      D1,
      D1,
    ]);
    expect(thrown(() => columnToEpochMs([D1, null], 'c')).message).toContain('row 1');
    expect(thrown(() => columnToEpochMs(pl.Series('b', [true]), 'c')).code).toBe('INVALID_INPUT');
  });
});

describe('readSourceColumns', () => {
  const dir = makeTmp('cellar-columns-');
  const statsPath = join(dir, 'stats.parquet');
  writeParquet(
    pl.DataFrame([
      pl.Series('driver_id', [1001, 1002, 1001], pl.Int64),
      pl
        .Series('datetime', [D1, D1, D1 + 1], pl.Float64)
        .cast(pl.Int64)
        .cast(pl.Datetime('ms'))
        .cast(pl.Datetime('us')),
      pl.Series('created', [D1, null, D1], pl.Float64).cast(pl.Int64).cast(pl.Datetime('ms')),
      pl.Series('conv_rate', [0.1, 0.2, null], pl.Float32),
      pl.Series('trips', [100, 200, 300], pl.Int32),
      pl.Series('city', ['paris', null, 'rome']),
      pl.Series('extra', [1, 2, 3]),
    ]),
    statsPath,
  );
  const stats = fileSource({
    path: statsPath,
    timestampField: 'datetime',
    createdTimestampColumn: 'created',
  });
  const opts: ReadSourceOptions = {
    joinKeys: ['driver_id'],
    features: { conv_rate: 'float64', trips: 'int64', city: 'string' },
    viewName: 'driver_stats',
  };

  test('reads keys, times, created times and features as Float64 (float32 widened exactly)', () => {
    clearSourceColumnCache();
    const src = readSourceColumns(stats, opts);
    expect(src.nRows).toBe(3);
    expect(src.keyKinds).toEqual({ driver_id: 'int' });
    expect(Array.from(src.keys.driver_id as Int32Array)).toEqual([1001, 1002, 1001]);
    expect(Array.from(src.ts)).toEqual([D1, D1, D1 + 1]);
    expect(Array.from(src.created!)).toEqual([D1, NaN, D1]);
    const conv = src.values.conv_rate!;
    expect(Object.prototype.toString.call(conv.data)).toBe('[object Float64Array]');
    expect(Array.from(conv.data as Float64Array)).toEqual([Math.fround(0.1), Math.fround(0.2), NaN]);
    expect(Array.from(conv.nulls)).toEqual([0, 0, 1]);
    expect(Array.from(src.values.trips!.data as Float64Array)).toEqual([100, 200, 300]);
    expect(src.values.city!.data).toEqual(['paris', null, 'rome']);
    expect(Object.keys(src.values)).toEqual(['conv_rate', 'trips', 'city']);
  });

  test('gatherValues picks rows (-1 → null) without converting whole columns', async () => {
    const src = readSourceColumns(stats, opts);
    const out = await gatherValues(src, ['trips', 'city', 'conv_rate'], Int32Array.from([2, -1, 0, 2]));
    expect(Array.from(out.trips!.data as Float64Array)).toEqual([300, NaN, 100, 300]);
    expect(Array.from(out.trips!.nulls)).toEqual([0, 1, 0, 0]);
    expect(out.city!.data).toEqual(['rome', null, 'paris', 'rome']);
    expect(Array.from(out.conv_rate!.nulls)).toEqual([1, 1, 0, 1]);
    await expect(gatherValues(src, ['nope'], new Int32Array(1))).rejects.toMatchObject({
      code: 'INVALID_PARAMETER',
    });
  });

  test('caches by file identity: the same object until the file changes', () => {
    clearSourceColumnCache();
    const path = join(dir, 'cached.parquet');
    const write = (v: number) =>
      writeParquet(
        pl.DataFrame({ id: pl.Series('id', [1], pl.Int64), ts: pl.Series('ts', [D1], pl.Int64), v: [v] }),
        path,
      );
    write(1);
    const src = fileSource({ path, timestampField: 'ts' });
    const o = { joinKeys: ['id'], features: ['v'], viewName: 'v' };
    const a = readSourceColumns(src, o);
    expect(readSourceColumns(src, o)).toBe(a);
    write(2);
    const b = readSourceColumns(src, o);
    expect(b).not.toBe(a);
    expect(Array.from(b.values.v!.data as Float64Array)).toEqual([2]);
  });

  test('a missing file is NOT_FOUND naming the file and the view', () => {
    const e = thrown(() =>
      readSourceColumns(fileSource({ path: join(dir, 'nope.parquet'), timestampField: 'ts' }), opts),
    );
    expect(e.code).toBe('NOT_FOUND');
    expect(e.message).toContain('nope.parquet');
    expect(e.message).toContain('"driver_stats"');
  });

  test('a missing column is INVALID_INPUT naming the column, the view and the file, listing the columns present', () => {
    const cases: Array<[FileSourceDef, ReadSourceOptions, string]> = [
      [stats, { ...opts, joinKeys: ['driver'] }, 'driver'],
      [fileSource({ path: statsPath, timestampField: 'event_ts' }), opts, 'event_ts'],
      [
        fileSource({ path: statsPath, timestampField: 'datetime', createdTimestampColumn: 'created_at' }),
        opts,
        'created_at',
      ],
      [stats, { ...opts, features: { acc_rate: 'float64' } }, 'acc_rate'],
    ];
    for (const [source, o, col] of cases) {
      const e = thrown(() => readSourceColumns(source, o));
      expect(e.code).toBe('INVALID_INPUT');
      expect(e.message).toContain(`"${col}"`);
      expect(e.message).toContain('"driver_stats"');
      expect(e.message).toContain(statsPath);
      expect(e.message).toContain('driver_id, datetime, created, conv_rate, trips, city, extra');
    }
  });

  test('a column whose type does not match the schema is INVALID_INPUT', () => {
    const cases: Array<Record<string, FeatureDtype>> = [
      { city: 'float64' },
      { conv_rate: 'int64' },
      { trips: 'string' },
      { city: 'bool' },
    ];
    for (const features of cases) {
      const e = thrown(() => readSourceColumns(stats, { ...opts, features }));
      expect(e.code).toBe('INVALID_INPUT');
      expect(e.message).toContain(Object.keys(features)[0]!);
      expect(e.message).toContain('"driver_stats"');
    }
  });

  test('CSV: string keys, zoned and naive (UTC) timestamps; nulls and zone-less strings are named errors', () => {
    const path = join(dir, 'trips.csv');
    writeFileSync(
      path,
      'city,ts,trips\nparis,2022-12-01T01:00:00+01:00,3\nrome,2022-11-30T19:00:00-05:00,4\n',
    );
    const src = readSourceColumns(fileSource({ path, timestampField: 'ts' }), {
      joinKeys: ['city'],
      features: { trips: 'int64' },
      viewName: 'trips',
    });
    expect(src.keyKinds.city).toBe('string');
    expect(src.keys.city).toEqual(['paris', 'rome']);
    expect(Array.from(src.ts)).toEqual([D1, D1]);
    const utc = join(dir, 'naive-utc.csv');
    writeFileSync(utc, 'city,ts,trips\nparis,2022-12-01 00:00:00,3\nrome,2022-12-01T00:00:01,4\n');
    const naiveSrc = readSourceColumns(fileSource({ path: utc, timestampField: 'ts' }), {
      joinKeys: ['city'],
      features: ['trips'],
      viewName: 'trips',
    });
    expect(Array.from(naiveSrc.ts)).toEqual([D1, D1 + 1000]);
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'city,ts,trips\nparis,2022-12-01T00:00:00Z,3\nrome,,4\n');
    const e = thrown(() =>
      readSourceColumns(fileSource({ path: bad, timestampField: 'ts' }), {
        joinKeys: ['city'],
        features: ['trips'],
        viewName: 'trips',
      }),
    );
    expect(e.code).toBe('INVALID_INPUT');
    expect(e.message).toMatch(/"ts", row 1/);
    expect(e.message).toContain('"trips"');
    expect(e.message).toContain(bad);
    const naive = join(dir, 'naive.csv');
    writeFileSync(naive, 'city,ts,trips\nparis,1 Dec 2022 10:00,3\n');
    const z = thrown(() =>
      readSourceColumns(fileSource({ path: naive, timestampField: 'ts' }), {
        joinKeys: ['city'],
        features: ['trips'],
        viewName: 'trips',
      }),
    );
    expect(z.code).toBe('INVALID_INPUT');
    expect(z.message).toContain('"1 Dec 2022 10:00"');
  });
});

describe('coerceKeyValues', () => {
  test('integer sources take integers and integer strings; 1001 and "1001" are the same entity', () => {
    expect(
      Array.from(coerceKeyValues([1001, '1001', ' 7 ', null], 'int', 'driver_id', 'v') as Float64Array),
    ).toEqual([1001, 1001, 7, NaN]);
    for (const bad of ['abc', '10.5', 1.5, '']) {
      const e = thrown(() => coerceKeyValues([1, bad], 'int', 'driver_id', 'driver_stats'));
      expect(e.code).toBe('INVALID_INPUT');
      expect(e.message).toContain('"driver_id", row 1');
      expect(e.message).toContain('"driver_stats"');
    }
  });

  test('float sources take numeric strings; string sources take numbers as JS prints them', () => {
    expect(Array.from(coerceKeyValues(['0.5', 2], 'float', 'k', 'v') as Float64Array)).toEqual([0.5, 2]);
    expect(thrown(() => coerceKeyValues(['x'], 'float', 'k', 'v')).code).toBe('INVALID_INPUT');
    expect(coerceKeyValues([1001, 'a', null, 2.5], 'string', 'k', 'v')).toEqual(['1001', 'a', null, '2.5']);
  });
});
