/**
 * The extension's views rendered with a fake document: the run card, model card, feature-join summary and
 * sidebar show what a user needs, HTML or script in names, params and messages stays text, links are only
 * http(s), and the sidebar's buttons call their actions.
 */
import { h } from '../../extension/src/render/dom.js';
import {
  renderFeatureJoin,
  renderInvalid,
  renderModelCard,
  renderRunCard,
} from '../../extension/src/render/cards.js';
import {
  emptySidebarState,
  headlineMetrics,
  renderSidebar,
  type SidebarActions,
  type SidebarState,
} from '../../extension/src/render/sidebar-view.js';
import type { RunSummary } from '../../extension/src/protocol.js';
import { fake, fakeDocument } from './fake-dom.js';

const XSS = '<img src=x onerror="alert(1)"><script>alert(2)</script>';

function run(overrides: Partial<RunSummary> = {}): RunSummary {
  return {
    id: 'a'.repeat(32),
    name: 'baseline',
    status: 'FINISHED',
    experimentId: '1',
    experimentName: 'driver-training',
    parentRunId: null,
    startTime: Date.UTC(2026, 10, 25, 10, 0, 0),
    endTime: Date.UTC(2026, 10, 25, 10, 0, 42),
    params: { alpha: '0.5' },
    metrics: { training_rmse: 0.3, rmse: 0.41, r2: 0.77, mae: 0.3, zeta: 1 },
    tags: {},
    ...overrides,
  };
}

test('a run card shows status, params and metrics, with HTML in values as text', () => {
  const card = fake(
    renderRunCard(fakeDocument, {
      id: 'r1',
      runName: XSS,
      status: 'FINISHED',
      experimentName: 'driver-training',
      startTime: 0,
      endTime: 42_000,
      params: { alpha: 0.5, note: XSS },
      metrics: { rmse: 0.421337 },
      link: 'javascript:alert(3)',
    }),
  );
  expect(card.byClass('cellar-CardTitle')[0]!.textContent).toBe(XSS);
  expect(card.textContent).toContain('0.4213');
  expect(card.textContent).toContain('42 s');
  expect(card.textContent).toContain(XSS);
  expect(card.byTag('img')).toHaveLength(0);
  expect(card.byTag('script')).toHaveLength(0);
  expect(card.byTag('a')).toHaveLength(0); // javascript: links are dropped
  const linked = fake(renderRunCard(fakeDocument, { id: 'r1', link: 'https://cellar.example/runs/r1' }));
  expect(linked.byTag('a')[0]!.attributes.get('href')).toBe('https://cellar.example/runs/r1');
  expect(linked.byTag('a')[0]!.attributes.get('rel')).toBe('noopener noreferrer');
});

test('a model card shows version, aliases and the signature', () => {
  const card = fake(
    renderModelCard(fakeDocument, {
      name: 'driver',
      version: 3,
      aliases: ['champion'],
      runId: 'r1',
      estimator: 'ElasticNet',
      signature: {
        inputs: [{ name: 'conv_rate', type: 'double' }],
        outputs: [{ name: 'prediction', type: 'double' }],
      },
    }),
  );
  expect(card.byClass('cellar-CardTitle')[0]!.textContent).toBe('driver v3');
  expect(card.byClass('cellar-Alias').map((e) => e.textContent)).toEqual(['@champion']);
  expect(card.textContent).toContain('conv_rate');
  expect(card.textContent).toContain('prediction');
});

test('a feature-join summary shows rows × features and matches per view', () => {
  const card = fake(
    renderFeatureJoin(fakeDocument, {
      rows: 200,
      entityKeys: ['driver_id'],
      views: [
        { name: 'driver_stats', features: ['conv_rate', 'acc_rate'], matched: 150, missing: 50, ttl: '1d' },
      ],
    }),
  );
  expect(card.byClass('cellar-CardTitle')[0]!.textContent).toBe('200 rows × 2 features');
  expect(card.textContent).toContain('75 %');
  expect(card.textContent).toContain('driver_id');
  expect(fake(renderInvalid(fakeDocument, 'run', XSS)).textContent).toContain(XSS);
});

test('h() never sets inline handlers or unsafe links', () => {
  const el = fake(
    h(fakeDocument, 'a', { attrs: { onclick: 'x()', href: 'javascript:x()', title: 't' }, text: XSS }),
  );
  expect([...el.attributes.keys()]).toEqual(['title']);
  expect(el.textContent).toBe(XSS);
});

