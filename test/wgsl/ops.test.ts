// The shared op suite on the wgsl target: every node kind against the reference executor, on Dawn's
// OpenGL ES backend (llvmpipe) in CI. The reference computes in float64 and rounds each result to
// float32; WGSL computes in float32 with the accuracy its specification allows. Bounds, per op:
// - exact: add, sub, mul, square (WGSL rounds them correctly), max, min, greater, select, neg, abs,
//   sign, lreluGrad, reduce max, fill, literal, param and every movement (index arithmetic only).
// - div and recip: 2.5 ulp in WGSL, tested at 3 ulp. sqrt and rsqrt (1 / sqrt): 5 ulp, because WGSL
//   defines sqrt's accuracy through inverseSqrt (2 ulp) and a division.
// - exp: 3 + 2|x| ulp for |x| <= 1, so 5 ulp. log: 3 ulp, plus 2^-21 absolute for x in [0.5, 2],
//   where WGSL bounds only the absolute error.
// - softplus and sigmoid: built from exp, log and divisions, 2^-20 absolute plus 8 ulp.
// - lrelu: relative 2^-22 (the slope is a float32 literal, the reference multiplies in float64).
// - sums: (n + 2) u sum |x| for n terms, the bound of any summation order.
// - matmul and the convolutions: (K + 2) u sum |a| |b| for K terms per output, u = 2^-24.
// - randn: 1e-5 absolute. The bits and the two uniforms are exact, but Box-Muller's sqrt and cos
//   are not. NOTE: WGSL bounds cos only to 2^-11 absolute, so a minimal implementation may differ
//   by up to 3e-3 on a sample. llvmpipe stays within the tested bound.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { conv2dShape } from '../../src/ir/builder.ts';
import type { BinaryOp, ConvAttrs, UnaryOp } from '../../src/ir/graph.ts';
import { runGraph } from '../../targets/ref/index.ts';
import { buildGraph, randomFeeds } from '../cpu/helpers.ts';
import { expectContraction, expectExact, expectWithin, UNIT_ROUNDOFF, wgsl } from './helpers.ts';

const SHAPE = [3, 5, 7];
const ULP = 2 ** -23;

describe('wgsl elementwise ops', () => {
  const exactBinary: BinaryOp[] = ['add', 'sub', 'mul', 'max', 'min', 'greater'];
  for (const op of exactBinary) {
    it(`binary ${op} equals ref exactly`, async () => {
      const graph = buildGraph({ a: SHAPE, b: SHAPE }, (b, x) => b.binary(op, x.a!, x.b!));
      const feeds = randomFeeds(graph, 11);
      // Ties exercise the tie rule of max and min (b wins).
      feeds.b!.data.set(feeds.a!.data.subarray(0, 10), 0);
      await expectExact(graph, feeds);
    });
  }

  it('binary div is within 3 ulp', async () => {
    const graph = buildGraph({ a: SHAPE, b: SHAPE }, (b, x) => b.binary('div', x.a!, x.b!));
    await expectWithin(graph, randomFeeds(graph, 12), (expected) => 3 * ULP * Math.abs(expected));
  });

  const exactUnary: UnaryOp[] = ['neg', 'abs', 'square', 'lreluGrad', 'sign'];
  for (const op of exactUnary) {
    it(`unary ${op} equals ref exactly`, async () => {
      const graph = buildGraph({ x: SHAPE }, (b, x) => b.unary(op, x.x!, 0.2));
      const feeds = randomFeeds(graph, 13);
      feeds.x!.data[0] = 0;
      await expectExact(graph, feeds);
    });
  }

  const bounded: [UnaryOp, (expected: number) => number][] = [
    ['recip', (e) => 3 * ULP * Math.abs(e)],
    ['exp', (e) => 5 * ULP * Math.abs(e)],
    ['softplus', (e) => 2 ** -20 + 8 * ULP * Math.abs(e)],
    ['sigmoid', (e) => 2 ** -20 + 8 * ULP * Math.abs(e)],
    ['lrelu', (e) => 2 ** -22 * Math.abs(e)],
  ];
  for (const [op, bound] of bounded) {
    it(`unary ${op} is within its bound`, async () => {
      const graph = buildGraph({ x: SHAPE }, (b, x) => b.unary(op, x.x!, 0.2));
      await expectWithin(graph, randomFeeds(graph, 14), bound);
    });
  }

  const positive: [UnaryOp, (expected: number) => number][] = [
    ['sqrt', (e) => 5 * ULP * Math.abs(e)],
    ['rsqrt', (e) => 5 * ULP * Math.abs(e)],
    ['log', (e) => 2 ** -21 + 3 * ULP * Math.abs(e)],
  ];
  for (const [op, bound] of positive) {
    it(`unary ${op} of positive values is within its bound`, async () => {
      const graph = buildGraph({ x: SHAPE }, (b, x) => b.unary(op, b.add(b.unary('abs', x.x!), b.fill(SHAPE, 0.01)), 0));
      await expectWithin(graph, randomFeeds(graph, 15), bound);
    });
  }

  it('select equals ref exactly, NaN condition included', async () => {
    const raw = buildGraph({ c: [9], a: [9], b: [9] }, (b, x) => b.select(x.c!, x.a!, x.b!));
    const feeds = randomFeeds(raw, 16);
    feeds.c!.data.set([0, NaN, -0, 1, 0, -2, 0, Infinity, 0]);
    await expectExact(raw, feeds);
  });
});

