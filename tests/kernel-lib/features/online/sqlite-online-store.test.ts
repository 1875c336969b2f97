/** Runs the OnlineStore conformance suite against the embedded SQLite online store (table online_features). */
import { SqliteOnlineStore } from '../../../../kernel-lib/features/online/index.js';
import { openDatabase, type SqliteDb } from '../../../../kernel-lib/store/sqlite.js';
import { cleanupTmp, makeTmp } from '../../../helpers/tmp.js';
import { onlineConformance } from './online-conformance.js';

let db: SqliteDb | null = null;
onlineConformance('embedded SQLite', {
  async create() {
    db = openDatabase(makeTmp());
    return { online: new SqliteOnlineStore(db), db };
  },
  async dispose() {
    db?.close();
    db = null;
    cleanupTmp();
  },
});
