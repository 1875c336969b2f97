/**
 * web/platform-pages — models (versions, aliases with "move alias", description), pipelines (schedule,
 * pause/unpause, next run, step graph of the latest version, trigger with parameters, runs with per-step
 * state, attempts, durations and logs, refreshed while they run) and features (entities, views, watermarks,
 * online values for an entity key).
 */
import type { CellarDataSource, ModelView } from './data-source.js';
import {
  cardListPage,
  dataTable,
  duration,
  el,
  empty,
  errorBox,
  link,
  loading,
  setChildren,
  time,
} from './ui.js';

function modelCard(ds: CellarDataSource, m: ModelView, refresh: () => void): HTMLElement {
  const card = el('section', { className: 'cellar-Card', attrs: { 'data-model': m.name } });
  const versions = el('div', {}, loading('versions'));
  const aliases = Object.entries(m.aliases)
    .map(([a, v]) => `@${a} → v${v}`)
    .join('  ');
  const desc = el('input', {
    className: 'cellar-Input',
    attrs: { 'aria-label': `description of ${m.name}`, placeholder: 'Description' },
  }) as HTMLInputElement;
  desc.value = m.description;
  const saveDesc = el('button', { className: 'cellar-Button cellar-Small', text: 'Save description' });
  const status = el('div');
  saveDesc.addEventListener('click', async () => {
    try {
      await ds.updateModelDescription(m.name, desc.value);
      status.replaceChildren(el('span', { className: 'cellar-Ok', text: 'Saved.' }));
    } catch (e) {
      status.replaceChildren(errorBox(e));
    }
  });
  card.append(
    el('h2', { text: m.name }),
    el('p', { className: 'cellar-Muted', text: aliases || 'No aliases.' }),
    el('div', { className: 'cellar-Row' }, desc, saveDesc),
    status,
    versions,
  );
  void ds.listVersions(m.name).then(
    (list) => {
      if (list.length === 0) {
        versions.replaceChildren(empty('No versions yet: registerModel({ name, runId }) adds one.'));
        return;
      }
      const aliasInput = el('input', {
        className: 'cellar-Input',
        attrs: { 'aria-label': 'alias', placeholder: 'alias, e.g. champion' },
      }) as HTMLInputElement;
      aliasInput.value = Object.keys(m.aliases)[0] ?? 'champion';
      const versionSelect = el('select', {
        className: 'cellar-Select',
        attrs: { 'aria-label': 'version' },
      }) as HTMLSelectElement;
      for (const v of list)
        versionSelect.append(el('option', { text: `v${v.version}`, attrs: { value: String(v.version) } }));
      const move = el('button', { className: 'cellar-Button', text: 'Move alias' });
      const moveStatus = el('div');
      move.addEventListener('click', async () => {
        try {
          await ds.setAlias(m.name, aliasInput.value.trim(), Number(versionSelect.value));
          refresh();
        } catch (e) {
          moveStatus.replaceChildren(errorBox(e));
        }
      });
      versions.replaceChildren(
        dataTable(
          ['Version', 'Aliases', 'Run', 'Created', 'Serve'],

          ...list.map((v) =>
            el(
              'tr',
              { attrs: { 'data-version': String(v.version) } },
              el('td', { text: `v${v.version}` }),
              el('td', { text: v.aliases.map((a) => `@${a}`).join(' ') }),
              el(
                'td',
                {},
                v.runId
                  ? link(`#/runs/${encodeURIComponent(v.runId)}`, v.runId.slice(0, 8))
                  : el('span', { text: '—' }),
              ),
              el('td', { text: time(v.createdAt) }),
              el('td', {}, el('code', { text: `npx cellar serve ${v.name}@${v.aliases[0] ?? v.version}` })),
            ),
          ),
        ),
        el('div', { className: 'cellar-Row' }, aliasInput, versionSelect, move),
        moveStatus,
      );
    },
    (e) => versions.replaceChildren(errorBox(e)),
  );
  return card;
}

/** Renders the models page. */
export async function modelsPage(root: HTMLElement, ds: CellarDataSource): Promise<void> {
  await cardListPage(root, 'Models', () => ds.listModels(), {
    card: (m, refresh) => modelCard(ds, m, refresh),
    emptyText: 'No registered models yet.',
  });
}

