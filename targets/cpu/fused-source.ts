// WebAssembly text for the fused kernels of compileKernels. One generated function computes a
// "map": every index of an iteration shape, one or more output expressions over loads of input
// buffers. Elementwise, reduce and row kernels are maps, and so are the prologues and epilogues of
// contraction kernels, whose core runs the hand-written gemm and convolution kernels instead.
//
// Each output element is computed from its own flat index in one pass over memory. Movement
// expressions (reshape, permute, broadcast, slice, flip, pad) are index arithmetic and never copy.
// A chain of movements is composed into one map (composeMovements), so the flat index is split
// into coordinates once per chain, and the coordinates are shared by every chain at that index.
// The main loop handles 4 consecutive outputs per iteration with 128-bit SIMD. An operand whose 4
// lanes are consecutive in its own buffer is one vector load. One that is equal in all 4 lanes
// (a broadcast bias, a row statistic) is one scalar splat. Anything else is computed lane by lane
// with scalar code. A scalar loop covers the last n mod 4 elements. The vector and scalar code
// perform the same float32 operations, so an element's value does not depend on which loop ran it.
//
// A reduction is a loop in the expression, summed in float64 in the reference executor's order.
// Its last index and value are kept in locals, so the consecutive outputs of a row kernel that read
// the same row statistic compute it once per row and thread.
//
// Threads split the flat output range in blocks of 4 elements. Every output element is computed
// the same way whichever thread computes it, so results do not depend on the thread count.

import { assertNever, numel, operands, type Shape } from '../../src/ir/graph.ts';
import type { KernelExpr } from '../../src/kernel/kernel.ts';
import { contiguousStrides } from '../ref/movement.ts';
import { type ComposedMovement, composeMovements } from '../../src/kernel/movement.ts';

/** One generated function: the outputs `outputs` (expression ids, each of shape `shape`) at every index of `shape`. */
export interface MapFunction {
  /** The export name. */
  name: string;
  shape: Shape;
  exprs: readonly KernelExpr[];
  /** The number of input buffer addresses the function takes, which LoadExpr.input indexes. */
  inputs: number;
  outputs: readonly number[];
}

/** Raised for an expression the generator does not compile. The caller then runs that kernel another way. */
export class UnsupportedExpression extends Error {}

type ValueType = 'i32' | 'f32' | 'f64' | 'v128';

const int = (value: number): string => `(i32.const ${value | 0})`;
const get = (local: string): string => `(local.get ${local})`;

/** Returns a float32 constant by its bits, so every value (NaN payloads, -0, infinities) survives the text. */
function f32(value: number): string {
  const bits = new Int32Array(Float32Array.of(value).buffer)[0]!;
  return `(f32.reinterpret_i32 (i32.const ${bits}))`;
}

const splat = (scalar: string): string => `(f32x4.splat ${scalar})`;
const ONE = splat('(f32.const 1)');
const ZERO = '(v128.const i32x4 0 0 0 0)';

/** The access pattern of 4 consecutive outputs of a movement, starting at a multiple of 4, into its operand. */
type LaneAccess = { kind: 'contiguous'; aligned: boolean } | { kind: 'uniform' } | { kind: 'lanes' };

/**
 * Classifies a movement's vector access. The 4 lanes differ only in the trailing axes whose sizes
 * first multiply to a multiple of 4 (the block). Zero multipliers over the block make the lanes
 * equal, and strides 1, d1, d1 * d2, ... make them consecutive.
 */
function laneAccess(shape: Shape, multiplier: readonly number[], base: number): LaneAccess {
  let block = 1;
  let uniform = true;
  let contiguous = true;
  let first = shape.length;
  for (let a = shape.length - 1; a >= 0; a--) {
    const size = shape[a]!;
    if (size === 1) continue;
    if (multiplier[a] !== 0) uniform = false;
    if (multiplier[a] !== block) contiguous = false;
    block *= size;
    first = a;
    if (block % 4 === 0) break;
  }
  if (block % 4 !== 0) return { kind: 'lanes' };
  if (uniform) return { kind: 'uniform' };
  if (!contiguous) return { kind: 'lanes' };
  // The block's start maps to base + (outer axes) and the lanes start at a multiple of 4 inside it.
  const aligned = base % 4 === 0 && multiplier.every((m, a) => a >= first || shape[a] === 1 || m % 4 === 0);
  return { kind: 'contiguous', aligned };
}

interface Scope {
  lines: string[];
  memo: Map<string, string>;
}

