// The executor of fused programs: runs each kernel of a FusedProgram on the CPU by evaluating its
// output expression at every output index. It is the semantic model for the code generators:
// movement expressions map indices (padding reads 0), reductions and contractions loop, and every
// arithmetic result is rounded to float32 as a float32 target would store or keep it.
// Kernel buffers live in one arena at their planned offsets, so a wrong buffer plan shows up as
// wrong values. Speed is secondary: closures over flat indices, with a one-entry cache on every
// expression that is read more than once or loops, contraction operands tabulated once per run,
// and convolutions tabulated in bulk.

import { assertNever, type ConvAttrs, formatShape, numel, operands, type Shape } from '../../src/ir/graph.ts';
import { randnAt } from '../../src/ir/rng.ts';
import type { FusedProgram, Kernel, KernelExpr } from '../../src/kernel/kernel.ts';
import { movementMultipliers } from '../../src/kernel/movement.ts';
import { binaryFunction, unaryFunction } from '../../src/kernel/scalar.ts';
import { compileKernels, webgpuLimits } from '../../src/opt/index.ts';
import type { CompiledProgram, Target } from '../../src/runtime/target.ts';
import type { TensorMap } from '../../src/runtime/tensor.ts';
import { contiguousStrides } from './movement.ts';

/** The value of an expression at a flat index of its own shape. */
type Evaluator = (i: number) => number;

const fround = Math.fround;

/**
 * Runs `program` on `feeds` (every input and parameter by name) and returns every output by name.
 * Throws an Error naming the tensor when a feed is missing or has the wrong shape.
 */
export function runFused(program: FusedProgram, feeds: TensorMap): TensorMap {
  // Feeds are checked even when no kernel reads them, so a wrong feed never goes unnoticed.
  for (const feed of program.feeds) feedData(feeds, feed.name, feed.kind === 'param' ? 'parameter' : 'input', feed.shape);
  const arena = new Float32Array(Math.ceil(program.peakBytes / 4));
  const data: Float32Array[] = program.buffers.map((buffer) => {
    const source = buffer.source;
    switch (source.kind) {
      case 'input':
      case 'param':
        return feedData(feeds, source.name, source.kind === 'param' ? 'parameter' : 'input', buffer.shape);
      case 'literal':
        return source.data;
      case 'kernel':
        return arena.subarray(buffer.offset / 4, buffer.offset / 4 + numel(buffer.shape));
      default:
        return assertNever(source);
    }
  });

  for (const kernel of program.kernels) runKernel(kernel, data);

  const result: TensorMap = {};
  for (const [name, buffer] of program.outputs) {
    result[name] = { shape: [...program.buffers[buffer]!.shape], data: data[buffer]!.slice() };
  }
  return result;
}

/**
 * A target that optimizes and fuses each graph for WebGPU's default limits and runs the kernels
 * with runFused. It is slower than the reference target; it exists to run whole programs through
 * the fused semantics.
 */
export const fusedRefTarget: Target = {
  name: 'ref-fused',
  compile(graph, name): CompiledProgram {
    const { program } = compileKernels(graph, webgpuLimits(), { label: name });
    return { graph, run: async (feeds: TensorMap): Promise<TensorMap> => runFused(program, feeds) };
  },
};

function feedData(feeds: TensorMap, name: string, role: string, shape: Shape): Float32Array {
  const feed = feeds[name];
  if (feed === undefined) throw new Error(`missing feed for ${role} '${name}': expected a tensor of shape ${formatShape(shape)}`);
  if (feed.shape.length !== shape.length || feed.shape.some((d, i) => d !== shape[i]) || feed.data.length !== numel(shape)) {
    throw new Error(`invalid feed for ${role} '${name}': expected shape ${formatShape(shape)}, got ${formatShape(feed.shape)}`);
  }
  return feed.data;
}

/** Evaluates every output expression of `kernel` at every index and stores it in its buffer. */
export function runKernel(kernel: Kernel, data: Float32Array[]): void {
  const evaluators = compileKernel(kernel, data);
  const size = numel(kernel.shape);
  for (const output of kernel.outputs) {
    const out = data[output.buffer]!;
    const evaluate = evaluators[output.expr]!;
    for (let i = 0; i < size; i++) out[i] = evaluate(i);
  }
}

/** Builds one evaluator per expression, operands first. */
function compileKernel(kernel: Kernel, data: Float32Array[]): Evaluator[] {
  const reads = new Array<number>(kernel.exprs.length).fill(0);
  kernel.exprs.forEach((expr) => {
    if (expr.kind === 'load') return;
    for (const operand of new Set(operands(expr))) reads[operand]!++;
  });
  const evaluators: Evaluator[] = [];
  kernel.exprs.forEach((expr, index) => {
    const evaluator = compileExpr(expr, kernel, data, evaluators);
    const loops = expr.kind === 'reduce' || expr.kind === 'matmul' || expr.kind.startsWith('conv2d');
    evaluators.push(loops || (reads[index]! > 1 && expr.kind !== 'load') ? cached(evaluator) : evaluator);
  });
  return evaluators;
}

