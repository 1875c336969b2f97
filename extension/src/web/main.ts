/**
 * web/main — entry of the `cellar up` web app: the navigation bar, a light/dark theme switch and a hash
 * router over the pages (#/runs, #/runs/<id>, #/compare?ids=…, #/models, #/pipelines, #/features), all
 * reading through one `CellarDataSource` (REST here).
 */
import { RestDataSource, type CellarDataSource } from './data-source.js';
import { featuresPage, modelsPage, pipelinesPage } from './platform-pages.js';
import { comparePage, runPage } from './run-pages.js';
import { runsPage } from './runs-page.js';
import { el, errorBox } from './ui.js';

const PAGES: Array<[string, string]> = [
  ['#/runs', 'Runs'],
  ['#/models', 'Models'],
  ['#/pipelines', 'Pipelines'],
  ['#/features', 'Features'],
];

async function route(main: HTMLElement, ds: CellarDataSource): Promise<void> {
  const [path = '', queryText = ''] = location.hash.replace(/^#/, '').split('?');
  const query = new URLSearchParams(queryText);
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  for (const a of Array.from(document.querySelectorAll('nav a')))
    a.classList.toggle('cellar-Active', `#/${parts[0] ?? 'runs'}` === a.getAttribute('href'));
  try {
    if (parts[0] === 'runs' && parts[1]) await runPage(main, ds, parts[1]);
    else if (parts[0] === 'compare')
      await comparePage(main, ds, (query.get('ids') ?? '').split(',').filter(Boolean));
    else if (parts[0] === 'models') await modelsPage(main, ds);
    else if (parts[0] === 'pipelines') await pipelinesPage(main, ds);
    else if (parts[0] === 'features') await featuresPage(main, ds);
    else await runsPage(main, ds, query);
  } catch (e) {
    main.replaceChildren(errorBox(e));
  }
}

function start(): void {
  const ds = new RestDataSource();
  const saved = localStorage.getItem('cellar-theme');
  const dark = saved ? saved === 'dark' : matchMedia('(prefers-color-scheme: dark)').matches;
  document.documentElement.dataset.theme = dark ? 'dark' : 'light';
  const theme = el('button', { className: 'cellar-Button cellar-Small', text: 'Theme' });
  theme.addEventListener('click', () => {
    const next = document.documentElement.dataset.theme === 'dark' ? 'light' : 'dark';
    document.documentElement.dataset.theme = next;
    localStorage.setItem('cellar-theme', next);
  });
  const nav = el('nav', { className: 'cellar-Nav' }, el('b', { className: 'cellar-Brand', text: 'cellar' }));
  for (const [href, label] of PAGES) {
    const a = el('a', { text: label });
    (a as HTMLAnchorElement).href = href;
    nav.append(a);
  }
  nav.append(el('span', { className: 'cellar-Spacer' }), theme);
  const main = el('main', { className: 'cellar-Main' });
  document.body.replaceChildren(nav, main);
  window.addEventListener('hashchange', () => void route(main, ds));
  void route(main, ds);
}

start();
