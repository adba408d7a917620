// Code generation for the webgl target: each fused kernel becomes one gpu.js kernel per output
// buffer. The source evaluates the output expression at the flat index of its texel, with shapes,
// strides and loop bounds written in as constants. Movement expressions are index arithmetic: a
// chain of them is composed into one index map with range checks for its padding
// (composeMovements), so the index is split into coordinates once per chain, not once per
// movement. Reductions and contractions are loops. Two kinds of expression get their own texture first:
// - the reductions of a row kernel, each computed once per row by its own gpu.js kernel, because
//   WebGL has no workgroup memory to share a row's sum between the row's outputs;
// - randn, computed on the host with the exact integer generator and uploaded, because GLSL ES 1.0
//   has no unsigned integers or bit operations for Threefry.

import { assertNever, type ConvAttrs, numel, type Shape } from '../../src/ir/graph.ts';
import type { FusedProgram, Kernel, KernelExpr } from '../../src/kernel/kernel.ts';
import { contiguousStrides } from '../ref/movement.ts';
import { type ComposedMovement, composeMovements, coordinateBounds, type RangeCheck } from '../../src/kernel/movement.ts';
import { textureLayout, type TextureLayout } from './layout.ts';
import { floatLiteral, intLiteral, SourceWriter } from './writer.ts';

/** The storage of a gpu.js kernel argument or result: a buffer of the fused program or a texture of the webgl plan. */
export type Storage = { kind: 'buffer'; buffer: number } | { kind: 'temp'; temp: number };

export interface GpuKernel {
  /** The fused kernel's name, with a suffix for an output or a row reduction. */
  name: string;
  /** A JavaScript function expression for gpu.js, `function (a0, a1) { ... }`. */
  source: string;
  /** The storage that each parameter a0, a1, ... reads, in order. */
  args: Storage[];
  writes: Storage;
  layout: TextureLayout;
}

export interface RandnStep {
  kind: 'randn';
  temp: number;
  shape: Shape;
  stream: number;
  /** The scalar buffer that contains the key. */
  key: number;
}

export type Step = { kind: 'kernel'; kernel: GpuKernel } | RandnStep;

export interface WebglPlan {
  program: FusedProgram;
  steps: Step[];
  /** Layout of every buffer that a kernel writes, by buffer id. */
  bufferLayouts: Map<number, TextureLayout>;
  /** Elements of each plan texture (row reductions and uploaded randn values), by temp id. */
  tempSizes: number[];
}

/** Splits every fused kernel of `program` into gpu.js kernels and host steps, in execution order. */
export function planWebgl(program: FusedProgram, maxTextureSize: number): WebglPlan {
  const steps: Step[] = [];
  const bufferLayouts = new Map<number, TextureLayout>();
  const tempSizes: number[] = [];
  const outputNames = new Map<number, string>();
  for (const [name, buffer] of program.outputs) outputNames.set(buffer, `'${name}'`);
  for (const kernel of program.kernels) {
    // Expressions that get their own texture before the kernel's outputs are computed.
    const materialized = new Map<number, number>();
    kernel.exprs.forEach((expr, id) => {
      const rowReduction = kernel.kind === 'row' && expr.kind === 'reduce';
      if (!rowReduction && expr.kind !== 'randn') return;
      const temp = tempSizes.length;
      tempSizes.push(numel(expr.shape));
      materialized.set(id, temp);
      if (expr.kind === 'randn') {
        steps.push({ kind: 'randn', temp, shape: expr.shape, stream: expr.stream, key: randnKeyBuffer(kernel, expr.key) });
        return;
      }
      const name = `${kernel.name}_row${temp}`;
      const layout = textureLayout(`${name} (a row reduction)`, expr.shape, maxTextureSize);
      steps.push({ kind: 'kernel', kernel: writeGpuKernel(kernel, id, materialized, layout, name, { kind: 'temp', temp }) });
    });
    kernel.outputs.forEach((output, o) => {
      const buffer = program.buffers[output.buffer]!;
      const name = kernel.outputs.length > 1 ? `${kernel.name}_out${o}` : kernel.name;
      const tensor = outputNames.get(output.buffer) ?? `b${buffer.id}`;
      const layout = textureLayout(`${tensor} (written by ${kernel.name})`, buffer.shape, maxTextureSize);
      bufferLayouts.set(output.buffer, layout);
      const writes: Storage = { kind: 'buffer', buffer: output.buffer };
      steps.push({ kind: 'kernel', kernel: writeGpuKernel(kernel, output.expr, materialized, layout, name, writes) });
    });
  }
  return { program, steps, bufferLayouts, tempSizes };
}

