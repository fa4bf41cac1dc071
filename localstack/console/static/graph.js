// The pipeline graph as SVG, from the view's nodes (placed on a grid) and edges.
import { cut, fmtNumber, svgEl } from './dom.js';

const NODE_W = 150;
const COL_W = 200;
const ROW_H = 124;
const PAD = 14;
const LINE = 14;

function nodeHeight(node) {
  return 40 + node.stats.length * LINE;
}

/** Draws `graph` into `container`, replacing what was there. */
export function renderGraph(container, graph) {
  const width = PAD * 2 + (graph.cols - 1) * COL_W + NODE_W;
  const height = PAD * 2 + (graph.rows - 1) * ROW_H + Math.max(...graph.nodes.map(nodeHeight));
  const root = svgEl('svg', {
    viewBox: `0 0 ${width} ${height}`,
    role: 'img',
    'aria-label': 'pipeline graph',
  });
  const defs = svgEl('defs');
  for (const [id, color] of [
    ['arrow', '#8c959f'],
    ['arrow-side', '#cf222e'],
  ]) {
    const marker = svgEl('marker', {
      id,
      viewBox: '0 0 10 10',
      refX: 9,
      refY: 5,
      markerWidth: 7,
      markerHeight: 7,
      orient: 'auto-start-reverse',
    });
    marker.append(svgEl('path', { d: 'M 0 0 L 10 5 L 0 10 z', fill: color }));
    defs.append(marker);
  }
  root.append(defs);
  const box = new Map();
  for (const node of graph.nodes)
    box.set(node.id, { x: PAD + node.col * COL_W, y: PAD + node.row * ROW_H, h: nodeHeight(node), node });
  for (const edge of graph.edges) {
    const a = box.get(edge.from);
    const b = box.get(edge.to);
    if (a === undefined || b === undefined) continue;
    let x1, y1, x2, y2, c1, c2;
    if (edge.side) {
      x1 = a.x + NODE_W / 2;
      y1 = a.y + a.h;
      x2 = b.x + NODE_W / 2;
      y2 = b.y;
      c1 = `${x1} ${(y1 + y2) / 2}`;
      c2 = `${x2} ${(y1 + y2) / 2}`;
    } else {
      x1 = a.x + NODE_W;
      y1 = a.y + Math.min(a.h / 2, 24);
      x2 = b.x;
      y2 = b.y + Math.min(b.h / 2, 24);
      c1 = `${(x1 + x2) / 2} ${y1}`;
      c2 = `${(x1 + x2) / 2} ${y2}`;
    }
    root.append(
      svgEl('path', {
        class: edge.side ? 'edge side' : 'edge',
        d: `M ${x1} ${y1} C ${c1}, ${c2}, ${x2} ${y2}`,
        'marker-end': `url(#${edge.side ? 'arrow-side' : 'arrow'})`,
        'data-edge': `${edge.from}>${edge.to}`,
      }),
    );
    if (edge.records !== null)
      root.append(
        svgEl(
          'text',
          { class: 'edge-label', x: (x1 + x2) / 2, y: (y1 + y2) / 2 - 4, 'text-anchor': 'middle' },
          fmtNumber(edge.records),
        ),
      );
  }
  for (const { x, y, h, node } of box.values()) {
    const g = svgEl('g', { class: `node ${node.kind}`, 'data-node': node.id });
    g.append(svgEl('title', {}, `${node.title} — ${node.subtitle}`));
    g.append(svgEl('rect', { x, y, width: NODE_W, height: h, rx: 6 }));
    g.append(svgEl('text', { class: 'title', x: x + 8, y: y + 16 }, cut(node.title, 20)));
    g.append(svgEl('text', { class: 'subtitle', x: x + 8, y: y + 30 }, cut(node.subtitle, 25)));
    node.stats.forEach((stat, i) => {
      const t = svgEl('text', { class: `stat ${stat.tone || ''}`, x: x + 8, y: y + 46 + i * LINE });
      t.append(svgEl('tspan', {}, `${stat.label}: `));
      t.append(svgEl('tspan', { class: 'value' }, fmtNumber(stat.value)));
      g.append(t);
    });
    root.append(g);
  }
  container.replaceChildren(root);
}