/** Builds one map function: locals, nested statement scopes with memoized values, and the two loops. */
class MapEmitter {
  private readonly locals: [string, ValueType][] = [];
  private readonly prelude: string[] = [];
  private readonly scopes: Scope[] = [];
  private readonly reduceCache = new Map<number, { index: string; value: string }>();
  private readonly composedCache = new Map<number, ComposedMovement | undefined>();
  /** Lane locals made from an index that is a multiple of 4: their base index and lane. */
  private readonly laneOf = new Map<string, { base: string; lane: number }>();
  private zeroIndex = '';

  constructor(private readonly fn: MapFunction) {}

  text(): string {
    const { fn } = this;
    const n = numel(fn.shape);
    this.zeroIndex = this.newLocal('i32', 'zero');
    const vectorBody = this.scoped(() => {
      fn.outputs.forEach((expr, o) => {
        const v = this.vector(expr, '$i', true);
        this.line(`(v128.store (i32.add ${get(`$out${o}`)} (i32.shl ${get('$i')} ${int(2)})) ${get(v)})`);
      });
    });
    const scalarBody = this.scoped(() => {
      fn.outputs.forEach((expr, o) => {
        const v = this.value(expr, '$i');
        this.line(`(f32.store (i32.add ${get(`$out${o}`)} (i32.shl ${get('$i')} ${int(2)})) ${get(v)})`);
      });
    });
    const units = Math.ceil(n / 4);
    const params = [
      ...Array.from({ length: fn.inputs }, (_, k) => `(param $in${k} i32)`),
      ...fn.outputs.map((_, o) => `(param $out${o} i32)`),
      '(param $tid i32) (param $nt i32)',
    ].join(' ');
    const locals = ['(local $i i32) (local $end i32)', ...this.locals.map(([name, type]) => `(local ${name} ${type})`)].join(' ');
    // Units of 4 elements: thread tid gets units [units * tid / nt, units * (tid + 1) / nt), with
    // the products in 64 bits so that they cannot wrap.
    const shareBound = (tid: string): string =>
      `(i32.shl (i32.wrap_i64 (i64.div_u (i64.mul (i64.const ${units}) (i64.extend_i32_u ${tid})) (i64.extend_i32_u ${get('$nt')}))) ${int(2)})`;
    return `(func (export "${fn.name}") ${params}
  ${locals}
  ${this.prelude.join('\n  ')}
  (local.set $i ${shareBound(get('$tid'))})
  (local.set $end ${shareBound(`(i32.add ${get('$tid')} ${int(1)})`)})
  (if (i32.gt_s ${get('$end')} ${int(n)}) (then (local.set $end ${int(n)})))
  (block $vector_done (loop $vector_next
    (br_if $vector_done (i32.gt_s (i32.add ${get('$i')} ${int(4)}) ${get('$end')}))
    ${vectorBody}
    (local.set $i (i32.add ${get('$i')} ${int(4)}))
    (br $vector_next)))
  (block $scalar_done (loop $scalar_next
    (br_if $scalar_done (i32.ge_s ${get('$i')} ${get('$end')}))
    ${scalarBody}
    (local.set $i (i32.add ${get('$i')} ${int(1)}))
    (br $scalar_next))))`;
  }

  // Statements and locals

  private newLocal(type: ValueType, prefix: string): string {
    const name = `$${prefix}${this.locals.length}`;
    this.locals.push([name, type]);
    return name;
  }

  private line(statement: string): void {
    this.scopes[this.scopes.length - 1]!.lines.push(statement);
  }

  /** Runs `body` in a new scope and returns its statements; values computed inside stay inside. */
  private scoped(body: () => void): string {
    this.scopes.push({ lines: [], memo: new Map() });
    body();
    return this.scopes.pop()!.lines.join('\n    ');
  }

  private lookup(key: string): string | undefined {
    for (let s = this.scopes.length - 1; s >= 0; s--) {
      const found = this.scopes[s]!.memo.get(key);
      if (found !== undefined) return found;
    }
    return undefined;
  }

  private remember(key: string, local: string): string {
    this.scopes[this.scopes.length - 1]!.memo.set(key, local);
    return local;
  }

  private assign(type: ValueType, prefix: string, code: string): string {
    const local = this.newLocal(type, prefix);
    this.line(`(local.set ${local} ${code})`);
    return local;
  }

  // Index arithmetic

