// The shared op suite on the cpu target, forward and backward, against the reference executor,
// plus the cases that only the cpu target has. The target runs its default fused path, so each
// graph here runs as generated kernels.

import { describe, expect, it } from 'vitest';
import { numel } from '../../src/ir/graph.ts';
import { dotProduct, exact, relative, ulps } from '../ops/compare.ts';
import { type ConvCase, convGraphs, convTerms, defineOpSuite, type OpBounds } from '../ops/suite.ts';
import { buildGraph, cpu1, cpu2, expectContraction, expectExact, randomFeeds } from './helpers.ts';

// Error bounds, per op:
// - exact (bit-identical): add, sub, mul, div, max, min, greater, select, neg, abs, sqrt, recip,
//   square, lreluGrad, sign and the leaf kinds. A correctly rounded float32 op equals the
//   reference's float64 op rounded once to float32.
// - exact: exp, log, softplus and sigmoid, because the generated code calls the host's Math in
//   float64 as the reference does. Also exact: movement ops, reduce max, sums over non-trailing
//   axes (float64 sums in the reference's order) and randn (the same Threefry rounds, then the
//   host's log and cos).
// - rsqrt: 2 ulp (a rounded square root, then a rounded division).
// - lrelu: relative 2^-22 (the slope is rounded to float32 before the product).
// - sum over trailing axes: relative 2^-23, the bound of the op-by-op path, which sums in float64
//   in a different order. The fused path sums in the reference's order.
// - matmul and the convolutions: (K + 2) u sum |a| |b| for K terms per output and u = 2^-24, the
//   standard bound of a float32 dot product.
// - gradients: exact, because their ops are exact ops from the list above. The exception is
//   rsqrt's gradient, -1/2 rsqrt(x)^3 dy: 8 ulp, 6 from cubing a 2 ulp result and 2 for its
//   products. Broadcast gradients sum over leading axes, which is exact as above, and gradients
//   of contractions get the dot-product bound.
const bounds: OpBounds = {
  forward: {
    add: exact,
    sub: exact,
    mul: exact,
    div: exact,
    max: exact,
    min: exact,
    greater: exact,
    neg: exact,
    abs: exact,
    sqrt: exact,
    recip: exact,
    square: exact,
    lreluGrad: exact,
    sign: exact,
    exp: exact,
    log: exact,
    softplus: exact,
    sigmoid: exact,
    rsqrt: ulps(2),
    lrelu: relative(2 ** -22),
    select: exact,
    leaf: exact,
    movement: exact,
    randn: exact,
    reduceMax: exact,
    sum: { trailing: relative(2 ** -23), inner: exact },
    matmul: dotProduct,
    conv2d: dotProduct,
    conv2dBackInput: dotProduct,
    conv2dBackWeight: dotProduct,
  },
  backward: {
    groups: { elementwise: exact, reduce: exact, movement: exact, contraction: dotProduct },
    ops: { rsqrt: ulps(8) },
  },
};

defineOpSuite({ name: 'cpu', run: (graph, feeds) => cpu2.compile(graph, 'test').run(feeds) }, bounds, { size: 'large', randomConvolutionRuns: 60 });

describe('cpu fused reductions', () => {
  it('sum and max of one input in one kernel equal ref exactly', async () => {
    const graph = buildGraph({ x: [4, 6, 5] }, (b, x) => b.add(b.sum(x.x!, [0, 2]), b.reduce('max', x.x!, [0, 2])));
    await expectExact(graph, randomFeeds(graph, 32));
  });
});

describe('cpu threads', () => {
  it('large conv2d on one and two threads', async () => {
    const c: ConvCase = { name: '3x3 at 32x32 with 32 channels', x: [2, 32, 32, 32], w: [32, 32, 3, 3], attrs: { stride: 1, padding: [1, 1, 1, 1], groups: 1 } };
    const graph = convGraphs(c).conv2d;
    const feeds = randomFeeds(graph, 54);
    await expectContraction(graph, feeds, convTerms(c).conv2d, cpu1);
    await expectContraction(graph, feeds, convTerms(c).conv2d);
    expect(numel(c.x) * c.w[0] * 9).toBeGreaterThan(2 ** 22);
  });
});
