/**
 * web/runs-page — the runs table: experiment picker, the searchRuns filter language (with `or`), sorting by
 * clicking a column (attributes, params, metrics, tags), paging with the server's page tokens, and a
 * selection of 2–10 runs to compare.
 */
import type { CellarDataSource, RunView } from './data-source.js';
import { el, empty, errorBox, link, loading, num, setChildren, time } from './ui.js';

/** State of the runs table kept in the URL hash query. */
interface RunsState {
  experimentId: string;
  filter: string;
  orderBy: string;
  pageToken: string | null;
}

const PAGE_SIZE = 25;

function columnsOf(runs: RunView[]): { params: string[]; metrics: string[]; tags: string[] } {
  const params = new Set<string>();
  const metrics = new Set<string>();
  const tags = new Set<string>();
  for (const r of runs) {
    Object.keys(r.params).forEach((k) => params.add(k));
    Object.keys(r.metrics).forEach((k) => metrics.add(k));
    Object.keys(r.tags).forEach((k) => tags.add(k));
  }
  const cap = (s: Set<string>, n: number) => [...s].sort().slice(0, n);
  return { params: cap(params, 8), metrics: cap(metrics, 8), tags: cap(tags, 4) };
}

/** Renders the runs page into `root`. */
export async function runsPage(
  root: HTMLElement,
  ds: CellarDataSource,
  query: URLSearchParams,
): Promise<void> {
  const state: RunsState = {
    experimentId: query.get('experiment') ?? '',
    filter: query.get('filter') ?? '',
    orderBy: query.get('order') ?? 'attributes.start_time DESC',
    pageToken: null,
  };
  const tokens: Array<string | null> = [null];
  const selected = new Set<string>();
  const expSelect = el('select', {
    className: 'cellar-Select',
    attrs: { 'aria-label': 'experiment' },
  }) as HTMLSelectElement;
  const filterInput = el('input', {
    className: 'cellar-Filter',
    attrs: {
      type: 'search',
      placeholder: "metrics.rmse < 0.5 and params.alpha = '0.5'",
      'aria-label': 'filter',
    },
  }) as HTMLInputElement;
  filterInput.value = state.filter;
  const compareButton = el('button', {
    className: 'cellar-Button',
    text: 'Compare selected',
  }) as HTMLButtonElement;
  const tableBox = el('div', { className: 'cellar-TableBox' });
  const pager = el('div', { className: 'cellar-Pager' });
  setChildren(
    root,
    el('h1', { text: 'Runs' }),
    el(
      'form',
      { className: 'cellar-Toolbar' },
      expSelect,
      filterInput,
      el('button', { className: 'cellar-Button', text: 'Search', attrs: { type: 'submit' } }),
      compareButton,
    ),
    tableBox,
    pager,
  );
  const form = root.querySelector('form')!;
  compareButton.addEventListener('click', (e) => {
    e.preventDefault();
    if (selected.size < 2 || selected.size > 10) {
      tableBox.prepend(errorBox(new Error('Select 2 to 10 runs to compare.')));
      return;
    }
    location.hash = `#/compare?ids=${[...selected].map(encodeURIComponent).join(',')}`;
  });
  try {
    const exps = await ds.listExperiments();
    expSelect.append(el('option', { text: 'All experiments', attrs: { value: '' } }));
    for (const e of exps) expSelect.append(el('option', { text: e.name, attrs: { value: e.id } }));
    expSelect.value = state.experimentId;
  } catch (e) {
    tableBox.replaceChildren(errorBox(e));
    return;
  }

  const load = async (): Promise<void> => {
    tableBox.replaceChildren(loading('runs'));
    try {
      const page = await ds.searchRuns({
        ...(state.experimentId ? { experimentIds: [state.experimentId] } : {}),
        ...(state.filter.trim() ? { filter: state.filter } : {}),
        orderBy: [state.orderBy],
        maxResults: PAGE_SIZE,
        pageToken: tokens[tokens.length - 1] ?? null,
      });
      renderTable(page.runs);
      renderPager(page.nextPageToken);
    } catch (e) {
      tableBox.replaceChildren(errorBox(e));
      pager.replaceChildren();
    }
  };

  const sortHeader = (label: string, key: string): HTMLElement => {
    const [current, dir] = state.orderBy.split(' ');
    const arrow = current === key ? (dir === 'ASC' ? ' ▲' : ' ▼') : '';
    const th = el('th', { className: 'cellar-Sortable', text: label + arrow, attrs: { 'data-key': key } });
    th.addEventListener('click', () => {
      state.orderBy = `${key} ${current === key && dir === 'DESC' ? 'ASC' : 'DESC'}`;
      tokens.splice(1);
      void load();
    });
    return th;
  };

  const renderTable = (runs: RunView[]): void => {
    if (runs.length === 0) {
      tableBox.replaceChildren(
        empty('No runs match. Log one with startRun() in a notebook, or clear the filter.'),
      );
      return;
    }
    const cols = columnsOf(runs);
    const head = el(
      'tr',
      {},
      el('th', { text: '' }),
      sortHeader('Run', 'attributes.run_name'),
      sortHeader('Status', 'attributes.status'),
      sortHeader('Started', 'attributes.start_time'),
      ...cols.params.map((k) => sortHeader(k, `params.${k}`)),
      ...cols.metrics.map((k) => sortHeader(k, `metrics.${k}`)),
      ...cols.tags.map((k) => sortHeader(k, `tags.${k}`)),
    );
    const body = el('tbody');
    for (const r of runs) {
      const box = el('input', {
        attrs: { type: 'checkbox', 'aria-label': `select ${r.runName ?? r.id}` },
      }) as HTMLInputElement;
      box.checked = selected.has(r.id);
      box.addEventListener('change', () => (box.checked ? selected.add(r.id) : selected.delete(r.id)));
      body.append(
        el(
          'tr',
          { attrs: { 'data-run-id': r.id } },
          el('td', {}, box),
          el('td', {}, link(`#/runs/${encodeURIComponent(r.id)}`, r.runName ?? r.id.slice(0, 8))),
          el('td', {}, el('span', { className: `cellar-Status cellar-Status-${r.status}`, text: r.status })),
          el('td', { text: time(r.startTime) }),
          ...cols.params.map((k) => el('td', { text: r.params[k] ?? '' })),
          ...cols.metrics.map((k) => el('td', { className: 'cellar-Num', text: num(r.metrics[k]) })),
          ...cols.tags.map((k) => el('td', { text: r.tags[k] ?? '' })),
        ),
      );
    }
    tableBox.replaceChildren(
      el('table', { className: 'cellar-Table cellar-RunsTable' }, el('thead', {}, head), body),
    );
  };

  const renderPager = (next: string | null): void => {
    const prev = el('button', { className: 'cellar-Button', text: '← Previous' }) as HTMLButtonElement;
    const nextB = el('button', { className: 'cellar-Button', text: 'Next →' }) as HTMLButtonElement;
    prev.disabled = tokens.length <= 1;
    nextB.disabled = next === null;
    prev.addEventListener('click', () => {
      tokens.pop();
      void load();
    });
    nextB.addEventListener('click', () => {
      tokens.push(next);
      void load();
    });
    pager.replaceChildren(prev, el('span', { text: `Page ${tokens.length}` }), nextB);
  };

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    state.filter = filterInput.value;
    state.experimentId = expSelect.value;
    tokens.splice(1);
    void load();
  });
  expSelect.addEventListener('change', () => form.requestSubmit());
  await load();
}