  /** Returns a local with coordinate `a` of flat index `index` (a local) in the row-major `shape`, computed once per scope. */
  private coordinate(index: string, shape: Shape, a: number): string {
    const key = `c${shape.join('x')}:${a}@${index}`;
    const found = this.lookup(key);
    if (found !== undefined) return found;
    const last = shape.length - 1;
    const lane = this.laneOf.get(index);
    if (lane !== undefined && shape[last]! % 4 === 0) {
      // Lane l of a multiple of 4 differs from it only in the last coordinate, by l, when the last axis spans whole vectors.
      const first = this.coordinate(lane.base, shape, a);
      return a < last ? first : this.remember(key, this.assign('i32', 'c', `(i32.add ${get(first)} ${int(lane.lane)})`));
    }
    const strides = contiguousStrides(shape);
    let code = strides[a] === 1 ? get(index) : `(i32.div_u ${get(index)} ${int(strides[a]!)})`;
    // The flat index is below numel(shape), so the first axis needs no remainder.
    if (a > 0) code = `(i32.rem_u ${code} ${int(shape[a]!)})`;
    return this.remember(key, this.assign('i32', 'c', code));
  }

  /** Returns base + sum over axes of coordinate(index, a) * multiplier[a], with coordinates of `shape` (row-major). */
  private offset(index: string, shape: Shape, multiplier: readonly number[], base: number): string {
    const terms: string[] = [];
    for (let a = 0; a < shape.length; a++) {
      if (shape[a] === 1 || multiplier[a] === 0) continue;
      const coordinate = get(this.coordinate(index, shape, a));
      terms.push(multiplier[a] === 1 ? coordinate : `(i32.mul ${coordinate} ${int(multiplier[a]!)})`);
    }
    return terms.reduce((sum, term) => `(i32.add ${sum} ${term})`, int(base));
  }

  /** Returns a local with index + lane. `aligned` is true when index is a multiple of 4. */
  private plusLane(index: string, lane: number, aligned: boolean): string {
    if (lane === 0) return index;
    const key = `lane${lane}@${index}`;
    const found = this.lookup(key);
    if (found !== undefined) return found;
    const local = this.remember(key, this.assign('i32', 'lane', `(i32.add ${get(index)} ${int(lane)})`));
    if (aligned) this.laneOf.set(local, { base: index, lane });
    return local;
  }

  /** Returns the composed movement chain that starts at `id`, computed once per expression. */
  private composed(id: number): ComposedMovement | undefined {
    if (!this.composedCache.has(id)) this.composedCache.set(id, composeMovements(this.fn.exprs, id));
    return this.composedCache.get(id);
  }

  /**
   * Returns the leaf's index of the movement chain at `id` for flat index `index`, and when the
   * chain pads, a flag that is 0 in the padding (where the index is 0).
   */
  private chainIndex(id: number, chain: ComposedMovement, index: string): { index: string; inside?: string } {
    const key = `map${id}@${index}`;
    const found = this.lookup(key);
    if (found !== undefined) return { index: found, inside: this.lookup(`inside${id}@${index}`) };
    const shape = this.fn.exprs[id]!.shape;
    const mapped = this.offset(index, shape, chain.multiplier, chain.base);
    if (chain.checks.length === 0) return { index: this.remember(key, this.assign('i32', 'j', mapped)) };
    // One unsigned comparison tests 0 <= term < size.
    const tests = chain.checks.map((check) => {
      const coordinate = get(this.coordinate(index, shape, check.axis));
      const scaled = check.scale === 1 ? coordinate : `(i32.mul ${coordinate} ${int(check.scale)})`;
      return `(i32.lt_u (i32.add ${scaled} ${int(check.offset)}) ${int(check.size)})`;
    });
    const inside = this.remember(`inside${id}@${index}`, this.assign('i32', 'inside', tests.reduce((all, test) => `(i32.and ${all} ${test})`)));
    // Padding reads element 0 (always valid) and the caller selects 0 instead.
    return { index: this.remember(key, this.assign('i32', 'j', `(select ${mapped} ${int(0)} ${get(inside)})`)), inside };
  }

  /** Returns the operand index of a pad with interior padding at `index`, and a flag that is 0 in the padding (where the index is 0). */
  private mapIndex(id: number, index: string): { index: string; inside: string } {
    const key = `map${id}@${index}`;
    const found = this.lookup(key);
    if (found !== undefined) return { index: found, inside: this.lookup(`inside${id}@${index}`)! };
    return this.padIndex(id, index, key);
  }

