/**
 * The online read path keeps a registry snapshot between calls (so another process's unrelated commits do not
 * make every read re-parse the registry). These tests check that the snapshot still follows every registry
 * change made through another connection: a view updated with a new feature, a view removed, and that unrelated
 * commits by that connection leave the answers unchanged.
 */
import { join } from 'node:path';
import pl from 'nodejs-polars';
import { writeParquet } from '../../../../kernel-lib/data/io.js';
import { featureStore } from '../../../../kernel-lib/features/feature-store.js';
import { SqliteOnlineStore } from '../../../../kernel-lib/features/online/index.js';
import {
  apply as registryApply,
  remove as registryRemove,
} from '../../../../kernel-lib/features/registry.js';
import { encodeEntityKey } from '../../../../kernel-lib/features/stores.js';
import { entity, featureView, fileSource } from '../../../../kernel-lib/features/types.js';
import { closeAllEmbedded } from '../../../../kernel-lib/store/open.js';
import { openDatabase, type SqliteDb } from '../../../../kernel-lib/store/sqlite.js';
import { cleanupTmp, makeTmp } from '../../../helpers/tmp.js';

const HOUR = 3_600_000;

function defs(path: string, features: string[]): unknown[] {
  const driver = entity({ name: 'driver', joinKeys: ['driver_id'] });
  const stats = featureView({
    name: 'stats',
    entities: [driver],
    ttl: '2d',
    source: fileSource({ path, timestampField: 'datetime' }),
    schema: Object.fromEntries(features.map((f) => [f, 'float64' as const])),
  });
  return [driver, stats];
}

describe('online reads and the registry snapshot', () => {
  let other: SqliteDb | null = null;
  afterEach(() => {
    other?.close();
    other = null;
    closeAllEmbedded();
    cleanupTmp();
  });

  it('sees views changed and removed through another connection, and ignores unrelated commits', async () => {
    const dir = makeTmp();
    const now = Date.now();
    const source = join(dir, 'stats.parquet');
    writeParquet(
      pl.DataFrame({
        driver_id: [1001, 1002],
        datetime: [new Date(now - HOUR), new Date(now - HOUR)],
        f0: [0.5, 0.25],
        f1: [1.5, 2.5],
      }),
      source,
    );
    const root = join(dir, '.cellar');
    const store = featureStore(root);
    await store.apply(defs(source, ['f0']));
    await store.materialize({ start: new Date(now - 2 * HOUR), end: new Date(now) });
    const read = async (features: string[]) =>
      (await store.getOnlineFeatures({ features, entityRows: [{ driver_id: 1001 }] })).toRows()[0];
    expect(await read(['stats:f0'])).toEqual({ driver_id: 1001, f0: 0.5 });

    other = openDatabase(root);
    // An unrelated commit by another connection (an online value of another view) changes nothing here.
    await new SqliteOnlineStore(other).write('elsewhere', [
      { entityKey: encodeEntityKey(['driver_id'], [1001]), eventTs: now, createdTs: null, values: { x: 1 } },
    ]);
    expect(await read(['stats:f0'])).toEqual({ driver_id: 1001, f0: 0.5 });
    await expect(read(['stats:f1'])).rejects.toMatchObject({ code: 'INVALID_PARAMETER' });

    // The view gains f1 through the other connection: the next read knows it (its value is not materialized yet).
    registryApply(other, defs(source, ['f0', 'f1']));
    const res = await store.getOnlineFeatures({
      features: ['stats:f0', 'stats:f1'],
      entityRows: [{ driver_id: 1001 }],
    });
    expect(res.fieldNames).toEqual(['driver_id', 'f0', 'f1']);
    expect(res.results[2]!.statuses).toEqual(['NULL_VALUE']);

    // Removed through the other connection (a row marked deleted, nothing inserted): reads refuse it.
    registryRemove(other, 'featureView', 'stats');
    await expect(read(['stats:f0'])).rejects.toMatchObject({ code: 'INVALID_PARAMETER' });
  });
});
