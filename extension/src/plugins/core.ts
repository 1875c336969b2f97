/**
 * plugins/core — `cellar-jupyterlab:plugin`: loads the extension's settings (store URI, default experiment,
 * whether Log run includes outputs, sidebar refresh, web UI URL) and provides the `ICellar` service the
 * other plugins use to reach the notebook's kernel.
 */
import type { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import type { NotebookPanel } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { Signal, type ISignal } from '@lumino/signaling';
import { commonArgs, DEFAULT_SETTINGS, readSettings, type CellarSettings } from '../format.js';
import { clientFor } from '../kernel.js';
import { ICellar, SETTINGS_ID, type CellarActivity } from '../token.js';

class CellarService implements ICellar {
  settings: CellarSettings = { ...DEFAULT_SETTINGS };
  private readonly settingsSignal: Signal<ICellar, CellarSettings> = new Signal<ICellar, CellarSettings>(
    this,
  );
  private readonly activitySignal: Signal<ICellar, CellarActivity> = new Signal<ICellar, CellarActivity>(
    this,
  );

  get settingsChanged(): ISignal<ICellar, CellarSettings> {
    return this.settingsSignal;
  }

  get activity(): ISignal<ICellar, CellarActivity> {
    return this.activitySignal;
  }

  clientFor(panel: NotebookPanel) {
    return clientFor(panel);
  }

  argsFor(panel: NotebookPanel): Record<string, unknown> {
    return commonArgs(this.settings, panel.context.path);
  }

  report(activity: CellarActivity): void {
    this.activitySignal.emit(activity);
  }

  update(composite: Record<string, unknown> | null): void {
    this.settings = readSettings(composite);
    this.settingsSignal.emit(this.settings);
  }
}

/** The core plugin (its id matches the settings schema). */
export const corePlugin: JupyterFrontEndPlugin<ICellar> = {
  id: SETTINGS_ID,
  description: 'cellar settings and the kernel bridge used by the other cellar plugins.',
  autoStart: true,
  provides: ICellar,
  optional: [ISettingRegistry],
  activate: (_app: JupyterFrontEnd, registry: ISettingRegistry | null): ICellar => {
    const service = new CellarService();
    if (registry) {
      registry
        .load(SETTINGS_ID)
        .then((settings) => {
          const apply = (): void => service.update(settings.composite as Record<string, unknown>);
          apply();
          settings.changed.connect(apply);
        })
        .catch((reason: unknown) => {
          console.warn('cellar: settings could not be loaded; using defaults.', reason);
        });
    }
    return service;
  },
};
