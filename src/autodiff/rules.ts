// Vector-Jacobian products for every node kind. Each rule receives the adjoint `g` of a node (same
// shape as the node) and returns, per operand, the contribution to that operand's adjoint, built
// with the same builder and primitives as the forward graph. Because the backward graph uses only
// ordinary nodes, it is itself differentiable: second derivatives need no special case.

import { Builder } from '../ir/builder.ts';
import { assertNever, type Node, type NodeId, type Shape } from '../ir/graph.ts';

/** Contributions to operand adjoints: [operand id, adjoint contribution]. */
export type Contribution = [NodeId, NodeId];

function zerosLike(b: Builder, id: NodeId): NodeId {
  return b.fill(b.shape(id), 0);
}

function inversePermutation(perm: readonly number[]): number[] {
  const inverse = new Array<number>(perm.length);
  perm.forEach((p, i) => {
    inverse[p] = i;
  });
  return inverse;
}

function swapLastTwo(b: Builder, x: NodeId): NodeId {
  const rank = b.shape(x).length;
  const perm = [...Array(rank).keys()];
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return b.permute(x, perm);
}

/** Reshapes a reduce node's adjoint to keepDims form and repeats it over the reduced axes. */
function expandReduced(b: Builder, g: NodeId, inShape: Shape, axes: readonly number[]): NodeId {
  const kept = inShape.map((d, i) => (axes.includes(i) ? 1 : d));
  return b.broadcastTo(b.reshape(g, kept), inShape);
}

function unaryRule(b: Builder, id: NodeId, node: Node & { kind: 'unary' }, g: NodeId): NodeId | undefined {
  const x = node.x;
  switch (node.op) {
    case 'neg':
      return b.unary('neg', g);
    case 'exp':
      // d/dx e^x = e^x, the node itself.
      return b.mul(g, id);
    case 'log':
      return b.div(g, x);
    case 'sqrt':
      // d/dx sqrt(x) = 1 / (2 sqrt(x)).
      return b.div(g, b.scale(id, 2));
    case 'rsqrt':
      // d/dx x^(-1/2) = -1/2 x^(-3/2) = -1/2 rsqrt(x)^3.
      return b.mul(g, b.scale(b.mul(id, b.unary('square', id)), -0.5));
    case 'recip':
      // d/dx 1/x = -1/x^2 = -recip(x)^2.
      return b.mul(g, b.unary('neg', b.unary('square', id)));
    case 'square':
      return b.mul(g, b.scale(x, 2));
    case 'abs':
      return b.mul(g, b.unary('sign', x));
    case 'softplus':
      return b.mul(g, b.unary('sigmoid', x));
    case 'sigmoid':
      // s' = s (1 - s).
      return b.mul(g, b.mul(id, b.sub(b.scalar(1), id)));
    case 'lrelu':
      return b.mul(g, b.unary('lreluGrad', x, node.slope));
    case 'sign':
    case 'lreluGrad':
      // Piecewise constant: the derivative is zero wherever it exists.
      return undefined;
    default:
      return assertNever(node.op);
  }
}

function binaryRule(
  b: Builder,
  id: NodeId,
  node: Node & { kind: 'binary' },
  g: NodeId,
  needsGradient: (operand: NodeId) => boolean,
): Contribution[] {
  const { a, b: bOperand } = node;
  const wantA = needsGradient(a);
  const wantB = needsGradient(bOperand);
  const contributions: Contribution[] = [];
  switch (node.op) {
    case 'add':
      if (wantA) contributions.push([a, g]);
      if (wantB) contributions.push([bOperand, g]);
      return contributions;
    case 'sub':
      if (wantA) contributions.push([a, g]);
      if (wantB) contributions.push([bOperand, b.unary('neg', g)]);
      return contributions;
    case 'mul':
      if (wantA) contributions.push([a, b.mul(g, bOperand)]);
      if (wantB) contributions.push([bOperand, b.mul(g, a)]);
      return contributions;
    case 'div': {
      // d/da a/b = 1/b, and d/db a/b = -a/b^2, so the b adjoint is -(g/b) (a/b).
      const gOverB = b.div(g, bOperand);
      if (wantA) contributions.push([a, gOverB]);
      if (wantB) contributions.push([bOperand, b.unary('neg', b.mul(gOverB, id))]);
      return contributions;
    }
    case 'max':
    case 'min': {
      // The forward op picks a where the mask is 1 and b elsewhere, ties included, so the whole
      // adjoint goes to the operand that was picked (b on ties).
      const mask = node.op === 'max' ? b.binary('greater', a, bOperand) : b.binary('greater', bOperand, a);
      const zeros = zerosLike(b, g);
      if (wantA) contributions.push([a, b.select(mask, g, zeros)]);
      if (wantB) contributions.push([bOperand, b.select(mask, zeros, g)]);
      return contributions;
    }
    case 'greater':
      return contributions;
    default:
      return assertNever(node.op);
  }
}

/**
 * Returns the contributions of node `id` with adjoint `g` to its operands. Only operands for which
 * `needsGradient` returns true get nodes built, so no work is spent on branches that do not reach a `wrt` node.
 */