function randnKeyBuffer(kernel: Kernel, keyExpr: number): number {
  const key = kernel.exprs[keyExpr]!;
  if (key.kind !== 'load') throw new Error(`internal error: the randn key in ${kernel.name} is not a loaded buffer`);
  return kernel.inputs[key.input]!;
}

function writeGpuKernel(kernel: Kernel, root: number, materialized: Map<number, number>, layout: TextureLayout, name: string, writes: Storage): GpuKernel {
  const emitter = new ExprEmitter(kernel, root, materialized);
  const w = emitter.writer;
  const index = w.define('i', `Math.min(this.thread.y * ${layout.width} + this.thread.x, ${intLiteral(layout.size - 1)})`);
  const value = emitter.value(root, index);
  w.line(`return ${value};`);
  const params = emitter.args.map((_, a) => `a${a}`).join(', ');
  const source = `function (${params}) {\n${w.body()}\n}`;
  return { name, source, args: emitter.args, writes, layout };
}

const storageKey = (storage: Storage): string => (storage.kind === 'buffer' ? `b${storage.buffer}` : `t${storage.temp}`);

/** Formats a sum of integer-valued float terms with constant coefficients as source text. */
function linear(base: number, terms: [string, number][]): string {
  const parts = terms.filter(([, c]) => c !== 0).map(([v, c]) => (Math.abs(c) === 1 ? v : `${v} * ${intLiteral(Math.abs(c))}`));
  const signs = terms.filter(([, c]) => c !== 0).map(([, c]) => (c < 0 ? ' - ' : ' + '));
  let text = base === 0 && parts.length > 0 ? '' : intLiteral(Math.abs(base));
  if (base < 0) text = `-${text}`;
  parts.forEach((part, k) => {
    if (text === '') text = signs[k] === ' - ' ? `-${part}` : part;
    else text += `${signs[k]}${part}`;
  });
  return text;
}

/** Writes the statements that evaluate expressions of one kernel at given flat indices. */
class ExprEmitter {
  readonly writer = new SourceWriter();
  readonly args: Storage[] = [];

  constructor(
    private readonly kernel: Kernel,
    /** The expression this gpu.js kernel computes, evaluated in place even when it has its own texture elsewhere. */
    private readonly root: number,
    private readonly materialized: Map<number, number>,
  ) {}

  /** Returns the parameter name that reads `storage`, adding a parameter on first use. */
  private arg(storage: Storage): string {
    const key = storageKey(storage);
    let a = this.args.findIndex((existing) => storageKey(existing) === key);
    if (a < 0) {
      a = this.args.length;
      this.args.push(storage);
    }
    return `a${a}`;
  }

  private shapeOf(id: number): Shape {
    return this.kernel.exprs[id]!.shape;
  }

  /** Returns a float variable (or literal) with the value of expression `id` at flat index `index`. */
  value(id: number, index: string): string {
    return this.writer.memo(`e${id}@${index}`, () => this.compute(id, index));
  }

  private compute(id: number, index: string): string {
    const w = this.writer;
    const temp = this.materialized.get(id);
    const expr = this.kernel.exprs[id]!;
    // A row reduction is computed in place only by its own gpu.js kernel, and randn is always uploaded.
    if (temp !== undefined && (id !== this.root || expr.kind === 'randn')) return w.define('v', `${this.arg({ kind: 'temp', temp })}[${index}]`);
    switch (expr.kind) {
      case 'load':
        return w.define('v', `${this.arg({ kind: 'buffer', buffer: this.kernel.inputs[expr.input]! })}[${index}]`);
      case 'fill':
        return floatLiteral(expr.value);
      case 'input':
      case 'param':
      case 'literal':
      case 'randn':
        throw new Error(`internal error: ${expr.kind} evaluated inside gpu.js kernel of ${this.kernel.name}`);
      case 'unary':
        return w.define('v', `Math.fround(${unarySource(expr.op, expr.slope, this.value(expr.x, index), w)})`);
      case 'binary':
        return w.define('v', `Math.fround(${binarySource(expr.op, this.value(expr.a, index), this.value(expr.b, index))})`);
      case 'select': {
        const cond = this.value(expr.cond, index);
        return w.define('v', `${cond} != 0.0 ? ${this.value(expr.a, index)} : ${this.value(expr.b, index)}`);
      }
      case 'reshape':
        return this.value(expr.x, index);
      case 'permute':
      case 'broadcast':
      case 'slice':
      case 'flip':
      case 'pad': {
        const chain = composeMovements(this.kernel.exprs, id);
        if (chain !== undefined) return this.chainValue(chain, expr.shape, index);
        if (expr.kind !== 'pad') throw new Error(`internal error: ${expr.kind} e${id} of ${this.kernel.name} did not compose`);
        // A pad with interior padding ends every chain and maps its own index.
        return this.padded(expr, index);
      }
      case 'reduce':
        return this.reduce(expr, index);
      case 'matmul':
        return this.matmul(expr, index);
      case 'conv2d':
        return this.conv2d(expr, index);
      case 'conv2dBackInput':
        return this.conv2dBackInput(expr, index);
      case 'conv2dBackWeight':
        return this.conv2dBackWeight(expr, index);
      default:
        return assertNever(expr);
    }
  }

