/**
 * render/cards — the cards of cellar's rich outputs: a run card (`application/vnd.cellar.run+json`), a model
 * card (`application/vnd.cellar.model+json`) and a feature-join summary
 * (`application/vnd.cellar.feature-join+json`). The MIME data is JSON whose shapes are defined here; the
 * renderers accept partial data (missing fields show as "—") and render every value as text.
 */
import { formatDuration, formatNumber, formatTime, shortId } from '../format.js';
import { dataTable, h, keyValueTable, safeHref, type DocumentLike, type ElementLike } from './dom.js';

/** MIME type of a run card. */
export const RUN_MIME = 'application/vnd.cellar.run+json';
/** MIME type of a model card. */
export const MODEL_MIME = 'application/vnd.cellar.model+json';
/** MIME type of a feature-join summary. */
export const FEATURE_JOIN_MIME = 'application/vnd.cellar.feature-join+json';

/** Data of a run card (a tracked run, as `getRun` returns it, plus an optional link). */
export interface RunCardData {
  id: string;
  runName?: string | null;
  name?: string | null;
  status?: string;
  experimentName?: string | null;
  experimentId?: string;
  startTime?: number;
  endTime?: number | null;
  params?: Record<string, unknown>;
  metrics?: Record<string, unknown>;
  tags?: Record<string, unknown>;
  /** http(s) link to the run in cellar's web UI. */
  link?: string;
}

/** Data of a model card (a registered model version). */
export interface ModelCardData {
  name: string;
  version?: number;
  aliases?: string[];
  runId?: string | null;
  source?: string;
  estimator?: string;
  description?: string;
  featureNames?: string[];
  signature?: {
    inputs?: Array<{ name?: unknown; type?: unknown }>;
    outputs?: Array<{ name?: unknown; type?: unknown }>;
  };
  link?: string;
}

/** One feature view in a join summary. */
export interface FeatureJoinView {
  name: string;
  features?: string[];
  /** Entity rows that found a value. */
  matched?: number;
  /** Entity rows left with nulls (no row, or outside the TTL). */
  missing?: number;
  ttl?: string | number | null;
}

/** Data of a feature-join summary (`getHistoricalFeatures`). */
export interface FeatureJoinData {
  rows: number;
  features?: string[];
  entityKeys?: string[];
  views?: FeatureJoinView[];
  /** Epoch ms of the earliest and latest entity timestamps. */
  timeRange?: { min?: number | null; max?: number | null };
  elapsedMs?: number;
}

function text(value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'number') return formatNumber(value);
  if (typeof value === 'string') return value;
  return JSON.stringify(value) ?? String(value);
}

function sortedEntries(record: Record<string, unknown> | undefined): Array<[string, unknown]> {
  return Object.entries(record ?? {}).sort(([a], [b]) => a.localeCompare(b));
}

function statusBadge(doc: DocumentLike, status: string | undefined): ElementLike {
  const s = (status ?? 'UNKNOWN').toUpperCase();
  return h(doc, 'span', {
    className: `cellar-Status cellar-Status-${s.toLowerCase().replace(/[^a-z]/g, '')}`,
    text: s,
  });
}

function link(doc: DocumentLike, href: string | undefined, label: string): ElementLike | null {
  const url = href === undefined ? null : safeHref(href);
  if (url === null) return null;
  return h(doc, 'a', {
    className: 'cellar-Link',
    text: label,
    attrs: { href: url, target: '_blank', rel: 'noopener noreferrer' },
  });
}

/** Renders a run card: name, status, id, experiment, times, params and metrics. */
export function renderRunCard(doc: DocumentLike, data: RunCardData, now = Date.now()): ElementLike {
  const name = data.runName ?? data.name ?? null;
  const header = h(
    doc,
    'div',
    { className: 'cellar-CardHeader' },
    h(doc, 'span', { className: 'cellar-CardKind', text: 'Run' }),
    h(doc, 'span', { className: 'cellar-CardTitle', text: name ?? shortId(String(data.id ?? '')) }),
    statusBadge(doc, data.status),
  );
  const facts: Array<[string, string]> = [
    ['id', String(data.id ?? '—')],
    ['experiment', text(data.experimentName ?? data.experimentId)],
    ['started', formatTime(data.startTime)],
  ];
  if (typeof data.startTime === 'number')
    facts.push(['duration', formatDuration(data.startTime, data.endTime ?? null, now)]);
  const card = h(doc, 'div', { className: 'cellar-Card cellar-RunCard' }, header, keyValueTable(doc, facts));
  const params = sortedEntries(data.params);
  if (params.length > 0) {
    card.appendChild(h(doc, 'div', { className: 'cellar-CardSection', text: 'Parameters' }));
    card.appendChild(
      dataTable(
        doc,
        ['param', 'value'],
        params.map(([k, v]) => [k, text(v)]),
      ),
    );
  }
  const metrics = sortedEntries(data.metrics);
  if (metrics.length > 0) {
    card.appendChild(h(doc, 'div', { className: 'cellar-CardSection', text: 'Metrics' }));
    card.appendChild(
      dataTable(
        doc,
        ['metric', 'value'],
        metrics.map(([k, v]) => [k, text(v)]),
      ),
    );
  }
  const a = link(doc, data.link, 'Open run');
  if (a) card.appendChild(a);
  return card;
}

