// Draws a DrawGraph as SVG in layers: each node sits one row below its deepest producer, so data
// flows top to bottom. Leaves (inputs, parameters, constants) sit just above their first consumer
// instead of all in the top row, which keeps wide primitive graphs readable.
import type { DrawGraph } from '../analyze.ts';

const SVG = 'http://www.w3.org/2000/svg';
const BOX_WIDTH = 250;
const BOX_HEIGHT = 36;
const GAP_X = 18;
const GAP_Y = 26;
const MARGIN = 12;

const PALETTE = ['#dbeafe', '#dcfce7', '#fef9c3', '#fde2e4', '#ede9fe', '#ffedd5', '#cffafe', '#f1f5f9', '#fce7f3', '#e0e7ff'];

function colourOf(group: string): string {
  let hash = 0;
  for (const char of group) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return PALETTE[hash % PALETTE.length]!;
}

/** Row index of every node. Edges must go from lower to higher node ids, as in every graph drawn here. */
function assignRows(graph: DrawGraph): number[] {
  const producers = graph.nodes.map((): number[] => []);
  const consumers = graph.nodes.map((): number[] => []);
  for (const [from, to] of graph.edges) {
    producers[to]!.push(from);
    consumers[from]!.push(to);
  }
  const rows = graph.nodes.map(() => 0);
  for (const node of graph.nodes) {
    for (const from of producers[node.id]!) rows[node.id] = Math.max(rows[node.id]!, rows[from]! + 1);
  }
  for (const node of graph.nodes) {
    if (producers[node.id]!.length > 0 || consumers[node.id]!.length === 0) continue;
    rows[node.id] = Math.max(0, Math.min(...consumers[node.id]!.map((to) => rows[to]!)) - 1);
  }
  // Side lanes (the fade-in path) sit as low as their consumers allow, beside the main path's end.
  for (const node of [...graph.nodes].reverse()) {
    if (node.lane === 0 || consumers[node.id]!.length === 0) continue;
    rows[node.id] = Math.min(...consumers[node.id]!.map((to) => rows[to]!)) - 1;
  }
  return rows;
}

function element<K extends keyof SVGElementTagNameMap>(name: K, attributes: Record<string, string | number>): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  return node;
}

/** Returns an SVG drawing of `graph`; `onSelect` receives the id of a clicked node. */
export function drawGraph(graph: DrawGraph, onSelect?: (id: number) => void): SVGSVGElement {
  const rows = assignRows(graph);
  const positions = new Map<number, { x: number; y: number }>();
  const rowFill = new Map<string, number>();
  const laneWidth = new Map<number, number>();
  // Count the nodes per (row, lane) first, so the fade-in lane starts right of the widest main row.
  for (const node of graph.nodes) {
    const key = `${rows[node.id]}:${node.lane}`;
    rowFill.set(key, (rowFill.get(key) ?? 0) + 1);
    laneWidth.set(node.lane, Math.max(laneWidth.get(node.lane) ?? 0, rowFill.get(key)!));
  }
  rowFill.clear();
  const laneStart = (lane: number): number => {
    let columns = 0;
    for (let l = 0; l < lane; l++) columns += laneWidth.get(l) ?? 0;
    return columns;
  };
  let width = 0;
  let height = 0;
  for (const node of graph.nodes) {
    const key = `${rows[node.id]}:${node.lane}`;
    const column = laneStart(node.lane) + (rowFill.get(key) ?? 0);
    rowFill.set(key, (rowFill.get(key) ?? 0) + 1);
    const x = MARGIN + column * (BOX_WIDTH + GAP_X);
    const y = MARGIN + rows[node.id]! * (BOX_HEIGHT + GAP_Y);
    positions.set(node.id, { x, y });
    width = Math.max(width, x + BOX_WIDTH + MARGIN);
    height = Math.max(height, y + BOX_HEIGHT + MARGIN);
  }

  const svg = element('svg', { width, height, viewBox: `0 0 ${width} ${height}`, class: 'graph', role: 'img' });
  svg.setAttribute('aria-label', graph.title);
  const edgeLayer = element('g', { class: 'edges' });
  const lanes = new Map(graph.nodes.map((node) => [node.id, node.lane]));
  for (const [from, to] of graph.edges) {
    const a = positions.get(from)!;
    const b = positions.get(to)!;
    const x1 = a.x + BOX_WIDTH / 2;
    const y1 = a.y + BOX_HEIGHT;
    const x2 = b.x + BOX_WIDTH / 2;
    const y2 = b.y;
    let d: string;
    if (lanes.get(from) !== lanes.get(to) && y2 - y1 > GAP_Y) {
      // Between lanes, turn within the gap under the source, then run straight down the target's
      // column, so the edge does not cross the boxes of the other lane.
      const turn = y1 + GAP_Y;
      d = `M${x1},${y1} C${x1},${turn} ${x2},${y1} ${x2},${turn} L${x2},${y2}`;
    } else {
      const bend = Math.max(12, (y2 - y1) / 2);
      d = `M${x1},${y1} C${x1},${y1 + bend} ${x2},${y2 - bend} ${x2},${y2}`;
    }
    edgeLayer.append(element('path', { d, class: 'edge' }));
  }
  svg.append(edgeLayer);

  for (const node of graph.nodes) {
    const { x, y } = positions.get(node.id)!;
    const group = element('g', { class: 'node', transform: `translate(${x},${y})`, 'data-id': node.id });
    group.append(element('rect', { width: BOX_WIDTH, height: BOX_HEIGHT, rx: 5, fill: colourOf(node.group), class: node.lane === 1 ? 'fade' : '' }));
    const title = element('text', { x: 7, y: 15, class: 'title' });
    title.textContent = clip(node.title, 36);
    const detail = element('text', { x: 7, y: 29, class: 'detail' });
    detail.textContent = clip(node.detail, 41);
    const tooltip = element('title', {});
    tooltip.textContent = `${node.title}\n${node.detail}`;
    group.append(tooltip, title, detail);
    if (onSelect !== undefined) group.addEventListener('click', () => onSelect(node.id));
    svg.append(group);
  }
  return svg;
}

function clip(text: string, length: number): string {
  return text.length <= length ? text : `${text.slice(0, length - 1)}…`;
}