/** Remembers the last index and value, which is valid because an expression is a pure function of its index within one run. */
function cached(evaluate: Evaluator): Evaluator {
  let lastIndex = -1;
  let lastValue = 0;
  return (i) => {
    if (i === lastIndex) return lastValue;
    lastValue = evaluate(i);
    lastIndex = i;
    return lastValue;
  };
}

/** A contraction operand's values, filled on first use. */
type Table = () => Float32Array;

function compileExpr(expr: KernelExpr, kernel: Kernel, data: Float32Array[], ev: Evaluator[]): Evaluator {
  const shapeOf = (id: number): Shape => kernel.exprs[id]!.shape;
  // Contraction operands are pure functions of their index, so evaluating each element once and
  // reading the table per tap gives the same values as evaluating the prologue per tap, faster.
  const table = (id: number): Table => {
    const operand = kernel.exprs[id]!;
    if (operand.kind === 'load') {
      const buffer = data[kernel.inputs[operand.input]!]!;
      return () => buffer;
    }
    let values: Float32Array | undefined;
    return () => {
      if (values === undefined) {
        values = new Float32Array(numel(operand.shape));
        const evaluate = ev[id]!;
        for (let i = 0; i < values.length; i++) values[i] = evaluate(i);
      }
      return values;
    };
  };
  switch (expr.kind) {
    case 'load': {
      const buffer = data[kernel.inputs[expr.input]!]!;
      return (i) => buffer[i]!;
    }
    case 'fill': {
      const value = fround(expr.value);
      return () => value;
    }
    case 'input':
    case 'param':
    case 'literal':
      throw new Error(`internal error: ${expr.kind} inside kernel ${kernel.name}`);
    case 'unary': {
      const x = ev[expr.x]!;
      const f = unaryFunction(expr.op, expr.slope);
      return (i) => fround(f(x(i)));
    }
    case 'binary': {
      const a = ev[expr.a]!;
      const b = ev[expr.b]!;
      const f = binaryFunction(expr.op);
      return (i) => fround(f(a(i), b(i)));
    }
    case 'select': {
      const cond = ev[expr.cond]!;
      const a = ev[expr.a]!;
      const b = ev[expr.b]!;
      return (i) => (cond(i) !== 0 ? a(i) : b(i));
    }
    case 'reshape':
      return ev[expr.x]!;
    case 'permute':
    case 'broadcast':
    case 'slice':
    case 'flip':
    case 'pad': {
      const x = ev[expr.x]!;
      const map = indexMap(expr, shapeOf(expr.x));
      return (i) => {
        const j = map(i);
        return j < 0 ? 0 : x(j);
      };
    }
    case 'reduce':
      return reduceEvaluator(expr, shapeOf(expr.x), ev[expr.x]!);
    case 'matmul':
      return matmulEvaluator(shapeOf(expr.a), shapeOf(expr.b), table(expr.a), table(expr.b));
    case 'conv2d':
      return conv2dEvaluator(shapeOf(expr.x), shapeOf(expr.w), expr.shape, expr.attrs, table(expr.x), table(expr.w));
    case 'conv2dBackInput':
      return conv2dBackInputEvaluator(shapeOf(expr.dy), shapeOf(expr.w), expr.shape, expr.attrs, table(expr.dy), table(expr.w));
    case 'conv2dBackWeight':
      return conv2dBackWeightEvaluator(shapeOf(expr.x), shapeOf(expr.dy), expr.shape, expr.attrs, table(expr.x), table(expr.dy));
    case 'randn': {
      const key = ev[expr.key]!;
      const stream = expr.stream;
      return (i) => fround(randnAt(key(0), stream, i));
    }
    default:
      return assertNever(expr);
  }
}

type MovementExpr = Extract<KernelExpr, { kind: 'permute' | 'broadcast' | 'slice' | 'flip' | 'pad' }>;

/**
 * Returns the map from a flat output index of a movement to the flat index it reads in its
 * operand, or -1 where padding reads zero. The operand index is a base offset plus
 * c * multiplier[a] for the coordinate c of each output axis a. Pad instead tests a range per axis.
 */