  private padIndex(id: number, index: string, key: string): { index: string; inside: string } {
    const expr = this.fn.exprs[id] as Extract<KernelExpr, { kind: 'pad' }>;
    const inShape = this.fn.exprs[expr.x]!.shape;
    const outStrides = contiguousStrides(expr.shape);
    const inStrides = contiguousStrides(inShape);
    const inside = this.assign('i32', 'inside', int(1));
    const target = this.assign('i32', 'j', int(0));
    for (let a = 0; a < expr.shape.length; a++) {
      const period = expr.interior[a]! + 1;
      if (expr.shape[a] === 1 && expr.low[a] === 0) continue;
      let coordinate = outStrides[a] === 1 ? get(index) : `(i32.div_u ${get(index)} ${int(outStrides[a]!)})`;
      if (a > 0) coordinate = `(i32.rem_u ${coordinate} ${int(expr.shape[a]!)})`;
      const k = this.assign('i32', 'k', `(i32.sub ${coordinate} ${int(expr.low[a]!)})`);
      // k is a padded position unless 0 <= k, k is a multiple of the period and k / period < size.
      let ok = `(i32.ge_s ${get(k)} ${int(0)})`;
      if (period > 1) ok = `(i32.and ${ok} (i32.eqz (i32.rem_s ${get(k)} ${int(period)})))`;
      const position = period > 1 ? `(i32.div_s ${get(k)} ${int(period)})` : get(k);
      ok = `(i32.and ${ok} (i32.lt_s ${position} ${int(inShape[a]!)}))`;
      this.line(`(local.set ${inside} (i32.and ${get(inside)} ${ok}))`);
      this.line(`(local.set ${target} (i32.add ${get(target)} (i32.mul ${position} ${int(inStrides[a]!)})))`);
    }
    // Padding reads element 0 (always valid) and the caller selects 0 instead.
    this.line(`(local.set ${target} (select ${get(target)} ${int(0)} ${get(inside)}))`);
    this.remember(`inside${id}@${index}`, inside);
    return { index: this.remember(key, target), inside };
  }

  // Scalar values

  /** Returns a local that contains expression `id` at flat index `index` (a local) of its own shape, as f32. */
  private value(id: number, index: string): string {
    const key = `s${id}@${index}`;
    const found = this.lookup(key);
    if (found !== undefined) return found;
    return this.remember(key, this.computeValue(id, index));
  }

  private computeValue(id: number, index: string): string {
    const expr = this.fn.exprs[id]!;
    switch (expr.kind) {
      case 'load':
        return this.assign('f32', 'v', `(f32.load (i32.add ${get(`$in${expr.input}`)} (i32.shl ${get(index)} ${int(2)})))`);
      case 'fill':
        return this.assign('f32', 'v', f32(expr.value));
      case 'unary':
        return this.unary(expr, this.value(expr.x, index));
      case 'binary':
        return this.assign('f32', 'v', binaryScalar(expr.op, get(this.value(expr.a, index)), get(this.value(expr.b, index))));
      case 'select': {
        const cond = this.value(expr.cond, index);
        const a = this.value(expr.a, index);
        const b = this.value(expr.b, index);
        return this.assign('f32', 'v', `(select ${get(a)} ${get(b)} (f32.ne ${get(cond)} (f32.const 0)))`);
      }
      case 'reshape':
        return this.value(expr.x, index);
      case 'permute':
      case 'broadcast':
      case 'slice':
      case 'flip':
      case 'pad': {
        const chain = this.composed(id);
        if (chain === undefined) {
          // A pad with interior padding ends every chain and maps its own index.
          const mapped = this.mapIndex(id, index);
          const v = this.value((expr as Extract<KernelExpr, { kind: 'pad' }>).x, mapped.index);
          return this.assign('f32', 'v', `(select ${get(v)} (f32.const 0) ${get(mapped.inside)})`);
        }
        if (chain.padding) return this.assign('f32', 'v', '(f32.const 0)');
        const mapped = this.chainIndex(id, chain, index);
        const v = this.value(chain.leaf, mapped.index);
        return mapped.inside === undefined ? v : this.assign('f32', 'v', `(select ${get(v)} (f32.const 0) ${get(mapped.inside)})`);
      }
      case 'reduce':
        return this.reduce(id, index);
      case 'randn': {
        const key = this.value(expr.key, this.zeroIndex);
        return this.assign('f32', 'v', `(call $randn ${get(key)} ${int(expr.stream)} ${get(index)})`);
      }
      case 'matmul':
      case 'conv2d':
      case 'conv2dBackInput':
      case 'conv2dBackWeight':
      case 'input':
      case 'param':
      case 'literal':
        throw new UnsupportedExpression(`${expr.kind} inside a map function`);
      default:
        return assertNever(expr);
    }
  }

