// The shared op suite on the webgl target: every node kind, forward, against the reference
// executor, in headless-gl (skipped with a reason where it cannot run) and in gpu.js cpu mode.
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

import { describe, expect, it } from 'vitest';
import { conv2dShape } from '../../src/ir/builder.ts';
import type { BinaryOp, ConvAttrs, Shape, UnaryOp } from '../../src/ir/graph.ts';
import { runGraph } from '../../targets/ref/index.ts';
import { buildGraph, expectContraction, expectExact, expectWithin, MODES, randomFeeds, UNIT_ROUNDOFF, webglTarget } from './helpers.ts';

const SHAPE = [3, 5, 7];
const builtinBound = (expected: number): number => 2 ** -20 * Math.abs(expected) + 2 ** -21;

interface ConvCase {
  name: string;
  x: [number, number, number, number];
  w: [number, number, number, number];
  attrs: ConvAttrs;
}

const convCases: ConvCase[] = [
  { name: '3x3 padding 1', x: [2, 8, 9, 9], w: [12, 8, 3, 3], attrs: { stride: 1, padding: [1, 1, 1, 1], groups: 1 } },
  { name: 'stride 2, asymmetric padding, 2 groups', x: [3, 6, 9, 8], w: [10, 3, 3, 2], attrs: { stride: 2, padding: [1, 0, 2, 1], groups: 2 } },
  { name: 'depthwise 3x3 (blur)', x: [2, 5, 7, 7], w: [5, 1, 3, 3], attrs: { stride: 1, padding: [1, 1, 1, 1], groups: 5 } },
  { name: 'depthwise stride 2', x: [2, 4, 8, 8], w: [4, 1, 2, 2], attrs: { stride: 2, padding: [0, 0, 0, 0], groups: 4 } },
  { name: '1x1 (toRGB)', x: [3, 16, 4, 4], w: [1, 16, 1, 1], attrs: { stride: 1, padding: [0, 0, 0, 0], groups: 1 } },
  { name: 'stride 3, kernel larger than padding', x: [1, 3, 10, 11], w: [5, 3, 4, 3], attrs: { stride: 3, padding: [2, 1, 0, 2], groups: 1 } },
];

function convGraphs(c: ConvCase): Record<'forward' | 'backInput' | 'backWeight', ReturnType<typeof buildGraph>> {
  const y = conv2dShape(c.x, c.w, c.attrs);
  return {
    forward: buildGraph({ x: c.x, w: c.w }, (b, v) => b.conv2d(v.x!, v.w!, c.attrs)),
    backInput: buildGraph({ dy: y, w: c.w }, (b, v) => b.conv2dBackInput(v.dy!, v.w!, c.attrs, c.x)),
    backWeight: buildGraph({ x: c.x, dy: y }, (b, v) => b.conv2dBackWeight(v.x!, v.dy!, c.attrs, c.w)),
  };
}

/** Terms per output: conv2d sums C/g * KH * KW, conv2dBackInput at most CO/g * KH * KW, conv2dBackWeight N * OH * OW. */
function convTerms(c: ConvCase): Record<'forward' | 'backInput' | 'backWeight', number> {
  const y = conv2dShape(c.x, c.w, c.attrs);
  return {
    forward: c.w[1] * c.w[2] * c.w[3],
    backInput: (c.w[0] / c.attrs.groups) * c.w[2] * c.w[3],
    backWeight: c.x[0] * y[2]! * y[3]!,
  };
}