export function indexMap(expr: MovementExpr, inShape: Shape): (i: number) => number {
  const outShape = expr.shape;
  const rank = outShape.length;
  const outStrides = contiguousStrides(outShape);
  const inStrides = contiguousStrides(inShape);
  if (expr.kind === 'pad') {
    const { low, interior } = expr;
    return (i) => {
      let j = 0;
      for (let a = 0; a < rank; a++) {
        const c = Math.floor(i / outStrides[a]!) % outShape[a]!;
        let k = c - low[a]!;
        if (k < 0) return -1;
        const period = interior[a]! + 1;
        if (k % period !== 0) return -1;
        k /= period;
        if (k >= inShape[a]!) return -1;
        j += k * inStrides[a]!;
      }
      return j;
    };
  }
  const { multiplier, base } = movementMultipliers(expr, inShape);
  // Axes of size 1 or with a zero multiplier add nothing.
  const axes = [...Array(rank).keys()].filter((a) => outShape[a]! > 1 && multiplier[a] !== 0);
  return (i) => {
    let j = base;
    for (const a of axes) j += (Math.floor(i / outStrides[a]!) % outShape[a]!) * multiplier[a]!;
    return j;
  };
}

/** Lists the flat offsets of every index tuple of `shape` under `strides`, in row-major order. */
function offsetsOf(shape: readonly number[], strides: readonly number[]): Int32Array {
  const offsets = new Int32Array(numel(shape));
  let size = 1;
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    const d = shape[axis]!;
    for (let j = 1; j < d; j++) {
      for (let k = 0; k < size; k++) offsets[j * size + k] = offsets[k]! + j * strides[axis]!;
    }
    size *= d;
  }
  return offsets;
}

/** Sums in float64 (max propagates NaN) over the reduced axes, in the reference executor's order. */
function reduceEvaluator(expr: Extract<KernelExpr, { kind: 'reduce' }>, inShape: Shape, x: Evaluator): Evaluator {
  const strides = contiguousStrides(inShape);
  const keptShape = inShape.filter((_, a) => !expr.axes.includes(a));
  const keptStrides = strides.filter((_, a) => !expr.axes.includes(a));
  const bases = offsetsOf(keptShape, keptStrides);
  const inner = offsetsOf(
    expr.axes.map((a) => inShape[a]!),
    expr.axes.map((a) => strides[a]!),
  );
  const m = inner.length;
  if (expr.op === 'sum') {
    return (i) => {
      const base = bases[i]!;
      let acc = 0;
      for (let j = 0; j < m; j++) acc += x(base + inner[j]!);
      return fround(acc);
    };
  }
  return (i) => {
    const base = bases[i]!;
    let acc = -Infinity;
    for (let j = 0; j < m; j++) {
      const v = x(base + inner[j]!);
      if (v > acc || v !== v) acc = v;
    }
    return acc;
  };
}

function matmulEvaluator(sa: Shape, sb: Shape, aTable: Table, bTable: Table): Evaluator {
  const m = sa[sa.length - 2]!;
  const k = sa[sa.length - 1]!;
  const n = sb[sb.length - 1]!;
  return (i) => {
    const a = aTable();
    const b = bTable();
    const col = i % n;
    const row = Math.floor(i / n) % m;
    const t = Math.floor(i / (m * n));
    const aBase = t * m * k + row * k;
    const bBase = t * k * n + col;
    let acc = 0;
    for (let p = 0; p < k; p++) acc += a[aBase + p]! * b[bBase + p * n]!;
    return fround(acc);
  };
}

/** Returns the output columns [first, end) whose input column ox * stride - left + kx lies in [0, width). */
function validRange(kx: number, stride: number, left: number, width: number, outWidth: number): [number, number] {
  const first = Math.max(0, Math.ceil((left - kx) / stride));
  const end = Math.min(outWidth, Math.floor((width - 1 + left - kx) / stride) + 1);
  return [first, Math.max(first, end)];
}

/** Returns an evaluator that fills a float64 table on first use and rounds each read to float32. */
function tabulated(size: number, fill: (acc: Float64Array) => void): Evaluator {
  let table: Float64Array | undefined;
  return (i) => {
    if (table === undefined) {
      table = new Float64Array(size);
      fill(table);
    }
    return fround(table[i]!);
  };
}

/**
 * y[n, co, oy, ox] = sum over c, ky, kx of x[n, g * cpg + c, oy * s - top + ky, ox * s - left + kx] * w[co, c, ky, kx],
 * with g the group of co. The whole output is tabulated at once, but each element still sums its
 * taps in (c, ky, kx) order in float64, as an evaluation per element would.
 */
