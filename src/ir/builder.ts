// Builds primitive graphs with shape inference. Binary helpers broadcast numpy-style by inserting
// explicit reshape and broadcast nodes, so the graph itself contains only equal-shape elementwise ops.

import {
  type BinaryOp,
  type ConvAttrs,
  Graph,
  type NodeId,
  type ReduceOp,
  type Shape,
  type UnaryOp,
  formatShape,
  numel,
  sameShape,
} from './graph.ts';

export class IrError extends Error {}

function fail(message: string): never {
  throw new IrError(`internal error: ${message}`);
}

/** Output size of one spatial axis of a convolution. */
export function convOutSize(size: number, kernel: number, stride: number, padLow: number, padHigh: number): number {
  return Math.floor((size + padLow + padHigh - kernel) / stride) + 1;
}

export class Builder {
  constructor(readonly graph: Graph = new Graph()) {}

  shape(x: NodeId): Shape {
    return this.graph.shape(x);
  }

  // Leaves.

  input(name: string, shape: Shape): NodeId {
    const existing = this.graph.inputs().get(name);
    if (existing !== undefined) {
      if (!sameShape(this.shape(existing), shape)) fail(`input ${name} declared twice with different shapes`);
      return existing;
    }
    return this.graph.add({ kind: 'input', name, shape: [...shape] });
  }

  param(name: string, shape: Shape): NodeId {
    const existing = this.graph.params().get(name);
    if (existing !== undefined) {
      if (!sameShape(this.shape(existing), shape)) fail(`parameter ${name} declared twice with different shapes`);
      return existing;
    }
    return this.graph.add({ kind: 'param', name, shape: [...shape] });
  }

  fill(shape: Shape, value: number): NodeId {
    return this.graph.add({ kind: 'fill', shape: [...shape], value });
  }

  scalar(value: number): NodeId {
    return this.fill([], value);
  }

  literal(shape: Shape, data: ArrayLike<number>): NodeId {
    if (data.length !== numel(shape)) fail(`literal of shape ${formatShape(shape)} given ${data.length} values`);
    return this.graph.add({ kind: 'literal', shape: [...shape], data: Float32Array.from(data) });
  }

  // Elementwise.

  unary(op: UnaryOp, x: NodeId, slope = 0): NodeId {
    return this.graph.add({ kind: 'unary', op, x, slope, shape: this.shape(x) });
  }

  binary(op: BinaryOp, a: NodeId, b: NodeId): NodeId {
    const shape = broadcastShapes(this.shape(a), this.shape(b));
    return this.graph.add({ kind: 'binary', op, a: this.broadcastTo(a, shape), b: this.broadcastTo(b, shape), shape });
  }

  add(a: NodeId, b: NodeId): NodeId {
    return this.binary('add', a, b);
  }

  sub(a: NodeId, b: NodeId): NodeId {
    return this.binary('sub', a, b);
  }

  mul(a: NodeId, b: NodeId): NodeId {
    return this.binary('mul', a, b);
  }

  div(a: NodeId, b: NodeId): NodeId {
    return this.binary('div', a, b);
  }

  /** x * c for a number c. */
  scale(x: NodeId, c: number): NodeId {
    if (c === 1) return x;
    return this.mul(x, this.scalar(c));
  }

  select(cond: NodeId, a: NodeId, b: NodeId): NodeId {
    const shape = broadcastShapes(broadcastShapes(this.shape(cond), this.shape(a)), this.shape(b));
    return this.graph.add({
      kind: 'select',
      shape,
      cond: this.broadcastTo(cond, shape),
      a: this.broadcastTo(a, shape),
      b: this.broadcastTo(b, shape),
    });
  }

  /** a + (b - a) * t, the fade-in blend. */
  lerp(a: NodeId, b: NodeId, t: NodeId): NodeId {
    return this.add(a, this.mul(this.sub(b, a), t));
  }

  // Reductions.

