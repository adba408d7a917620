// The reference executor: runs a primitive graph node by node on the CPU with float32 storage. It is
// the plain, obviously correct baseline every other target is compared with.

import { assertNever, formatShape, type Graph, type Node, type NodeId, numel, operands, sameShape } from '../../src/ir/graph.ts';
import { fillRandn } from '../../src/ir/rng.ts';
import type { TensorMap } from '../../src/runtime/tensor.ts';
import { binaryKernel, selectKernel, unaryKernel } from './elementwise.ts';
import { matmulKernel } from './matmul.ts';
import { broadcastKernel, flipKernel, padKernel, permuteKernel, sliceKernel } from './movement.ts';
import { runConv } from './parallel.ts';
import { reduceKernel } from './reduce.ts';

/** Marks the nodes that some output depends on; runGraph skips the others. */
function neededNodes(graph: Graph): Uint8Array {
  const needed = new Uint8Array(graph.nodes.length);
  for (const id of graph.outputs.values()) needed[id] = 1;
  for (let id = graph.nodes.length - 1; id >= 0; id--) {
    if (!needed[id]) continue;
    for (const operand of operands(graph.nodes[id]!)) needed[operand] = 1;
  }
  return needed;
}

/**
 * Returns the index of the last node that reads each node, or Infinity for outputs, which must survive the
 * run. A node that no node reads gets its own index, so its buffer is dropped right after it is computed.
 * With `needed`, only reads by needed nodes count.
 */
export function lastUses(graph: Graph, needed?: Uint8Array): number[] {
  const last = graph.nodes.map((_, id) => id);
  graph.nodes.forEach((node, id) => {
    if (needed !== undefined && !needed[id]) return;
    for (const operand of operands(node)) last[operand] = Math.max(last[operand]!, id);
  });
  for (const id of graph.outputs.values()) last[id] = Infinity;
  return last;
}

function feedFor(feeds: TensorMap, node: Node & { name: string }, role: string): Float32Array {
  const feed = feeds[node.name];
  if (feed === undefined) {
    throw new Error(`missing feed for ${role} '${node.name}': expected a tensor of shape ${formatShape(node.shape)}`);
  }
  if (!sameShape(feed.shape, node.shape)) {
    throw new Error(
      `invalid feed for ${role} '${node.name}': expected shape ${formatShape(node.shape)}, got ${formatShape(feed.shape)}`,
    );
  }
  if (feed.data.length !== numel(node.shape)) {
    throw new Error(
      `invalid feed for ${role} '${node.name}': shape ${formatShape(node.shape)} needs ${numel(node.shape)} values, got ${feed.data.length}`,
    );
  }
  return feed.data;
}

/** Reads the integer key of a randn node from its scalar operand. */
function randnKey(value: number): number {
  if (!Number.isInteger(value) || value < 0 || value >= 2 ** 24) {
    throw new Error(`invalid randn key ${value}: expected an integer in [0, 2^24)`);
  }
  return value;
}

/**
 * Computes one node from its operands' buffers. Reshape returns its operand's buffer unchanged,
 * because reshape never moves data and buffers are never written after they are computed.
 */
function evaluate(node: Node, value: (id: NodeId) => Float32Array, shapeOf: (id: NodeId) => readonly number[], feeds: TensorMap): Float32Array {
  switch (node.kind) {
    case 'input':
      return feedFor(feeds, node, 'input');
    case 'param':
      return feedFor(feeds, node, 'parameter');
    case 'fill':
      return new Float32Array(numel(node.shape)).fill(node.value);
    case 'literal':
      return node.data;
    case 'reshape':
      return value(node.x);
    default:
      break;
  }
  const out = new Float32Array(numel(node.shape));
  switch (node.kind) {
    case 'unary':
      unaryKernel(node.op, value(node.x), node.slope, out);
      break;
    case 'binary':
      binaryKernel(node.op, value(node.a), value(node.b), out);
      break;
    case 'select':
      selectKernel(value(node.cond), value(node.a), value(node.b), out);
      break;
    case 'reduce':
      reduceKernel(node.op, value(node.x), shapeOf(node.x), node.axes, out);
      break;
    case 'permute':
      permuteKernel(value(node.x), shapeOf(node.x), node.perm, out);
      break;
    case 'broadcast':
      broadcastKernel(value(node.x), shapeOf(node.x), node.shape, out);
      break;
    case 'pad':
      padKernel(value(node.x), shapeOf(node.x), node.low, node.interior, node.shape, out);
      break;
    case 'slice':
      sliceKernel(value(node.x), shapeOf(node.x), node.start, node.step, node.shape, out);
      break;
    case 'flip':
      flipKernel(value(node.x), node.shape, node.axes, out);
      break;
    case 'matmul': {
      const sa = shapeOf(node.a);
      const sb = shapeOf(node.b);
      const m = sa[sa.length - 2]!;
      const k = sa[sa.length - 1]!;
      const n = sb[sb.length - 1]!;
      matmulKernel(value(node.a), value(node.b), numel(sa) / (m * k), m, k, n, out);
      break;
    }
    case 'conv2d':
      runConv('conv2d', value(node.x), shapeOf(node.x), value(node.w), shapeOf(node.w), node.attrs, out, node.shape);
      break;
    case 'conv2dBackInput':
      runConv('conv2dBackInput', value(node.dy), shapeOf(node.dy), value(node.w), shapeOf(node.w), node.attrs, out, node.shape);
      break;
    case 'conv2dBackWeight':
      runConv('conv2dBackWeight', value(node.x), shapeOf(node.x), value(node.dy), shapeOf(node.dy), node.attrs, out, node.shape);
      break;
    case 'randn':
      fillRandn(out, randnKey(value(node.key)[0]!), node.stream);
      break;
    default:
      assertNever(node);
  }
  return out;
}

