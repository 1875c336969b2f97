/**
 * airflow/export — writes an Airflow DAG file for a stored pipeline version, for running it on more than
 * one machine: one BashOperator per step running `cellar step run <name>@<version> <step> --run-id …
 * --logical-date …`, with the same dependencies, retries (exponential backoff, a maximum delay),
 * timeouts, trigger rules, schedule, catchup and max_active_runs.
 *
 * The file is Python source built from data, so every string goes through {@link pythonString}; shell
 * words through {@link shellQuote}. Airflow renders `bash_command` and `env` with Jinja, so the run id
 * and logical date reach the command through environment variables (`"$CELLAR_RUN_ID"`): a run id
 * chosen by a user is then never parsed by the shell, and no user text contains `{` (refused), so
 * nothing but our own `{{ run_id }}` / `{{ ts }}` is a template.
 */
import { CellarError } from '../../kernel-lib/errors.js';
import type { PipelineSpec } from '../../kernel-lib/exporter/spec.js';

/** Options of {@link airflowDag}. */
export interface AirflowOptions {
  /** The command that runs cellar on the workers, as argv words (default `['cellar']`, e.g. `['npx', 'cellar']`). */
  cellarCommand?: string[];
  /** CELLAR_URI for the tasks (the shared store); default: the workers' own environment. */
  storeUri?: string;
  /** DAG id (default: the pipeline name). */
  dagId?: string;
  /** First logical date (ISO-8601); default: midnight UTC of the day the version was exported. */
  startDate?: string;
  /** Delay before the first retry (default 60 s); later retries back off exponentially. */
  retryDelayMs?: number;
  /** Longest delay between retries (default 1 h). */
  maxRetryDelayMs?: number;
}

/**
 * A Python string literal (single-quoted) for any string: quotes, backslashes, control and non-ASCII
 * characters are escaped, so the literal always means exactly `text`.
 *
 * @example
 * pythonString("it's\n") // "'it\\'s\\n'"
 */
export function pythonString(text: string): string {
  let out = "'";
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (ch === '\\') out += '\\\\';
    else if (ch === "'") out += "\\'";
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (cp >= 0x20 && cp < 0x7f) out += ch;
    else if (cp <= 0xff) out += '\\x' + cp.toString(16).padStart(2, '0');
    else if (cp <= 0xffff) out += '\\u' + cp.toString(16).padStart(4, '0');
    else out += '\\U' + cp.toString(16).padStart(8, '0');
  }
  return out + "'";
}

/**
 * Quotes one word for a POSIX shell (like Python's `shlex.quote`): safe words stay as they are, others are
 * single-quoted with embedded quotes written as `'"'"'`.
 */
export function shellQuote(word: string): string {
  if (word !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return "'" + word.replace(/'/g, `'"'"'`) + "'";
}

function checkNoTemplate(text: string, what: string): void {
  if (/[{}]/.test(text) || text.includes('\0')) {
    throw new CellarError(
      'INVALID_PARAMETER',
      `${what} ${JSON.stringify(text)} contains "{", "}" or a NUL byte, which Airflow would treat as a template; ` +
        'use a value without them.',
    );
  }
}

function timedelta(ms: number): string {
  return `datetime.timedelta(milliseconds=${Math.round(ms)})`;
}

function pyDatetime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) {
    throw new CellarError('INVALID_PARAMETER', `startDate ${JSON.stringify(iso)} is not an ISO-8601 date.`);
  }
  const parts = [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes()];
  return `datetime.datetime(${parts.join(', ')}, tzinfo=datetime.timezone.utc)`;
}

function positiveMs(value: number | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0)
    throw new CellarError('INVALID_PARAMETER', `${what} must be >= 0 ms.`);
  return value;
}

/**
 * Generates the Python source of an Airflow DAG (Airflow 2.4+ or 3) for a pipeline version.
 *
 * @example
 * writeFileSync('dags/driver_training.py', airflowDag(getPipelineVersion(undefined, 'driver-training', 2).spec))
 * @throws CellarError INVALID_PARAMETER for options that cannot be written safely.
 */
