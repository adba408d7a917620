// The shared op suite on the cpu target: every node kind, forward, against the reference executor.
// The target runs its default fused path, so each graph here runs as generated kernels.
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

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { BinaryOp, ConvAttrs, UnaryOp } from '../../src/ir/graph.ts';
import { numel } from '../../src/ir/graph.ts';
import { conv2dShape } from '../../src/ir/builder.ts';
import { buildGraph, cpu1, expectContraction, expectExact, expectWithin, randomFeeds } from './helpers.ts';

const SHAPE = [3, 5, 7];

describe('cpu elementwise ops', () => {
  const exactBinary: BinaryOp[] = ['add', 'sub', 'mul', 'div', 'max', 'min', 'greater'];
  for (const op of exactBinary) {
    it(`binary ${op} equals ref exactly`, async () => {
      const graph = buildGraph({ a: SHAPE, b: SHAPE }, (b, x) => b.binary(op, x.a!, x.b!));
      const feeds = randomFeeds(graph, 11);
      // Ties exercise the tie rule of max and min (b wins).
      feeds.b!.data.set(feeds.a!.data.subarray(0, 10), 0);
      await expectExact(graph, feeds);
    });
  }

  const exactUnary: UnaryOp[] = ['neg', 'abs', 'sqrt', 'recip', 'square', 'lreluGrad', 'exp', 'log', 'sign', 'softplus', 'sigmoid'];
  for (const op of exactUnary) {
    it(`unary ${op} equals ref exactly`, async () => {
      const graph = buildGraph({ x: SHAPE }, (b, x) => b.unary(op, x.x!, 0.2));
      const feeds = randomFeeds(graph, 12);
      feeds.x!.data[0] = 0;
      await expectExact(graph, feeds);
    });
  }

  it('unary rsqrt is within 2 ulp', async () => {
    const graph = buildGraph({ x: SHAPE }, (b, x) => b.unary('rsqrt', b.unary('abs', x.x!), 0));
    await expectWithin(graph, randomFeeds(graph, 13), (expected) => 2 * 2 ** -23 * Math.abs(expected));
  });

  it('unary lrelu is within relative 2^-22', async () => {
    const graph = buildGraph({ x: SHAPE }, (b, x) => b.unary('lrelu', x.x!, 0.2));
    await expectWithin(graph, randomFeeds(graph, 14), (expected) => 2 ** -22 * Math.abs(expected));
  });

  it('select equals ref exactly, NaN condition included', async () => {
    const graph = buildGraph({ c: SHAPE, a: SHAPE, b: SHAPE }, (b, x) => b.select(b.binary('greater', x.c!, b.fill(SHAPE, 0)), x.a!, x.b!));
    await expectExact(graph, randomFeeds(graph, 15));
    const raw = buildGraph({ c: [9], a: [9], b: [9] }, (b, x) => b.select(x.c!, x.a!, x.b!));
    const feeds = randomFeeds(raw, 16);
    feeds.c!.data.set([0, NaN, -0, 1, 0, -2, 0, Infinity, 0]);
    await expectExact(raw, feeds);
  });

  it('large elementwise chain on threads', async () => {
    const big = [4, 256, 256];
    const graph = buildGraph({ a: big, b: big }, (b, x) => b.binary('max', b.mul(x.a!, x.b!), b.unary('neg', x.a!)));
    await expectExact(graph, randomFeeds(graph, 17));
  });
});

