/** Runs the ModelRegistryStore conformance suite against the embedded SQLite backend. */
import { openEmbedded, type EmbeddedBackend } from '../../../kernel-lib/store/open.js';
import { cleanupTmp, makeTmp } from '../../helpers/tmp.js';
import { registryConformance } from './conformance.js';

let backend: EmbeddedBackend | null = null;
registryConformance('embedded SQLite', {
  async create() {
    const b = openEmbedded(makeTmp());
    backend = b;
    const exp = await b.tracking.getOrCreateExperiment('models');
    return {
      registry: b.registry,
      async runWithModel(json: unknown) {
        const run = await b.tracking.createRun({ experimentId: exp.id });
        await b.tracking.logArtifactBytes(run.id, 'model/model.json', JSON.stringify(json), 'model');
        return run.id;
      },
    };
  },
  async dispose() {
    backend?.close();
    cleanupTmp();
  },
});
