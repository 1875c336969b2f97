/** Runs the TrackingStore conformance suite against the embedded SQLite backend. */
import { openEmbedded, type EmbeddedBackend } from '../../../kernel-lib/store/open.js';
import { cleanupTmp, makeTmp } from '../../helpers/tmp.js';
import { trackingConformance } from './conformance.js';

let backend: EmbeddedBackend | null = null;
trackingConformance('embedded SQLite', {
  async create() {
    backend = openEmbedded(makeTmp());
    return backend.tracking;
  },
  async dispose() {
    backend?.close();
    cleanupTmp();
  },
});