  /** Returns the coordinates of flat index `index` in `shape`, '0.0' for axes of size 1. */
  coords(index: string, shape: Shape): string[] {
    const rank = shape.length;
    const result = new Array<string>(rank).fill('0.0');
    const outermost = shape.findIndex((d) => d > 1);
    let rest = index;
    for (let a = rank - 1; a >= 0 && a >= outermost && outermost >= 0; a--) {
      if (shape[a] === 1) continue;
      if (a === outermost) {
        result[a] = rest;
        break;
      }
      const { quotient, remainder } = this.writer.divmod(rest, shape[a]!);
      result[a] = remainder;
      rest = quotient;
    }
    return result;
  }

  /**
   * Evaluates a composed movement chain at `index` of `shape`: its leaf at the mapped index, or 0
   * where a range check fails. Only the sides of a check that some coordinate fails are tested.
   */
  private chainValue(chain: ComposedMovement, shape: Shape, index: string): string {
    const w = this.writer;
    if (chain.padding) return '0.0';
    const tests = chain.checks;
    const coords = this.coords(index, shape);
    const terms: [string, number][] = [];
    for (let a = 0; a < shape.length; a++) if (shape[a]! > 1 && chain.multiplier[a] !== 0) terms.push([coords[a]!, chain.multiplier[a]!]);
    if (tests.length === 0) {
      if (terms.length === 1 && chain.base === 0 && terms[0]![1] === 1) return this.value(chain.leaf, terms[0]![0]);
      return this.value(chain.leaf, w.define('j', linear(chain.base, terms)));
    }
    const conditions = tests.flatMap((test) => this.testConditions(coords[test.axis]!, test));
    const inside = w.define('p', `(${conditions.join(' && ')}) ? 1.0 : 0.0`);
    // Outside the leaf, read element 0 instead and discard it, so no read leaves the texture.
    const source = w.define('j', `${inside} > 0.5 ? ${linear(chain.base, terms)} : 0.0`);
    const value = this.value(chain.leaf, source);
    return w.define('v', `${inside} > 0.5 ? ${value} : 0.0`);
  }

  /** Returns the conditions for 0 <= offset + scale * coordinate < size, with the coordinate alone on one side when scale is 1 or -1. */
  private testConditions(coordinate: string, test: RangeCheck): string[] {
    const bounds = coordinateBounds(test);
    if (bounds !== undefined) return bounds.map((bound) => `${coordinate} ${bound.op} ${floatLiteral(bound.value)}`);
    const term = this.writer.define('k', linear(test.offset, [[coordinate, test.scale]]));
    const conditions: string[] = [];
    if (test.low) conditions.push(`${term} >= 0.0`);
    if (test.high) conditions.push(`${term} < ${intLiteral(test.size)}`);
    return conditions;
  }