  private unary(expr: Extract<KernelExpr, { kind: 'unary' }>, x: string): string {
    const v = get(x);
    const slope = f32(expr.slope);
    switch (expr.op) {
      case 'neg':
      case 'abs':
      case 'sqrt':
        return this.assign('f32', 'v', `(f32.${expr.op} ${v})`);
      case 'rsqrt':
        return this.assign('f32', 'v', `(f32.div (f32.const 1) (f32.sqrt ${v}))`);
      case 'recip':
        return this.assign('f32', 'v', `(f32.div (f32.const 1) ${v})`);
      case 'square':
        return this.assign('f32', 'v', `(f32.mul ${v} ${v})`);
      case 'lrelu':
        return this.assign('f32', 'v', `(select ${v} (f32.mul ${v} ${slope}) (f32.gt ${v} (f32.const 0)))`);
      case 'lreluGrad':
        return this.assign('f32', 'v', `(select (f32.const 1) ${slope} (f32.gt ${v} (f32.const 0)))`);
      case 'sign':
        // Math.sign: 1, -1, or the value itself for zeros and NaN.
        return this.assign('f32', 'v', `(select (f32.const 1) (select (f32.const -1) ${v} (f32.lt ${v} (f32.const 0))) (f32.gt ${v} (f32.const 0)))`);
      // The transcendental functions call the host's Math in float64, as the reference executor does.
      case 'exp':
      case 'log':
        return this.assign('f32', 'v', `(f32.demote_f64 (call $${expr.op} (f64.promote_f32 ${v})))`);
      case 'softplus': {
        const d = this.assign('f64', 'd', `(f64.promote_f32 ${v})`);
        return this.assign('f32', 'v', `(f32.demote_f64 (f64.add (f64.max ${get(d)} (f64.const 0)) (call $log1p (call $exp (f64.neg (f64.abs ${get(d)}))))))`);
      }
      case 'sigmoid': {
        const d = this.assign('f64', 'd', `(f64.promote_f32 ${v})`);
        const e = this.assign('f64', 'e', `(call $exp (f64.neg (f64.abs ${get(d)})))`);
        const denominator = `(f64.add (f64.const 1) ${get(e)})`;
        return this.assign(
          'f32',
          'v',
          `(f32.demote_f64 (select (f64.div (f64.const 1) ${denominator}) (f64.div ${get(e)} ${denominator}) (f64.ge ${get(d)} (f64.const 0))))`,
        );
      }
      default:
        return assertNever(expr.op);
    }
  }

