// The shared op suite on the webgl target, forward and backward, against the reference executor,
// in headless-gl (skipped with a reason where it cannot run) and in gpu.js cpu mode.

import { describe, expect, it } from 'vitest';
import { dotProduct, exact, relative, summation } from '../ops/compare.ts';
import { defineOpSuite, type OpBounds } from '../ops/suite.ts';
import { buildGraph, expectWithin, MODES, randomFeeds, webglTarget } from './helpers.ts';

// Error bounds, per op, with u = 2^-24:
// - exact: add, sub, mul, max, min, greater, select, neg, abs, square, sign, lreluGrad, the leaf
//   kinds, movement ops and randn (computed on the host by the same generator and uploaded).
//   Mesa's llvmpipe rounds +, - and * correctly, and cpu mode rounds the float64 result of each
//   op once to float32, as the reference does.
// - div, recip, sqrt, rsqrt, exp, log, softplus, sigmoid: 2^-20 |ref| + 2^-21, a few ulp plus a
//   small absolute term, because GPU division and builtins need not be correctly rounded and
//   softplus and sigmoid combine several such steps.
// - lrelu: relative 2^-22, because the slope is rounded to float32 before the product.
// - sums: (n + 1) u sum |x| for n terms, the standard bound of a float32 sum in any order. Max
//   is exact.
// - matmul and the convolutions: (K + 2) u sum |a| |b| for K terms per output.
// - sqrt, rsqrt and log of negative values: no bound, because GLSL leaves the result undefined;
//   those cases are skipped.
// - gradients: exact where their ops are exact ops from the list above. Gradients of the builtins
//   multiply up to three builtin results, each within the builtin bound, by factors below 4 (the
//   feeds stay at least 0.5 from the poles), so relative 2^-18 plus 2^-18.
// - broadcast gradients: the sum bound; gradients of contractions: the dot-product bound.
const builtin = relative(2 ** -20, 2 ** -21);
const builtinGradient = relative(2 ** -18, 2 ** -18);

const bounds: OpBounds = {
  forward: {
    add: exact,
    sub: exact,
    mul: exact,
    max: exact,
    min: exact,
    greater: exact,
    neg: exact,
    abs: exact,
    square: exact,
    sign: exact,
    lreluGrad: exact,
    div: builtin,
    recip: builtin,
    exp: builtin,
    softplus: builtin,
    sigmoid: builtin,
    sqrt: { positive: builtin },
    rsqrt: { positive: builtin },
    log: { positive: builtin },
    lrelu: relative(2 ** -22),
    select: exact,
    leaf: exact,
    movement: exact,
    randn: exact,
    reduceMax: exact,
    sum: summation(1),
    matmul: dotProduct,
    conv2d: dotProduct,
    conv2dBackInput: dotProduct,
    conv2dBackWeight: dotProduct,
  },
  backward: {
    groups: { elementwise: exact, reduce: exact, movement: summation(1), contraction: dotProduct },
    ops: {
      div: builtinGradient,
      recip: builtinGradient,
      sqrt: builtinGradient,
      rsqrt: builtinGradient,
      exp: builtinGradient,
      log: builtinGradient,
      softplus: builtinGradient,
      sigmoid: builtinGradient,
    },
  },
};

for (const { mode, skip } of MODES) {
  defineOpSuite({ name: `webgl ${mode}`, run: (graph, feeds) => webglTarget(mode).compile(graph, 'test').run(feeds) }, bounds, {
    // NOTE: GLSL ES 1.00 does not require NaN or infinity support. llvmpipe and gpu.js cpu mode
    // pass the cases with NaN and infinite feeds, but a hardware GPU may not.
    skip,
  });

  describe.skipIf(skip)(`webgl ${mode} reductions`, () => {
    it('row kernel (instance norm) is within the sum bound', async () => {
      // x - mean(x) over each [H, W] row, scaled by the row's rsqrt variance: a row kernel whose two
      // reductions get their own textures.
      const shape = [2, 3, 8, 8];
      const graph = buildGraph({ x: shape }, (b, x) => {
        const mean = b.mul(b.sum(x.x!, [2, 3], true), b.fill([2, 3, 1, 1], 1 / 64));
        const centered = b.sub(x.x!, b.broadcastTo(mean, shape));
        const variance = b.mul(b.sum(b.mul(centered, centered), [2, 3], true), b.fill([2, 3, 1, 1], 1 / 64));
        const scale = b.unary('rsqrt', b.add(variance, b.fill([2, 3, 1, 1], 1e-8)), 0);
        return b.mul(centered, b.broadcastTo(scale, shape));
      });
      expect(webglTarget(mode).compile(graph, 'norm').plan.program.kernels.some((k) => k.kind === 'row')).toBe(true);
      // Normalized values are O(1); 2^-16 covers the float32 mean, variance and rsqrt errors.
      await expectWithin(graph, randomFeeds(graph, 33), mode, () => 2 ** -16);
    });
  });
}
