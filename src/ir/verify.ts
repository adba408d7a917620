// The IR verifier: recomputes every shape and checks every structural rule of the graph, so a pass
// that breaks the IR fails right there with a dump of the offending node instead of producing wrong
// numbers later.

import { conv2dShape, IrError } from './builder.ts';
import { assertNever, type ConvAttrs, formatShape, type Graph, type Node, type NodeId, numel, operands, sameShape, type Shape } from './graph.ts';
import { formatNode } from './print.ts';

const UNARY_OPS = new Set(['neg', 'exp', 'log', 'sqrt', 'rsqrt', 'recip', 'square', 'abs', 'sign', 'softplus', 'sigmoid', 'lrelu', 'lreluGrad']);
const BINARY_OPS = new Set(['add', 'sub', 'mul', 'div', 'max', 'min', 'greater']);

/** A rule violation found in one node; verifyGraph turns it into an IrError with the dump. */
class Violation extends Error {}

function violation(message: string): never {
  throw new Violation(message);
}

function isDimension(d: unknown): boolean {
  return Number.isInteger(d) && (d as number) >= 0;
}

function checkAxisList(name: string, axes: readonly number[], rank: number, requireSortedUnique: boolean): void {
  axes.forEach((axis, i) => {
    if (!Number.isInteger(axis) || axis < 0 || axis >= rank) violation(`${name} axis ${axis} is out of range for rank ${rank}`);
    if (requireSortedUnique && i > 0 && axis <= axes[i - 1]!) violation(`${name} axes [${axes.join(', ')}] are not sorted and unique`);
  });
}

function checkPerAxis(name: string, values: readonly number[], rank: number): void {
  if (values.length !== rank) violation(`${name} has ${values.length} entries for rank ${rank}`);
}

/** Recomputes the shape a node must have from its attributes and operand shapes. */
function expectedShape(node: Node, shapeOf: (id: NodeId) => Shape): Shape {
  switch (node.kind) {
    case 'input':
    case 'param':
    case 'fill':
    case 'randn':
      return node.shape;
    case 'literal':
      if (node.data.length !== numel(node.shape)) {
        violation(`literal has ${node.data.length} values for shape ${formatShape(node.shape)}`);
      }
      return node.shape;
    case 'unary':
      if (!UNARY_OPS.has(node.op)) violation(`unknown unary op '${node.op}'`);
      return shapeOf(node.x);
    case 'binary': {
      if (!BINARY_OPS.has(node.op)) violation(`unknown binary op '${node.op}'`);
      const a = shapeOf(node.a);
      const b = shapeOf(node.b);
      if (!sameShape(a, b)) violation(`operands differ in shape: ${formatShape(a)} and ${formatShape(b)}`);
      return a;
    }
    case 'select': {
      const shapes = [shapeOf(node.cond), shapeOf(node.a), shapeOf(node.b)];
      if (!shapes.every((s) => sameShape(s, shapes[0]!))) {
        violation(`operands differ in shape: ${shapes.map(formatShape).join(', ')}`);
      }
      return shapes[0]!;
    }
    case 'reduce': {
      if (node.op !== 'sum' && node.op !== 'max') violation(`unknown reduce op '${node.op}'`);
      const x = shapeOf(node.x);
      checkAxisList('reduce', node.axes, x.length, true);
      const shape: number[] = [];
      x.forEach((d, i) => {
        if (!node.axes.includes(i)) shape.push(d);
        else if (node.keepDims) shape.push(1);
      });
      return shape;
    }
    case 'reshape': {
      const x = shapeOf(node.x);
      if (numel(x) !== numel(node.shape)) {
        violation(`reshape of ${formatShape(x)} (${numel(x)} elements) to ${numel(node.shape)} elements`);
      }
      return node.shape;
    }
    case 'permute': {
      const x = shapeOf(node.x);
      checkPerAxis('permutation', node.perm, x.length);
      checkAxisList('permutation', node.perm, x.length, false);
      if (new Set(node.perm).size !== node.perm.length) violation(`permutation [${node.perm.join(', ')}] repeats an axis`);
      return node.perm.map((p) => x[p]!);
    }
    case 'broadcast': {
      const x = shapeOf(node.x);
      if (x.length !== node.shape.length) violation(`broadcast from rank ${x.length} to rank ${node.shape.length}`);
      x.forEach((d, i) => {
        if (d !== 1 && d !== node.shape[i]) violation(`axis ${i} of size ${d} cannot broadcast to ${node.shape[i]}`);
      });
      return node.shape;
    }
    case 'pad': {
      const x = shapeOf(node.x);
      checkPerAxis('pad low', node.low, x.length);
      checkPerAxis('pad high', node.high, x.length);
      checkPerAxis('pad interior', node.interior, x.length);
      if ([...node.low, ...node.high, ...node.interior].some((p) => !isDimension(p))) {
        violation('pad amounts must be non-negative integers');
      }
      return x.map((d, i) => d + node.low[i]! + node.high[i]! + Math.max(0, d - 1) * node.interior[i]!);
    }
    case 'slice': {
      const x = shapeOf(node.x);
      checkPerAxis('slice start', node.start, x.length);
      checkPerAxis('slice end', node.end, x.length);
      checkPerAxis('slice step', node.step, x.length);
      return x.map((d, i) => {
        const start = node.start[i]!;
        const end = node.end[i]!;
        const step = node.step[i]!;
        if (!isDimension(start) || !Number.isInteger(end) || end > d || start > end || !Number.isInteger(step) || step < 1) {
          violation(`invalid slice [${start}:${end}:${step}] of axis ${i} with size ${d}`);
        }
        return Math.ceil((end - start) / step);
      });
    }
    case 'flip': {
      const x = shapeOf(node.x);
      checkAxisList('flip', node.axes, x.length, false);
      return x;
    }
    case 'matmul': {
      const a = shapeOf(node.a);
      const b = shapeOf(node.b);
      if (a.length < 2 || a.length !== b.length) violation(`matmul of ${formatShape(a)} and ${formatShape(b)}: ranks must be equal and at least 2`);
      if (!sameShape(a.slice(0, -2), b.slice(0, -2)) || a[a.length - 1] !== b[b.length - 2]) {
        violation(`matmul of ${formatShape(a)} and ${formatShape(b)}: inner or batch sizes differ`);
      }
      return [...a.slice(0, -2), a[a.length - 2]!, b[b.length - 1]!];
    }
    case 'conv2d':
      return convShape(shapeOf(node.x), shapeOf(node.w), node.attrs);
    case 'conv2dBackInput': {
      // The node's own shape is the forward input's; the forward output must be dy's shape.
      const forward = convShape(node.shape, shapeOf(node.w), node.attrs);
      const dy = shapeOf(node.dy);
      if (!sameShape(forward, dy)) violation(`dy is ${formatShape(dy)}, but conv2d of this shape with w gives ${formatShape(forward)}`);
      return node.shape;
    }
    case 'conv2dBackWeight': {
      // The node's own shape is the forward weight's; the forward output must be dy's shape.
      const forward = convShape(shapeOf(node.x), node.shape, node.attrs);
      const dy = shapeOf(node.dy);
      if (!sameShape(forward, dy)) violation(`dy is ${formatShape(dy)}, but conv2d of x with this weight shape gives ${formatShape(forward)}`);
      return node.shape;
    }
    default:
      return assertNever(node);
  }
}

