// The shardflow console page: polls /api/state and draws what it says. Every value from the cloud (keys,
// rejected payloads, reasons) is set as text, never parsed as HTML.
import { el, fmtDuration, fmtNumber, fmtTime, table } from './dom.js';
import { renderGraph } from './graph.js';
import { renderPlots } from './plots.js';

const POLL_MS = 1000;
/** Per pipeline: its section's parts and its charts. */
const sections = new Map();
let lastSeq = -1;

function section(pipeline) {
  let s = sections.get(pipeline.name);
  if (s !== undefined) return s;
  const root = el('section', { className: 'pipeline', attrs: { 'data-pipeline': pipeline.name } });
  const heading = el('h2', { text: pipeline.name }, [
    el('span', {
      className: 'muted',
      text: `  stream ${pipeline.stream} → ${pipeline.table === null ? `stream ${pipeline.publishes}` : `table ${pipeline.table}`}`,
    }),
  ]);
  s = {
    root,
    counters: el('div', { className: 'counters', attrs: { 'data-part': 'counters' } }),
    graph: el('div', { className: 'graph', attrs: { 'data-part': 'graph' } }),
    plots: el('div', { className: 'plots', attrs: { 'data-part': 'plots' } }),
    shards: el('div', { className: 'scroll', attrs: { 'data-part': 'shards' } }),
    windows: el('div', { attrs: { 'data-part': 'windows' } }),
    resultsTitle: el('h3', { text: 'Newest results' }),
    results: el('div', { attrs: { 'data-part': 'results' } }),
    rejected: el('div', { attrs: { 'data-part': 'rejected' } }),
    charts: new Map(),
  };
  root.append(
    heading,
    s.counters,
    el('h3', { text: 'Pipeline' }),
    s.graph,
    el('h3', { text: 'Over time' }),
    s.plots,
    el('div', { className: 'columns' }, [
      el('div', {}, [el('h3', { text: 'Shards' }), s.shards]),
      el('div', {}, [el('h3', { text: 'Windows' }), s.windows]),
    ]),
    s.resultsTitle,
    s.results,
    el('h3', { text: 'Last rejected records' }),
    s.rejected,
  );
  document.getElementById('pipelines').append(root);
  sections.set(pipeline.name, s);
  return s;
}

const COUNTERS = [
  ['records', 'records in', ''],
  ['rejected', 'rejected', 'bad'],
  ['late', 'late', 'bad'],
  ['duplicates', 'duplicates dropped', 'warn'],
  ['pending', 'pending on the stream', 'warn'],
  ['windowsOpen', 'windows open', ''],
  ['windowsClosing', 'windows closing', ''],
  ['windowsEmitted', 'windows emitted', ''],
  ['watermark', 'pipeline watermark (UTC)', ''],
  ['watermarkLagMs', 'watermark lag behind wall clock', 'warn'],
  ['closedUpTo', 'windows closed up to (UTC)', ''],
];

function renderCounters(s, counters) {
  s.counters.replaceChildren(
    ...COUNTERS.map(([key, label, tone]) => {
      const value = counters === null ? null : counters[key];
      const text =
        key === 'watermark' || key === 'closedUpTo'
          ? fmtTime(value)
          : key === 'watermarkLagMs'
            ? fmtDuration(value)
            : key === 'pending' && counters && counters.pendingAtLeast
              ? `≥ ${fmtNumber(value)}`
              : fmtNumber(value);
      return el(
        'div',
        { className: `counter ${tone}`, attrs: { 'data-counter': key, 'data-value': value } },
        [el('span', { className: 'value', text }), el('span', { className: 'label', text: label })],
      );
    }),
  );
}

function renderShards(s, shards) {
  s.shards.replaceChildren(
    table(
      ['shard', 'pending', 'iterator age', 'watermark (UTC)', 'lag', 'last activity (UTC)', 'records in'],
      shards.map((r) => [
        r.closed ? `${r.id} (closed)` : r.id,
        r.pendingAtLeast ? `≥ ${fmtNumber(r.pending)}` : fmtNumber(r.pending),
        fmtDuration(r.iteratorAgeMs),
        fmtTime(r.watermark),
        fmtDuration(r.watermarkLagMs),
        fmtTime(r.lastActivity),
        fmtNumber(r.records),
      ]),
      ['', 'num', 'num', '', 'num', '', 'num'],
    ),
  );
}

