/* global uPlot */
// The time-series plots, drawn by uPlot (its browser build, loaded before this module). A chart is created
// once per plot and given new data on each sample; it is created again only when its series change.
import { el, fmtClock, fmtNumber } from './dom.js';

const COLORS = ['#0969da', '#cf222e', '#1a7f37', '#9a6700', '#8250df', '#bf3989', '#0550ae', '#57606a'];
const HEIGHT = 200;
/** Every chart drawn, to follow the window's width. */
const drawn = new Set();

function width(box) {
  return Math.max(320, box.clientWidth - 12);
}

function axisValue(unit, v) {
  if (v === null || v === undefined) return '—';
  if (unit === 'time') return fmtClock(v);
  if (unit === 'seconds') return `${fmtNumber(v)} s`;
  return fmtNumber(v);
}

function plotData(plot) {
  return [plot.x.slice(), ...plot.series.map((s) => s.values.slice())];
}

/** Draws `plots` into `container`; `charts` (plot id → chart) is kept between calls. */
export function renderPlots(container, charts, plots) {
  for (const plot of plots) {
    const key = plot.series.map((x) => x.label).join('|');
    let chart = charts.get(plot.id);
    if (chart === undefined) {
      const box = el('div', { className: 'plot', attrs: { 'data-plot': plot.id } });
      container.append(box);
      chart = { box, key: null, uplot: null };
      charts.set(plot.id, chart);
      drawn.add(chart);
    }
    chart.box.setAttribute('data-points', String(plot.x.length));
    chart.box.setAttribute('data-series', String(plot.series.length));
    if (chart.uplot !== null && chart.key === key) {
      chart.uplot.setData(plotData(plot));
      continue;
    }
    if (chart.uplot !== null) chart.uplot.destroy();
    chart.key = key;
    chart.uplot = new uPlot(
      {
        title: plot.title,
        width: width(chart.box),
        height: HEIGHT,
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
        scales: { x: { time: true } },
        series: [
          { label: 'UTC', value: (u, v) => (v === null ? '—' : fmtClock(v)) },
          ...plot.series.map((series, i) => ({
            label: series.label,
            stroke: COLORS[i % COLORS.length],
            width: 1.5,
            points: { show: false },
            value: (u, v) => axisValue(plot.unit, v),
          })),
        ],
        axes: [
          {},
          {
            size: plot.unit === 'time' ? 72 : 60,
            values: (u, splits) => splits.map((v) => axisValue(plot.unit, v)),
          },
        ],
      },
      plotData(plot),
      chart.box,
    );
  }
}

window.addEventListener('resize', () => {
  for (const chart of drawn)
    if (chart.uplot !== null) chart.uplot.setSize({ width: width(chart.box), height: HEIGHT });
});