function convShape(x: Shape, w: Shape, attrs: ConvAttrs): Shape {
  const { stride, padding, groups } = attrs;
  if (!Number.isInteger(stride) || stride < 1) violation(`conv stride ${stride} must be a positive integer`);
  if (!Number.isInteger(groups) || groups < 1) violation(`conv groups ${groups} must be a positive integer`);
  if (padding.length !== 4 || padding.some((p) => !isDimension(p))) violation(`conv padding [${padding.join(', ')}] must be 4 non-negative integers`);
  try {
    return conv2dShape(x, w, attrs);
  } catch (error) {
    if (error instanceof IrError) violation(error.message.replace(/^internal error: /, ''));
    throw error;
  }
}

function checkNode(graph: Graph, node: Node, id: NodeId): void {
  if (!Array.isArray(node.shape) || !node.shape.every(isDimension)) {
    violation(`shape ${JSON.stringify(node.shape)} is not a list of non-negative integers`);
  }
  for (const operand of operands(node)) {
    if (!Number.isInteger(operand) || operand < 0 || operand >= id) {
      violation(`operand %${operand} is not an earlier node`);
    }
  }
  if (node.kind === 'randn') {
    if (graph.nodes[node.key]!.shape.length !== 0) violation(`randn key must be a scalar, got ${formatShape(graph.nodes[node.key]!.shape)}`);
    if (!Number.isInteger(node.stream) || node.stream < 0 || node.stream >= 2 ** 32) violation(`randn stream ${node.stream} is not a u32`);
  }
  const expected = expectedShape(node, (operand) => graph.nodes[operand]!.shape);
  if (!sameShape(expected, node.shape)) {
    violation(`shape ${formatShape(node.shape)} disagrees with the ${formatShape(expected)} that the op implies`);
  }
}

/** Formats the node, its operands and their shapes for error messages. */
function dumpNode(graph: Graph, id: NodeId): string {
  const node = graph.nodes[id]!;
  const lines = [`  ${formatNode(node, id)}`];
  for (const operand of operands(node)) {
    const source = graph.nodes[operand];
    lines.push(source !== undefined && operand < id ? `    operand ${formatNode(source, operand)}` : `    operand %${operand}: no such earlier node`);
  }
  return lines.join('\n');
}

/**
 * Throws an IrError, with a dump of the offending node and its operands, unless the graph is well
 * formed: operands refer to earlier nodes, every shape matches what its op implies, elementwise
 * operands agree in shape, axes are in range, outputs name existing nodes, and inputs and params
 * that share a name share a shape.
 */
export function verifyGraph(graph: Graph): void {
  const leafShapes = new Map<string, { id: NodeId; shape: Shape }>();
  graph.nodes.forEach((node, id) => {
    try {
      checkNode(graph, node, id);
      if (node.kind === 'input' || node.kind === 'param') {
        const previous = leafShapes.get(node.name);
        if (previous !== undefined && !sameShape(previous.shape, node.shape)) {
          violation(`name '${node.name}' is also %${previous.id} with shape ${formatShape(previous.shape)}`);
        }
        if (previous === undefined) leafShapes.set(node.name, { id, shape: node.shape });
      }
    } catch (error) {
      if (!(error instanceof Violation)) throw error;
      throw new IrError(`internal error: invalid IR at %${id} (${node.kind}): ${error.message}\n${dumpNode(graph, id)}`);
    }
  });
  for (const [name, id] of graph.outputs) {
    if (!Number.isInteger(id) || id < 0 || id >= graph.nodes.length) {
      throw new IrError(`internal error: invalid IR: output '${name}' refers to %${id}, which does not exist`);
    }
  }
}