function renderWindows(s, windows) {
  if (windows === null) {
    s.windows.replaceChildren(el('p', { className: 'muted', text: 'no sample yet' }));
    return;
  }
  const parts = [
    el('p', {
      text: `${fmtNumber(windows.open)} open · ${fmtNumber(windows.closing)} closing · ${fmtNumber(windows.emitted)} emitted`,
    }),
  ];
  if (windows.note !== null) parts.push(el('p', { className: 'muted', text: windows.note }));
  else if (windows.nextDue.length === 0)
    parts.push(el('p', { className: 'muted', text: 'no window waiting to close' }));
  else
    parts.push(
      el('p', {
        className: 'muted',
        text: 'Next windows due (close when the watermark reaches end + lateness):',
      }),
      table(
        ['window (UTC)', 'closes at (event time)', 'state', 'due in (event time)'],
        windows.nextDue.map((w) => [
          `${fmtTime(w.start)} – ${fmtTime(w.end).slice(11)}`,
          fmtTime(w.closesAt),
          w.state,
          w.state === 'closing' ? 'next tick' : fmtDuration(w.dueInMs),
        ]),
        ['', '', '', 'num'],
      ),
    );
  s.windows.replaceChildren(...parts);
}

function renderResults(s, results) {
  s.resultsTitle.textContent = results === null ? 'Newest results' : `Newest results: ${results.table}`;
  if (results === null || results.latest === null) {
    s.results.replaceChildren(el('p', { className: 'muted', text: 'no window emitted yet' }));
    return;
  }
  const { latest } = results;
  const window =
    latest.window === null
      ? latest.objectKey
      : `window ${fmtTime(latest.window.start)} – ${fmtTime(latest.window.end).slice(11)} UTC`;
  s.results.replaceChildren(
    el('p', {
      className: 'muted',
      text: `${window}: ${fmtNumber(latest.totalRows)} rows${latest.totalRows > latest.rows.length ? `, the first ${latest.rows.length} by key` : ''} · ${fmtNumber(results.windowsEmitted)} windows emitted`,
    }),
    el('div', { className: 'scroll' }, [
      table(
        latest.columns,
        latest.rows.map((row) =>
          row.map((cell) =>
            typeof cell === 'number' ? fmtNumber(cell) : cell === null ? '—' : String(cell),
          ),
        ),
        latest.rows[0] === undefined
          ? []
          : latest.rows[0].map((cell) => (typeof cell === 'number' ? 'num' : 'text')),
      ),
    ]),
  );
}

function renderRejected(s, rejected) {
  if (rejected === null || rejected.total === 0) {
    s.rejected.replaceChildren(el('p', { className: 'muted', text: 'no rejected records' }));
    return;
  }
  s.rejected.replaceChildren(
    el(
      'div',
      { className: 'chips' },
      rejected.byReason.map((r) =>
        el('span', { className: 'chip', text: `${r.reason} × ${fmtNumber(r.count)}` }),
      ),
    ),
    el('div', { className: 'scroll' }, [
      table(
        ['reason', 'stage', 'detail', 'partition key', 'payload (UTF-8)', 'shard · sequence number'],
        rejected.recent.map((r) => [
          r.reason,
          r.stage,
          r.detail,
          r.partitionKey,
          r.payload,
          `${r.shardId} · ${r.sequenceNumber}`,
        ]),
        ['', '', 'text', 'text', 'text', 'text'],
      ),
    ]),
  );
}

// ---------------------------------------------------------------- the page

function showError(message) {
  const box = document.getElementById('error');
  box.hidden = message === null;
  box.textContent = message === null ? '' : message;
}

function render(view) {
  document.getElementById('cloud').textContent = `cloud ${view.endpoint}`;
  document.getElementById('sampled').textContent =
    view.sampledAt === null
      ? 'waiting for the first sample…'
      : `sampled ${fmtTime(view.sampledAt)} UTC (read took ${fmtDuration(view.sampleMs)}; every ${fmtDuration(view.intervalMs)})`;
  document.body.setAttribute('data-seq', String(view.seq));
  showError(view.error);
  for (const pipeline of view.pipelines) {
    const s = section(pipeline);
    renderCounters(s, pipeline.counters);
    renderGraph(s.graph, pipeline.graph);
    renderPlots(s.plots, s.charts, pipeline.plots);
    renderShards(s, pipeline.shards);
    renderWindows(s, pipeline.windows);
    renderResults(s, pipeline.results);
    renderRejected(s, pipeline.rejected);
  }
}

async function poll() {
  try {
    const response = await fetch('/api/state', { cache: 'no-store' });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const view = await response.json();
    if (view.seq !== lastSeq) {
      lastSeq = view.seq;
      render(view);
    } else if (view.error === null) showError(null);
  } catch (error) {
    showError(
      `The console server is not answering (${error && error.message ? error.message : error}): is "npx shardflow console" still running?`,
    );
  } finally {
    setTimeout(poll, POLL_MS);
  }
}

void poll();