  /** Evaluates zero padding with interior zeros: the operand where every axis lands on an element, else 0. */
  private padded(expr: Extract<KernelExpr, { kind: 'pad' }>, index: string): string {
    const w = this.writer;
    const inShape = this.shapeOf(expr.x);
    const inStrides = contiguousStrides(inShape);
    const coords = this.coords(index, expr.shape);
    const conditions: string[] = [];
    const terms: [string, number][] = [];
    for (let a = 0; a < inShape.length; a++) {
      if (inShape[a] === 1 && expr.shape[a] === 1) continue;
      const period = expr.interior[a]! + 1;
      const shifted = expr.low[a] === 0 ? coords[a]! : w.define('k', `${coords[a]} - ${floatLiteral(expr.low[a]!)}`);
      let source = shifted;
      if (period > 1) {
        const { quotient, remainder } = w.divmod(shifted, period);
        conditions.push(`${remainder} == 0.0`);
        source = quotient;
      }
      const padded = expr.low[a] !== 0 || expr.high[a] !== 0 || period > 1;
      if (padded) conditions.push(`${source} >= 0.0 && ${source} < ${intLiteral(inShape[a]!)}`);
      terms.push([source, inStrides[a]!]);
    }
    if (conditions.length === 0) return this.value(expr.x, w.define('j', linear(0, terms)));
    const inside = w.define('p', `(${conditions.join(' && ')}) ? 1.0 : 0.0`);
    // Outside the operand, read element 0 instead and discard it, so no read leaves the texture.
    const source = w.define('j', `${inside} > 0.5 ? ${linear(0, terms)} : 0.0`);
    const value = this.value(expr.x, source);
    return w.define('v', `${inside} > 0.5 ? ${value} : 0.0`);
  }

  private reduce(expr: Extract<KernelExpr, { kind: 'reduce' }>, index: string): string {
    const w = this.writer;
    const inShape = this.shapeOf(expr.x);
    const strides = contiguousStrides(inShape);
    const keptAxes = inShape.map((_, a) => a).filter((a) => !expr.axes.includes(a));
    const keptCoords = this.coords(
      index,
      keptAxes.map((a) => inShape[a]!),
    );
    const base = w.define('b', linear(0, keptAxes.map((a, k) => [keptCoords[k]!, strides[a]!] as [string, number])));
    const acc = w.fresh('acc');
    const first = expr.op === 'max' ? this.value(expr.x, base) : '0.0';
    w.line(`let ${acc} = ${first};`);
    const counters = expr.axes.map((axis) => [w.openLoop(inShape[axis]!), strides[axis]!] as [string, number]);
    const element = w.define('j', `${base} + ${linear(0, counters)}`);
    const v = this.value(expr.x, element);
    // `v != v` keeps a NaN, as the reference's max does.
    if (expr.op === 'sum') w.line(`${acc} = ${acc} + ${v};`);
    else w.line(`${acc} = (${v} > ${acc} || ${v} != ${v}) ? ${v} : ${acc};`);
    for (let k = 0; k < counters.length; k++) w.close();
    return w.define('v', `Math.fround(${acc})`);
  }

  private matmul(expr: Extract<KernelExpr, { kind: 'matmul' }>, index: string): string {
    const w = this.writer;
    const sa = this.shapeOf(expr.a);
    const sb = this.shapeOf(expr.b);
    const m = sa[sa.length - 2]!;
    const k = sa[sa.length - 1]!;
    const n = sb[sb.length - 1]!;
    const batch = numel(sa) / (m * k);
    const [t, row, col] = this.coords(index, [batch, m, n]) as [string, string, string];
    const aBase = w.define('b', linear(0, [[t, m * k], [row, k]]));
    const bBase = w.define('b', linear(0, [[t, k * n], [col, 1]]));
    const acc = w.fresh('acc');
    w.line(`let ${acc} = 0.0;`);
    const p = w.openLoop(k);
    const av = this.value(expr.a, w.define('j', `${aBase} + ${p}`));
    const bv = this.value(expr.b, w.define('j', `${bBase} + ${p} * ${intLiteral(n)}`));
    w.line(`${acc} = ${acc} + ${av} * ${bv};`);
    w.close();
    return w.define('v', `Math.fround(${acc})`);
  }

  /** Opens `if (0 <= coordinate < limit)` around the rest of a loop body. */
  private openRange(coordinate: string, limit: number): void {
    this.writer.open(`if (${coordinate} >= 0.0 && ${coordinate} < ${intLiteral(limit)})`);
  }

