/** The feature registry: versions per change, idempotent apply, validation before writing, plan, list, describe. */
import { closeAllEmbedded, openEmbedded } from '../../../kernel-lib/store/open.js';
import type { SqliteDb } from '../../../kernel-lib/store/sqlite.js';
import {
  apply,
  describe as describeDef,
  diffSpecs,
  get,
  list,
  plan,
  remove,
} from '../../../kernel-lib/features/registry.js';
import { entity, featureService, featureView, fileSource } from '../../../kernel-lib/features/types.js';
import { cleanupTmp, makeTmp } from '../../helpers/tmp.js';

let db: SqliteDb;
beforeEach(() => {
  db = openEmbedded(makeTmp()).db;
});
afterEach(() => {
  closeAllEmbedded();
  cleanupTmp();
});

const driver = entity({ name: 'driver', joinKeys: ['driver_id'] });
const source = fileSource({
  path: '/data/driver_stats.parquet',
  timestampField: 'datetime',
  createdTimestampColumn: 'created',
});
const stats = featureView({
  name: 'driver_stats',
  entities: [driver],
  schema: { conv_rate: 'float64', acc_rate: 'float64', avg_daily_trips: 'int64' },
  ttl: '2d',
  source,
});
const service = featureService({
  name: 'driver_activity',
  features: ['driver_stats:conv_rate', 'driver_stats:acc_rate'],
});

function rowCount(): number {
  return (db.prepare('SELECT COUNT(*) AS n FROM feature_definitions').get() as { n: number }).n;
}

test('apply registers version 1 of each definition; the same specs again change nothing', () => {
  const first = apply(db, [driver, stats, service]);
  expect(first.items.map((i) => [i.action, i.kind, i.name, i.version])).toEqual([
    ['create', 'entity', 'driver', 1],
    ['create', 'featureView', 'driver_stats', 1],
    ['create', 'featureService', 'driver_activity', 1],
  ]);
  expect(first.unchanged).toBe(false);
  const again = apply(db, [driver, stats, service]);
  expect(again.items.every((i) => i.action === 'unchanged' && i.version === 1)).toBe(true);
  expect(again.unchanged).toBe(true);
  expect(rowCount()).toBe(3);
  // definitions from JSON (a round trip) are the same specs
  expect(apply(db, JSON.parse(JSON.stringify([stats, driver]))).unchanged).toBe(true);
});

test('a changed spec gets a new version with field-level changes; get returns the latest', () => {
  apply(db, [driver, stats]);
  const changed = featureView({
    name: 'driver_stats',
    entities: ['driver'],
    schema: { conv_rate: 'float64', acc_rate: 'float32', avg_daily_trips: 'int64', rating: 'float64' },
    ttl: '1d',
    source,
  });
  const p = plan(db, [changed]);
  expect(p.items[0]).toMatchObject({ action: 'update', version: 2, previousVersion: 1 });
  expect(p.items[0]!.changes).toEqual([
    { path: 'schema.acc_rate', before: 'float64', after: 'float32' },
    { path: 'schema.rating', before: null, after: 'float64' },
    { path: 'ttlMs', before: 172_800_000, after: 86_400_000 },
  ]);
  expect(rowCount()).toBe(2); // plan wrote nothing
  apply(db, [changed]);
  const latest = get(db, 'featureView', 'driver_stats');
  expect(latest?.version).toBe(2);
  expect(latest?.spec.schema.rating).toBe('float64');
  expect(get(db, 'featureView', 'nope')).toBeNull();
  const d = describeDef(db, 'driver_stats');
  expect(d.versions.map((v) => v.version)).toEqual([1, 2]);
  expect(d.versions[0]!.specHash).not.toBe(d.versions[1]!.specHash);
});

test('list returns latest live definitions by kind; describe reports references', () => {
  apply(db, [driver, stats, service]);
  expect(list(db).map((d) => `${d.kind}:${d.name}`)).toEqual([
    'entity:driver',
    'featureService:driver_activity',
    'featureView:driver_stats',
  ]);
  expect(list(db, 'featureView').map((d) => d.name)).toEqual(['driver_stats']);
  expect(describeDef(db, 'driver').referencedBy).toEqual([{ kind: 'featureView', name: 'driver_stats' }]);
  expect(describeDef(db, 'driver_stats').referencedBy).toEqual([
    { kind: 'featureService', name: 'driver_activity' },
  ]);
  expect(() => describeDef(db, 'unknown')).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
  expect(() => list(db, 'bogus' as never)).toThrow(expect.objectContaining({ code: 'INVALID_PARAMETER' }));
});

