/**
 * kernel — connects the request layer (bridge.ts) to a notebook's kernel: a `Transport` over JupyterLab's
 * kernel connection (silent execute requests, no history, never stopping queued cells on error), the
 * per-notebook `BridgeClient`, and whether a notebook runs a TypeScript kernel.
 */
import type { NotebookPanel } from '@jupyterlab/notebook';
import type { Kernel, KernelMessage } from '@jupyterlab/services';
import { BridgeClient, type Execution, type IOPubMessage, type Transport } from './bridge.js';
import { isTypeScriptKernel } from './format.js';

/** Kernel states in which a request can still be answered. */
const LIVE_STATES = new Set(['idle', 'busy', 'starting', 'unknown']);

/** A {@link Transport} that runs code as silent execute requests on `kernel`. */
export function kernelTransport(kernel: Kernel.IKernelConnection): Transport {
  return {
    execute(code: string, onMessage: (msg: IOPubMessage) => void): Execution {
      const future = kernel.requestExecute(
        { code, silent: true, store_history: false, allow_stdin: false, stop_on_error: false },
        true,
      );
      let finished = false;
      future.onIOPub = (msg: KernelMessage.IIOPubMessage): void => {
        onMessage({
          msgType: msg.header.msg_type,
          content: msg.content as unknown as Record<string, unknown>,
        });
      };
      const done = future.done.then((reply) => {
        finished = true;
        const content = reply.content as unknown as Record<string, unknown>;
        return {
          status: String(content['status'] ?? 'ok'),
          ename: typeof content['ename'] === 'string' ? content['ename'] : undefined,
          evalue: typeof content['evalue'] === 'string' ? content['evalue'] : undefined,
        };
      });
      return {
        done,
        dispose(): void {
          future.onIOPub = () => undefined;
          if (!finished && !future.isDisposed) future.dispose();
        },
      };
    },
  };
}

/** The notebook's live kernel connection, or null when it has none (or it is dead). */
export function liveKernel(panel: NotebookPanel): Kernel.IKernelConnection | null {
  const kernel = panel.sessionContext.session?.kernel ?? null;
  if (!kernel || kernel.isDisposed || !LIVE_STATES.has(kernel.status)) return null;
  return kernel;
}

const clients = new WeakMap<NotebookPanel, BridgeClient>();

/** The bridge client of a notebook: each request goes to the notebook's kernel at the time it is sent. */
export function clientFor(panel: NotebookPanel): BridgeClient {
  let client = clients.get(panel);
  if (!client) {
    client = new BridgeClient(() => {
      const kernel = liveKernel(panel);
      return kernel ? kernelTransport(kernel) : null;
    });
    clients.set(panel, client);
  }
  return client;
}

/**
 * Whether the notebook is a TypeScript notebook: its live kernel is tslab (or another `typescript` kernel),
 * or, before a kernel runs, its saved kernel spec says so.
 */
export function isTypeScriptNotebook(panel: NotebookPanel): boolean {
  const kernelName = panel.sessionContext.session?.kernel?.name ?? panel.sessionContext.kernelPreference.name;
  const spec = (panel.model?.getMetadata('kernelspec') ?? {}) as { name?: unknown; language?: unknown };
  const info = (panel.model?.getMetadata('language_info') ?? {}) as { name?: unknown };
  if (kernelName) return isTypeScriptKernel({ name: kernelName });
  return isTypeScriptKernel({
    name: typeof spec.name === 'string' ? spec.name : null,
    language:
      typeof spec.language === 'string' ? spec.language : typeof info.name === 'string' ? info.name : null,
  });
}
