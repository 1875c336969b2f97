/**
 * token — the service the core plugin provides to the extension's other plugins: the current settings,
 * the bridge client of a notebook, and a signal of what the user just did (so the sidebar can refresh
 * and highlight the run or model).
 */
import type { NotebookPanel } from '@jupyterlab/notebook';
import { Token } from '@lumino/coreutils';
import type { ISignal } from '@lumino/signaling';
import type { BridgeClient } from './bridge.js';
import type { CellarSettings } from './format.js';

/** The id of the package's settings (extension/schema/plugin.json). */
export const SETTINGS_ID = 'cellar-jupyterlab:plugin';

/** Something the user did through the extension that changed the store. */
export interface CellarActivity {
  kind: 'run' | 'model' | 'pipeline';
  notebookPath: string;
  /** The run logged, the model version's run, or the pipeline name. */
  id: string;
}

/** The extension's shared service. */
export interface ICellar {
  /** The current settings. */
  readonly settings: CellarSettings;
  /** Emitted when the settings change. */
  readonly settingsChanged: ISignal<ICellar, CellarSettings>;
  /** Emitted after a successful Log run / Register model / Export pipeline. */
  readonly activity: ISignal<ICellar, CellarActivity>;
  /** The bridge client of `panel` (requests go to its kernel). */
  clientFor(panel: NotebookPanel): BridgeClient;
  /** The arguments every request of `panel` carries (notebook path, store URI, default experiment). */
  argsFor(panel: NotebookPanel): Record<string, unknown>;
  /** Reports an activity (emits {@link ICellar.activity}). */
  report(activity: CellarActivity): void;
}

/** The token of {@link ICellar}. */
export const ICellar = new Token<ICellar>(
  'cellar-jupyterlab:ICellar',
  'cellar settings and kernel bridge clients',
);