test('unknown entities, views and features, and duplicate names, are rejected and nothing is stored', () => {
  const orphan = featureView({ name: 'orphan', entities: ['customer'], schema: { x: 'float64' }, source });
  expect(() => apply(db, [orphan])).toThrow(/unknown entity "customer"/);
  const badService = featureService({
    name: 'svc',
    features: ['driver_stats:conv_rate', 'missing_view:x', 'driver_stats:nope'],
  });
  let err: Error | undefined;
  try {
    apply(db, [driver, stats, badService]);
  } catch (e) {
    err = e as Error;
  }
  expect(err).toMatchObject({ code: 'INVALID_PARAMETER' });
  expect(err!.message).toContain('unknown feature view "missing_view"');
  expect(err!.message).toContain('unknown feature "driver_stats:nope"');
  expect(() => apply(db, [driver, driver, stats])).toThrow(/Entity "driver" is defined 2 times/);
  expect(rowCount()).toBe(0);
  // a feature that is also a join key
  const clash = featureView({ name: 'v', entities: [driver], schema: { driver_id: 'int64' }, source });
  expect(() => plan(db, [driver, clash])).toThrow(/"driver_id" as a feature, but it is a join key/);
  // invalid shapes from JSON name the problem
  expect(() => apply(db, [{ kind: 'table', name: 't' }])).toThrow(/has kind "table"/);
  expect(() =>
    apply(db, [{ kind: 'featureView', name: 'v', entities: ['driver'], schema: { a: 'decimal' }, source }]),
  ).toThrow(/type "decimal"/);
  expect(rowCount()).toBe(0);
});

test('an update that would break a registered service is rejected', () => {
  apply(db, [driver, stats, service]);
  const shrunk = featureView({
    name: 'driver_stats',
    entities: [driver],
    schema: { avg_daily_trips: 'int64' },
    source,
  });
  expect(() => apply(db, [shrunk])).toThrow(/unknown feature "driver_stats:conv_rate"/);
  expect(get(db, 'featureView', 'driver_stats')?.version).toBe(1);
  // definitions applied earlier satisfy references of later applies
  const svc2 = featureService({ name: 'trips', features: ['driver_stats:avg_daily_trips'] });
  expect(apply(db, [svc2]).items[0]!.action).toBe('create');
});

test('remove hides a definition unless it is referenced; applying it again makes a new version', () => {
  apply(db, [driver, stats, service]);
  expect(() => remove(db, 'featureView', 'driver_stats')).toThrow(
    expect.objectContaining({ code: 'INVALID_STATE' }),
  );
  remove(db, 'featureService', 'driver_activity');
  expect(get(db, 'featureService', 'driver_activity')).toBeNull();
  expect(list(db, 'featureService')).toEqual([]);
  const back = apply(db, [service]);
  expect(back.items[0]).toMatchObject({ action: 'create', version: 2 });
});

test('diffSpecs compares objects field by field and arrays whole', () => {
  expect(diffSpecs({ a: 1, b: { c: [1, 2] } }, { a: 1, b: { c: [1, 3] }, d: 'x' })).toEqual([
    { path: 'b.c', before: [1, 2], after: [1, 3] },
    { path: 'd', before: null, after: 'x' },
  ]);
});

test('stored specs keep their field order (schema order is the feature order); key order alone is no change', () => {
  const ordered = featureView({
    name: 'ordered',
    entities: [driver],
    schema: { zeta: 'float64', alpha: 'int64', mid: 'string' },
    source,
  });
  apply(db, [driver, ordered]);
  expect(Object.keys(get(db, 'featureView', 'ordered')!.spec.schema)).toEqual(['zeta', 'alpha', 'mid']);
  const reordered = { ...ordered, schema: { alpha: 'int64', mid: 'string', zeta: 'float64' } };
  expect(plan(db, [reordered]).unchanged).toBe(true);
});
