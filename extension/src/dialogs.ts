/**
 * dialogs — the keyboard-friendly dialogs of the toolbar actions: a small form (text fields and selects,
 * first field focused, Enter accepts, Escape cancels) and the export plan confirmation. Labels and values
 * are set as text, never as HTML.
 */
import { Dialog, showDialog } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';
import { stepGraphLines } from './format.js';
import type { ExportPlan } from './protocol.js';

/** One field of a form dialog. */
export interface FieldSpec {
  key: string;
  label: string;
  kind?: 'text' | 'select';
  value?: string;
  placeholder?: string;
  help?: string;
  /** Choices of a select. */
  options?: Array<{ value: string; label: string }>;
}

let formCounter = 0;

/** A dialog body with labelled fields; `getValue()` returns field key → value. */
export class FormBody extends Widget implements Dialog.IBodyWidget<Record<string, string>> {
  private readonly inputs = new Map<string, HTMLInputElement | HTMLSelectElement>();

  /** Builds the form; `intro` and `error` are shown above the fields. */
  constructor(fields: FieldSpec[], intro?: string, error?: string) {
    super();
    this.addClass('cellar-Form');
    formCounter += 1;
    if (intro) {
      const p = document.createElement('p');
      p.className = 'cellar-FormIntro';
      p.textContent = intro;
      this.node.appendChild(p);
    }
    if (error) {
      const p = document.createElement('p');
      p.className = 'cellar-FormError';
      p.textContent = error;
      this.node.appendChild(p);
    }
    for (const field of fields) {
      const id = `cellar-form-${formCounter}-${field.key}`;
      const label = document.createElement('label');
      label.className = 'cellar-FormLabel';
      label.htmlFor = id;
      label.textContent = field.label;
      let input: HTMLInputElement | HTMLSelectElement;
      if (field.kind === 'select') {
        const select = document.createElement('select');
        for (const o of field.options ?? []) {
          const option = document.createElement('option');
          option.value = o.value;
          option.textContent = o.label;
          select.appendChild(option);
        }
        if (field.value !== undefined) select.value = field.value;
        input = select;
      } else {
        const text = document.createElement('input');
        text.type = 'text';
        text.value = field.value ?? '';
        text.placeholder = field.placeholder ?? '';
        text.spellcheck = false;
        input = text;
      }
      input.id = id;
      input.name = field.key;
      input.className = 'cellar-FormInput jp-mod-styled';
      this.inputs.set(field.key, input);
      this.node.appendChild(label);
      this.node.appendChild(input);
      if (field.help) {
        const help = document.createElement('div');
        help.className = 'cellar-FormHelp';
        help.textContent = field.help;
        this.node.appendChild(help);
      }
    }
  }

  /** The fields' current values. */
  getValue(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [key, input] of this.inputs) out[key] = input.value;
    return out;
  }
}

/**
 * Shows a form and resolves with its values, or null when cancelled.
 *
 * @example
 * const values = await showForm('Register model', [{ key: 'name', label: 'Model name' }], 'Register');
 */
export async function showForm(
  title: string,
  fields: FieldSpec[],
  acceptLabel: string,
  options: { intro?: string; error?: string } = {},
): Promise<Record<string, string> | null> {
  const result = await showDialog({
    title,
    body: new FormBody(fields, options.intro, options.error),
    buttons: [Dialog.cancelButton(), Dialog.okButton({ label: acceptLabel })],
    focusNodeSelector: 'input, select',
    defaultButton: 1,
  });
  return result.button.accept && result.value ? result.value : null;
}

/** A read-only body showing the inferred step graph, parameters and metrics of an export. */
class PlanBody extends Widget {
  constructor(plan: ExportPlan, schedule: string) {
    super();
    this.addClass('cellar-Plan');
    const add = (tag: string, className: string, text: string): void => {
      const el = document.createElement(tag);
      el.className = className;
      el.textContent = text;
      this.node.appendChild(el);
    };
    add('div', 'cellar-CardSection', `Steps (${plan.steps.length})`);
    add('pre', 'cellar-PlanGraph', stepGraphLines(plan.steps).join('\n') || '(none)');
    if (plan.parameters.length > 0) {
      add('div', 'cellar-CardSection', 'Parameters');
      add(
        'pre',
        'cellar-PlanGraph',
        plan.parameters.map((p) => `${p.name}: ${p.type} = ${JSON.stringify(p.default)}`).join('\n'),
      );
    }
    if (plan.metrics.length > 0) add('div', 'cellar-FormHelp', `Metrics: ${plan.metrics.join(', ')}`);
    add('div', 'cellar-FormHelp', schedule === '' ? 'Schedule: manual runs only' : `Schedule: ${schedule}`);
  }
}

/** Shows the export plan and resolves true when the user confirms the export. */
export async function confirmPlan(plan: ExportPlan, schedule: string): Promise<boolean> {
  const result = await showDialog({
    title: `Export pipeline "${plan.name}"`,
    body: new PlanBody(plan, schedule),
    buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Export' })],
    defaultButton: 1,
  });
  return result.button.accept;
}
