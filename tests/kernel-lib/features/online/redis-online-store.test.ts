/**
 * Runs the OnlineStore conformance suite against the Redis online store, on a real redis-server started on
 * 127.0.0.1 for this file (skipped with a visible message when redis-server cannot be started).
 */
import { RedisOnlineStore } from '../../../../kernel-lib/features/online/index.js';
import { CellarError } from '../../../../kernel-lib/errors.js';
import { openDatabase, type SqliteDb } from '../../../../kernel-lib/store/sqlite.js';
import { describeWithServer, startRedis } from '../../../helpers/servers.js';
import { cleanupTmp, makeTmp } from '../../../helpers/tmp.js';
import { onlineConformance } from './online-conformance.js';

describeWithServer('Redis online store', startRedis(), (server) => {
  let db: SqliteDb | null = null;
  let store: RedisOnlineStore | null = null;
  let n = 0;
  onlineConformance('Redis', {
    async create() {
      db = openDatabase(makeTmp());
      // A fresh key prefix per test keeps tests independent on the shared server.
      store = await RedisOnlineStore.connect(server.url, { keyPrefix: `t${++n}:` });
      return { online: store, db };
    },
    async dispose() {
      await store?.close();
      db?.close();
      db = null;
      cleanupTmp();
    },
  });

  test('prefixes isolate stores sharing a server; deleteView leaves other prefixes alone', async () => {
    const a = await RedisOnlineStore.connect(server.url, { keyPrefix: 'projA:' });
    const b = await RedisOnlineStore.connect(server.url, { keyPrefix: 'projB:' });
    try {
      const row = { entityKey: '[["id",1]]', eventTs: 1, createdTs: null, values: { x: 1 } };
      await a.write('v', [row]);
      await b.write('v', [{ ...row, values: { x: 2 } }]);
      await a.deleteView('v');
      expect(await a.read('v', [row.entityKey])).toEqual([null]);
      expect((await b.read('v', [row.entityKey]))[0]?.values).toEqual({ x: 2 });
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('the write script is reloaded after the server forgets it', async () => {
    const s = await RedisOnlineStore.connect(server.url, { keyPrefix: 'flush:' });
    try {
      const { Redis } = await import('ioredis');
      const admin = new Redis(server.url);
      await admin.script('FLUSH');
      await admin.quit();
      expect(await s.write('v', [{ entityKey: 'k', eventTs: 1, createdTs: null, values: { x: 1 } }])).toBe(1);
    } finally {
      await s.close();
    }
  });

  test('an unreachable server is a clear error', async () => {
    const err = await RedisOnlineStore.connect('redis://127.0.0.1:1/0', { connectTimeoutMs: 500 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CellarError);
    expect((err as CellarError).message).toContain('127.0.0.1:1');
  });
});
