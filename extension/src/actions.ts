/**
 * actions — what the toolbar buttons and commands do: "Log run", "Register model" and "Export pipeline".
 * Each asks the kernel bridge, shows what happened as a notification (with a link when cellar's web UI
 * URL is set), and for export problems marks the offending cells. Returns the result (or null when the
 * user cancelled or it failed) so commands can be scripted and tested.
 */
import { Notification } from '@jupyterlab/apputils';
import type { NotebookPanel } from '@jupyterlab/notebook';
import { BridgeError } from './bridge.js';
import { clearExportProblems, markExportProblems } from './cell-markers.js';
import { confirmPlan, showForm, type FieldSpec } from './dialogs.js';
import {
  exportProblems,
  pipelineNameFor,
  platformLink,
  problemsByCell,
  scheduleProblem,
  shortId,
  stepGraphLines,
} from './format.js';
import type {
  ExportPlan,
  ExportResult,
  LogRunResult,
  RegisterModelResult,
  RunModelsResult,
} from './protocol.js';
import type { ICellar } from './token.js';

/** How long a user action may wait for the kernel (it waits behind cells that are still running). */
const ACTION_TIMEOUT_MS = 10 * 60_000;

/** Notification actions: open a web UI link when one is configured, and reveal the cellar sidebar. */
function resultActions(link: string | null, showSidebar: () => void): Notification.IAction[] {
  const out: Notification.IAction[] = [];
  if (link)
    out.push({ label: 'Open', caption: link, callback: () => window.open(link, '_blank', 'noopener') });
  out.push({ label: 'Show in sidebar', callback: () => showSidebar() });
  return out;
}

function failure(id: string, what: string, error: unknown): null {
  const message = error instanceof Error ? error.message : String(error);
  Notification.update({ id, message: `${what} failed: ${message}`, type: 'error', autoClose: false });
  return null;
}

/** "Log run": snapshots the notebook into its current run (ending it) or into a new run. */
export async function logRun(
  cellar: ICellar,
  panel: NotebookPanel,
  showSidebar: () => void,
): Promise<LogRunResult | null> {
  const notebook = panel.content.model?.toJSON();
  if (!notebook) return null;
  const id = Notification.emit('Logging the run…', 'in-progress', { autoClose: false });
  try {
    const result = await cellar
      .clientFor(panel)
      .request<LogRunResult>(
        'logRun',
        { ...cellar.argsFor(panel), notebook, includeOutputs: cellar.settings.includeOutputs },
        { timeoutMs: ACTION_TIMEOUT_MS },
      );
    const run = result.run;
    const name = run.name ?? shortId(run.id);
    const verb = result.created ? 'created and logged' : result.ended ? 'logged and ended' : 'logged';
    const commit = result.gitCommit ? `, commit ${result.gitCommit.slice(0, 7)}` : '';
    Notification.update({
      id,
      message: `Run "${name}" ${verb} (${run.status}) in ${run.experimentName ?? 'its experiment'}: snapshot of ${result.snapshot.cells} cells${commit}. Run id ${run.id}.`,
      type: 'success',
      autoClose: 10_000,
      actions: resultActions(platformLink(cellar.settings, 'runs', run.id), showSidebar),
    });
    cellar.report({ kind: 'run', notebookPath: panel.context.path, id: run.id });
    return result;
  } catch (e) {
    return failure(id, 'Log run', e);
  }
}

const lastModelNames = new Map<string, string>();

function modelChoices(models: RunModelsResult): FieldSpec['options'] {
  return models.models.map((m, i) => ({
    value: String(i),
    label: `${m.estimator ?? 'model'} · ${m.runName ?? shortId(m.runId)} (${shortId(m.runId)}) · ${m.artifactPath}${m.isLastFit ? ' · last fit' : ''}`,
  }));
}

/** "Register model": registers the last trained model (or one picked from the run) under a name and alias. */
export async function registerModel(
  cellar: ICellar,
  panel: NotebookPanel,
  showSidebar: () => void,
): Promise<RegisterModelResult | null> {
  const client = cellar.clientFor(panel);
  const args = cellar.argsFor(panel);
  let models: RunModelsResult;
  try {
    models = await client.request<RunModelsResult>('listRunModels', args, { timeoutMs: ACTION_TIMEOUT_MS });
  } catch (e) {
    Notification.error(`Register model failed: ${e instanceof Error ? e.message : String(e)}`, {
      autoClose: false,
    });
    return null;
  }
  if (models.models.length === 0) {
    const message =
      models.lastFit && models.lastFit.runId === null
        ? `The last model (${models.lastFit.className}) was fitted outside a run. Click "Log run" first, then register it.`
        : 'No stored model found: train a model in this notebook (inside a run, or click "Log run" afterwards).';
    Notification.warning(message, { autoClose: 10_000 });
    return null;
  }
  const path = panel.context.path;
  const fields: FieldSpec[] = [
    {
      key: 'name',
      label: 'Model name',
      value: lastModelNames.get(path) ?? pipelineNameFor(path),
      help: 'A new version of this registered model is created.',
    },
    {
      key: 'alias',
      label: 'Alias (optional)',
      placeholder: 'champion',
      help: 'Moves this alias to the new version.',
    },
  ];
  if (models.models.length > 1)
    fields.push({ key: 'model', label: 'Model', kind: 'select', value: '0', options: modelChoices(models) });
  let error: string | undefined;
  while (true) {
    const values = await showForm('Register model', fields, 'Register', { error });
    if (!values) return null;
    const name = (values['name'] ?? '').trim();
    if (name === '') {
      error = 'Give the model a name.';
      continue;
    }
    const picked = models.models[Number(values['model'] ?? '0')] ?? models.models[0]!;
    const alias = (values['alias'] ?? '').trim();
    fields[0]!.value = name;
    fields[1]!.value = alias;
    const id = Notification.emit(`Registering ${name}…`, 'in-progress', { autoClose: false });
    try {
      const result = await client.request<RegisterModelResult>(
        'registerModel',
        {
          ...args,
          name,
          runId: picked.runId,
          artifactPath: picked.artifactPath,
          ...(alias === '' ? {} : { alias }),
        },
        { timeoutMs: ACTION_TIMEOUT_MS },
      );
      lastModelNames.set(path, name);
      const aliases = result.aliases.length > 0 ? ` @${result.aliases.join(' @')}` : '';
      Notification.update({
        id,
        message: `Registered ${result.name} version ${result.version}${aliases} (${result.uri}).`,
        type: 'success',
        autoClose: 10_000,
        actions: resultActions(
          platformLink(cellar.settings, 'models', result.name, result.version),
          showSidebar,
        ),
      });
      cellar.report({ kind: 'model', notebookPath: path, id: result.name });
      return result;
    } catch (e) {
      if (e instanceof BridgeError && (e.code === 'INVALID_PARAMETER' || e.code === 'ALREADY_EXISTS')) {
        Notification.dismiss(id);
        error = e.message;
        continue;
      }
      return failure(id, 'Register model', e);
    }
  }
}

