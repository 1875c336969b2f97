/**
 * The shared conformance suite of `TrackingStore`: every backend (embedded now, REST/PostgreSQL later)
 * runs exactly these tests through its own factory.
 */
import { expectCellarError as expectCode } from '../../helpers/errors.js';
import type { TrackingStore } from '../../../kernel-lib/tracking/types.js';

/** A fresh, empty store per test, and its disposal. */
export interface TrackingFactory {
  create(): Promise<TrackingStore>;
  dispose(): Promise<void>;
}

/** Defines the suite for one implementation. */
export function trackingConformance(name: string, factory: TrackingFactory): void {
  describe(`TrackingStore conformance: ${name}`, () => {
    let store: TrackingStore;
    beforeEach(async () => {
      store = await factory.create();
    });
    afterEach(async () => {
      await factory.dispose();
    });

    const newRun = async (experiment = 'exp', extra: Record<string, unknown> = {}) => {
      const exp = await store.getOrCreateExperiment(experiment);
      return store.createRun({ experimentId: exp.id, runName: 'r', ...extra });
    };

    test('has a Default experiment with id 0, and creates/gets experiments by name', async () => {
      const def = await store.getExperimentByName('Default');
      expect(def?.id).toBe('0');
      const e = await store.createExperiment('alpha', { tags: { team: 'ml' } });
      expect(e.name).toBe('alpha');
      expect(e.tags).toEqual({ team: 'ml' });
      expect((await store.getExperiment(e.id)).name).toBe('alpha');
      expect((await store.getOrCreateExperiment('alpha')).id).toBe(e.id);
      await expectCode(store.createExperiment('alpha'), 'ALREADY_EXISTS');
      await expectCode(store.getExperiment('999'), 'NOT_FOUND');
      await expectCode(store.getExperiment('../x'), 'NOT_FOUND');
      expect(await store.getExperimentByName('nope')).toBeNull();
      await expectCode(store.createExperiment(''), 'INVALID_PARAMETER');
    });

    test('a deleted experiment keeps its name and refuses new runs', async () => {
      const e = await store.createExperiment('gone');
      await store.deleteExperiment(e.id);
      await expectCode(store.getOrCreateExperiment('gone'), 'INVALID_STATE');
      await expectCode(store.createRun({ experimentId: e.id }), 'INVALID_STATE');
      expect((await store.listExperiments()).map((x) => x.name)).not.toContain('gone');
      expect((await store.listExperiments({ viewType: 'all' })).map((x) => x.name)).toContain('gone');
    });

    test('runs start RUNNING and end with a terminal status', async () => {
      const run = await newRun();
      expect(run.id).toMatch(/^[0-9a-f]{32}$/);
      expect(run.status).toBe('RUNNING');
      expect(run.endTime).toBeNull();
      const ended = await store.endRun(run.id, 'FINISHED');
      expect(ended.status).toBe('FINISHED');
      expect(ended.endTime).toBeGreaterThanOrEqual(run.startTime);
      await expectCode(store.endRun(run.id, 'RUNNING'), 'INVALID_PARAMETER');
      await expectCode(store.endRun(run.id, 'DONE' as never), 'INVALID_PARAMETER');
      await expectCode(store.getRun('0123456789abcdef0123456789abcdef'), 'NOT_FOUND');
    });

    test('params are write-once: same value is fine, another value is a conflict and changes nothing', async () => {
      const run = await newRun();
      await store.logBatch(run.id, { params: { alpha: '0.5', l1_ratio: '0.1' } });
      await store.logBatch(run.id, { params: { alpha: '0.5' } });
      const err = await expectCode(
        store.logBatch(run.id, { params: { beta: '1', alpha: '0.7' } }),
        'PARAM_CONFLICT',
      );
      expect(err.message).toContain('alpha');
      const got = await store.getRun(run.id);
      expect(got.params).toEqual({ alpha: '0.5', l1_ratio: '0.1' }); // beta was not stored either
    });

    test('metrics are append-only with history; latest is the highest step', async () => {
      const run = await newRun();
      await store.logBatch(run.id, {
        metrics: [
          { key: 'loss', value: 3, step: 0, timestamp: 1000 },
          { key: 'loss', value: 2, step: 1, timestamp: 1001 },
          { key: 'loss', value: 5, step: 0, timestamp: 1002 },
        ],
      });
      await store.logBatch(run.id, { metrics: [{ key: 'loss', value: 1.5, step: 2, timestamp: 900 }] });
      await store.logBatch(run.id, { metrics: [{ key: 'loss', value: 9, step: 1, timestamp: 5000 }] });
      const hist = await store.getMetricHistory(run.id, 'loss');
      expect(hist.map((p) => p.value)).toEqual([3, 5, 2, 9, 1.5]);
      expect((await store.getRun(run.id)).metrics.loss).toBe(1.5);
    });

    test.each([NaN, Infinity, -Infinity])(
      'metric value %p is refused and nothing of the batch is stored',
      async (bad) => {
        const run = await newRun();
        const err = await expectCode(
          store.logBatch(run.id, {
            params: { p: '1' },
            metrics: [
              { key: 'ok', value: 1, step: 0, timestamp: 1 },
              { key: 'bad', value: bad, step: 0, timestamp: 1 },
            ],
          }),
          'INVALID_PARAMETER',
        );
        expect(err.message).toContain('bad');
        const got = await store.getRun(run.id);
        expect(got.metrics).toEqual({});
        expect(got.params).toEqual({});
      },
    );

    test('keys are validated', async () => {
      const run = await newRun();
      for (const key of ['', '../etc', '/abs', 'a\nb', 'x'.repeat(251), 'semi;colon']) {
        await expectCode(store.logBatch(run.id, { params: { [key]: '1' } }), 'INVALID_PARAMETER');
      }
      await store.logBatch(run.id, { params: { 'model/alpha': '1', 'a.b-c d:e': '2' } });
    });

    test('tags are set, overwritten and deleted', async () => {
      const run = await newRun('exp', { tags: { stage: 'dev' } });
      expect(run.tags.stage).toBe('dev');
      await store.logBatch(run.id, { tags: { stage: 'prod', owner: 'me' } });
      expect((await store.getRun(run.id)).tags).toMatchObject({ stage: 'prod', owner: 'me' });
      await store.deleteTag(run.id, 'owner');
      expect((await store.getRun(run.id)).tags.owner).toBeUndefined();
      await expectCode(store.deleteTag(run.id, 'owner'), 'NOT_FOUND');
    });

    test('nested runs record their parent; an unknown parent is refused', async () => {
      const parent = await newRun();
      const child = await newRun('exp', { parentRunId: parent.id });
      expect(child.parentRunId).toBe(parent.id);
      expect(child.tags['mlflow.parentRunId']).toBe(parent.id);
      await expectCode(newRun('exp', { parentRunId: 'ffffffffffffffffffffffffffffffff' }), 'NOT_FOUND');
    });

    test('searchRuns filters, orders and pages', async () => {
      const exp = await store.createExperiment('search');
      const other = await store.createExperiment('other');
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) {
        const r = await store.createRun({ experimentId: exp.id, runName: `run-${i}`, startTime: 1000 + i });
        await store.logBatch(r.id, {
          params: { alpha: String(i / 10), kind: i % 2 === 0 ? 'even' : 'odd' },
          metrics: [{ key: 'rmse', value: 10 - i, step: 0, timestamp: 1 }],
          tags: { note: i === 3 ? 'has drift here' : 'clean' },
        });
        ids.push(r.id);
      }
      await store.createRun({ experimentId: other.id, runName: 'elsewhere' });
      const all = await store.searchRuns({ experimentIds: [exp.id] });
      expect(all.runs.map((r) => r.runName)).toEqual([
        'run-6',
        'run-5',
        'run-4',
        'run-3',
        'run-2',
        'run-1',
        'run-0',
      ]);
      const f = await store.searchRuns({
        experimentIds: [exp.id],
        filter: "metrics.rmse < 6 and params.kind = 'even'",
      });
      expect(f.runs.map((r) => r.runName)).toEqual(['run-6']);
      const or = await store.searchRuns({
        experimentIds: [exp.id],
        filter: "metrics.rmse >= 9.5 or tags.note LIKE '%drift%'",
        orderBy: ['metrics.rmse ASC'],
      });
      expect(or.runs.map((r) => r.runName)).toEqual(['run-3', 'run-0']);
      const page1 = await store.searchRuns({
        experimentIds: [exp.id],
        orderBy: 'metrics.rmse DESC',
        maxResults: 3,
      });
      expect(page1.runs.map((r) => r.runName)).toEqual(['run-0', 'run-1', 'run-2']);
      const page2 = await store.searchRuns({
        experimentIds: [exp.id],
        orderBy: 'metrics.rmse DESC',
        maxResults: 3,
        pageToken: page1.nextPageToken,
      });
      const page3 = await store.searchRuns({
        experimentIds: [exp.id],
        orderBy: 'metrics.rmse DESC',
        maxResults: 3,
        pageToken: page2.nextPageToken,
      });
      expect(page2.runs.map((r) => r.runName)).toEqual(['run-3', 'run-4', 'run-5']);
      expect(page3.runs.map((r) => r.runName)).toEqual(['run-6']);
      expect(page3.nextPageToken).toBeNull();
      expect(all.runs[0]!.metrics.rmse).toBe(4);
      expect(all.runs[0]!.params.alpha).toBe('0.6');
      const err = await expectCode(store.searchRuns({ filter: 'metrics.rmse <<< 3' }), 'INVALID_FILTER');
      expect(err.message).toMatch(/column|position|\^/);
      await expectCode(store.searchRuns({ pageToken: 'garbage' }), 'INVALID_PARAMETER');
      await expectCode(store.searchRuns({ maxResults: 0 }), 'INVALID_PARAMETER');
      await expectCode(store.searchRuns({ experimentIds: ['4242'] }), 'NOT_FOUND');
    });

    test('deleted runs are hidden from search and refuse logging until restored', async () => {
      const run = await newRun('del');
      await store.deleteRun(run.id);
      const exp = await store.getExperimentByName('del');
      expect((await store.searchRuns({ experimentIds: [exp!.id] })).runs).toHaveLength(0);
      expect((await store.searchRuns({ experimentIds: [exp!.id], viewType: 'deleted' })).runs).toHaveLength(
        1,
      );
      await expectCode(store.logBatch(run.id, { params: { a: '1' } }), 'INVALID_STATE');
      await store.restoreRun(run.id);
      await store.logBatch(run.id, { params: { a: '1' } });
    });

    test('artifacts: bytes and JSON round trip; listing; bad paths refused', async () => {
      const run = await newRun();
      const info = await store.logArtifactBytes(run.id, 'notes/hello.txt', 'hello');
      expect(info.size).toBe(5);
      expect(info.digest).toMatch(/^[0-9a-f]{64}$/);
      expect((await store.readArtifact(run.id, 'notes/hello.txt')).toString()).toBe('hello');
      await store.logArtifactBytes(run.id, 'model/model.json', '{"a":1}', 'model');
      expect((await store.listArtifacts(run.id)).map((a) => a.path)).toEqual([
        'model/model.json',
        'notes/hello.txt',
      ]);
      expect((await store.listArtifacts(run.id, 'notes')).map((a) => a.path)).toEqual(['notes/hello.txt']);
      for (const bad of [
        '../x',
        '/etc/passwd',
        'a/../../b',
        '%2e%2e/x',
        '%252e%252e/x',
        'a\\b',
        'a//b',
        '.',
        'C:/x',
      ]) {
        await expectCode(store.logArtifactBytes(run.id, bad, 'x'), 'INVALID_PATH');
      }
      await expectCode(store.readArtifact(run.id, 'nope.txt'), 'NOT_FOUND');
      expect((await store.listArtifacts(run.id)).length).toBe(2);
    });

    test('inputs record dataset fingerprints', async () => {
      const run = await newRun();
      await store.logInput(run.id, {
        fingerprint: 'f'.repeat(64),
        context: 'training',
        nRows: 10,
        nCols: 3,
        schema: { a: 1 },
      });
      await store.logInput(run.id, {
        fingerprint: 'f'.repeat(64),
        context: 'training',
        nRows: 10,
        nCols: 3,
        schema: { a: 1 },
      });
      expect(await store.listInputs(run.id)).toEqual([
        { fingerprint: 'f'.repeat(64), context: 'training', nRows: 10, nCols: 3, schema: { a: 1 } },
      ]);
    });
  });
}