function conv2dEvaluator(xs: Shape, ws: Shape, ys: Shape, attrs: ConvAttrs, xTable: Table, wTable: Table): Evaluator {
  const [batch, c, h, wd] = xs as [number, number, number, number];
  const [co, cpg, kh, kw] = ws as [number, number, number, number];
  const [, , oh, ow] = ys as [number, number, number, number];
  const copg = co / attrs.groups;
  const { stride } = attrs;
  const [top, , left] = attrs.padding;
  return tabulated(numel(ys), (acc) => {
    const x = xTable();
    const w = wTable();
    for (let n = 0; n < batch; n++) {
      for (let o = 0; o < co; o++) {
        const group = Math.floor(o / copg);
        const yPlane = (n * co + o) * oh;
        for (let ci = 0; ci < cpg; ci++) {
          const xPlane = (n * c + group * cpg + ci) * h;
          for (let ky = 0; ky < kh; ky++) {
            for (let kx = 0; kx < kw; kx++) {
              const weight = w[((o * cpg + ci) * kh + ky) * kw + kx]!;
              const [first, end] = validRange(kx, stride, left, wd, ow);
              for (let oy = 0; oy < oh; oy++) {
                const iy = oy * stride - top + ky;
                if (iy < 0 || iy >= h) continue;
                const xRow = (xPlane + iy) * wd - left + kx;
                const yRow = (yPlane + oy) * ow;
                for (let ox = first; ox < end; ox++) acc[yRow + ox] += x[xRow + ox * stride]! * weight;
              }
            }
          }
        }
      }
    }
  });
}

/**
 * dx[n, ci, iy, ix] = sum over the channels o of ci's group and the taps (ky, kx) with
 * iy = oy * s - top + ky and ix = ox * s - left + kx for some output pixel (oy, ox), of
 * dy[n, o, oy, ox] * w[o, ci - g * cpg, ky, kx]. The whole output is tabulated at once by
 * scattering, and each element sums in (o, ky, kx) order in float64.
 */
function conv2dBackInputEvaluator(dys: Shape, ws: Shape, xs: Shape, attrs: ConvAttrs, dyTable: Table, wTable: Table): Evaluator {
  const [batch, co, oh, ow] = dys as [number, number, number, number];
  const [, cpg, kh, kw] = ws as [number, number, number, number];
  const [, c, h, wd] = xs as [number, number, number, number];
  const copg = co / attrs.groups;
  const { stride } = attrs;
  const [top, , left] = attrs.padding;
  return tabulated(numel(xs), (acc) => {
    const dy = dyTable();
    const w = wTable();
    for (let n = 0; n < batch; n++) {
      for (let o = 0; o < co; o++) {
        const group = Math.floor(o / copg);
        const dyPlane = (n * co + o) * oh;
        for (let cIn = 0; cIn < cpg; cIn++) {
          const xPlane = (n * c + group * cpg + cIn) * h;
          for (let ky = 0; ky < kh; ky++) {
            for (let kx = 0; kx < kw; kx++) {
              const weight = w[((o * cpg + cIn) * kh + ky) * kw + kx]!;
              const [first, end] = validRange(kx, stride, left, wd, ow);
              for (let oy = 0; oy < oh; oy++) {
                const iy = oy * stride - top + ky;
                if (iy < 0 || iy >= h) continue;
                const xRow = (xPlane + iy) * wd - left + kx;
                const dyRow = (dyPlane + oy) * ow;
                for (let ox = first; ox < end; ox++) acc[xRow + ox * stride] += dy[dyRow + ox]! * weight;
              }
            }
          }
        }
      }
    }
  });
}

/** dw[co, c, kh, kw] = sum over n, oh, ow of dy[n, co, oh, ow] * x[n, g * cpg + c, oh * s - top + kh, ow * s - left + kw]. */
function conv2dBackWeightEvaluator(xs: Shape, dys: Shape, ws: Shape, attrs: ConvAttrs, xTable: Table, dyTable: Table): Evaluator {
  const [batch, c, h, wd] = xs as [number, number, number, number];
  const [, co, oh, ow] = dys as [number, number, number, number];
  const [, cpg, kh, kw] = ws as [number, number, number, number];
  const copg = co / attrs.groups;
  const { stride } = attrs;
  const [top, , left] = attrs.padding;
  return (i) => {
    const x = xTable();
    const dy = dyTable();
    const kx = i % kw;
    const ky = Math.floor(i / kw) % kh;
    const ci = Math.floor(i / (kw * kh)) % cpg;
    const o = Math.floor(i / (kw * kh * cpg));
    const channel = Math.floor(o / copg) * cpg + ci;
    let acc = 0;
    for (let n = 0; n < batch; n++) {
      for (let oy = 0; oy < oh; oy++) {
        const iy = oy * stride - top + ky;
        if (iy < 0 || iy >= h) continue;
        const xRow = ((n * c + channel) * h + iy) * wd;
        const dyRow = ((n * co + o) * oh + oy) * ow;
        for (let ox = 0; ox < ow; ox++) {
          const ix = ox * stride - left + kx;
          if (ix < 0 || ix >= wd) continue;
          acc += dy[dyRow + ox]! * x[xRow + ix]!;
        }
      }
    }
    return fround(acc);
  };
}
