// The primitive dataflow graph. Every tensor is float32 with a static shape. Nodes live in one array
// in topological order (a node refers only to earlier nodes), so passes can walk it front to back.
// Binary and ternary ops take operands of equal shape: broadcasting is an explicit `broadcast` node,
// which keeps codegen and autodiff free of implicit shape rules.

export type Shape = readonly number[];
export type NodeId = number;

/** Elementwise functions of one operand. `lreluGrad` is the derivative mask of `lrelu` (1 or slope). */
export type UnaryOp =
  | 'neg'
  | 'exp'
  | 'log'
  | 'sqrt'
  | 'rsqrt'
  | 'recip'
  | 'square'
  | 'abs'
  | 'sign'
  | 'softplus'
  | 'sigmoid'
  | 'lrelu'
  | 'lreluGrad';

export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'max' | 'min' | 'greater';

export type ReduceOp = 'sum' | 'max';

/** Convolution attributes shared by the forward op and its two transposes. Padding is [top, bottom, left, right]. */
export interface ConvAttrs {
  stride: number;
  padding: readonly [number, number, number, number];
  groups: number;
}

export type Node =
  /** A runtime tensor fed by the caller (images, latents, the fade-in alpha as a [] scalar, RNG keys). */
  | { kind: 'input'; shape: Shape; name: string }
  /** A trainable parameter, fed by name. */
  | { kind: 'param'; shape: Shape; name: string }
  /** A tensor filled with one value. */
  | { kind: 'fill'; shape: Shape; value: number }
  /** A small literal tensor (blur kernels), row-major. */
  | { kind: 'literal'; shape: Shape; data: Float32Array }
  | { kind: 'unary'; shape: Shape; op: UnaryOp; x: NodeId; slope: number }
  | { kind: 'binary'; shape: Shape; op: BinaryOp; a: NodeId; b: NodeId }
  /** cond != 0 ? a : b, elementwise. */
  | { kind: 'select'; shape: Shape; cond: NodeId; a: NodeId; b: NodeId }
  | { kind: 'reduce'; shape: Shape; op: ReduceOp; x: NodeId; axes: readonly number[]; keepDims: boolean }
  | { kind: 'reshape'; shape: Shape; x: NodeId }
  | { kind: 'permute'; shape: Shape; x: NodeId; perm: readonly number[] }
  /** Numpy broadcasting of an operand of equal rank whose axes are 1 or already the target size. */
  | { kind: 'broadcast'; shape: Shape; x: NodeId }
  /** Zero padding with `interior` zeros between elements, per axis (as in XLA's pad). */
  | { kind: 'pad'; shape: Shape; x: NodeId; low: readonly number[]; high: readonly number[]; interior: readonly number[] }
  /** Elements start, start+step, ... < end per axis; step >= 1. */
  | { kind: 'slice'; shape: Shape; x: NodeId; start: readonly number[]; end: readonly number[]; step: readonly number[] }
  /** Reverses the listed axes. */
  | { kind: 'flip'; shape: Shape; x: NodeId; axes: readonly number[] }
  /** [..., M, K] x [..., K, N] with equal batch dims. */
  | { kind: 'matmul'; shape: Shape; a: NodeId; b: NodeId }
  /** x [N, Cin, H, W] with w [Cout, Cin/groups, KH, KW]. */
  | { kind: 'conv2d'; shape: Shape; x: NodeId; w: NodeId; attrs: ConvAttrs }
  /** The transpose of conv2d in its input: dy [N, Cout, OH, OW] with w gives [N, Cin, H, W] (shape is that of x). */
  | { kind: 'conv2dBackInput'; shape: Shape; dy: NodeId; w: NodeId; attrs: ConvAttrs }
  /** The transpose of conv2d in its weight: x with dy gives [Cout, Cin/groups, KH, KW] (shape is that of w). */
  | { kind: 'conv2dBackWeight'; shape: Shape; x: NodeId; dy: NodeId; attrs: ConvAttrs }
  /**
   * Standard normal samples from a counter-based generator: element i of stream `stream` under the
   * key in the scalar input `key` is a pure function of (key, stream, i), identical on every target.
   */
  | { kind: 'randn'; shape: Shape; key: NodeId; stream: number };

export type NodeKind = Node['kind'];

/** The op groups that passes ask about. */
export type OpGroup = 'leaf' | 'elementwise' | 'reduce' | 'movement' | 'contraction' | 'random';

export function opGroup(node: Node): OpGroup {
  switch (node.kind) {
    case 'input':
    case 'param':
    case 'fill':
    case 'literal':
      return 'leaf';
    case 'unary':
    case 'binary':
    case 'select':
      return 'elementwise';
    case 'reduce':
      return 'reduce';
    case 'reshape':
    case 'permute':
    case 'broadcast':
    case 'pad':
    case 'slice':
    case 'flip':
      return 'movement';
    case 'matmul':
    case 'conv2d':
    case 'conv2dBackInput':
    case 'conv2dBackWeight':
      return 'contraction';
    case 'randn':
      return 'random';
    default:
      return assertNever(node);
  }
}

/** Returns the ids of a node's operands, in order. */
export function operands(node: Node): NodeId[] {
  switch (node.kind) {
    case 'input':
    case 'param':
    case 'fill':
    case 'literal':
      return [];
    case 'unary':
    case 'reduce':
    case 'reshape':
    case 'permute':
    case 'broadcast':
    case 'pad':
    case 'slice':
    case 'flip':
      return [node.x];
    case 'binary':
    case 'matmul':
      return [node.a, node.b];
    case 'select':
      return [node.cond, node.a, node.b];
    case 'conv2d':
      return [node.x, node.w];
    case 'conv2dBackInput':
      return [node.dy, node.w];
    case 'conv2dBackWeight':
      return [node.x, node.dy];
    case 'randn':
      return [node.key];
    default:
      return assertNever(node);
  }
}

export function assertNever(value: never): never {
  throw new Error(`internal error: unhandled case ${JSON.stringify(value)}`);
}

export function numel(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function formatShape(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

/**
 * A graph with named outputs. Nodes are appended only through `add`, which keeps the array in
 * topological order. Shape inference and operand checks live in the builder (src/ir/builder.ts)
 * and the verifier (src/ir/verify.ts).
 */
export class Graph {
  readonly nodes: Node[] = [];
  readonly outputs = new Map<string, NodeId>();

  add(node: Node): NodeId {
    this.nodes.push(node);
    return this.nodes.length - 1;
  }

  node(id: NodeId): Node {
    const node = this.nodes[id];
    if (node === undefined) throw new Error(`internal error: node ${id} does not exist`);
    return node;
  }

  shape(id: NodeId): Shape {
    return this.node(id).shape;
  }

  setOutput(name: string, id: NodeId): void {
    this.outputs.set(name, id);
  }

  /** Input nodes by name. */
  inputs(): Map<string, NodeId> {
    const found = new Map<string, NodeId>();
    this.nodes.forEach((node, id) => {
      if (node.kind === 'input') found.set(node.name, id);
    });
    return found;
  }

  /** Parameter nodes by name. */
  params(): Map<string, NodeId> {
    const found = new Map<string, NodeId>();
    this.nodes.forEach((node, id) => {
      if (node.kind === 'param') found.set(node.name, id);
    });
    return found;
  }
}