export interface RunOptions {
  /**
   * When given, receives the wall-clock time in ms and the number of evaluated nodes per op name
   * (the node kind, or the op for unary, binary and reduce nodes), summed over the run.
   */
  profile?: Map<string, { ms: number; count: number }>;
  /**
   * When given, receives the maximum number of float32 elements in buffers that the executor
   * allocated and held at once (feeds, literals and reshape views excluded).
   */
  memory?: { peakElements: number };
}

/** Returns whether evaluate allocates a new buffer for the node, rather than reusing one. */
function allocates(node: Node): boolean {
  return node.kind !== 'input' && node.kind !== 'param' && node.kind !== 'literal' && node.kind !== 'reshape';
}

function profileKey(node: Node): string {
  if (node.kind === 'unary' || node.kind === 'binary') return node.op;
  if (node.kind === 'reduce') return `reduce.${node.op}`;
  return node.kind;
}

/**
 * Runs `graph` on the CPU. `feeds` contains every input and parameter by name, and the result contains
 * every output by name. Throws an Error naming the tensor when a feed is missing or has the wrong shape.
 * Intermediate buffers are dropped after their last reader, so peak memory stays near the live set.
 * Output buffers are fresh arrays: the caller may keep or modify them freely.
 */
export function runGraph(graph: Graph, feeds: TensorMap, options: RunOptions = {}): TensorMap {
  const { profile, memory } = options;
  let liveElements = 0;
  let peakElements = 0;
  const values: (Float32Array | undefined)[] = new Array(graph.nodes.length);
  const needed = neededNodes(graph);
  const last = lastUses(graph, needed);
  const value = (id: NodeId): Float32Array => {
    const buffer = values[id];
    if (buffer === undefined) throw new Error(`internal error: node ${id} has no value (read after its last use)`);
    return buffer;
  };
  const shapeOf = (id: NodeId): readonly number[] => graph.nodes[id]!.shape;

  graph.nodes.forEach((node, id) => {
    // Feeds are checked even when no output reads them, so a wrong feed never goes unnoticed.
    if (!needed[id] && node.kind !== 'input' && node.kind !== 'param') return;
    const start = profile === undefined ? 0 : performance.now();
    values[id] = evaluate(node, value, shapeOf, feeds);
    if (profile !== undefined) {
      const entry = profile.get(profileKey(node)) ?? { ms: 0, count: 0 };
      entry.ms += performance.now() - start;
      entry.count++;
      profile.set(profileKey(node), entry);
    }
    if (allocates(node)) {
      liveElements += numel(node.shape);
      peakElements = Math.max(peakElements, liveElements);
    }

    const drop = (dead: NodeId): void => {
      if (values[dead] === undefined) return;
      values[dead] = undefined;
      if (allocates(graph.nodes[dead]!)) liveElements -= numel(graph.nodes[dead]!.shape);
    };
    for (const operand of operands(node)) {
      if (last[operand] === id) drop(operand);
    }
    if (last[id] === id || !needed[id]) drop(id);
  });
  if (memory !== undefined) memory.peakElements = peakElements;

  const result: TensorMap = {};
  for (const [name, id] of graph.outputs) {
    // Copy, because an output may share its buffer with a feed, a literal or another output.
    result[name] = { shape: [...graph.nodes[id]!.shape], data: value(id).slice() };
  }
  return result;
}
