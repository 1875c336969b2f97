/**
 * serving/model-holder — the model a server is serving and how it changes: loads the version a URI points at,
 * polls the registry, and when an alias moves loads the new version completely (model JSON, serving spec,
 * transform) before swapping one reference, so a request that picked up the old version finishes with it and
 * no request sees a mix. A version that fails to load leaves the old one serving and `lastError` says why.
 */
import type { CellarStore } from '../../kernel-lib/client.js';
import {
  loadServableModel,
  normalizeModelRef,
  resolveModelVersion,
  type RowTransform,
  type ServableModel,
} from '../../kernel-lib/serving/model.js';
import type { ModelUri } from '../../kernel-lib/registry/uri.js';

/** What a request scores with: one immutable pair. */
export interface Serving {
  model: ServableModel;
  transform: RowTransform | null;
}

/** Loads the transform a model version has attached (or null). */
export type TransformLoader = (m: ServableModel) => Promise<RowTransform | null>;

/** Events of the holder, for logs and metrics. */
export interface HolderEvents {
  swapped?(from: ServableModel, to: ServableModel): void;
  failed?(version: number, error: Error): void;
}

/** Holds the serving model and follows its alias. */
export class ModelHolder {
  /** The pair requests use; replaced as a whole. */
  current: Serving;
  /** Why the newest version is not serving (null when it is). */
  lastError: string | null = null;
  private failedVersion: number | null = null;
  private timer: NodeJS.Timeout | null = null;
  private polling = false;

  private constructor(
    private readonly store: CellarStore,
    private readonly parsed: ModelUri,
    private readonly ref: string,
    private readonly loadTransform: TransformLoader,
    initial: Serving,
    private readonly events: HolderEvents,
  ) {
    this.current = initial;
  }

  /**
   * Loads the model a reference points at.
   *
   * @throws CellarError NOT_FOUND / INVALID_INPUT when it cannot be loaded
   */
  static async open(
    store: CellarStore,
    ref: string,
    loadTransform: TransformLoader,
    events: HolderEvents = {},
  ): Promise<ModelHolder> {
    const { parsed } = normalizeModelRef(ref);
    const model = await loadServableModel(store, ref);
    const transform = await loadTransform(model);
    return new ModelHolder(store, parsed, ref, loadTransform, { model, transform }, events);
  }

  /** Checks the registry once; swaps when the reference now points at another version. */
  async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const mv = await resolveModelVersion(this.store, this.parsed);
      if (mv === null || mv.version === this.current.model.version) {
        if (mv !== null) this.lastError = null;
        return;
      }
      if (mv.version === this.failedVersion) return;
      try {
        const model = await loadServableModel(this.store, this.ref, mv);
        const transform = await this.loadTransform(model);
        const from = this.current.model;
        this.current = { model, transform };
        this.lastError = null;
        this.failedVersion = null;
        this.events.swapped?.(from, model);
      } catch (e) {
        this.failedVersion = mv.version;
        this.lastError = `version ${mv.version} of ${mv.name} failed to load (still serving version ${String(
          this.current.model.version,
        )}): ${(e as Error).message}`;
        this.events.failed?.(mv.version, e as Error);
      }
    } catch (e) {
      this.lastError = `cannot resolve ${this.current.model.uri}: ${(e as Error).message}`;
    } finally {
      this.polling = false;
    }
  }

  /** Polls every `ms` (no-op for `runs:/` and pinned versions, which never move). */
  startPolling(ms: number): void {
    if (this.parsed.kind === 'run' || this.parsed.kind === 'version' || ms <= 0) return;
    this.timer = setInterval(() => void this.poll(), ms);
    this.timer.unref();
  }

  /** Stops polling. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
