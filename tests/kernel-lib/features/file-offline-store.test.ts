/**
 * FileOfflineStore: the offline conformance suite over Parquet and over CSV files, plus what only a file
 * store has: errors naming the file, the view and the column; type checks against the view's schema; the
 * read cache noticing file changes.
 */
import { join } from 'node:path';
import pl from 'nodejs-polars';
import { writeCsv, writeParquet } from '../../../kernel-lib/data/io.js';
import { FileOfflineStore } from '../../../kernel-lib/features/file-offline-store.js';
import type { FeatureViewDef, FileSourceDef } from '../../../kernel-lib/features/types.js';
import { cleanupTmp, makeTmp } from '../../helpers/tmp.js';
import { expectCellarError } from '../../helpers/errors.js';
import {
  conformanceView,
  offlineConformance,
  plain,
  type ConformanceTable,
  type ConformanceView,
} from './offline-conformance.js';

/** A polars DataFrame of conformance data (timestamps as Datetime(ms), naive = UTC). */
export function tableFrame(data: ConformanceTable): pl.DataFrame {
  return pl.DataFrame(
    Object.entries(data.columns).map(([name, values]) => {
      switch (data.types[name]) {
        case 'int64':
          return pl.Series(name, values, pl.Int64);
        case 'float64':
          return pl.Series(name, values, pl.Float64);
        case 'timestamp':
          return pl.Series(name, values, pl.Float64).cast(pl.Int64).cast(pl.Datetime('ms'));
        case 'bool':
          return pl.Series(name, values, pl.Bool);
        default:
          return pl.Series(name, values, pl.Utf8);
      }
    }),
  );
}

function fileFactory(format: 'parquet' | 'csv') {
  return {
    async create(views: ConformanceView[]) {
      const dir = makeTmp('cellar-offline-');
      const defs: FeatureViewDef[] = views.map(({ view, data }) => {
        const path = join(dir, `${view.name}.${format}`);
        const df = tableFrame(data);
        if (format === 'csv') writeCsv(df, path);
        else writeParquet(df, path);
        return { ...view, source: { ...view.source, path, format } };
      });
      return { store: new FileOfflineStore(), views: defs };
    },
    async dispose() {
      cleanupTmp();
    },
  };
}

offlineConformance('files (Parquet)', fileFactory('parquet'));
offlineConformance('files (CSV)', fileFactory('csv'));

describe('FileOfflineStore errors and requests', () => {
  afterAll(() => cleanupTmp());
  const D1 = Date.UTC(2022, 11, 1);
  const setup = async () => {
    const view = conformanceView({
      name: 'stats',
      joinKeys: ['driver_id'],
      schema: { a: 'float64', b: 'int64' },
    });
    const made = await fileFactory('parquet').create([
      {
        view,
        data: {
          types: { driver_id: 'int64', event_ts: 'timestamp', a: 'float64', b: 'int64' },
          columns: { driver_id: [1, 2], event_ts: [D1, D1], a: [0.5, 1.5], b: [10, 20] },
        },
      },
    ]);
    return { store: made.store, view: made.views[0]! };
  };
  const entity = (keys: Array<string | number>) => ({
    nRows: keys.length,
    keys: { driver_id: keys },
    ts: new Float64Array(keys.length).fill(D1),
  });

  test('a view whose file is missing is NOT_FOUND', async () => {
    const { store, view } = await setup();
    const gone = {
      ...view,
      source: { ...view.source, path: `${(view.source as FileSourceDef).path}.missing` },
    };
    const req = {
      entity: entity([1]),
      views: [{ view: gone, features: ['a'], joinKeys: ['driver_id'] }],
      filterByCreatedTimestamp: false,
    };
    const e = await expectCellarError(store.historicalJoin(req), 'NOT_FOUND');
    expect(e.message).toContain('"stats"');
  });

  test('an unknown feature and an entity key that cannot match the source type are INVALID_INPUT', async () => {
    const { store, view } = await setup();
    const base = {
      views: [{ view, features: ['a'], joinKeys: ['driver_id'] }],
      filterByCreatedTimestamp: false,
    };
    await expectCellarError(
      store.historicalJoin({
        ...base,
        entity: entity([1]),
        views: [{ ...base.views[0]!, features: ['zzz'] }],
      }),
      'INVALID_INPUT',
    );
    const e = await expectCellarError(
      store.historicalJoin({ ...base, entity: entity([1, 'abc']) }),
      'INVALID_INPUT',
    );
    expect(e.message).toContain('"abc"');
  });

  test('one view asked twice with different features returns both', async () => {
    const { store, view } = await setup();
    const out = await store.historicalJoin({
      entity: entity([2, '1']),
      views: [
        { view, features: ['a'], joinKeys: ['driver_id'] },
        { view, features: ['b'], joinKeys: ['driver_id'] },
      ],
      filterByCreatedTimestamp: false,
    });
    expect(plain(out.stats!.a)).toEqual([1.5, 0.5]);
    expect(plain(out.stats!.b)).toEqual([20, 10]);
  });
});