function stepGraph(spec: Record<string, unknown> | undefined): HTMLElement {
  const steps = (spec?.steps ?? []) as Array<{
    name: string;
    upstream?: string[];
    inputs?: Record<string, string>;
  }>;
  if (steps.length === 0) return empty('No steps.');
  const ol = el('ol', { className: 'cellar-Steps', attrs: { 'aria-label': 'step graph' } });
  for (const s of steps) {
    const ups = new Set<string>([...(s.upstream ?? []), ...Object.values(s.inputs ?? {})]);
    ol.append(
      el(
        'li',
        {},
        el('b', { text: s.name }),
        ups.size ? el('span', { className: 'cellar-Muted', text: ` ← ${[...ups].join(', ')}` }) : null,
      ),
    );
  }
  return ol;
}

async function pipelineRunView(ds: CellarDataSource, runId: string, box: HTMLElement): Promise<boolean> {
  const d = await ds.describePipelineRun(runId);
  const logs = await ds.pipelineLogs(runId).catch(() => []);
  box.replaceChildren(
    el('h3', { text: `Run ${d.run.runId} — ${d.run.state}`, attrs: { 'data-state': d.run.state } }),
    d.run.error ? errorBox(new Error(d.run.error)) : el('span'),
    dataTable(
      ['Step', 'State', 'Tries', 'Duration'],

      ...d.tasks.map((t) =>
        el(
          'tr',
          { attrs: { 'data-step': String(t.step) } },
          el('td', { text: String(t.step) }),
          el(
            'td',
            {},
            el('span', {
              className: `cellar-Status cellar-Status-${String(t.state)}`,
              text: String(t.state),
            }),
          ),
          el('td', { text: String(t.tryNumber ?? t.tries ?? '') }),
          el('td', {
            text: duration((t.startedAt as number | null) ?? null, (t.endedAt as number | null) ?? null),
          }),
        ),
      ),
    ),
    ...logs.map((l) =>
      el(
        'details',
        {},
        el('summary', { text: `log: ${l.step} (try ${l.tryNumber})` }),
        el('pre', { className: 'cellar-Preview', text: l.text || '(empty)' }),
      ),
    ),
  );
  return ['success', 'failed', 'succeeded'].includes(d.run.state);
}

function pipelineCard(ds: CellarDataSource, p: Record<string, unknown>, refresh: () => void): HTMLElement {
  const name = String(p.name);
  const card = el('section', { className: 'cellar-Card', attrs: { 'data-pipeline': name } });
  const paused = p.paused === true;
  const pause = el('button', { className: 'cellar-Button cellar-Small', text: paused ? 'Unpause' : 'Pause' });
  pause.addEventListener('click', async () => {
    try {
      await ds.setPaused(name, !paused);
      refresh();
    } catch (e) {
      card.append(errorBox(e));
    }
  });
  const graph = el('div', {}, loading('steps'));
  const form = el('form', { className: 'cellar-Row' });
  const runBox = el('div', { className: 'cellar-RunBox' });
  const runsBox = el('div');
  card.append(
    el('h2', { text: `${name} v${String(p.latestVersion)}` }),
    el('p', {
      className: 'cellar-Muted',
      text: `schedule: ${p.schedule ?? 'manual'} · ${paused ? 'paused' : 'active'} · next run: ${p.nextRunAt ? time(p.nextRunAt as number) : '—'}`,
    }),
    pause,
    graph,
    form,
    runBox,
    runsBox,
  );
  void ds.pipelineVersions(name).then(
    (versions) => {
      const latest = versions[versions.length - 1] as { spec?: Record<string, unknown> } | undefined;
      graph.replaceChildren(stepGraph(latest?.spec));
      const params = ((latest?.spec?.parameters ?? []) as Array<{ name: string; default?: unknown }>) ?? [];
      const inputs = params.map((prm) => {
        const i = el('input', {
          className: 'cellar-Input',
          attrs: { 'aria-label': `param ${prm.name}`, name: prm.name, placeholder: prm.name },
        }) as HTMLInputElement;
        i.value = prm.default === undefined || prm.default === null ? '' : String(prm.default);
        return el('label', { text: `${prm.name} ` }, i);
      });
      const trigger = el('button', {
        className: 'cellar-Button',
        text: 'Trigger run',
        attrs: { type: 'submit' },
      });
      form.replaceChildren(...inputs, trigger);
    },
    (e) => graph.replaceChildren(errorBox(e)),
  );
  const watch = async (runId: string): Promise<void> => {
    try {
      const done = await pipelineRunView(ds, runId, runBox);
      if (!done) setTimeout(() => void watch(runId), 1000);
      else void loadRuns();
    } catch (e) {
      runBox.replaceChildren(errorBox(e));
    }
  };
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const params: Record<string, unknown> = {};
    for (const input of Array.from(form.querySelectorAll('input')))
      if (input.value !== '') params[input.name] = input.value;
    try {
      const run = await ds.triggerPipeline(name, params);
      await watch(run.runId);
    } catch (err) {
      runBox.replaceChildren(errorBox(err));
    }
  });
  const loadRuns = (): Promise<void> =>
    ds.listPipelineRuns(name).then(
      (runs) => {
        if (runs.length === 0) return void runsBox.replaceChildren(empty('No runs yet.'));
        const ul = el('ul', { className: 'cellar-Artifacts' });
        for (const r of runs.slice(0, 10)) {
          const b = el('button', {
            className: 'cellar-Button cellar-Small',
            text: `${r.runId} — ${r.state}`,
          });
          b.addEventListener('click', () => void watch(r.runId));
          ul.append(el('li', {}, b));
        }
        runsBox.replaceChildren(el('h3', { text: 'Recent runs' }), ul);
      },
      (e) => void runsBox.replaceChildren(errorBox(e)),
    );
  void loadRuns();
  return card;
}

