/**
 * features/online/redis-online-store — the scale-out online store on Redis (standalone server). Each
 * (view, entity) is one hash `<prefix><view>:<entity key>` with fields `e` (event ts, epoch ms), `c`
 * (created ts or empty) and `v` (feature values as JSON). The newer-wins rule runs inside Redis as a Lua
 * script (EVALSHA), so concurrent writers converge to the same state; batches of keys are pipelined.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { CellarError } from '../../errors.js';
import { requireDependency } from '../../lazy/load.js';
import type { OnlineRow, OnlineStore, OnlineValue } from '../stores.js';
import { valuesToJson } from './sqlite-online-store.js';

/**
 * Writes each (KEYS[i], ARGV[3i-2..3i]) = (hash key, event ts, created ts or '', values JSON) when it is newer
 * than what is stored: larger event ts, or equal event ts and larger created ts (none < any). Returns the
 * number of hashes written.
 */
const UPSERT_LUA = `
local none = -9007199254740991
local changed = 0
for i = 1, #KEYS do
  local e = tonumber(ARGV[3 * i - 2])
  local c = ARGV[3 * i - 1]
  local cn = none
  if c ~= '' then cn = tonumber(c) end
  local cur = redis.call('HMGET', KEYS[i], 'e', 'c')
  local newer = true
  if cur[1] then
    local ce = tonumber(cur[1])
    local cc = none
    if cur[2] and cur[2] ~= '' then cc = tonumber(cur[2]) end
    newer = (e > ce) or (e == ce and cn > cc)
  end
  if newer then
    redis.call('HSET', KEYS[i], 'e', ARGV[3 * i - 2], 'c', c, 'v', ARGV[3 * i])
    changed = changed + 1
  end
end
return changed
`;
const UPSERT_SHA = createHash('sha1').update(UPSERT_LUA).digest('hex');

/** Options of {@link RedisOnlineStore.connect}. */
export interface RedisOnlineStoreOptions {
  /** Prefix of every key this store writes (default `cellar:online:`), so several projects can share a server. */
  keyPrefix?: string;
  /** Keys per script call (default 100); calls are pipelined. */
  batchSize?: number;
  /** Connection timeout in ms (default 5000). */
  connectTimeoutMs?: number;
}

/** The URL without its password, for messages. */
function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

/** Escapes Redis glob characters so a literal prefix can be used in `SCAN MATCH`. */
function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

/**
 * The Redis online store. Use {@link RedisOnlineStore.connect}; call `close()` when done.
 *
 * @example
 * const online = await RedisOnlineStore.connect('redis://127.0.0.1:6379/0', { keyPrefix: 'myproject:' })
 */
export class RedisOnlineStore implements OnlineStore {
  private readonly prefix: string;
  private readonly batchSize: number;

  private constructor(
    private readonly redis: Redis,
    opts: RedisOnlineStoreOptions,
  ) {
    this.prefix = opts.keyPrefix ?? 'cellar:online:';
    this.batchSize = Math.max(1, Math.floor(opts.batchSize ?? 100));
  }

  /**
   * Connects to `url` (`redis://[user:password@]host:port[/db]`) and loads the write script.
   *
   * @throws CellarError INVALID_PARAMETER when the server cannot be reached or refuses the connection.
   */
  static async connect(url: string, opts: RedisOnlineStoreOptions = {}): Promise<RedisOnlineStore> {
    if (typeof url !== 'string' || !/^rediss?:\/\//.test(url)) {
      throw new CellarError(
        'INVALID_PARAMETER',
        `Redis URL ${JSON.stringify(url)} must look like redis://host:port/db.`,
      );
    }
    // ioredis is an optional dependency, loaded when the first Redis store connects.
    const ioredis = requireDependency<typeof import('ioredis')>('ioredis', 'The Redis online store');
    const redis = new ioredis.Redis(url, {
      lazyConnect: true,
      connectTimeout: opts.connectTimeoutMs ?? 5000,
      maxRetriesPerRequest: 2,
      // A socket that never opened emits no 'close'; don't keep a 2 s timer alive for it after disconnect().
      disconnectTimeout: 100,
      // Give up quickly on the first connection; reconnect a few times after a dropped connection.
      retryStrategy: (times: number) => (times > 5 ? null : Math.min(times * 100, 1000)),
    });
    try {
      await redis.connect();
      await redis.script('LOAD', UPSERT_LUA);
    } catch (e) {
      redis.disconnect();
      throw new CellarError(
        'INVALID_PARAMETER',
        `Cannot use the Redis online store at ${redact(url)}: ${(e as Error).message}. Check that redis-server runs and the URL is right.`,
      );
    }
    return new RedisOnlineStore(redis, opts);
  }

