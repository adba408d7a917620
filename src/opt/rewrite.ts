// Helpers that passes share: remapping a node's operands and rebuilding a graph node by node.

import { assertNever, Graph, type Node, type NodeId } from '../ir/graph.ts';

/** Returns a copy of `node` whose operands are mapped through `map`. */
export function remapNode(node: Node, map: (id: NodeId) => NodeId): Node {
  switch (node.kind) {
    case 'input':
    case 'param':
    case 'fill':
    case 'literal':
      return { ...node };
    case 'unary':
    case 'reduce':
    case 'reshape':
    case 'permute':
    case 'broadcast':
    case 'pad':
    case 'slice':
    case 'flip':
      return { ...node, x: map(node.x) };
    case 'binary':
    case 'matmul':
      return { ...node, a: map(node.a), b: map(node.b) };
    case 'select':
      return { ...node, cond: map(node.cond), a: map(node.a), b: map(node.b) };
    case 'conv2d':
      return { ...node, x: map(node.x), w: map(node.w) };
    case 'conv2dBackInput':
      return { ...node, dy: map(node.dy), w: map(node.w) };
    case 'conv2dBackWeight':
      return { ...node, x: map(node.x), dy: map(node.dy) };
    case 'randn':
      return { ...node, key: map(node.key) };
    default:
      return assertNever(node);
  }
}

/**
 * Rebuilds `graph` front to back. `rewrite` receives each node with operands already mapped into
 * the new graph and returns the id of its replacement there, adding nodes through `out.add` as
 * needed. Outputs keep their names.
 */
export function rebuild(graph: Graph, rewrite: (node: Node, out: Graph, oldId: NodeId) => NodeId): Graph {
  const out = new Graph();
  const map: NodeId[] = new Array(graph.nodes.length);
  graph.nodes.forEach((node, id) => {
    map[id] = rewrite(remapNode(node, (operand) => map[operand]!), out, id);
  });
  for (const [name, id] of graph.outputs) out.setOutput(name, map[id]!);
  return out;
}
