// Reverse-mode automatic differentiation on the primitive graph. The gradient nodes are appended to
// the same graph through the same builder, so a gradient can itself be differentiated (R1 needs the
// gradient, with respect to D's parameters, of a norm of D's input gradient).

import type { Builder } from '../ir/builder.ts';
import { formatShape, type NodeId, operands, sameShape } from '../ir/graph.ts';
import { vjp } from './rules.ts';

/**
 * Marks the nodes that lie on some path from a `wrt` node to `y`: descendants of a `wrt` node that
 * are also ancestors of `y`. Both sets include their end points.
 */
function nodesBetween(b: Builder, y: NodeId, wrt: readonly NodeId[]): Uint8Array {
  const nodes = b.graph.nodes;
  const reachesFromWrt = new Uint8Array(y + 1);
  for (const id of wrt) if (id <= y) reachesFromWrt[id] = 1;
  for (let id = 0; id <= y; id++) {
    if (reachesFromWrt[id]) continue;
    if (operands(nodes[id]!).some((operand) => reachesFromWrt[operand])) reachesFromWrt[id] = 1;
  }
  const between = new Uint8Array(y + 1);
  if (reachesFromWrt[y]) between[y] = 1;
  for (let id = y; id >= 0; id--) {
    if (!between[id]) continue;
    for (const operand of operands(nodes[id]!)) {
      if (reachesFromWrt[operand]) between[operand] = 1;
    }
  }
  return between;
}

/**
 * Appends to `b`'s graph the gradient of `y` with respect to each node in `wrt` and returns one
 * gradient node per entry, with that entry's shape. `y` must be a scalar (shape []) unless `dy` is
 * given. `dy` is the adjoint seed, of y's shape, and the result is then the vector-Jacobian product with dy.
 * Where y does not depend on a `wrt` node the result is a zero `fill`. Only nodes between a `wrt`
 * node and `y` are differentiated.
 */
export function gradients(b: Builder, y: NodeId, wrt: readonly NodeId[], dy?: NodeId): NodeId[] {
  const yShape = b.shape(y);
  let seed: NodeId;
  if (dy === undefined) {
    if (yShape.length !== 0) {
      throw new Error(`gradients: y (node ${y}) has shape ${formatShape(yShape)}; pass dy for a non-scalar y`);
    }
    seed = b.scalar(1);
  } else {
    if (!sameShape(b.shape(dy), yShape)) {
      throw new Error(`gradients: dy has shape ${formatShape(b.shape(dy))}, y has shape ${formatShape(yShape)}`);
    }
    seed = dy;
  }

  const between = nodesBetween(b, y, wrt);
  const adjoints = new Map<NodeId, NodeId>();
  if (between[y]) adjoints.set(y, seed);
  const needsGradient = (operand: NodeId): boolean => between[operand] === 1;

  // Node ids only grow, so walking down from y visits every consumer of a node before the node
  // itself, and the nodes appended on the way are never visited.
  for (let id = y; id >= 0; id--) {
    const g = adjoints.get(id);
    if (g === undefined || !between[id]) continue;
    for (const [operand, contribution] of vjp(b, id, g, needsGradient)) {
      if (!needsGradient(operand)) continue;
      const previous = adjoints.get(operand);
      adjoints.set(operand, previous === undefined ? contribution : b.add(previous, contribution));
    }
  }

  return wrt.map((id) => adjoints.get(id) ?? b.fill(b.shape(id), 0));
}
