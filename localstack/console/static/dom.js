// Building blocks of the console page: elements made from text only (textContent, SVG text nodes), never
// from HTML, and the formats every part uses.

const SVG_NS = 'http://www.w3.org/2000/svg';
/** Watermarks at or beyond this are the end of bounded input, not instants. */
const END_OF_INPUT = 8.64e15;

/** An element with a class, text and attributes; children appended in order. */
export function el(tag, options, children) {
  const node = document.createElement(tag);
  const o = options || {};
  if (o.className) node.className = o.className;
  if (o.text !== undefined) node.textContent = String(o.text);
  for (const [name, value] of Object.entries(o.attrs || {})) node.setAttribute(name, String(value));
  for (const child of children || []) node.append(child);
  return node;
}

export function svgEl(tag, attrs, text) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = String(text);
  return node;
}

function pad(n) {
  return String(n).padStart(2, '0');
}

export function fmtNumber(value) {
  if (value === null || value === undefined) return '—';
  if (typeof value !== 'number') return String(value);
  return value.toLocaleString('en-US', { maximumFractionDigits: 3 });
}

/** An instant (epoch ms) as UTC date and time. */
export function fmtTime(ms) {
  if (ms === null || ms === undefined) return '—';
  if (ms >= END_OF_INPUT) return '+∞ (end of input)';
  if (ms <= -END_OF_INPUT) return '-∞';
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

export function fmtClock(seconds) {
  const d = new Date(seconds * 1000);
  return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

export function fmtDuration(ms) {
  if (ms === null || ms === undefined) return '—';
  const sign = ms < 0 ? '-' : '';
  let rest = Math.abs(ms);
  if (rest < 1000) return `${sign}${Math.round(rest)} ms`;
  rest = Math.round(rest / 1000);
  const d = Math.floor(rest / 86400);
  const h = Math.floor((rest % 86400) / 3600);
  const m = Math.floor((rest % 3600) / 60);
  const s = rest % 60;
  if (d > 0) return `${sign}${d}d ${h}h`;
  if (h > 0) return `${sign}${h}h ${m}m`;
  if (m > 0) return `${sign}${m}m ${s}s`;
  return `${sign}${s}s`;
}

export function cut(text, max) {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export function table(headers, rows, numeric) {
  const head = el(
    'tr',
    {},
    headers.map((h) => el('th', { text: h })),
  );
  const body = rows.map((cells) =>
    el(
      'tr',
      {},
      cells.map((cell, i) =>
        el('td', {
          className: numeric && numeric[i] === 'num' ? 'num' : numeric && numeric[i] === 'text' ? 'text' : '',
          text: cell,
        }),
      ),
    ),
  );
  return el('table', {}, [el('thead', {}, [head]), el('tbody', {}, body)]);
}