  reduce(op: ReduceOp, x: NodeId, axes: readonly number[], keepDims = false): NodeId {
    const inShape = this.shape(x);
    const normalized = [...new Set(axes.map((a) => normalizeAxis(a, inShape.length)))].sort((p, q) => p - q);
    const shape: number[] = [];
    inShape.forEach((d, i) => {
      if (!normalized.includes(i)) shape.push(d);
      else if (keepDims) shape.push(1);
    });
    return this.graph.add({ kind: 'reduce', op, x, axes: normalized, keepDims, shape });
  }

  sum(x: NodeId, axes: readonly number[], keepDims = false): NodeId {
    return this.reduce('sum', x, axes, keepDims);
  }

  mean(x: NodeId, axes: readonly number[], keepDims = false): NodeId {
    const shape = this.shape(x);
    const count = axes.reduce((n, a) => n * shape[normalizeAxis(a, shape.length)]!, 1);
    return this.scale(this.sum(x, axes, keepDims), 1 / count);
  }

  // Movement.

  reshape(x: NodeId, shape: Shape): NodeId {
    if (numel(shape) !== numel(this.shape(x))) {
      fail(`reshape of ${formatShape(this.shape(x))} to ${formatShape(shape)} changes the element count`);
    }
    if (sameShape(shape, this.shape(x))) return x;
    return this.graph.add({ kind: 'reshape', x, shape: [...shape] });
  }

  permute(x: NodeId, perm: readonly number[]): NodeId {
    const inShape = this.shape(x);
    if (perm.length !== inShape.length || [...perm].sort((p, q) => p - q).some((p, i) => p !== i)) {
      fail(`permutation [${perm.join(', ')}] does not match rank ${inShape.length}`);
    }
    if (perm.every((p, i) => p === i)) return x;
    return this.graph.add({ kind: 'permute', x, perm: [...perm], shape: perm.map((p) => inShape[p]!) });
  }

  /** Numpy broadcasting to `shape`; lower-rank operands are aligned to the trailing axes. */
  broadcastTo(x: NodeId, shape: Shape): NodeId {
    let inShape = this.shape(x);
    if (sameShape(inShape, shape)) return x;
    if (inShape.length < shape.length) {
      const padded = [...new Array(shape.length - inShape.length).fill(1), ...inShape];
      x = this.reshape(x, padded);
      inShape = padded;
    }
    inShape.forEach((d, i) => {
      if (d !== 1 && d !== shape[i]) fail(`cannot broadcast ${formatShape(inShape)} to ${formatShape(shape)}`);
    });
    if (sameShape(inShape, shape)) return x;
    return this.graph.add({ kind: 'broadcast', x, shape: [...shape] });
  }

  pad(x: NodeId, low: readonly number[], high: readonly number[], interior?: readonly number[]): NodeId {
    const inShape = this.shape(x);
    const inner = interior ?? inShape.map(() => 0);
    const shape = inShape.map((d, i) => d + low[i]! + high[i]! + Math.max(0, d - 1) * inner[i]!);
    if ([...low, ...high, ...inner].some((p) => p < 0)) fail('pad amounts must be non-negative');
    return this.graph.add({ kind: 'pad', x, low: [...low], high: [...high], interior: [...inner], shape });
  }

  slice(x: NodeId, start: readonly number[], end: readonly number[], step?: readonly number[]): NodeId {
    const inShape = this.shape(x);
    const strides = step ?? inShape.map(() => 1);
    const shape = inShape.map((d, i) => {
      const s = start[i]!;
      const e = end[i]!;
      if (s < 0 || e > d || s > e || strides[i]! < 1) fail(`invalid slice [${s}:${e}:${strides[i]}] of axis ${i} size ${d}`);
      return Math.ceil((e - s) / strides[i]!);
    });
    return this.graph.add({ kind: 'slice', x, start: [...start], end: [...end], step: [...strides], shape });
  }

  flip(x: NodeId, axes: readonly number[]): NodeId {
    const rank = this.shape(x).length;
    return this.graph.add({ kind: 'flip', x, axes: axes.map((a) => normalizeAxis(a, rank)), shape: this.shape(x) });
  }

  // Contractions.

