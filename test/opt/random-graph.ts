// Random primitive graphs for the optimizer's property tests. A program is a list of steps. Each
// step adds one op whose operands are earlier nodes picked by index, so shared subexpressions and
// nodes with several consumers arise naturally. Every step's result has the base shape
// [2, 3, 4, 4], so any two results combine. Reductions, movements and contractions return to that
// shape through broadcasts, inverse movements or reshapes. Weight gradients join a separate list
// of conv weights.

import fc from 'fast-check';
import { Builder } from '../../src/ir/builder.ts';
import type { Graph, NodeId, UnaryOp } from '../../src/ir/graph.ts';
import { sameShape } from '../../src/ir/graph.ts';
import { type TensorMap, tensor } from '../../src/runtime/tensor.ts';
import { ramp } from './feeds.ts';

export const BASE: readonly number[] = [2, 3, 4, 4];
const WEIGHT: readonly number[] = [3, 3, 3, 3];

export interface Step {
  op: number;
  a: number;
  b: number;
  c: number;
  extra: number;
}

export interface RandomProgram {
  steps: Step[];
  outputs: number[];
}

export const OP_COUNT = 20;

export const stepArbitrary: fc.Arbitrary<Step> = fc.record({
  op: fc.integer({ min: 0, max: OP_COUNT - 1 }),
  a: fc.nat(1000),
  b: fc.nat(1000),
  c: fc.nat(1000),
  extra: fc.nat(1000),
});

export const programArbitrary: fc.Arbitrary<RandomProgram> = fc.record({
  steps: fc.array(stepArbitrary, { minLength: 1, maxLength: 24 }),
  outputs: fc.array(fc.nat(1000), { minLength: 0, maxLength: 4 }),
});

const UNARY: UnaryOp[] = ['neg', 'exp', 'square', 'abs', 'sign', 'softplus', 'sigmoid', 'lrelu', 'lreluGrad', 'sqrt', 'log', 'recip', 'rsqrt'];