export function airflowDag(spec: PipelineSpec, opts: AirflowOptions = {}): string {
  const command = opts.cellarCommand ?? ['cellar'];
  if (command.length === 0)
    throw new CellarError('INVALID_PARAMETER', 'cellarCommand needs at least one word.');
  for (const word of command) checkNoTemplate(word, 'cellarCommand word');
  if (opts.storeUri !== undefined) checkNoTemplate(opts.storeUri, 'storeUri');
  const dagId = opts.dagId ?? spec.name;
  if (!/^[A-Za-z0-9_.-]{1,250}$/.test(dagId)) {
    throw new CellarError(
      'INVALID_PARAMETER',
      `dagId ${JSON.stringify(dagId)} may only hold letters, digits, ".", "_" and "-".`,
    );
  }
  const retryDelay = positiveMs(opts.retryDelayMs, 60_000, 'retryDelayMs');
  const maxRetryDelay = positiveMs(opts.maxRetryDelayMs, 3_600_000, 'maxRetryDelayMs');
  const start = opts.startDate ?? spec.createdAt.slice(0, 10) + 'T00:00:00Z';
  const ref = `${spec.name}@${spec.version}`;
  const env = [
    `'CELLAR_RUN_ID': '{{ run_id }}'`,
    `'CELLAR_LOGICAL_DATE': '{{ ts }}'`,
    ...(opts.storeUri === undefined ? [] : [`'CELLAR_URI': ${pythonString(opts.storeUri)}`]),
  ];
  const lines: string[] = [
    `# Airflow DAG for the cellar pipeline ${ref}, generated by \`cellar pipelines export-airflow\`.`,
    '# Each task runs one step with `cellar step run`; step code, inputs and outputs stay in the cellar store',
    '# (CELLAR_URI). Regenerate this file instead of editing it.',
    'import datetime',
    '',
    'from airflow import DAG',
    '',
    'try:  # Airflow 3',
    '    from airflow.providers.standard.operators.bash import BashOperator',
    'except ImportError:  # Airflow 2',
    '    from airflow.operators.bash import BashOperator',
    '',
    `PIPELINE = ${pythonString(spec.name)}`,
    `VERSION = ${spec.version}`,
    `CONTENT_HASH = ${pythonString(spec.hash)}`,
    '',
    'with DAG(',
    `    dag_id=${pythonString(dagId)},`,
    `    description=${pythonString(`cellar pipeline ${ref} from ${spec.source.notebookPath ?? 'a notebook'}`)},`,
    `    schedule=${spec.schedule === null ? 'None' : pythonString(spec.schedule)},`,
    `    start_date=${pyDatetime(start)},`,
    `    catchup=${spec.catchup ? 'True' : 'False'},`,
    `    max_active_runs=${spec.maxActiveRuns},`,
    `    tags=[${pythonString('cellar')}, ${pythonString(`cellar-version-${spec.version}`)}],`,
    ') as dag:',
  ];
  const vars = new Map<string, string>();
  spec.steps.forEach((step, i) => {
    const v = `task_${i}`;
    vars.set(step.name, v);
    const argv = [...command, 'step', 'run', ref, step.name].map(shellQuote).join(' ');
    const bash = `${argv} --run-id "$CELLAR_RUN_ID" --logical-date "$CELLAR_LOGICAL_DATE"`;
    lines.push(
      `    ${v} = BashOperator(`,
      `        task_id=${pythonString(step.name)},`,
      `        bash_command=${pythonString(bash)},`,
      `        env={${env.join(', ')}},`,
      '        append_env=True,',
      `        retries=${step.retries},`,
      `        retry_delay=${timedelta(retryDelay)},`,
      '        retry_exponential_backoff=True,',
      `        max_retry_delay=${timedelta(maxRetryDelay)},`,
      `        execution_timeout=${step.timeoutMs > 0 ? timedelta(step.timeoutMs) : 'None'},`,
      `        trigger_rule=${pythonString(step.triggerRule)},`,
      '    )',
    );
  });
  const edges = spec.steps.flatMap((s) => s.upstream.map((u) => `    ${vars.get(u)} >> ${vars.get(s.name)}`));
  if (edges.length > 0) lines.push('', ...edges);
  return lines.join('\n') + '\n';
}
