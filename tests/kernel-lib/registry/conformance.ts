/**
 * The shared conformance suite of `ModelRegistryStore`; every backend runs it through its own factory.
 * The factory also provides a way to create a run holding a model artifact (registry versions come from runs).
 */
import { expectCellarError as expectCode } from '../../helpers/errors.js';
import type { ModelRegistryStore } from '../../../kernel-lib/registry/types.js';

/** A fresh registry per test, plus a helper that makes a run with `model/model.json` holding `json`. */
export interface RegistryFactory {
  create(): Promise<{ registry: ModelRegistryStore; runWithModel(json: unknown): Promise<string> }>;
  dispose(): Promise<void>;
}

/** A minimal valid cellar model JSON. */
export function sampleModel(coef = [1, 2], intercept = 0.5): Record<string, unknown> {
  return {
    format: 'cellar-model',
    formatVersion: 1,
    flavor: 'linear',
    estimator: 'ElasticNet',
    params: { alpha: 0.5, l1_ratio: 0.1 },
    coef,
    intercept,
    featureNames: ['a', 'b'],
    signature: {
      inputs: [
        { name: 'a', type: 'double' },
        { name: 'b', type: 'double' },
      ],
      outputs: [{ name: 'prediction', type: 'double' }],
    },
  };
}

/** Defines the suite for one implementation. */
export function registryConformance(name: string, factory: RegistryFactory): void {
  describe(`ModelRegistryStore conformance: ${name}`, () => {
    let registry: ModelRegistryStore;
    let runWithModel: (json: unknown) => Promise<string>;
    beforeEach(async () => {
      ({ registry, runWithModel } = await factory.create());
    });
    afterEach(() => factory.dispose());

    test('versions are numbered per model, immutable, and carry run and source', async () => {
      const run1 = await runWithModel(sampleModel([1, 2]));
      const run2 = await runWithModel(sampleModel([3, 4]));
      const v1 = await registry.createModelVersion({ name: 'driver', runId: run1 });
      const v2 = await registry.createModelVersion({ name: 'driver', runId: run2, description: 'second' });
      expect([v1.version, v2.version]).toEqual([1, 2]);
      expect(v1.source).toBe(`runs:/${run1}/model`);
      expect(v2.description).toBe('second');
      expect(v1.artifactDigest).not.toBe(v2.artifactDigest);
      const bytes = await registry.readModelVersionArtifact('driver', 1);
      expect(JSON.parse(bytes.toString()).coef).toEqual([1, 2]);
      const m = await registry.getRegisteredModel('driver');
      expect(m.latestVersion).toBe(2);
      expect((await registry.listRegisteredModels()).map((x) => x.name)).toEqual(['driver']);
    });

    test('aliases point at versions, move atomically, and resolve', async () => {
      const run = await runWithModel(sampleModel());
      await registry.createModelVersion({ name: 'm', runId: run });
      await registry.createModelVersion({ name: 'm', runId: run });
      await registry.setAlias('m', 'champion', 1);
      expect((await registry.getModelVersionByAlias('m', 'champion')).version).toBe(1);
      await registry.setAlias('m', 'champion', 2);
      expect((await registry.getModelVersionByAlias('m', 'champion')).version).toBe(2);
      expect((await registry.getRegisteredModel('m')).aliases).toEqual({ champion: 2 });
      expect((await registry.getModelVersion('m', 2)).aliases).toEqual(['champion']);
      await registry.deleteAlias('m', 'champion');
      await expectCode(registry.getModelVersionByAlias('m', 'champion'), 'NOT_FOUND');
      for (const bad of ['latest', 'v3', '12', 'has space', '', 'a/b']) {
        await expectCode(registry.setAlias('m', bad, 1), 'INVALID_PARAMETER');
      }
      await expectCode(registry.setAlias('m', 'x', 9), 'NOT_FOUND');
      await expectCode(registry.setAlias('nope', 'x', 1), 'NOT_FOUND');
    });

    test('soft delete hides versions, drops their aliases and never reuses numbers', async () => {
      const run = await runWithModel(sampleModel());
      await registry.createModelVersion({ name: 'm', runId: run });
      await registry.createModelVersion({ name: 'm', runId: run });
      await registry.setAlias('m', 'prod', 2);
      await registry.deleteModelVersion('m', 2);
      await expectCode(registry.getModelVersion('m', 2), 'NOT_FOUND');
      await expectCode(registry.getModelVersionByAlias('m', 'prod'), 'NOT_FOUND');
      expect(
        (await registry.listModelVersions('m', { includeDeleted: true })).map((v) => [v.version, v.deleted]),
      ).toEqual([
        [1, false],
        [2, true],
      ]);
      const v3 = await registry.createModelVersion({ name: 'm', runId: run });
      expect(v3.version).toBe(3);
      await registry.deleteRegisteredModel('m');
      await expectCode(registry.getRegisteredModel('m'), 'NOT_FOUND');
      expect(await registry.listRegisteredModels()).toEqual([]);
      expect((await registry.listRegisteredModels({ includeDeleted: true })).map((x) => x.name)).toEqual([
        'm',
      ]);
    });

    test('tags and descriptions', async () => {
      const run = await runWithModel(sampleModel());
      await registry.createRegisteredModel('t', { description: 'd', tags: { team: 'ml' } });
      await registry.createModelVersion({ name: 't', runId: run, tags: { stage: 'dev' } });
      await registry.setRegisteredModelTag('t', 'owner', 'me');
      await registry.setModelVersionTag('t', 1, 'stage', 'prod');
      await registry.updateRegisteredModel('t', { description: 'new' });
      await registry.updateModelVersion('t', 1, { description: 'v1' });
      const m = await registry.getRegisteredModel('t');
      expect(m.tags).toEqual({ team: 'ml', owner: 'me' });
      expect(m.description).toBe('new');
      const v = await registry.getModelVersion('t', 1);
      expect(v.tags).toEqual({ stage: 'prod' });
      expect(v.description).toBe('v1');
      await expectCode(registry.createRegisteredModel('t'), 'ALREADY_EXISTS');
    });

    test('bad input: unknown run, run without model, invalid model JSON, bad versions', async () => {
      await expectCode(
        registry.createModelVersion({ name: 'm', runId: 'ffffffffffffffffffffffffffffffff' }),
        'NOT_FOUND',
      );
      const bad = await runWithModel({ format: 'cellar-model', coef: 'not numbers' });
      await expectCode(registry.createModelVersion({ name: 'm', runId: bad }), 'INVALID_INPUT');
      const nonFinite = await runWithModel({ ...sampleModel(), intercept: 'NaN' });
      await expectCode(registry.createModelVersion({ name: 'm', runId: nonFinite }), 'INVALID_INPUT');
      await expectCode(registry.getRegisteredModel('m'), 'NOT_FOUND'); // nothing was created
      const ok = await runWithModel(sampleModel());
      await expectCode(
        registry.createModelVersion({ name: 'm', runId: ok, artifactPath: '../x' }),
        'INVALID_PATH',
      );
      await expectCode(
        registry.createModelVersion({ name: 'm', runId: ok, artifactPath: 'other' }),
        'NOT_FOUND',
      );
      await registry.createModelVersion({ name: 'm', runId: ok });
      await expectCode(registry.getModelVersion('m', 0), 'INVALID_PARAMETER');
      await expectCode(registry.getModelVersion('m', 1.5), 'INVALID_PARAMETER');
      await expectCode(registry.getModelVersion('m', 7), 'NOT_FOUND');
    });
  });
}
