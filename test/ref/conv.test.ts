// The convolution kernels against a direct seven-loop convolution written here from the definition,
// for random shapes that reach both the blocked-gemm and the row-wise paths.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { conv2dShape } from '../../src/ir/builder.ts';
import { type ConvAttrs, numel } from '../../src/ir/graph.ts';
import { COL_LIMIT, conv2dBackInputKernel, conv2dBackWeightKernel, conv2dKernel } from '../../targets/ref/conv.ts';
import { uniformSource } from './helpers.ts';

interface ConvCase {
  xShape: [number, number, number, number];
  wShape: [number, number, number, number];
  attrs: ConvAttrs;
  seed: number;
  /** The im2col size limit; a small one splits the output rows into several tiles. */
  colLimit: number;
}

const convCase: fc.Arbitrary<ConvCase> = fc
  .record({
    n: fc.integer({ min: 1, max: 2 }),
    groups: fc.constantFrom(1, 2, 3),
    cPerGroup: fc.constantFrom(1, 2, 3, 4, 6),
    coPerGroup: fc.constantFrom(1, 2, 4, 5, 8),
    h: fc.integer({ min: 1, max: 7 }),
    w: fc.integer({ min: 1, max: 7 }),
    kh: fc.integer({ min: 1, max: 3 }),
    kw: fc.integer({ min: 1, max: 3 }),
    stride: fc.integer({ min: 1, max: 3 }),
    padding: fc.tuple(fc.nat(2), fc.nat(2), fc.nat(2), fc.nat(2)),
    seed: fc.integer({ min: 1, max: 2 ** 31 }),
    tiled: fc.boolean(),
  })
  .filter((c) => c.h + c.padding[0] + c.padding[1] >= c.kh && c.w + c.padding[2] + c.padding[3] >= c.kw)
  .map((c) => ({
    xShape: [c.n, c.groups * c.cPerGroup, c.h, c.w],
    wShape: [c.groups * c.coPerGroup, c.cPerGroup, c.kh, c.kw],
    attrs: { stride: c.stride, padding: c.padding, groups: c.groups },
    seed: c.seed,
    colLimit: c.tiled ? 1 : COL_LIMIT,
  }));

function randomArray(length: number, next: (lo: number, hi: number) => number): Float32Array {
  return Float32Array.from({ length }, () => next(-1, 1));
}

/**
 * Calls visit(xIndex, wIndex, yIndex) for every multiply of the convolution, straight from its
 * definition: y[n, o, i, j] += w[o, c, p, q] * x[n, g * C/groups + c, i * s - top + p, j * s - left + q].
 */
function forEachTap(c: ConvCase, visit: (xi: number, wi: number, yi: number) => void): void {
  const [n, cin, h, w] = c.xShape;
  const [cout, cpg, kh, kw] = c.wShape;
  const [, , oh, ow] = conv2dShape(c.xShape, c.wShape, c.attrs) as [number, number, number, number];
  const copg = cout / c.attrs.groups;
  for (let b = 0; b < n; b++)
    for (let o = 0; o < cout; o++)
      for (let i = 0; i < oh; i++)
        for (let j = 0; j < ow; j++)
          for (let ci = 0; ci < cpg; ci++)
            for (let p = 0; p < kh; p++)
              for (let q = 0; q < kw; q++) {
                const iy = i * c.attrs.stride - c.attrs.padding[0] + p;
                const ix = j * c.attrs.stride - c.attrs.padding[2] + q;
                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                const channel = Math.floor(o / copg) * cpg + ci;
                visit(((b * cin + channel) * h + iy) * w + ix, ((o * cpg + ci) * kh + p) * kw + q, ((b * cout + o) * oh + i) * ow + j);
              }
}

function expectClose(actual: Float32Array, expected: Float64Array): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    expect(Math.abs(actual[i]! - expected[i]!)).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(expected[i]!)));
  }
}

describe('ref conv kernels', () => {
  it('conv2d matches the direct definition', () => {
    fc.assert(
      fc.property(convCase, (c) => {
        const next = uniformSource(c.seed);
        const yShape = conv2dShape(c.xShape, c.wShape, c.attrs);
        const x = randomArray(numel(c.xShape), next);
        const w = randomArray(numel(c.wShape), next);
        const expected = new Float64Array(numel(yShape));
        forEachTap(c, (xi, wi, yi) => {
          expected[yi] += x[xi]! * w[wi]!;
        });
        const y = new Float32Array(numel(yShape));
        conv2dKernel(x, c.xShape, w, c.wShape, c.attrs, y, yShape, c.colLimit);
        expectClose(y, expected);
      }),
      { numRuns: 150 },
    );
  });

  it('conv2dBackInput matches the direct transpose', () => {
    fc.assert(
      fc.property(convCase, (c) => {
        const next = uniformSource(c.seed);
        const yShape = conv2dShape(c.xShape, c.wShape, c.attrs);
        const dy = randomArray(numel(yShape), next);
        const w = randomArray(numel(c.wShape), next);
        const expected = new Float64Array(numel(c.xShape));
        forEachTap(c, (xi, wi, yi) => {
          expected[xi] += dy[yi]! * w[wi]!;
        });
        const dx = new Float32Array(numel(c.xShape)).fill(Number.NaN);
        conv2dBackInputKernel(dy, yShape, w, c.wShape, c.attrs, dx, c.xShape, c.colLimit);
        expectClose(dx, expected);
      }),
      { numRuns: 150 },
    );
  });

  it('conv2dBackWeight matches the direct transpose', () => {
    fc.assert(
      fc.property(convCase, (c) => {
        const next = uniformSource(c.seed);
        const yShape = conv2dShape(c.xShape, c.wShape, c.attrs);
        const x = randomArray(numel(c.xShape), next);
        const dy = randomArray(numel(yShape), next);
        const expected = new Float64Array(numel(c.wShape));
        forEachTap(c, (xi, wi, yi) => {
          expected[wi] += x[xi]! * dy[yi]!;
        });
        const dw = new Float32Array(numel(c.wShape)).fill(Number.NaN);
        conv2dBackWeightKernel(x, c.xShape, dy, yShape, c.attrs, dw, c.wShape, c.colLimit);
        expectClose(dw, expected);
      }),
      { numRuns: 150 },
    );
  });
});