describe('cpu leaf and movement nodes', () => {
  it('fill, literal, param and reshape equal ref exactly', async () => {
    const graph = buildGraph({ x: [2, 6] }, (b, x) => {
      const p = b.param('p', [3, 4]);
      const lit = b.literal([3, 4], [...Array(12).keys()]);
      return b.add(b.add(b.reshape(x.x!, [3, 4]), p), b.mul(lit, b.fill([3, 4], 0.5)));
    });
    const feeds = randomFeeds(graph, 21);
    feeds.p = { shape: [3, 4], data: Float32Array.from({ length: 12 }, (_, i) => i / 7) };
    await expectExact(graph, feeds);
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
    await expectExact(graph, randomFeeds(graph, 22));
  });

  it('randn equals ref exactly', async () => {
    const graph = buildGraph({ key: [] }, (b, x) => b.randn([3, 33], x.key!, 5));
    await expectExact(graph, { key: { shape: [], data: Float32Array.of(1234) } });
  });

  it('an invalid feed shape is reported by name', async () => {
    const graph = buildGraph({ x: [2, 3] }, (b, x) => b.unary('neg', x.x!));
    await expect(cpu1.compile(graph, 'test').run({ x: { shape: [3, 2], data: new Float32Array(6) } })).rejects.toThrow(
      "invalid feed for input 'x': expected shape [2, 3]",
    );
    await expect(cpu1.compile(graph, 'test').run({})).rejects.toThrow("missing feed for input 'x'");
  });
});

describe('cpu reductions', () => {
  it('sum over trailing axes is within relative 2^-23', async () => {
    for (const [shape, axes] of [[[4, 6, 9], [1, 2]], [[5, 1031], [1]], [[7, 3], [1]], [[64, 64, 64], [1, 2]]] as const) {
      const graph = buildGraph({ x: shape }, (b, x) => b.sum(x.x!, axes, true));
      await expectWithin(graph, randomFeeds(graph, 31), (expected) => 2 ** -23 * Math.abs(expected));
    }
  });

  it('sum over leading or middle axes and max equal ref exactly', async () => {
    const graph = buildGraph({ x: [4, 6, 5] }, (b, x) => b.add(b.sum(x.x!, [0, 2]), b.reduce('max', x.x!, [0, 2])));
    await expectExact(graph, randomFeeds(graph, 32));
  });
});

describe('cpu matmul', () => {
  for (const [a, b] of [
    [[5, 7], [7, 13]],
    [[3, 4, 9], [3, 9, 8]],
    [[16, 128], [128, 128]],
    [[1, 1], [1, 1]],
    [[2, 96, 256], [2, 256, 160]],
  ] as const) {
    it(`matmul ${a.join('x')} by ${b.join('x')} is within the dot-product bound`, async () => {
      const graph = buildGraph({ a, b }, (builder, x) => builder.matmul(x.a!, x.b!));
      await expectContraction(graph, randomFeeds(graph, 41), a[a.length - 1]!);
    });
  }
});

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
  { name: 'depthwise 3x3 at 32x32 on threads', x: [4, 16, 32, 32], w: [16, 1, 3, 3], attrs: { stride: 1, padding: [1, 1, 1, 1], groups: 16 } },
  { name: 'depthwise stride 2', x: [2, 4, 8, 8], w: [4, 1, 2, 2], attrs: { stride: 2, padding: [0, 0, 0, 0], groups: 4 } },
  { name: '1x1 (toRGB)', x: [3, 16, 4, 4], w: [1, 16, 1, 1], attrs: { stride: 1, padding: [0, 0, 0, 0], groups: 1 } },
  { name: '1x1 from one channel (fromRGB)', x: [2, 1, 8, 8], w: [16, 1, 1, 1], attrs: { stride: 1, padding: [0, 0, 0, 0], groups: 1 } },
  { name: '3x3 at 32x32 with 32 channels', x: [2, 32, 32, 32], w: [32, 32, 3, 3], attrs: { stride: 1, padding: [1, 1, 1, 1], groups: 1 } },
  { name: 'stride 3, kernel larger than padding', x: [1, 3, 10, 11], w: [5, 3, 4, 3], attrs: { stride: 3, padding: [2, 1, 0, 2], groups: 1 } },
];

function convGraphs(c: ConvCase): { forward: ReturnType<typeof buildGraph>; backInput: ReturnType<typeof buildGraph>; backWeight: ReturnType<typeof buildGraph> } {
  const y = conv2dShape(c.x, c.w, c.attrs);
  return {
    forward: buildGraph({ x: c.x, w: c.w }, (b, v) => b.conv2d(v.x!, v.w!, c.attrs)),
    backInput: buildGraph({ dy: y, w: c.w }, (b, v) => b.conv2dBackInput(v.dy!, v.w!, c.attrs, c.x)),
    backWeight: buildGraph({ x: c.x, dy: y }, (b, v) => b.conv2dBackWeight(v.x!, v.dy!, c.attrs, c.w)),
  };
}