for (const { mode, skip } of MODES) {
  describe.skipIf(skip)(`webgl ${mode} elementwise ops`, () => {
    const exactBinary: BinaryOp[] = ['add', 'sub', 'mul', 'max', 'min', 'greater'];
    for (const op of exactBinary) {
      it(`binary ${op} equals ref exactly`, async () => {
        const graph = buildGraph({ a: SHAPE, b: SHAPE }, (b, x) => b.binary(op, x.a!, x.b!));
        const feeds = randomFeeds(graph, 11);
        // Ties exercise the tie rule of max and min (b wins).
        feeds.b!.data.set(feeds.a!.data.subarray(0, 10), 0);
        await expectExact(graph, feeds, mode);
      });
    }

    it('binary div is within the builtin bound', async () => {
      const graph = buildGraph({ a: SHAPE, b: SHAPE }, (b, x) => b.binary('div', x.a!, x.b!));
      await expectWithin(graph, randomFeeds(graph, 12), mode, builtinBound);
    });

    const exactUnary: UnaryOp[] = ['neg', 'abs', 'square', 'sign', 'lreluGrad'];
    for (const op of exactUnary) {
      it(`unary ${op} equals ref exactly`, async () => {
        const graph = buildGraph({ x: SHAPE }, (b, x) => b.unary(op, x.x!, 0.2));
        const feeds = randomFeeds(graph, 13);
        feeds.x!.data[0] = 0;
        await expectExact(graph, feeds, mode);
      });
    }

    const builtinUnary: UnaryOp[] = ['exp', 'softplus', 'sigmoid', 'recip'];
    for (const op of builtinUnary) {
      it(`unary ${op} is within the builtin bound`, async () => {
        // Inputs in [-8, 8) reach the tails of softplus and sigmoid.
        const graph = buildGraph({ x: SHAPE }, (b, x) => b.unary(op, b.mul(x.x!, b.fill(SHAPE, 8)), 0));
        await expectWithin(graph, randomFeeds(graph, 14), mode, builtinBound);
      });
    }

    const positiveUnary: UnaryOp[] = ['log', 'sqrt', 'rsqrt'];
    for (const op of positiveUnary) {
      it(`unary ${op} of positive values is within the builtin bound`, async () => {
        const graph = buildGraph({ x: SHAPE }, (b, x) => b.unary(op, b.add(b.unary('abs', x.x!), b.fill(SHAPE, 0.01)), 0));
        await expectWithin(graph, randomFeeds(graph, 15), mode, builtinBound);
      });
    }

    it('unary lrelu is within relative 2^-22', async () => {
      const graph = buildGraph({ x: SHAPE }, (b, x) => b.unary('lrelu', x.x!, 0.2));
      await expectWithin(graph, randomFeeds(graph, 16), mode, (expected) => 2 ** -22 * Math.abs(expected));
    });

    it('select equals ref exactly', async () => {
      const graph = buildGraph({ c: SHAPE, a: SHAPE, b: SHAPE }, (b, x) => b.select(b.binary('greater', x.c!, b.fill(SHAPE, 0)), x.a!, x.b!));
      await expectExact(graph, randomFeeds(graph, 17), mode);
      const raw = buildGraph({ c: [9], a: [9], b: [9] }, (b, x) => b.select(x.c!, x.a!, x.b!));
      const feeds = randomFeeds(raw, 18);
      feeds.c!.data.set([0, 3, -0, 1, 0, -2, 0, 5, 0]);
      await expectExact(raw, feeds, mode);
    });
  });

  describe.skipIf(skip)(`webgl ${mode} leaf and movement nodes`, () => {
    it('fill, literal, param and reshape equal ref exactly', async () => {
      const graph = buildGraph({ x: [2, 6] }, (b, x) => {
        const p = b.param('p', [3, 4]);
        const lit = b.literal([3, 4], [...Array(12).keys()]);
        return b.add(b.add(b.reshape(x.x!, [3, 4]), p), b.mul(lit, b.fill([3, 4], 0.5)));
      });
      const feeds = randomFeeds(graph, 21);
      feeds.p = { shape: [3, 4], data: Float32Array.from({ length: 12 }, (_, i) => i / 7) };
      await expectExact(graph, feeds, mode);
    });

    it('permute, broadcast, pad, slice and flip equal ref exactly', async () => {
      const graph = buildGraph({ x: [2, 3, 4, 5], v: [1, 5, 1, 1] }, (b, x) => {
        const permuted = b.permute(x.x!, [0, 2, 3, 1]);
        const padded = b.pad(permuted, [0, 1, 0, 2], [1, 0, 2, 0], [0, 1, 1, 0]);
        const sliced = b.slice(padded, [0, 1, 1, 0], [3, 8, 11, 5], [2, 2, 3, 1]);
        const flipped = b.flip(sliced, [1, 3]);
        const broadcast = b.broadcastTo(b.permute(x.v!, [0, 2, 3, 1]), b.shape(flipped));
        return b.add(flipped, broadcast);
      });
      await expectExact(graph, randomFeeds(graph, 22), mode);
    });

    it('randn equals ref exactly', async () => {
      const graph = buildGraph({ key: [] }, (b, x) => b.randn([3, 33], x.key!, 5));
      await expectExact(graph, { key: { shape: [], data: Float32Array.of(1234) } }, mode);
    });

    it('randn fused with arithmetic equals ref exactly', async () => {
      const graph = buildGraph({ key: [], x: [2, 8] }, (b, x) => b.add(b.mul(b.randn([2, 8], x.key!, 3), b.fill([2, 8], 0.5)), x.x!));
      const feeds = randomFeeds(graph, 23);
      feeds.key = { shape: [], data: Float32Array.of(77) };
      await expectExact(graph, feeds, mode);
    });

    it('an invalid feed is reported by name', async () => {
      const graph = buildGraph({ x: [2, 3] }, (b, x) => b.unary('neg', x.x!));
      const program = webglTarget(mode).compile(graph, 'test');
      await expect(program.run({ x: { shape: [3, 2], data: new Float32Array(6) } })).rejects.toThrow("invalid feed for input 'x': expected shape [2, 3]");
      await expect(program.run({})).rejects.toThrow("missing feed for input 'x'");
    });
  });

  describe.skipIf(skip)(`webgl ${mode} reductions`, () => {
    const sumCases: [Shape, number[]][] = [
      [[4, 6, 9], [1, 2]],
      [[5, 1031], [1]],
      [[7, 3], [0]],
      [[4, 6, 5], [0, 2]],
    ];
    for (const [shape, axes] of sumCases) {
      it(`sum of ${shape.join('x')} over axes ${axes.join(', ')} is within the sum bound`, async () => {
        const graph = buildGraph({ x: shape }, (b, x) => b.sum(x.x!, axes, true));
        const feeds = randomFeeds(graph, 31);
        const terms = axes.reduce((n, a) => n * shape[a]!, 1);
        const magnitude = runGraph(graph, { x: { shape: [...shape], data: feeds.x!.data.map(Math.abs) } }).out!.data;
        await expectWithin(graph, feeds, mode, (_, i) => (terms + 1) * UNIT_ROUNDOFF * magnitude[i]!);
      });
    }

    it('max over leading and trailing axes equals ref exactly', async () => {
      const graph = buildGraph({ x: [4, 6, 5] }, (b, x) => b.reduce('max', x.x!, [0, 2]));
      await expectExact(graph, randomFeeds(graph, 32), mode);
    });

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

  describe.skipIf(skip)(`webgl ${mode} matmul`, () => {
    for (const [a, b] of [
      [[5, 7], [7, 13]],
      [[3, 4, 9], [3, 9, 8]],
      [[1, 1], [1, 1]],
      [[4, 128], [128, 32]],
    ] as const) {
      it(`matmul ${a.join('x')} by ${b.join('x')} is within the dot-product bound`, async () => {
        const graph = buildGraph({ a, b }, (builder, x) => builder.matmul(x.a!, x.b!));
        await expectContraction(graph, randomFeeds(graph, 41), a[a.length - 1]!, mode);
      });
    }
  });

  describe.skipIf(skip)(`webgl ${mode} convolutions`, () => {
    for (const c of convCases) {
      const graphs = convGraphs(c);
      const terms = convTerms(c);
      it(`conv2d ${c.name} is within the dot-product bound`, async () => {
        await expectContraction(graphs.forward, randomFeeds(graphs.forward, 51), terms.forward, mode);
      });
      it(`conv2dBackInput ${c.name} is within the dot-product bound`, async () => {
        await expectContraction(graphs.backInput, randomFeeds(graphs.backInput, 52), terms.backInput, mode);
      });
      it(`conv2dBackWeight ${c.name} is within the dot-product bound`, async () => {
        await expectContraction(graphs.backWeight, randomFeeds(graphs.backWeight, 53), terms.backWeight, mode);
      });
    }
  });
}