  private key(view: string, entityKey: string): string {
    return `${this.prefix}${view}:${entityKey}`;
  }

  /**
   * Writes rows with the newer-wins rule applied atomically per batch inside Redis. Returns how many rows
   * created or replaced a value.
   */
  async write(view: string, rows: OnlineRow[]): Promise<number> {
    if (rows.length === 0) return 0;
    const calls: Array<[string[], string[]]> = [];
    for (let start = 0; start < rows.length; start += this.batchSize) {
      const keys: string[] = [];
      const args: string[] = [];
      for (const r of rows.slice(start, start + this.batchSize)) {
        keys.push(this.key(view, r.entityKey));
        args.push(
          String(r.eventTs),
          r.createdTs === null || r.createdTs === undefined ? '' : String(r.createdTs),
        );
        args.push(valuesToJson(r.values));
      }
      calls.push([keys, args]);
    }
    let changed = 0;
    const perPipeline = 100;
    for (let i = 0; i < calls.length; i += perPipeline) {
      changed += await this.runUpserts(calls.slice(i, i + perPipeline));
    }
    return changed;
  }

  private async runUpserts(calls: Array<[string[], string[]]>, retried = false): Promise<number> {
    const pipe = this.redis.pipeline();
    for (const [keys, args] of calls) pipe.evalsha(UPSERT_SHA, keys.length, ...keys, ...args);
    const results = (await pipe.exec()) ?? [];
    let changed = 0;
    const missing: Array<[string[], string[]]> = [];
    results.forEach(([err, n], i) => {
      if (err && /NOSCRIPT/.test(err.message)) missing.push(calls[i]!);
      else if (err) throw err;
      else changed += Number(n);
    });
    if (missing.length > 0) {
      // The server lost its script cache (restart, SCRIPT FLUSH): load it again and redo those batches.
      if (retried)
        throw new CellarError('INTERNAL', 'Redis keeps rejecting the online-store write script (NOSCRIPT).');
      await this.redis.script('LOAD', UPSERT_LUA);
      changed += await this.runUpserts(missing, true);
    }
    return changed;
  }

  /** Reads the stored values of `entityKeys`, in order (null where nothing is stored), in one round trip. */
  async read(view: string, entityKeys: string[]): Promise<Array<OnlineValue | null>> {
    if (entityKeys.length === 0) return [];
    const decode = (fields: Array<string | null> | null | undefined): OnlineValue | null => {
      if (!fields || fields[0] === null || fields[0] === undefined) return null;
      return {
        eventTs: Number(fields[0]),
        createdTs: fields[1] ? Number(fields[1]) : null,
        values: JSON.parse(fields[2] ?? '{}') as Record<string, unknown>,
      };
    };
    if (entityKeys.length === 1)
      return [decode(await this.redis.hmget(this.key(view, entityKeys[0]!), 'e', 'c', 'v'))];
    const pipe = this.redis.pipeline();
    for (const k of entityKeys) pipe.hmget(this.key(view, k), 'e', 'c', 'v');
    const results = (await pipe.exec()) ?? [];
    return results.map(([err, fields]) => {
      if (err) throw err;
      return decode(fields as Array<string | null>);
    });
  }

  /** Removes every stored value of `view` (SCAN + UNLINK over the view's key prefix). */
  async deleteView(view: string): Promise<void> {
    const pattern = `${globEscape(`${this.prefix}${view}:`)}*`;
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await this.redis.unlink(...keys);
    } while (cursor !== '0');
  }

  /** Closes the connection (waits for pending replies). */
  async close(): Promise<void> {
    if (this.redis.status === 'end') return;
    try {
      await this.redis.quit();
    } catch {
      this.redis.disconnect();
    }
  }
}