export function vjp(b: Builder, id: NodeId, g: NodeId, needsGradient: (operand: NodeId) => boolean): Contribution[] {
  const node = b.graph.node(id);
  switch (node.kind) {
    case 'input':
    case 'param':
    case 'fill':
    case 'literal':
    case 'randn':
      // Leaves, and randn: no gradient flows into the key.
      return [];
    case 'unary': {
      if (!needsGradient(node.x)) return [];
      const gx = unaryRule(b, id, node, g);
      return gx === undefined ? [] : [[node.x, gx]];
    }
    case 'binary':
      return binaryRule(b, id, node, g, needsGradient);
    case 'select': {
      // The condition is piecewise constant, so it gets no gradient.
      const contributions: Contribution[] = [];
      if (needsGradient(node.a)) contributions.push([node.a, b.select(node.cond, g, zerosLike(b, g))]);
      if (needsGradient(node.b)) contributions.push([node.b, b.select(node.cond, zerosLike(b, g), g)]);
      return contributions;
    }
    case 'reduce': {
      const inShape = b.shape(node.x);
      const gx = expandReduced(b, g, inShape, node.axes);
      if (node.op === 'sum') return [[node.x, gx]];
      // max: the adjoint goes to the elements equal to the maximum. Ties split it evenly, so the
      // weights over each reduced group sum to 1 (a valid subgradient, and symmetric in the ties).
      // m >= x everywhere, so x == m exactly where not greater(m, x).
      const m = expandReduced(b, id, inShape, node.axes);
      const isMax = b.sub(b.scalar(1), b.binary('greater', m, node.x));
      const count = b.broadcastTo(b.sum(isMax, node.axes, true), inShape);
      return [[node.x, b.mul(gx, b.div(isMax, count))]];
    }
    case 'reshape':
      return [[node.x, b.reshape(g, b.shape(node.x))]];
    case 'permute':
      return [[node.x, b.permute(g, inversePermutation(node.perm))]];
    case 'broadcast': {
      const inShape = b.shape(node.x);
      const axes = inShape.flatMap((d, i) => (d === 1 && node.shape[i] !== 1 ? [i] : []));
      return [[node.x, axes.length === 0 ? g : b.sum(g, axes, true)]];
    }
    case 'pad': {
      const inShape = b.shape(node.x);
      if (inShape.some((d) => d === 0)) return [];
      // The input elements sit at low + i * (interior + 1).
      const end = inShape.map((d, i) => node.low[i]! + (d - 1) * (node.interior[i]! + 1) + 1);
      const step = node.interior.map((p) => p + 1);
      return [[node.x, b.slice(g, node.low, end, step)]];
    }
    case 'slice': {
      const inShape = b.shape(node.x);
      if (node.shape.some((d) => d === 0)) return [];
      // Put each element back at start + i * step, with zeros between and around.
      const high = inShape.map((d, i) => d - (node.start[i]! + (node.shape[i]! - 1) * node.step[i]! + 1));
      const interior = node.step.map((s) => s - 1);
      return [[node.x, b.pad(g, node.start, high, interior)]];
    }
    case 'flip':
      return [[node.x, b.flip(g, node.axes)]];
    case 'matmul': {
      // C = A B gives dA = dC B^T and dB = A^T dC.
      const contributions: Contribution[] = [];
      if (needsGradient(node.a)) contributions.push([node.a, b.matmul(g, swapLastTwo(b, node.b))]);
      if (needsGradient(node.b)) contributions.push([node.b, b.matmul(swapLastTwo(b, node.a), g)]);
      return contributions;
    }
    case 'conv2d': {
      // y = conv2d(x, w) gives dx = conv2dBackInput(g, w) and dw = conv2dBackWeight(x, g).
      const contributions: Contribution[] = [];
      if (needsGradient(node.x)) contributions.push([node.x, b.conv2dBackInput(g, node.w, node.attrs, b.shape(node.x))]);
      if (needsGradient(node.w)) contributions.push([node.w, b.conv2dBackWeight(node.x, g, node.attrs, b.shape(node.w))]);
      return contributions;
    }
    case 'conv2dBackInput': {
      // out = C_w^T dy is bilinear in (dy, w), and <g, C_w^T dy> = <conv2d(g, w), dy> = <w, conv2dBackWeight(g, dy)>.
      const contributions: Contribution[] = [];
      if (needsGradient(node.dy)) contributions.push([node.dy, b.conv2d(g, node.w, node.attrs)]);
      if (needsGradient(node.w)) contributions.push([node.w, b.conv2dBackWeight(g, node.dy, node.attrs, b.shape(node.w))]);
      return contributions;
    }
    case 'conv2dBackWeight': {
      // out = conv2dBackWeight(x, dy) is bilinear, and <g, out> = <conv2d(x, g), dy> = <x, conv2dBackInput(dy, g)>.
      const contributions: Contribution[] = [];
      if (needsGradient(node.x)) contributions.push([node.x, b.conv2dBackInput(node.dy, g, node.attrs, b.shape(node.x))]);
      if (needsGradient(node.dy)) contributions.push([node.dy, b.conv2d(node.x, g, node.attrs)]);
      return contributions;
    }
    default:
      return assertNever(node);
  }
}