/** Renders the pipelines page. */
export async function pipelinesPage(root: HTMLElement, ds: CellarDataSource): Promise<void> {
  await cardListPage(root, 'Pipelines', () => ds.listPipelines(), {
    card: (p, refresh) => pipelineCard(ds, p, refresh),
    emptyText: 'No pipelines: export a notebook with `cellar export`.',
  });
}

/** Renders the features page. */
export async function featuresPage(root: HTMLElement, ds: CellarDataSource): Promise<void> {
  setChildren(root, el('h1', { text: 'Features' }), loading('feature definitions'));
  try {
    const defs = await ds.listFeatures();
    const online = el('div');
    const form = el('form', { className: 'cellar-Row' });
    const feats = el('input', {
      className: 'cellar-Input',
      attrs: { 'aria-label': 'features', placeholder: 'driver_stats:conv_rate' },
    }) as HTMLInputElement;
    const entity = el('input', {
      className: 'cellar-Input',
      attrs: { 'aria-label': 'entity key', placeholder: 'driver_id=1001' },
    }) as HTMLInputElement;
    form.append(
      feats,
      entity,
      el('button', { className: 'cellar-Button', text: 'Get online values', attrs: { type: 'submit' } }),
    );
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const [k, v] = entity.value.split('=');
      try {
        const res = await ds.onlineFeatures(
          feats.value
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
          [{ [k ?? '']: Number.isNaN(Number(v)) ? (v ?? '') : Number(v) }],
        );
        online.replaceChildren(
          el('pre', { className: 'cellar-Preview', text: JSON.stringify(res, null, 2) }),
        );
      } catch (err) {
        online.replaceChildren(errorBox(err));
      }
    });
    const rows = defs.map((d) => {
      const spec = (d.spec ?? d.definition ?? {}) as Record<string, unknown>;
      return el(
        'tr',
        {},
        el('td', { text: String(d.kind) }),
        el('td', { text: String(d.name) }),
        el('td', { text: spec.ttl === undefined ? '' : String(spec.ttl) }),
        el('td', { text: d.watermark ? time(d.watermark as number) : '—' }),
      );
    });
    setChildren(
      root,
      el('h1', { text: 'Features' }),
      defs.length
        ? dataTable(['Kind', 'Name', 'TTL', 'Materialized up to'], ...rows)
        : empty('No feature definitions: `cellar features apply defs.ts` registers them.'),
      el('h2', { text: 'Online values' }),
      form,
      online,
    );
  } catch (e) {
    setChildren(root, el('h1', { text: 'Features' }), errorBox(e));
  }
}