describe('wgsl leaf and movement nodes', () => {
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

  it('randn is within 1e-5 of ref', async () => {
    const graph = buildGraph({ key: [] }, (b, x) => b.randn([3, 333], x.key!, 5));
    await expectWithin(graph, { key: { shape: [], data: Float32Array.of(1234) } }, () => 1e-5);
  });

  it('an invalid feed shape is reported by name', async () => {
    const graph = buildGraph({ x: [2, 3] }, (b, x) => b.unary('neg', x.x!));
    await expect(wgsl.compile(graph, 'test').run({ x: { shape: [3, 2], data: new Float32Array(6) } })).rejects.toThrow(
      "invalid feed for input 'x': expected shape [2, 3]",
    );
    await expect(wgsl.compile(graph, 'test').run({})).rejects.toThrow("missing feed for input 'x'");
  });
});

describe('wgsl reductions', () => {
  it('sum over trailing axes is within the summation bound', async () => {
    for (const [shape, axes] of [[[4, 6, 9], [1, 2]], [[5, 1031], [1]], [[7, 3], [1]], [[8, 64, 64], [1, 2]]] as const) {
      const graph = buildGraph({ x: shape }, (b, x) => b.sum(x.x!, axes, true));
      const feeds = randomFeeds(graph, 31);
      const n = (axes as readonly number[]).reduce((size: number, axis) => size * shape[axis]!, 1);
      const absolute = { x: { shape: feeds.x!.shape, data: feeds.x!.data.map(Math.abs) } };
      const magnitude = runGraph(graph, absolute).out!.data;
      await expectWithin(graph, feeds, (_, i) => (n + 2) * UNIT_ROUNDOFF * magnitude[i]!);
    }
  });

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

  it('sum and max over middle axes', async () => {
    const sum = buildGraph({ x: [4, 6, 5] }, (b, x) => b.sum(x.x!, [0, 2]));
    await expectWithin(sum, randomFeeds(sum, 32), () => 22 * UNIT_ROUNDOFF * 20);
    const max = buildGraph({ x: [4, 6, 5] }, (b, x) => b.reduce('max', x.x!, [0, 2]));
    const feeds = randomFeeds(max, 34);
    feeds.x!.data[7] = NaN;
    await expectExact(max, feeds);
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

describe('wgsl matmul', () => {
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
  { name: 'depthwise stride 2', x: [2, 4, 8, 8], w: [4, 1, 2, 2], attrs: { stride: 2, padding: [0, 0, 0, 0], groups: 4 } },
  { name: '1x1 (toRGB)', x: [3, 16, 4, 4], w: [1, 16, 1, 1], attrs: { stride: 1, padding: [0, 0, 0, 0], groups: 1 } },
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

describe('wgsl convolutions', () => {
  for (const c of convCases) {
    it(`conv2d and its transposes, ${c.name}, are within the dot-product bound`, async () => {
      const graphs = convGraphs(c);
      const terms = convTerms(c);
      await expectContraction(graphs.forward, randomFeeds(graphs.forward, 51), terms.forward);
      await expectContraction(graphs.backInput, randomFeeds(graphs.backInput, 52), terms.backInput);
      await expectContraction(graphs.backWeight, randomFeeds(graphs.backWeight, 53), terms.backWeight);
    });
  }

  it('random convolutions and both transposes are within the dot-product bound', async () => {
    const arb = fc
      .record({
        n: fc.integer({ min: 1, max: 3 }),
        groups: fc.constantFrom(1, 2, 3),
        cPerGroup: fc.constantFrom(1, 2, 3, 5),
        coPerGroup: fc.constantFrom(1, 2, 4, 5),
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
      // Each case compiles three pipelines, about 0.1 s each on llvmpipe, so fewer runs than the cpu suite.
      { numRuns: 12 },
    );
  });
});