  /**
   * Computes a reduction at `index` with a loop over the reduced axes in row-major order, as the
   * reference executor sums. The last index and value are kept, so a repeated index costs nothing.
   */
  private reduce(id: number, index: string): string {
    const expr = this.fn.exprs[id] as Extract<KernelExpr, { kind: 'reduce' }>;
    const inShape = this.fn.exprs[expr.x]!.shape;
    const strides = contiguousStrides(inShape);
    let cache = this.reduceCache.get(id);
    if (cache === undefined) {
      cache = { index: this.newLocal('i32', 'cached_index'), value: this.newLocal('f32', 'cached_value') };
      this.prelude.push(`(local.set ${cache.index} ${int(-1)})`);
      this.reduceCache.set(id, cache);
    }
    const keptAxes = inShape.map((_, a) => a).filter((a) => !expr.axes.includes(a));
    const keptShape = keptAxes.map((a) => inShape[a]!);
    const keptStrides = keptAxes.map((a) => strides[a]!);
    const reduced = expr.axes.filter((a) => inShape[a]! > 1);
    const isSum = expr.op === 'sum';

    const body = this.scoped(() => {
      const accumulator = this.assign(isSum ? 'f64' : 'f32', 'acc', isSum ? '(f64.const 0)' : f32(-Infinity));
      const base = this.assign('i32', 'base', this.offset(index, keptShape, keptStrides, 0));
      // One nested loop per reduced axis, each with a counter and a running operand index.
      const counters = reduced.map(() => this.newLocal('i32', 'c'));
      const positions = reduced.map(() => this.newLocal('i32', 'p'));
      // When the operand's last axis is reduced and spans whole vectors, the innermost loop computes
      // the operand 4 elements at a time in SIMD. Every row start is then a multiple of 4, and the
      // lanes are still added one by one in index order, so the sum does not change.
      const last = reduced.length - 1;
      const vectorized = last >= 0 && reduced[last] === inShape.length - 1 && inShape[inShape.length - 1]! % 4 === 0;
      const accumulate = (v: string): void => {
        if (isSum) {
          this.line(`(local.set ${accumulator} (f64.add ${get(accumulator)} (f64.promote_f32 ${v})))`);
        } else {
          // acc = v when v > acc or v is NaN, so NaN propagates as in the reference executor.
          const lane = this.assign('f32', 'v', v);
          this.line(`(if (i32.or (f32.gt ${get(lane)} ${get(accumulator)}) (f32.ne ${get(lane)} ${get(lane)})) (then (local.set ${accumulator} ${get(lane)})))`);
        }
      };
      const innermost = this.scoped(() => {
        const at = reduced.length === 0 ? base : positions[last]!;
        if (!vectorized) {
          accumulate(get(this.value(expr.x, at)));
          return;
        }
        const v = this.vector(expr.x, at, true);
        for (let lane = 0; lane < 4; lane++) accumulate(`(f32x4.extract_lane ${lane} ${get(v)})`);
      });
      let loop = innermost;
      for (let level = last; level >= 0; level--) {
        const counter = counters[level]!;
        const position = positions[level]!;
        const outer = level === 0 ? base : positions[level - 1]!;
        const label = `$reduce${id}_${level}`;
        const step = vectorized && level === last ? 4 : 1;
        loop = `(local.set ${counter} ${int(0)})
      (local.set ${position} ${get(outer)})
      (block ${label}_done (loop ${label}
        ${loop}
        (local.set ${position} (i32.add ${get(position)} ${int(step * strides[reduced[level]!]!)}))
        (local.set ${counter} (i32.add ${get(counter)} ${int(step)}))
        (br_if ${label} (i32.lt_s ${get(counter)} ${int(inShape[reduced[level]!]!)}))))`;
      }
      this.line(loop);
      this.line(`(local.set ${cache.value} ${isSum ? `(f32.demote_f64 ${get(accumulator)})` : get(accumulator)})`);
      this.line(`(local.set ${cache.index} ${get(index)})`);
    });
    this.line(`(if (i32.ne ${get(index)} ${get(cache.index)}) (then ${body}))`);
    // A copy, because a later evaluation at another index overwrites the cache.
    return this.assign('f32', 'v', get(cache.value));
  }

  // Vector values

  /**
   * Returns a v128 local that contains expression `id` at the 4 consecutive flat indices starting at
   * `index`. `aligned` is true when that index is a multiple of 4, which the lane classification
   * needs.
   */
  private vector(id: number, index: string, aligned: boolean): string {
    const key = `v${id}@${index}`;
    const found = this.lookup(key);
    if (found !== undefined) return found;
    return this.remember(key, this.computeVector(id, index, aligned));
  }

  private computeVector(id: number, index: string, aligned: boolean): string {
    const expr = this.fn.exprs[id]!;
    switch (expr.kind) {
      case 'load':
        return this.assign('v128', 'w', `(v128.load (i32.add ${get(`$in${expr.input}`)} (i32.shl ${get(index)} ${int(2)})))`);
      case 'fill':
        return this.assign('v128', 'w', splat(f32(expr.value)));
      case 'unary': {
        const code = unaryVector(expr.op, expr.slope, () => get(this.vector(expr.x, index, aligned)));
        return code === undefined ? this.lanes(id, index, aligned) : this.assign('v128', 'w', code);
      }
      case 'binary': {
        const a = get(this.vector(expr.a, index, aligned));
        const b = get(this.vector(expr.b, index, aligned));
        return this.assign('v128', 'w', binaryVector(expr.op, a, b));
      }
      case 'select': {
        const cond = get(this.vector(expr.cond, index, aligned));
        const a = get(this.vector(expr.a, index, aligned));
        const b = get(this.vector(expr.b, index, aligned));
        return this.assign('v128', 'w', `(v128.bitselect ${a} ${b} (f32x4.ne ${cond} ${ZERO}))`);
      }
      case 'reshape':
        return this.vector(expr.x, index, aligned);
      case 'permute':
      case 'broadcast':
      case 'slice':
      case 'flip':
      case 'pad': {
        const chain = this.composed(id);
        if (chain?.padding === true) return this.assign('v128', 'w', ZERO);
        if (!aligned || chain === undefined || chain.checks.length > 0) return this.lanes(id, index, aligned);
        const access = laneAccess(expr.shape, chain.multiplier, chain.base);
        if (access.kind === 'lanes') return this.lanes(id, index, aligned);
        const mapped = this.chainIndex(id, chain, index).index;
        if (access.kind === 'uniform') return this.assign('v128', 'w', splat(get(this.value(chain.leaf, mapped))));
        return this.vector(chain.leaf, mapped, access.aligned);
      }
      case 'reduce':
      case 'randn':
        return this.lanes(id, index, aligned);
      case 'matmul':
      case 'conv2d':
      case 'conv2dBackInput':
      case 'conv2dBackWeight':
      case 'input':
      case 'param':
      case 'literal':
        throw new UnsupportedExpression(`${expr.kind} inside a map function`);
      default:
        return assertNever(expr);
    }
  }