  /** Emits y[n, o, oy, ox] = sum over c, ky, kx of x[n, g * cpg + c, oy * s - top + ky, ox * s - left + kx] * w[o, c, ky, kx]. */
  private conv2d(expr: Extract<KernelExpr, { kind: 'conv2d' }>, index: string): string {
    const w = this.writer;
    const [, c, h, wd] = this.shapeOf(expr.x) as [number, number, number, number];
    const [co, cpg, kh, kw] = this.shapeOf(expr.w) as [number, number, number, number];
    const [n, o, oy, ox] = this.coords(index, expr.shape) as [string, string, string, string];
    const { stride, groups } = expr.attrs;
    const [top, , left] = expr.attrs.padding;
    const group = groups === 1 ? '0.0' : w.divmod(o, co / groups).quotient;
    const xBase = w.define('b', linear(0, [[n, c], [group, cpg]]));
    const acc = w.fresh('acc');
    w.line(`let ${acc} = 0.0;`);
    const ci = w.openLoop(cpg);
    const ky = w.openLoop(kh);
    const iy = w.define('y', `${linear(-top, [[oy, stride]])} + ${ky}`);
    this.openRange(iy, h);
    const kx = w.openLoop(kw);
    const ix = w.define('x', `${linear(-left, [[ox, stride]])} + ${kx}`);
    this.openRange(ix, wd);
    const xIndex = w.define('j', `((${xBase} + ${ci}) * ${intLiteral(h)} + ${iy}) * ${intLiteral(wd)} + ${ix}`);
    const wIndex = w.define('j', `((${linear(0, [[o, cpg]])} + ${ci}) * ${intLiteral(kh)} + ${ky}) * ${intLiteral(kw)} + ${kx}`);
    const xv = this.value(expr.x, xIndex);
    const wv = this.value(expr.w, wIndex);
    w.line(`${acc} = ${acc} + ${xv} * ${wv};`);
    for (let k = 0; k < 5; k++) w.close();
    return w.define('v', `Math.fround(${acc})`);
  }

  /**
   * Emits dx[n, ci, iy, ix] = sum over the channels o of ci's group and taps (ky, kx) with
   * oy = (iy + top - ky) / s and ox = (ix + left - kx) / s whole and inside dy, of dy[n, o, oy, ox] * w[o, ci - g * cpg, ky, kx].
   */
  private conv2dBackInput(expr: Extract<KernelExpr, { kind: 'conv2dBackInput' }>, index: string): string {
    const w = this.writer;
    const [, co, oh, ow] = this.shapeOf(expr.dy) as [number, number, number, number];
    const [, cpg, kh, kw] = this.shapeOf(expr.w) as [number, number, number, number];
    const [n, ci, iy, ix] = this.coords(index, expr.shape) as [string, string, string, string];
    const { stride, groups } = expr.attrs;
    const [top, , left] = expr.attrs.padding;
    const copg = co / groups;
    const split = groups === 1 ? { quotient: '0.0', remainder: ci } : w.divmod(ci, cpg);
    const acc = w.fresh('acc');
    w.line(`let ${acc} = 0.0;`);
    const oo = w.openLoop(copg);
    const o = w.define('o', `${linear(0, [[split.quotient, copg]])} + ${oo}`);
    const ky = w.openLoop(kh);
    const oy = this.outputCoordinate(w.define('t', `${linear(top, [[iy, 1]])} - ${ky}`), stride);
    this.openRange(oy, oh);
    const kx = w.openLoop(kw);
    const ox = this.outputCoordinate(w.define('t', `${linear(left, [[ix, 1]])} - ${kx}`), stride);
    this.openRange(ox, ow);
    const dyIndex = w.define('j', `((${linear(0, [[n, co]])} + ${o}) * ${intLiteral(oh)} + ${oy}) * ${intLiteral(ow)} + ${ox}`);
    const wIndex = w.define('j', `((${o} * ${intLiteral(cpg)} + ${split.remainder}) * ${intLiteral(kh)} + ${ky}) * ${intLiteral(kw)} + ${kx}`);
    const dyv = this.value(expr.dy, dyIndex);
    const wv = this.value(expr.w, wIndex);
    w.line(`${acc} = ${acc} + ${dyv} * ${wv};`);
    for (let k = 0; k < 5; k++) w.close();
    return w.define('v', `Math.fround(${acc})`);
  }

  /** Returns t / stride, or -1 when t is not a multiple of stride, so the range check skips it. */
  private outputCoordinate(t: string, stride: number): string {
    if (stride === 1) return t;
    const { quotient, remainder } = this.writer.divmod(t, stride);
    return this.writer.define('t', `${remainder} == 0.0 ? ${quotient} : -1.0`);
  }

