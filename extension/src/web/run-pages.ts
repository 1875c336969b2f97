/**
 * web/run-pages — the run detail page (params, metrics, tags, artifacts with download and preview, metric
 * history charts) and the comparison of 2–10 runs side by side (a table of params and metrics, and one
 * chart per metric with a line per run).
 */
import type { CellarDataSource, RunView } from './data-source.js';
import { el, empty, errorBox, lineChart, link, loading, num, setChildren, time } from './ui.js';

function kvTable(title: string, map: Record<string, string | number>): HTMLElement {
  const keys = Object.keys(map).sort();
  if (keys.length === 0)
    return el('section', {}, el('h2', { text: title }), empty(`No ${title.toLowerCase()}.`));
  return el(
    'section',
    {},
    el('h2', { text: title }),
    el(
      'table',
      { className: 'cellar-KeyValue' },
      el(
        'tbody',
        {},
        ...keys.map((k) =>
          el(
            'tr',
            {},
            el('th', { text: k }),
            el('td', { text: typeof map[k] === 'number' ? num(map[k] as number) : String(map[k]) }),
          ),
        ),
      ),
    ),
  );
}

async function artifactsSection(ds: CellarDataSource, run: RunView): Promise<HTMLElement> {
  const section = el('section', {}, el('h2', { text: 'Artifacts' }));
  const preview = el('pre', { className: 'cellar-Preview' });
  try {
    const list = await ds.listArtifacts(run.id);
    if (list.length === 0) {
      section.append(empty('No artifacts.'));
      return section;
    }
    const ul = el('ul', { className: 'cellar-Artifacts' });
    for (const a of list) {
      const show = el('button', { className: 'cellar-Button cellar-Small', text: 'Preview' });
      show.addEventListener('click', async () => {
        preview.replaceChildren(loading(a.path));
        try {
          const res = await fetch(ds.artifactUrl(run.id, a.path, true), { credentials: 'same-origin' });
          const type = res.headers.get('content-type') ?? '';
          if (type.startsWith('image/')) {
            const img = el('img', { attrs: { alt: a.path } }) as HTMLImageElement;
            img.src = URL.createObjectURL(await res.blob());
            preview.replaceChildren(img);
          } else {
            const text = await res.text();
            preview.textContent = text.length > 20000 ? `${text.slice(0, 20000)}\n…` : text;
          }
        } catch (e) {
          preview.replaceChildren(errorBox(e));
        }
      });
      ul.append(
        el(
          'li',
          {},
          link(ds.artifactUrl(run.id, a.path), a.path),
          el('span', { className: 'cellar-Muted', text: ` ${a.size} B ` }),
          show,
        ),
      );
    }
    section.append(ul, preview);
  } catch (e) {
    section.append(errorBox(e));
  }
  return section;
}

/** Renders one run. */
export async function runPage(root: HTMLElement, ds: CellarDataSource, runId: string): Promise<void> {
  setChildren(root, loading('the run'));
  let run: RunView;
  try {
    run = await ds.getRun(runId);
  } catch (e) {
    setChildren(root, errorBox(e));
    return;
  }
  const charts = el('div', { className: 'cellar-Charts' });
  setChildren(
    root,
    el('p', {}, link('#/runs', '← Runs')),
    el('h1', { text: run.runName ?? run.id }),
    el('p', {
      className: 'cellar-Muted',
      text: `${run.id} · ${run.status} · started ${time(run.startTime)} · ended ${time(run.endTime) || '—'}`,
    }),
    el(
      'div',
      { className: 'cellar-Grid' },
      kvTable('Parameters', run.params),
      kvTable('Metrics', run.metrics),
      kvTable('Tags', run.tags),
    ),
    el('section', {}, el('h2', { text: 'Metric history' }), charts),
    await artifactsSection(ds, run),
  );
  const keys = Object.keys(run.metrics).sort().slice(0, 12);
  if (keys.length === 0) charts.append(empty('No metrics logged.'));
  for (const key of keys) {
    const box = el('div', { className: 'cellar-Chart', attrs: { 'data-metric': key } });
    charts.append(box);
    try {
      const h = await ds.metricHistory(run.id, key);
      lineChart(box, key, [{ name: key, x: h.map((p) => p.step), y: h.map((p) => p.value) }]);
    } catch (e) {
      box.replaceChildren(errorBox(e));
    }
  }
}

/** Renders the comparison of runs. */
export async function comparePage(root: HTMLElement, ds: CellarDataSource, ids: string[]): Promise<void> {
  if (ids.length < 2 || ids.length > 10) {
    setChildren(root, errorBox(new Error('Compare takes 2 to 10 runs: select them in the runs table.')));
    return;
  }
  setChildren(root, loading('runs'));
  let runs: RunView[];
  try {
    runs = await Promise.all(ids.map((id) => ds.getRun(id)));
  } catch (e) {
    setChildren(root, errorBox(e));
    return;
  }
  const name = (r: RunView) => r.runName ?? r.id.slice(0, 8);
  const rows = (kind: 'params' | 'metrics') => {
    const keys = [...new Set(runs.flatMap((r) => Object.keys(r[kind])))].sort();
    return keys.map((k) => {
      const values = runs.map((r) => (kind === 'metrics' ? num(r.metrics[k]) : (r.params[k] ?? '')));
      const differs = new Set(values).size > 1;
      return el(
        'tr',
        { className: differs ? 'cellar-Differs' : '' },
        el('th', { text: `${kind}.${k}` }),
        ...values.map((v) => el('td', { text: v })),
      );
    });
  };
  const charts = el('div', { className: 'cellar-Charts' });
  setChildren(
    root,
    el('p', {}, link('#/runs', '← Runs')),
    el('h1', { text: `Compare ${runs.length} runs` }),
    el(
      'table',
      { className: 'cellar-Table cellar-CompareTable' },
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          el('th', { text: '' }),
          ...runs.map((r) => el('th', {}, link(`#/runs/${encodeURIComponent(r.id)}`, name(r)))),
        ),
      ),
      el('tbody', {}, ...rows('params'), ...rows('metrics')),
    ),
    el('h2', { text: 'Metrics' }),
    charts,
  );
  const keys = [...new Set(runs.flatMap((r) => Object.keys(r.metrics)))].sort().slice(0, 8);
  for (const key of keys) {
    const box = el('div', { className: 'cellar-Chart', attrs: { 'data-metric': key } });
    charts.append(box);
    try {
      const series = await Promise.all(
        runs.map(async (r) => {
          const h = r.metrics[key] === undefined ? [] : await ds.metricHistory(r.id, key);
          return { name: name(r), x: h.map((p) => p.step), y: h.map((p) => p.value) };
        }),
      );
      lineChart(box, key, series);
    } catch (e) {
      box.replaceChildren(errorBox(e));
    }
  }
}