/** Builds the graph of `program` with inputs x0, x1 and key, parameter w, and outputs out0, out1 and so on. */
export function buildRandomGraph(program: RandomProgram): Graph {
  const b = new Builder();
  const full: NodeId[] = [b.input('x0', BASE), b.input('x1', BASE)];
  const weights: NodeId[] = [b.param('w', WEIGHT)];
  const key = b.input('key', []);
  const pick = (list: NodeId[], index: number): NodeId => list[index % list.length]!;
  const scalar = (v: number): NodeId => b.scalar(v);

  for (const step of program.steps) {
    const x = pick(full, step.a);
    const y = pick(full, step.b);
    const z = pick(full, step.c);
    const e = step.extra;
    let result: NodeId;
    switch (step.op) {
      case 0:
      case 1:
        result = b.unary(UNARY[e % UNARY.length]!, x, 0.2);
        break;
      case 2:
        result = b.binary((['add', 'sub', 'mul', 'max', 'min', 'greater'] as const)[e % 6]!, x, y);
        break;
      case 3:
        // Guarded division: y^2 + 1 is never 0.
        result = b.div(x, b.add(b.unary('square', y), scalar(1)));
        break;
      case 4:
        result = b.select(b.binary('greater', x, y), y, z);
        break;
      case 5: {
        const axes = [[3], [2, 3], [1], [0, 2, 3], [0, 1, 2, 3], [1, 3]][e % 6]!;
        const keepDims = e % 2 === 0;
        const reduced = b.reduce(e % 7 === 0 ? 'max' : 'sum', x, axes, keepDims);
        const kept = BASE.map((d, i) => (axes.includes(i) ? 1 : d));
        result = b.mul(y, keepDims ? reduced : b.reshape(reduced, kept));
        break;
      }
      case 6: {
        const perm = [[0, 1, 3, 2], [1, 0, 2, 3], [3, 2, 1, 0], [0, 2, 3, 1]][e % 4]!;
        const inverse = perm.map((_, i) => perm.indexOf(i));
        const permuted = b.unary('neg', b.permute(x, perm));
        result = b.permute(permuted, inverse);
        break;
      }
      case 7:
        result = b.flip(b.add(x, y), e % 2 === 0 ? [3] : [1, 2]);
        break;
      case 8: {
        // Slice a window and pad it back to the base shape.
        const sliced = b.slice(x, [0, e % 2, 1, 0], [2, 3, 4, 4], [1, 1, 2, 1]);
        const s = b.shape(sliced);
        result = b.pad(b.unary('abs', sliced), [0, 3 - s[1]!, 0, 0], [0, 0, 1, 0], [0, 0, 1, 0]);
        if (!sameShape(b.shape(result), BASE)) throw new Error(`random graph: pad produced ${b.shape(result).join('x')}`);
        break;
      }
      case 9:
        result = b.reshape(b.mul(b.reshape(x, [6, 16]), b.reshape(y, [6, 16])), BASE);
        break;
      case 10:
        result = b.conv2d(x, pick(weights, e), { padding: [1, 1, 1, 1] });
        break;
      case 11:
        result = b.conv2dBackInput(x, pick(weights, e), { stride: 1, padding: [1, 1, 1, 1], groups: 1 }, BASE);
        break;
      case 12:
        weights.push(b.conv2dBackWeight(x, y, { stride: 1, padding: [1, 1, 1, 1], groups: 1 }, WEIGHT));
        result = b.add(x, scalar(0));
        break;
      case 13: {
        // [24, 4] x [4, 4], the right side cut from a weight and transposed on odd steps.
        const m = b.reshape(b.slice(pick(weights, e), [0, 0, 0, 0], [2, 2, 2, 2]), [4, 4]);
        const right = e % 2 === 0 ? m : b.permute(m, [1, 0]);
        result = b.reshape(b.matmul(b.reshape(x, [24, 4]), right), BASE);
        break;
      }
      case 14:
        result = b.add(b.randn(BASE, key, e % 5), x);
        break;
      case 15: {
        // Patterns next to the identities that the simplifier removes.
        const one = b.fill(BASE, 1);
        const zero = b.fill(BASE, 0);
        const variants = [
          () => b.add(b.mul(x, one), zero),
          () => b.sub(zero, b.mul(one, x)),
          () => b.div(b.sub(x, zero), one),
          () => b.unary('neg', b.unary('neg', b.add(zero, x))),
          () => b.reshape(b.reshape(b.reshape(x, [6, 16]), [96]), BASE),
          () => b.permute(b.permute(b.permute(x, [0, 2, 1, 3]), [0, 1, 3, 2]), [0, 3, 2, 1]),
          () => b.broadcastTo(b.broadcastTo(b.reshape(b.reduce('sum', x, [1, 2, 3]), [2, 1, 1, 1]), [2, 3, 1, 1]), BASE),
          () => b.mul(b.div(one, b.fill(BASE, 3)), b.sub(b.fill(BASE, 2), x)),
        ];
        result = variants[e % variants.length]!();
        break;
      }
      case 16:
        result = b.mul(b.broadcastTo(b.fill([1, 3, 1, 1], 0.5 + (e % 3)), BASE), x);
        break;
      case 17: {
        // An instance norm: reductions over trailing axes broadcast back, the row pattern.
        const centred = b.sub(x, b.mean(x, [2, 3], true));
        const variance = b.mean(b.unary('square', centred), [2, 3], true);
        result = b.mul(centred, b.unary('rsqrt', b.add(variance, scalar(1e-5))));
        break;
      }
      case 18:
        // A duplicate of an earlier op, for CSE.
        result = b.unary('lrelu', x, 0.2);
        full.push(b.unary('lrelu', x, 0.2));
        break;
      default: {
        const down = b.conv2d(x, pick(weights, e), { stride: 2, padding: [1, 1, 1, 1] });
        result = b.conv2dBackInput(down, pick(weights, e + 1), { stride: 2, padding: [1, 1, 1, 1], groups: 1 }, BASE);
        break;
      }
    }
    full.push(result);
  }
  const outputs = program.outputs.length === 0 ? [full.length - 1] : [...program.outputs, full.length - 1];
  outputs.forEach((index, i) => b.output(`out${i}`, full[index % full.length]!));
  return b.graph;
}

export function randomFeeds(offset = 0): TensorMap {
  return {
    x0: tensor(BASE, ramp(BASE, offset)),
    x1: tensor(BASE, ramp(BASE, offset + 500)),
    key: tensor([], [3]),
    w: tensor(WEIGHT, ramp(WEIGHT, offset + 900).map((v) => v * 0.4)),
  };
}

/**
 * Returns a message for the first element where `actual` and `expected` differ by more than
 * `tolerance` times max(1, |expected|), or undefined when all agree. NaNs must match NaNs and
 * infinities must match exactly.
 */
export function compareTensors(actual: TensorMap, expected: TensorMap, tolerance: number): string | undefined {
  for (const [name, want] of Object.entries(expected)) {
    const got = actual[name];
    if (got === undefined) return `output ${name} is missing`;
    if (!sameShape(got.shape, want.shape)) return `output ${name} has shape ${got.shape.join('x')}, expected ${want.shape.join('x')}`;
    for (let i = 0; i < want.data.length; i++) {
      const e = want.data[i]!;
      const a = got.data[i]!;
      if (Number.isNaN(e) && Number.isNaN(a)) continue;
      if (!Number.isFinite(e) || !Number.isFinite(a)) {
        if (a !== e) return `${name}[${i}]: expected ${e}, got ${a}`;
        continue;
      }
      if (Math.abs(a - e) > tolerance * Math.max(1, Math.abs(e))) return `${name}[${i}]: expected ${e}, got ${a}`;
    }
  }
  return undefined;
}