const noActions = (): SidebarActions & { calls: string[] } => {
  const calls: string[] = [];
  return {
    calls,
    refresh: () => calls.push('refresh'),
    trigger: (name) => calls.push(`trigger ${name}`),
    setPaused: (name, paused) => calls.push(`pause ${name} ${paused}`),
  };
};

function state(overrides: Partial<SidebarState>): SidebarState {
  return { ...emptySidebarState('driver-training.ipynb'), ...overrides };
}

test('the sidebar lists runs with headline metrics, marking the active and highlighted run', () => {
  const active = run({ id: 'b'.repeat(32), name: XSS, status: 'RUNNING' });
  const view = fake(
    renderSidebar(
      fakeDocument,
      state({
        runs: {
          experiment: { id: '1', name: 'driver-training' },
          activeRunId: active.id,
          runs: [active, run()],
        },
        models: [
          { name: 'driver', description: '', latestVersion: 2, aliases: { champion: 2 }, updatedAt: 1 },
        ],
        pipelines: { scheduler: false, pipelines: [] },
        highlightRunId: 'a'.repeat(32),
      }),
      noActions(),
    ),
  );
  const items = view.byClass('cellar-RunItem');
  expect(items).toHaveLength(2);
  expect(items[0]!.className).toContain('cellar-mod-active');
  expect(items[0]!.byClass('cellar-RunItem-name')[0]!.textContent).toBe(XSS);
  expect(items[0]!.byTag('script')).toHaveLength(0);
  expect(items[1]!.className).toContain('cellar-mod-highlight');
  expect(items[1]!.byClass('cellar-RunItem-metrics')[0]!.textContent).toBe(
    'rmse 0.41 · mae 0.3 · r2 0.77 · zeta 1',
  );
  expect(items[1]!.attributes.get('data-run-id')).toBe('a'.repeat(32));
  expect(view.byClass('cellar-Alias').map((e) => e.textContent)).toEqual(['@champion → v2']);
  expect(view.textContent).toContain('No pipelines exported yet.');
});

test('pipelines show steps and schedule; trigger and pause only with a scheduler', () => {
  const pipeline = {
    name: 'driver',
    latestVersion: 2,
    versions: 2,
    hash: 'h',
    createdAt: '',
    schedule: '0 3 * * *',
    steps: [
      { name: 'load', upstream: [], cells: [1], inputs: {} },
      { name: 'train', upstream: ['load'], cells: [2], inputs: {} },
    ],
    paused: false,
    lastRuns: [{ id: 'p1', state: 'success', logicalDate: '2026-11-24', startTime: 1, endTime: 2 }],
  };
  const without = fake(
    renderSidebar(
      fakeDocument,
      state({ pipelines: { scheduler: false, pipelines: [pipeline] } }),
      noActions(),
    ),
  );
  expect(without.byClass('cellar-PipelineItem')[0]!.textContent).toContain('v2 · 0 3 * * *');
  expect(without.byClass('cellar-PipelineItem-steps')[0]!.textContent).toBe('load  |  train ← load');
  expect(without.byClass('cellar-PipelineItem-actions')).toHaveLength(0);
  const actions = noActions();
  const withScheduler = fake(
    renderSidebar(fakeDocument, state({ pipelines: { scheduler: true, pipelines: [pipeline] } }), actions),
  );
  const buttons = withScheduler.byClass('cellar-PipelineItem-actions')[0]!.byTag('button');
  expect(buttons.map((b) => b.textContent)).toEqual(['Trigger', 'Pause']);
  buttons.forEach((b) => b.click());
  withScheduler.byClass('cellar-SidebarToolbar')[0]!.byTag('button')[0]!.click();
  expect(actions.calls).toEqual(['trigger driver', 'pause driver true', 'refresh']);
});

test('the sidebar explains empty and error states', () => {
  const none = fake(renderSidebar(fakeDocument, emptySidebarState(null), noActions()));
  expect(none.textContent).toContain('Open a TypeScript (tslab) notebook');
  const noExperiment = fake(
    renderSidebar(
      fakeDocument,
      state({ runs: { experiment: null, activeRunId: null, runs: [] }, errors: { models: XSS } }),
      noActions(),
    ),
  );
  expect(noExperiment.textContent).toContain('no experiment yet');
  expect(noExperiment.byClass('cellar-SidebarError')[0]!.textContent).toBe(XSS);
  expect(headlineMetrics({ training_r2: 1, b: 2, rmse: 3 }, 2)).toEqual([
    ['rmse', 3],
    ['b', 2],
  ]);
});