const lastExports = new Map<string, { name: string; schedule: string }>();

/** Shows export problems on their cells; returns a summary line for the notification. */
function showProblems(panel: NotebookPanel, error: BridgeError): string {
  const problems = exportProblems(error.details);
  if (problems.length === 0) return error.message;
  const grouped = problemsByCell(problems, panel.content.widgets.length);
  const marked = markExportProblems(panel, grouped.cells);
  const parts: string[] = [];
  if (marked > 0)
    parts.push(`${problems.length - grouped.notebook.length} problem(s) marked on ${marked} cell(s)`);
  parts.push(...grouped.notebook);
  return `The notebook cannot be exported: ${parts.join('; ')}.`;
}

/**
 * "Export pipeline": asks for the pipeline name and an optional schedule, checks the cell tags (problems are
 * shown on their cells), shows the inferred step graph, and writes the version.
 */
export async function exportPipeline(
  cellar: ICellar,
  panel: NotebookPanel,
  showSidebar: () => void,
): Promise<ExportResult | null> {
  const client = cellar.clientFor(panel);
  const path = panel.context.path;
  const previous = lastExports.get(path) ?? { name: pipelineNameFor(path), schedule: '' };
  let error: string | undefined;
  let name = previous.name;
  let schedule = previous.schedule;
  while (true) {
    const values = await showForm(
      'Export pipeline',
      [
        {
          key: 'name',
          label: 'Pipeline name',
          value: name,
          help: 'Lower-case letters, digits, "_" and "-".',
        },
        {
          key: 'schedule',
          label: 'Schedule (optional cron)',
          value: schedule,
          placeholder: '0 3 * * *',
          help: 'Empty: manual runs only.',
        },
      ],
      'Check',
      { error, intro: 'cellar checks the cell tags and shows the steps before writing a version.' },
    );
    if (!values) return null;
    name = (values['name'] ?? '').trim();
    schedule = (values['schedule'] ?? '').trim();
    error = name === '' ? 'Give the pipeline a name.' : (scheduleProblem(schedule) ?? undefined);
    if (error === undefined) break;
  }
  lastExports.set(path, { name, schedule });
  const notebook = panel.content.model?.toJSON();
  if (!notebook) return null;
  const args = { ...cellar.argsFor(panel), notebook, name };
  const id = Notification.emit('Checking the pipeline tags…', 'in-progress', { autoClose: false });
  let plan: ExportPlan;
  try {
    plan = await client.request<ExportPlan>('planExport', args, { timeoutMs: ACTION_TIMEOUT_MS });
  } catch (e) {
    if (e instanceof BridgeError && e.code === 'INVALID_INPUT') {
      Notification.update({ id, message: showProblems(panel, e), type: 'error', autoClose: false });
      return null;
    }
    return failure(id, 'Export pipeline', e);
  }
  clearExportProblems(panel);
  Notification.update({
    id,
    message: `Cell tags checked: ${plan.steps.length} steps.`,
    type: 'info',
    autoClose: 3000,
  });
  if (!(await confirmPlan(plan, schedule))) return null;
  const writing = Notification.emit(`Exporting ${name}…`, 'in-progress', { autoClose: false });
  try {
    const result = await client.request<ExportResult>(
      'exportPipeline',
      { ...args, ...(schedule === '' ? {} : { schedule }) },
      { timeoutMs: ACTION_TIMEOUT_MS },
    );
    const steps = stepGraphLines(result.steps).join('; ');
    const what = result.created ? 'exported as' : 'unchanged: same as';
    Notification.update({
      id: writing,
      message: `Pipeline ${result.name} ${what} version ${result.version} (${result.steps.length} steps: ${steps})${result.schedule ? `, schedule ${result.schedule}` : ''}.`,
      type: 'success',
      autoClose: 10_000,
      actions: resultActions(
        platformLink(cellar.settings, 'pipelines', result.name, result.version),
        showSidebar,
      ),
    });
    cellar.report({ kind: 'pipeline', notebookPath: path, id: result.name });
    return result;
  } catch (e) {
    if (e instanceof BridgeError && e.code === 'INVALID_INPUT') {
      Notification.update({ id: writing, message: showProblems(panel, e), type: 'error', autoClose: false });
      return null;
    }
    return failure(writing, 'Export pipeline', e);
  }
}