/** Terms per output: conv2d sums C/g * KH * KW, conv2dBackInput at most CO/g * KH * KW, conv2dBackWeight N * OH * OW. */
function convTerms(c: ConvCase): { forward: number; backInput: number; backWeight: number } {
  const y = conv2dShape(c.x, c.w, c.attrs);
  return {
    forward: c.w[1] * c.w[2] * c.w[3],
    backInput: (c.w[0] / c.attrs.groups) * c.w[2] * c.w[3],
    backWeight: c.x[0] * y[2]! * y[3]!,
  };
}

describe('cpu convolutions', () => {
  for (const c of convCases) {
    it(`conv2d ${c.name} is within the dot-product bound`, async () => {
      const graph = convGraphs(c).forward;
      await expectContraction(graph, randomFeeds(graph, 51), convTerms(c).forward);
    });
    it(`conv2dBackInput ${c.name} is within the dot-product bound`, async () => {
      const graph = convGraphs(c).backInput;
      await expectContraction(graph, randomFeeds(graph, 52), convTerms(c).backInput);
    });
    it(`conv2dBackWeight ${c.name} is within the dot-product bound`, async () => {
      const graph = convGraphs(c).backWeight;
      await expectContraction(graph, randomFeeds(graph, 53), convTerms(c).backWeight);
    });
  }

  it('random convolutions and both transposes are within the dot-product bound', async () => {
    const arb = fc
      .record({
        n: fc.integer({ min: 1, max: 3 }),
        groups: fc.constantFrom(1, 2, 3),
        cPerGroup: fc.constantFrom(1, 2, 3, 5, 8),
        coPerGroup: fc.constantFrom(1, 2, 4, 5, 9),
        h: fc.integer({ min: 1, max: 9 }),
        w: fc.integer({ min: 1, max: 9 }),
        kh: fc.integer({ min: 1, max: 3 }),
        kw: fc.integer({ min: 1, max: 3 }),
        stride: fc.integer({ min: 1, max: 3 }),
        padding: fc.tuple(fc.nat(2), fc.nat(2), fc.nat(2), fc.nat(2)),
        seed: fc.integer({ min: 1, max: 2 ** 31 }),
      })
      .filter((c) => c.h + c.padding[0] + c.padding[1] >= c.kh && c.w + c.padding[2] + c.padding[3] >= c.kw);
    await fc.assert(
      fc.asyncProperty(arb, async (r) => {
        const c: ConvCase = {
          name: 'random',
          x: [r.n, r.groups * r.cPerGroup, r.h, r.w],
          w: [r.groups * r.coPerGroup, r.cPerGroup, r.kh, r.kw],
          attrs: { stride: r.stride, padding: r.padding, groups: r.groups },
        };
        const graphs = convGraphs(c);
        const terms = convTerms(c);
        await expectContraction(graphs.forward, randomFeeds(graphs.forward, r.seed), terms.forward);
        await expectContraction(graphs.backInput, randomFeeds(graphs.backInput, r.seed + 1), terms.backInput);
        await expectContraction(graphs.backWeight, randomFeeds(graphs.backWeight, r.seed + 2), terms.backWeight);
      }),
      { numRuns: 60 },
    );
  });

  it('large conv2d on one and two threads', async () => {
    const c = convCases.find((entry) => entry.name === '3x3 at 32x32 with 32 channels')!;
    const graph = convGraphs(c).forward;
    const feeds = randomFeeds(graph, 54);
    await expectContraction(graph, feeds, convTerms(c).forward, cpu1);
    await expectContraction(graph, feeds, convTerms(c).forward);
    expect(numel(c.x) * c.w[0] * 9).toBeGreaterThan(2 ** 22);
  });
});
