/**
 * The shared TrackingStore and ModelRegistryStore conformance suites, run against the REST client store over a
 * real `cellar up` child process (a fresh store and server per test), plus the SDK chosen by an http CELLAR_URI.
 */
import { openBackend } from '../../../kernel-lib/backends.js';
import { CellarError } from '../../../kernel-lib/errors.js';
import { openStore } from '../../../kernel-lib/sdk.js';
import { RestRegistryStore, RestTrackingStore } from '../../../kernel-lib/rest/client-store.js';
import { RestClient } from '../../../kernel-lib/rest/http-client.js';
import { locateStore } from '../../../kernel-lib/store/locate.js';
import { registryConformance, sampleModel } from '../../kernel-lib/registry/conformance.js';
import { trackingConformance } from '../../kernel-lib/tracking/conformance.js';
import { cleanupTmp, makeTmp } from '../../helpers/tmp.js';
import { startUp, type UpProcess } from './up-process.js';

let up: UpProcess | null = null;

async function fresh(): Promise<RestClient> {
  up = await startUp(makeTmp(), ['--no-scheduler']);
  return new RestClient({ url: up.url, token: up.token });
}
async function dispose(): Promise<void> {
  await up?.stop();
  up = null;
  cleanupTmp();
}

trackingConformance('REST client of cellar up', {
  async create() {
    return new RestTrackingStore(await fresh());
  },
  dispose,
});

registryConformance('REST client of cellar up', {
  async create() {
    const http = await fresh();
    const tracking = new RestTrackingStore(http);
    return {
      registry: new RestRegistryStore(http),
      async runWithModel(json: unknown) {
        const exp = await tracking.getOrCreateExperiment('models');
        const run = await tracking.createRun({ experimentId: exp.id });
        await tracking.logArtifactBytes(run.id, 'model/model.json', JSON.stringify(json));
        return run.id;
      },
    };
  },
  dispose,
});

describe('the SDK over CELLAR_URI=http://…', () => {
  afterEach(dispose);

  test('an http(s) URI selects the REST backend in one place', () => {
    expect(locateStore(undefined, { CELLAR_URI: 'http://127.0.0.1:7437/' })).toEqual({
      kind: 'rest',
      root: 'http://127.0.0.1:7437',
      source: 'CELLAR_URI',
    });
    const b = openBackend({ kind: 'rest', root: 'https://cellar.example', source: 'argument' }, {});
    expect(b.kind).toBe('rest');
    expect(b.tracking).toBeInstanceOf(RestTrackingStore);
  });

  test('startRun, logMetrics, searchRuns, registerModel and loadModel work against cellar up', async () => {
    await fresh();
    const saved = { uri: process.env.CELLAR_URI, token: process.env.CELLAR_TOKEN };
    process.env.CELLAR_URI = up!.url;
    process.env.CELLAR_TOKEN = up!.token;
    try {
      const store = openStore();
      expect(store.location.kind).toBe('rest');
      const run = await store.startRun({ experiment: 'remote', runName: 'r1' });
      await run.logParams({ alpha: 0.5 });
      await run.logMetrics({ rmse: 0.4, mae: 0.3 });
      await run.logModel(sampleModel([2, 0], 1) as never);
      await run.end();
      const found = await store.searchRuns({ experiment: 'remote', filter: 'metrics.rmse < 0.5' });
      expect(found.map((r) => r.id)).toEqual([run.id]);
      const mv = await store.registerModel({ name: 'remote-model', runId: run.id, alias: 'champion' });
      expect(mv.aliases).toEqual(['champion']);
      const model = await store.loadModel('models:/remote-model@champion');
      expect(model.predict([[1, 5]])).toEqual([3]);
      const err = await store.getRun('0123456789abcdef0123456789abcdef').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CellarError);
      expect((err as CellarError).code).toBe('NOT_FOUND');
      expect(() => store.embedded).toThrow(/cellar server/);
    } finally {
      if (saved.uri === undefined) delete process.env.CELLAR_URI;
      else process.env.CELLAR_URI = saved.uri;
      if (saved.token === undefined) delete process.env.CELLAR_TOKEN;
      else process.env.CELLAR_TOKEN = saved.token;
    }
  });

  test('a wrong token is an UNAUTHENTICATED CellarError; an unreachable server says so', async () => {
    await fresh();
    const bad = new RestTrackingStore(new RestClient({ url: up!.url, token: 'nope' }));
    await expect(bad.listExperiments()).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    const url = up!.url;
    await up!.stop();
    const gone = new RestTrackingStore(new RestClient({ url, token: 'x' }));
    await expect(gone.listExperiments()).rejects.toThrow(/Cannot reach the cellar server/);
  });
});