  /** Computes the 4 lanes with scalar code and packs them into a vector. `aligned` is true when index is a multiple of 4. */
  private lanes(id: number, index: string, aligned: boolean): string {
    const values = [0, 1, 2, 3].map((lane) => this.value(id, this.plusLane(index, lane, aligned)));
    let code = splat(get(values[0]!));
    for (let lane = 1; lane < 4; lane++) code = `(f32x4.replace_lane ${lane} ${code} ${get(values[lane]!)})`;
    return this.assign('v128', 'w', code);
  }
}

function binaryScalar(op: Extract<KernelExpr, { kind: 'binary' }>['op'], a: string, b: string): string {
  switch (op) {
    case 'add':
    case 'sub':
    case 'mul':
    case 'div':
      return `(f32.${op} ${a} ${b})`;
    // a > b ? a : b and b > a ? a : b: ties and NaNs pick b, as in the reference executor.
    case 'max':
      return `(select ${a} ${b} (f32.gt ${a} ${b}))`;
    case 'min':
      return `(select ${a} ${b} (f32.gt ${b} ${a}))`;
    case 'greater':
      return `(f32.convert_i32_u (f32.gt ${a} ${b}))`;
    default:
      return assertNever(op);
  }
}

function binaryVector(op: Extract<KernelExpr, { kind: 'binary' }>['op'], a: string, b: string): string {
  switch (op) {
    case 'add':
    case 'sub':
    case 'mul':
    case 'div':
      return `(f32x4.${op} ${a} ${b})`;
    case 'max':
      return `(v128.bitselect ${a} ${b} (f32x4.gt ${a} ${b}))`;
    case 'min':
      return `(v128.bitselect ${a} ${b} (f32x4.gt ${b} ${a}))`;
    case 'greater':
      return `(v128.and (f32x4.gt ${a} ${b}) ${ONE})`;
    default:
      return assertNever(op);
  }
}

/** Returns the SIMD form of a unary op (the same float32 operations as the scalar form), or undefined for the transcendental ones. */
function unaryVector(op: Extract<KernelExpr, { kind: 'unary' }>['op'], slopeValue: number, operand: () => string): string | undefined {
  const slope = splat(f32(slopeValue));
  switch (op) {
    case 'neg':
    case 'abs':
    case 'sqrt':
      return `(f32x4.${op} ${operand()})`;
    case 'rsqrt':
      return `(f32x4.div ${ONE} (f32x4.sqrt ${operand()}))`;
    case 'recip':
      return `(f32x4.div ${ONE} ${operand()})`;
    case 'square': {
      const x = operand();
      return `(f32x4.mul ${x} ${x})`;
    }
    case 'lrelu': {
      const x = operand();
      return `(v128.bitselect ${x} (f32x4.mul ${x} ${slope}) (f32x4.gt ${x} ${ZERO}))`;
    }
    case 'lreluGrad':
      return `(v128.bitselect ${ONE} ${slope} (f32x4.gt ${operand()} ${ZERO}))`;
    case 'sign': {
      const x = operand();
      return `(v128.bitselect ${ONE} (v128.bitselect ${splat('(f32.const -1)')} ${x} (f32x4.lt ${x} ${ZERO})) (f32x4.gt ${x} ${ZERO}))`;
    }
    case 'exp':
    case 'log':
    case 'softplus':
    case 'sigmoid':
      return undefined;
    default:
      return assertNever(op);
  }
}