/** Renders a model card: name, version, aliases, source run, estimator and signature. */
export function renderModelCard(doc: DocumentLike, data: ModelCardData): ElementLike {
  const header = h(
    doc,
    'div',
    { className: 'cellar-CardHeader' },
    h(doc, 'span', { className: 'cellar-CardKind', text: 'Model' }),
    h(doc, 'span', {
      className: 'cellar-CardTitle',
      text: `${data.name}${data.version === undefined ? '' : ` v${data.version}`}`,
    }),
    ...(data.aliases ?? []).map((alias) => h(doc, 'span', { className: 'cellar-Alias', text: `@${alias}` })),
  );
  const facts: Array<[string, string]> = [];
  if (data.estimator) facts.push(['estimator', data.estimator]);
  if (data.runId) facts.push(['run', data.runId]);
  if (data.source) facts.push(['source', data.source]);
  if (data.description) facts.push(['description', data.description]);
  const card = h(doc, 'div', { className: 'cellar-Card cellar-ModelCard' }, header);
  if (facts.length > 0) card.appendChild(keyValueTable(doc, facts));
  const inputs =
    data.signature?.inputs ?? (data.featureNames ?? []).map((n) => ({ name: n, type: undefined }));
  if (inputs.length > 0) {
    card.appendChild(h(doc, 'div', { className: 'cellar-CardSection', text: 'Inputs' }));
    card.appendChild(
      dataTable(
        doc,
        ['column', 'type'],
        inputs.map((c) => [text(c.name), text(c.type)]),
      ),
    );
  }
  const outputs = data.signature?.outputs ?? [];
  if (outputs.length > 0) {
    card.appendChild(h(doc, 'div', { className: 'cellar-CardSection', text: 'Outputs' }));
    card.appendChild(
      dataTable(
        doc,
        ['column', 'type'],
        outputs.map((c) => [text(c.name), text(c.type)]),
      ),
    );
  }
  const a = link(doc, data.link, 'Open model');
  if (a) card.appendChild(a);
  return card;
}

function percent(part: number | undefined, whole: number): string {
  if (part === undefined || !Number.isFinite(part) || whole <= 0) return '—';
  return `${formatNumber(Math.round((1000 * part) / whole) / 10)} %`;
}

/** Renders a feature-join summary: rows × features, time range, and per view how many rows matched. */
export function renderFeatureJoin(doc: DocumentLike, data: FeatureJoinData): ElementLike {
  const rows = Number.isFinite(data.rows) ? data.rows : 0;
  const features = data.features ?? (data.views ?? []).flatMap((v) => v.features ?? []);
  const header = h(
    doc,
    'div',
    { className: 'cellar-CardHeader' },
    h(doc, 'span', { className: 'cellar-CardKind', text: 'Feature join' }),
    h(doc, 'span', { className: 'cellar-CardTitle', text: `${rows} rows × ${features.length} features` }),
  );
  const facts: Array<[string, string]> = [];
  if (data.entityKeys && data.entityKeys.length > 0) facts.push(['join keys', data.entityKeys.join(', ')]);
  if (data.timeRange)
    facts.push(['entity times', `${formatTime(data.timeRange.min)} … ${formatTime(data.timeRange.max)}`]);
  if (typeof data.elapsedMs === 'number') facts.push(['took', `${formatNumber(data.elapsedMs)} ms`]);
  const card = h(doc, 'div', { className: 'cellar-Card cellar-FeatureJoin' }, header);
  if (facts.length > 0) card.appendChild(keyValueTable(doc, facts));
  const views = data.views ?? [];
  if (views.length > 0) {
    card.appendChild(
      dataTable(
        doc,
        ['view', 'features', 'matched', 'missing', 'ttl'],
        views.map((v) => [
          v.name,
          (v.features ?? []).join(', ') || '—',
          percent(v.matched, rows),
          v.missing === undefined ? '—' : String(v.missing),
          text(v.ttl ?? null),
        ]),
      ),
    );
  }
  return card;
}

/** Renders the text of a card that could not be read (bad JSON shape). */
export function renderInvalid(doc: DocumentLike, kind: string, problem: string): ElementLike {
  return h(doc, 'div', {
    className: 'cellar-Card cellar-mod-invalid',
    text: `Cannot show this ${kind}: ${problem}`,
  });
}