  matmul(a: NodeId, b: NodeId): NodeId {
    const sa = this.shape(a);
    const sb = this.shape(b);
    if (sa.length < 2 || sa.length !== sb.length) fail(`matmul of ${formatShape(sa)} and ${formatShape(sb)}`);
    const batch = sa.slice(0, -2);
    if (!sameShape(batch, sb.slice(0, -2)) || sa[sa.length - 1] !== sb[sb.length - 2]) {
      fail(`matmul of ${formatShape(sa)} and ${formatShape(sb)}: inner or batch sizes differ`);
    }
    return this.graph.add({ kind: 'matmul', a, b, shape: [...batch, sa[sa.length - 2]!, sb[sb.length - 1]!] });
  }

  conv2d(x: NodeId, w: NodeId, attrs: Partial<ConvAttrs> = {}): NodeId {
    const full = fullConvAttrs(attrs);
    const shape = conv2dShape(this.shape(x), this.shape(w), full);
    return this.graph.add({ kind: 'conv2d', x, w, attrs: full, shape });
  }

  /** Transpose of conv2d in its input; `xShape` is the shape of the forward op's input. */
  conv2dBackInput(dy: NodeId, w: NodeId, attrs: ConvAttrs, xShape: Shape): NodeId {
    const expected = conv2dShape(xShape, this.shape(w), attrs);
    if (!sameShape(expected, this.shape(dy))) {
      fail(`conv2dBackInput: dy is ${formatShape(this.shape(dy))}, expected ${formatShape(expected)}`);
    }
    return this.graph.add({ kind: 'conv2dBackInput', dy, w, attrs, shape: [...xShape] });
  }

  /** Transpose of conv2d in its weight; `wShape` is the shape of the forward op's weight. */
  conv2dBackWeight(x: NodeId, dy: NodeId, attrs: ConvAttrs, wShape: Shape): NodeId {
    const expected = conv2dShape(this.shape(x), wShape, attrs);
    if (!sameShape(expected, this.shape(dy))) {
      fail(`conv2dBackWeight: dy is ${formatShape(this.shape(dy))}, expected ${formatShape(expected)}`);
    }
    return this.graph.add({ kind: 'conv2dBackWeight', x, dy, attrs, shape: [...wShape] });
  }

  // Random.

  /** Standard normal noise of `shape` from the scalar key input `key` and a per-call-site stream id. */
  randn(shape: Shape, key: NodeId, stream: number): NodeId {
    if (this.shape(key).length !== 0) fail('randn key must be a scalar');
    return this.graph.add({ kind: 'randn', shape: [...shape], key, stream });
  }

  output(name: string, x: NodeId): NodeId {
    this.graph.setOutput(name, x);
    return x;
  }
}

export function fullConvAttrs(attrs: Partial<ConvAttrs>): ConvAttrs {
  return { stride: attrs.stride ?? 1, padding: attrs.padding ?? [0, 0, 0, 0], groups: attrs.groups ?? 1 };
}

export function conv2dShape(x: Shape, w: Shape, attrs: ConvAttrs): number[] {
  if (x.length !== 4 || w.length !== 4) fail(`conv2d of ${formatShape(x)} with weight ${formatShape(w)}`);
  const [n, cin, h, wd] = x as [number, number, number, number];
  const [cout, cinPerGroup, kh, kw] = w as [number, number, number, number];
  const { stride, padding, groups } = attrs;
  if (cin !== cinPerGroup * groups || cout % groups !== 0) {
    fail(`conv2d: input has ${cin} channels, weight ${formatShape(w)} with ${groups} groups`);
  }
  const oh = convOutSize(h, kh, stride, padding[0], padding[1]);
  const ow = convOutSize(wd, kw, stride, padding[2], padding[3]);
  if (oh < 1 || ow < 1) fail(`conv2d output of ${formatShape(x)} with kernel ${kh}x${kw} is empty`);
  return [n, cout, oh, ow];
}

export function broadcastShapes(a: Shape, b: Shape): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) fail(`shapes ${formatShape(a)} and ${formatShape(b)} do not broadcast`);
    out.push(Math.max(da, db));
  }
  return out;
}

function normalizeAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) fail(`axis ${axis} out of range for rank ${rank}`);
  return a;
}
