// Graph-to-graph passes: dead code elimination, common subexpression elimination, and constant
// folding with algebraic simplification. Each returns a new graph with the same output names,
// the same inputs and parameters, and the same values on every output.

import { formatShape, Graph, type Node, type NodeId, numel, operands, sameShape } from '../ir/graph.ts';
import { binaryScalar, unaryScalar } from '../kernel/scalar.ts';
import { rebuild, remapNode } from './rewrite.ts';

/**
 * Removes the nodes that no output depends on. Inputs and parameters stay, so the program keeps
 * the feeds it declares and the executor still checks them.
 */
export function eliminateDeadCode(graph: Graph): Graph {
  const live = new Uint8Array(graph.nodes.length);
  for (const id of graph.outputs.values()) live[id] = 1;
  for (let id = graph.nodes.length - 1; id >= 0; id--) {
    const node = graph.nodes[id]!;
    if (node.kind === 'input' || node.kind === 'param') live[id] = 1;
    if (!live[id]) continue;
    for (const operand of operands(node)) live[operand] = 1;
  }
  const map: NodeId[] = new Array(graph.nodes.length);
  const out = new Graph();
  graph.nodes.forEach((node, id) => {
    if (live[id]) map[id] = out.add(remapNode(node, (operand) => map[operand]!));
  });
  for (const [name, id] of graph.outputs) out.setOutput(name, map[id]!);
  return out;
}

/** Returns a string that is equal for two nodes exactly when they compute the same value. */
function nodeKey(node: Node): string {
  if (node.kind === 'literal') return `literal ${formatShape(node.shape)} ${Array.from(node.data).join(',')}`;
  return JSON.stringify(node);
}

/**
 * Merges nodes of the same kind, attributes and operands into one. All ops are pure (randn too:
 * it is a function of its key, stream and index), so merging never changes a value.
 */
export function eliminateCommonSubexpressions(graph: Graph): Graph {
  const seen = new Map<string, NodeId>();
  return rebuild(graph, (node, out) => {
    const key = nodeKey(node);
    const existing = seen.get(key);
    if (existing !== undefined) return existing;
    const id = out.add(node);
    seen.set(key, id);
    return id;
  });
}

/** Folds elements computed from fills only, up to this many elements per node. */
const FOLD_LIMIT = 1 << 16;

/** Returns the float32 value of a fill node, or undefined for any other node. */
function fillValue(graph: Graph, id: NodeId): number | undefined {
  const node = graph.node(id);
  return node.kind === 'fill' ? Math.fround(node.value) : undefined;
}

/**
 * Folds constants and simplifies algebra in one front-to-back walk. Ops over fills become fills.
 * x * 1, 1 * x, x + 0, 0 + x, x - 0, x / 1 and neg(neg(x)) become x. A reshape of a reshape, a
 * permute of a permute and a broadcast of a broadcast merge into one, identity movements vanish,
 * and a movement of a fill becomes a fill. A select on a fill condition becomes its branch.
 * NOTE: x * 0 is kept, because it is NaN for an infinite or NaN x. Literals are not folded.
 */
export function simplify(graph: Graph): Graph {
  return rebuild(graph, (node, out) => simplifyNode(node, out) ?? out.add(node));
}

/** Returns the id of a simpler equivalent of `node` in `out`, or undefined to keep the node. */
function simplifyNode(node: Node, out: Graph): NodeId | undefined {
  const fill = (value: number): NodeId => out.add({ kind: 'fill', shape: node.shape, value: Math.fround(value) });
  const small = numel(node.shape) <= FOLD_LIMIT;
  switch (node.kind) {
    case 'unary': {
      const v = fillValue(out, node.x);
      if (v !== undefined && small) return fill(unaryScalar(node.op, v, node.slope));
      const inner = out.node(node.x);
      if (node.op === 'neg' && inner.kind === 'unary' && inner.op === 'neg') return inner.x;
      return undefined;
    }
    case 'binary': {
      const a = fillValue(out, node.a);
      const b = fillValue(out, node.b);
      if (a !== undefined && b !== undefined && small) return fill(binaryScalar(node.op, a, b));
      if (node.op === 'mul' && b === 1) return node.a;
      if (node.op === 'mul' && a === 1) return node.b;
      if (node.op === 'add' && b === 0) return node.a;
      if (node.op === 'add' && a === 0) return node.b;
      if (node.op === 'sub' && b === 0) return node.a;
      if (node.op === 'div' && b === 1) return node.a;
      return undefined;
    }
    case 'select': {
      const cond = fillValue(out, node.cond);
      if (cond === undefined) return undefined;
      return cond !== 0 ? node.a : node.b;
    }
    case 'reduce': {
      const v = fillValue(out, node.x);
      if (v === undefined || !small) return undefined;
      const inShape = out.shape(node.x);
      const count = node.axes.reduce((n, axis) => n * inShape[axis]!, 1);
      if (node.op === 'sum') return fill(v * count);
      return count > 0 ? fill(v) : fill(-Infinity);
    }
    case 'reshape': {
      if (sameShape(node.shape, out.shape(node.x))) return node.x;
      const inner = out.node(node.x);
      if (inner.kind === 'fill') return fill(inner.value);
      if (inner.kind === 'reshape') return reshapeOf(out, inner.x, node.shape);
      return undefined;
    }
    case 'permute': {
      if (node.perm.every((p, i) => p === i)) return node.x;
      const inner = out.node(node.x);
      if (inner.kind === 'fill') return fill(inner.value);
      if (inner.kind !== 'permute') return undefined;
      const perm = node.perm.map((p) => inner.perm[p]!);
      if (perm.every((p, i) => p === i)) return inner.x;
      return out.add({ kind: 'permute', shape: node.shape, x: inner.x, perm });
    }
    case 'broadcast': {
      if (sameShape(node.shape, out.shape(node.x))) return node.x;
      const inner = out.node(node.x);
      if (inner.kind === 'fill') return fill(inner.value);
      if (inner.kind === 'broadcast') return out.add({ kind: 'broadcast', shape: node.shape, x: inner.x });
      return undefined;
    }
    case 'slice': {
      const inShape = out.shape(node.x);
      const whole = node.start.every((s, i) => s === 0 && node.end[i] === inShape[i] && node.step[i] === 1);
      if (whole) return node.x;
      const v = fillValue(out, node.x);
      return v === undefined ? undefined : fill(v);
    }
    case 'flip': {
      if (node.axes.length === 0) return node.x;
      const v = fillValue(out, node.x);
      return v === undefined ? undefined : fill(v);
    }
    case 'pad': {
      if ([...node.low, ...node.high, ...node.interior].every((p) => p === 0)) return node.x;
      return fillValue(out, node.x) === 0 ? fill(0) : undefined;
    }
    default:
      return undefined;
  }
}

function reshapeOf(out: Graph, x: NodeId, shape: readonly number[]): NodeId {
  if (sameShape(out.shape(x), shape)) return x;
  return out.add({ kind: 'reshape', shape: [...shape], x });
}