  /** Emits dw[o, c, ky, kx] = sum over n, oy, ox of dy[n, o, oy, ox] * x[n, g * cpg + c, oy * s - top + ky, ox * s - left + kx]. */
  private conv2dBackWeight(expr: Extract<KernelExpr, { kind: 'conv2dBackWeight' }>, index: string): string {
    const w = this.writer;
    const [batch, c, h, wd] = this.shapeOf(expr.x) as [number, number, number, number];
    const [, co, oh, ow] = this.shapeOf(expr.dy) as [number, number, number, number];
    const [, cpg] = expr.shape as [number, number, number, number];
    const [o, ci, ky, kx] = this.coords(index, expr.shape) as [string, string, string, string];
    const attrs: ConvAttrs = expr.attrs;
    const [top, , left] = attrs.padding;
    const group = attrs.groups === 1 ? '0.0' : w.divmod(o, co / attrs.groups).quotient;
    const channel = w.define('c', linear(0, [[group, cpg], [ci, 1]]));
    const acc = w.fresh('acc');
    w.line(`let ${acc} = 0.0;`);
    const nn = w.openLoop(batch);
    const oy = w.openLoop(oh);
    const iy = w.define('y', `${linear(-top, [[oy, attrs.stride]])} + ${ky}`);
    this.openRange(iy, h);
    const ox = w.openLoop(ow);
    const ix = w.define('x', `${linear(-left, [[ox, attrs.stride]])} + ${kx}`);
    this.openRange(ix, wd);
    const xIndex = w.define('j', `((${nn} * ${intLiteral(c)} + ${channel}) * ${intLiteral(h)} + ${iy}) * ${intLiteral(wd)} + ${ix}`);
    const dyIndex = w.define('j', `((${nn} * ${intLiteral(co)} + ${o}) * ${intLiteral(oh)} + ${oy}) * ${intLiteral(ow)} + ${ox}`);
    const xv = this.value(expr.x, xIndex);
    const dyv = this.value(expr.dy, dyIndex);
    w.line(`${acc} = ${acc} + ${dyv} * ${xv};`);
    for (let k = 0; k < 5; k++) w.close();
    return w.define('v', `Math.fround(${acc})`);
  }
}

function unarySource(op: Extract<KernelExpr, { kind: 'unary' }>['op'], slope: number, x: string, w: SourceWriter): string {
  switch (op) {
    case 'neg':
      return `-${x}`;
    case 'exp':
      return `Math.exp(${x})`;
    case 'log':
      return `Math.log(${x})`;
    case 'sqrt':
      return `Math.sqrt(${x})`;
    case 'rsqrt':
      return `1.0 / Math.sqrt(${x})`;
    case 'recip':
      return `1.0 / ${x}`;
    case 'square':
      return `${x} * ${x}`;
    case 'abs':
      return `Math.abs(${x})`;
    case 'sign':
      return `${x} > 0.0 ? 1.0 : (${x} < 0.0 ? -1.0 : ${x})`;
    case 'softplus': {
      // log(1 + t) loses the digits of a small t in float32, so t (1 - t / 2) replaces it there.
      const t = w.define('t', `Math.exp(-Math.abs(${x}))`);
      const log1p = w.define('t', `${t} < 0.0001 ? ${t} * (1.0 - 0.5 * ${t}) : Math.log(1.0 + ${t})`);
      return `Math.max(${x}, 0.0) + ${log1p}`;
    }
    case 'sigmoid': {
      const e = w.define('t', `Math.exp(-Math.abs(${x}))`);
      return `${x} >= 0.0 ? 1.0 / (1.0 + ${e}) : ${e} / (1.0 + ${e})`;
    }
    case 'lrelu':
      return `${x} > 0.0 ? ${x} : ${floatLiteral(slope)} * ${x}`;
    case 'lreluGrad':
      return `${x} > 0.0 ? 1.0 : ${floatLiteral(slope)}`;
    default:
      return assertNever(op);
  }
}

function binarySource(op: Extract<KernelExpr, { kind: 'binary' }>['op'], a: string, b: string): string {
  switch (op) {
    case 'add':
      return `${a} + ${b}`;
    case 'sub':
      return `${a} - ${b}`;
    case 'mul':
      return `${a} * ${b}`;
    case 'div':
      return `${a} / ${b}`;
    case 'max':
      return `${a} > ${b} ? ${a} : ${b}`;
    case 'min':
      return `${b} > ${a} ? ${a} : ${b}`;
    case 'greater':
      return `${a} > ${b} ? 1.0 : 0.0`;
    default:
      return assertNever(op);
  }
}