/** Returns the text of one map function. Throws UnsupportedExpression for expressions it cannot compile. */
export function mapFunctionText(fn: MapFunction): string {
  for (const output of fn.outputs) {
    if (numel(fn.exprs[output]!.shape) !== numel(fn.shape)) throw new Error(`internal error: ${fn.name} output e${output} does not match its shape`);
  }
  return new MapEmitter(fn).text();
}

/** Estimates a map's cost in element operations: its outputs, every element its reductions read, and the normal samples it draws. */
export function mapWork(fn: MapFunction): number {
  let work = numel(fn.shape);
  for (const id of reachable(fn)) {
    const expr = fn.exprs[id]!;
    if (expr.kind === 'reduce') work += numel(fn.exprs[expr.x]!.shape);
    // The generator's 20 rounds and two host calls cost about as much as 30 element operations.
    if (expr.kind === 'randn') work += 30 * numel(expr.shape);
  }
  return work;
}

function reachable(fn: MapFunction): number[] {
  const seen = new Set<number>();
  const stack = [...fn.outputs];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    const expr = fn.exprs[id]!;
    if (expr.kind !== 'load') stack.push(...operands(expr));
  }
  return [...seen];
}

/**
 * Returns the normal generator of the `randn` node: Threefry-2x32 with 20 rounds of key
 * (key, stream) and counter (index, 0), then Box-Muller on the two words in float64 with the host's
 * log and cos. These are the steps of randnAt in src/ir/rng.ts, so values are bit-identical to the
 * reference executor's. A key that is not an integer in [0, 2^24) calls the host, which throws.
 */
function randnFunction(): string {
  const rotations = [13, 15, 26, 6, 17, 29, 16, 24];
  const keyWords = ['$ks0', '$ks1', '$ks2'];
  const rounds: string[] = [];
  for (let r = 0; r < 20; r++) {
    rounds.push(`(local.set $x0 (i32.add ${get('$x0')} ${get('$x1')}))`);
    rounds.push(`(local.set $x1 (i32.xor (i32.rotl ${get('$x1')} ${int(rotations[r % 8]!)}) ${get('$x0')}))`);
    if (r % 4 === 3) {
      const j = (r + 1) / 4;
      rounds.push(`(local.set $x0 (i32.add ${get('$x0')} ${get(keyWords[j % 3]!)}))`);
      rounds.push(`(local.set $x1 (i32.add ${get('$x1')} (i32.add ${get(keyWords[(j + 1) % 3]!)} ${int(j)})))`);
    }
  }
  const uniform = (word: string): string => `(f64.mul (f64.convert_i32_u (i32.add (i32.shr_u ${get(word)} ${int(8)}) ${int(1)})) (f64.const ${2 ** -24}))`;
  return `(func $randn (param $key f32) (param $stream i32) (param $index i32) (result f32)
  (local $ks0 i32) (local $ks1 i32) (local $ks2 i32) (local $x0 i32) (local $x1 i32)
  (local.set $ks0 (i32.trunc_sat_f32_u ${get('$key')}))
  (if (i32.or (f32.ne (f32.convert_i32_u ${get('$ks0')}) ${get('$key')}) (i32.ge_u ${get('$ks0')} ${int(2 ** 24)}))
    (then (call $invalidRandnKey ${get('$key')})))
  (local.set $ks1 ${get('$stream')})
  (local.set $ks2 (i32.xor (i32.xor ${int(0x1bd11bda)} ${get('$ks0')}) ${get('$ks1')}))
  (local.set $x0 (i32.add ${get('$index')} ${get('$ks0')}))
  (local.set $x1 ${get('$ks1')})
  ${rounds.join('\n  ')}
  (f32.demote_f64 (f64.mul
    (f64.sqrt (f64.mul (f64.const -2) (call $log ${uniform('$x0')})))
    (call $cos (f64.mul (f64.const ${2 * Math.PI}) ${uniform('$x1')})))))`;
}

/** Returns a module's text: the imported shared memory and host functions, the generator, then the map functions. */
export function mapModuleText(functions: readonly string[]): string {
  return [
    '(module',
    '(import "env" "memory" (memory 1 32768 shared))',
    '(import "host" "exp" (func $exp (param f64) (result f64)))',
    '(import "host" "log" (func $log (param f64) (result f64)))',
    '(import "host" "log1p" (func $log1p (param f64) (result f64)))',
    '(import "host" "cos" (func $cos (param f64) (result f64)))',
    '(import "host" "invalidRandnKey" (func $invalidRandnKey (param f32)))',
    randnFunction(),
    ...functions,
    ')',
  ].join('\n');
}
