// The shared op suite on the wgsl target, forward and backward, against the reference executor,
// on Dawn's OpenGL ES backend (llvmpipe) in CI, plus the cases that only the wgsl target has.

import { describe, expect, it } from 'vitest';
import { absolute, dotProduct, exact, relative, summation, ulps } from '../ops/compare.ts';
import { defineOpSuite, type OpBounds } from '../ops/suite.ts';
import { buildGraph, randomFeeds } from '../cpu/helpers.ts';
import { expectWithin, wgsl } from './helpers.ts';

// The reference computes in float64 and rounds each result to float32; WGSL computes in float32
// with the accuracy its specification allows. Bounds, per op:
// - exact: add, sub, mul, square (WGSL rounds them correctly), max, min, greater, select, neg, abs,
//   sign, lreluGrad, reduce max, fill, literal, param and every movement (index arithmetic only).
// - div and recip: 2.5 ulp in WGSL, tested at 3 ulp. sqrt and rsqrt (1 / sqrt): 5 ulp, because WGSL
//   defines sqrt's accuracy through inverseSqrt (2 ulp) and a division.
// - exp: 3 + 2|x| ulp, so 5 ulp for x in [-1, 1), 6 for the positive values up to 1.01 and 19 for
//   x in [-8, 8). log: 3 ulp, plus 2^-21 absolute for x in [0.5, 2], where WGSL bounds only the
//   absolute error.
// - softplus and sigmoid: built from exp, log and divisions, 2^-20 absolute plus 8 ulp.
// - lrelu: relative 2^-22 (the slope is a float32 literal, the reference multiplies in float64).
// - sums: (n + 2) u sum |x| for n terms, the bound of any summation order.
// - matmul and the convolutions: (K + 2) u sum |a| |b| for K terms per output, u = 2^-24.
// - randn: 1e-5 absolute. The bits and the two uniforms are exact, but Box-Muller's sqrt and cos
//   are not. NOTE: WGSL bounds cos only to 2^-11 absolute, so a minimal implementation may differ
//   by up to 3e-3 on a sample. llvmpipe stays within the tested bound.
// - softplus and sigmoid of x in [-8, 8): 22 ulp plus 2^-20, the bound above with exp's extra
//   14 ulp.
// - sqrt, rsqrt and log of negative values: no bound, because WGSL leaves the result
//   indeterminate; those cases are skipped.
// - gradients: exact where their ops are exact ops from the list above. div and recip: 7 ulp (two
//   3 ulp results in one product). sqrt: 9 ulp (5 for sqrt, 3 for the division, 1 for a product).
//   rsqrt: 17 ulp (its 5 ulp cubed, 2 for products). exp: 6 ulp, log: 3 ulp. softplus: sigmoid's
//   bound plus a product, 9 ulp plus 2^-20. sigmoid: s (1 - s) dy with s within 2^-19 and |dy| < 1,
//   so 2 ulp plus 2^-19. Broadcast gradients get the summation bound, and gradients of
//   contractions the dot-product bound.
const bounds: OpBounds = {
  forward: {
    add: exact,
    sub: exact,
    mul: exact,
    square: exact,
    max: exact,
    min: exact,
    greater: exact,
    neg: exact,
    abs: exact,
    sign: exact,
    lreluGrad: exact,
    div: ulps(3),
    recip: ulps(3),
    sqrt: { positive: ulps(5) },
    rsqrt: { positive: ulps(5) },
    exp: { raw: ulps(5), positive: ulps(6), wide: ulps(19) },
    log: { positive: ulps(3, 2 ** -21) },
    softplus: { raw: ulps(8, 2 ** -20), positive: ulps(8, 2 ** -20), wide: ulps(22, 2 ** -20) },
    sigmoid: { raw: ulps(8, 2 ** -20), positive: ulps(8, 2 ** -20), wide: ulps(22, 2 ** -20) },
    lrelu: relative(2 ** -22),
    select: exact,
    leaf: exact,
    movement: exact,
    reduceMax: exact,
    randn: absolute(1e-5),
    sum: summation(2),
    matmul: dotProduct,
    conv2d: dotProduct,
    conv2dBackInput: dotProduct,
    conv2dBackWeight: dotProduct,
  },
  backward: {
    groups: { elementwise: exact, reduce: exact, movement: summation(2), contraction: dotProduct },
    ops: {
      div: ulps(7),
      recip: ulps(7),
      sqrt: ulps(9),
      rsqrt: ulps(17),
      exp: ulps(6),
      log: ulps(3),
      softplus: ulps(9, 2 ** -20),
      sigmoid: ulps(2, 2 ** -19),
    },
  },
};

defineOpSuite({ name: 'wgsl', run: (graph, feeds) => wgsl.compile(graph, 'test').run(feeds) }, bounds, {
  size: 'medium',
  // Each case compiles three pipelines, about 0.1 s each on llvmpipe, so fewer runs than the cpu suite.
  randomConvolutionRuns: 12,
});

describe('wgsl reductions', () => {
  it('instance norm row kernel is within 1e-5 relative', async () => {
    // mean and variance over H, W broadcast back: one row kernel with two workgroup reductions.
    const graph = buildGraph({ x: [2, 3, 16, 16] }, (b, x) => {
      const mean = b.broadcastTo(b.mul(b.sum(x.x!, [2, 3], true), b.fill([2, 3, 1, 1], 1 / 256)), [2, 3, 16, 16]);
      const centred = b.sub(x.x!, mean);
      const variance = b.mul(b.sum(b.mul(centred, centred), [2, 3], true), b.fill([2, 3, 1, 1], 1 / 256));
      return b.mul(centred, b.broadcastTo(b.unary('rsqrt', b.add(variance, b.fill([2, 3, 1, 1], 1e-8)), 0), [2, 3, 16, 16]));
    });
    await expectWithin(graph, randomFeeds(graph, 33), (expected) => 1e-5 * Math.max(1, Math.abs(expected)));
  });

  it('sum of 0..9999 in one kernel is within 1e-6 relative', async () => {
    const graph = buildGraph({ x: [10000] }, (b, x) => b.sum(x.x!, [0]));
    const feeds = { x: { shape: [10000], data: Float32Array.from({ length: 10000 }, (_, i) => i) } };
    const program = wgsl.compile(graph, 'sum');
    const result = (await program.run(feeds)).out!.data[0]!;
    // A serial float32 loop reaches partial sums above 2^24, where each addition rounds.
    expect(Math.abs(result - 49_995_000) / 49_995_000).toBeLessThanOrEqual(1e-6);
  });
});
