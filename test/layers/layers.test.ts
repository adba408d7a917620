import { describe, expect, it } from 'vitest';
import { concatChannels, pixelnorm } from '../../src/layers/basic.ts';
import { minibatchStddev } from '../../src/layers/mbstd.ts';
import { blur, downsample, upsampleBilinear, upsampleNearest } from '../../src/layers/resample.ts';
import { tensor } from '../../src/runtime/tensor.ts';
import { evaluate, expectClose, ramp } from './helpers.ts';

describe('pixelnorm', () => {
  it('divides by the root mean square over channels', () => {
    const x = tensor([2, 2], [3, 4, 1, -1]);
    const y = evaluate((b) => pixelnorm(b, b.input('x', [2, 2]), 1e-8), { x });
    // Sample 0: mean of 9 and 16 is 12.5; sample 1: mean of 1 and 1 is 1.
    expectClose(y.data, [3 / Math.sqrt(12.5), 4 / Math.sqrt(12.5), 1, -1]);
  });
});

describe('upsampleNearest', () => {
  it('repeats each pixel in a 2x2 block', () => {
    const x = tensor([1, 1, 2, 2], [1, 2, 3, 4]);
    const y = evaluate((b) => upsampleNearest(b, b.input('x', [1, 1, 2, 2])), { x });
    expect(y.shape).toEqual([1, 1, 4, 4]);
    expect(Array.from(y.data)).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
  });
});

describe('upsampleBilinear', () => {
  it('uses quarter weights with clamped edges', () => {
    const x = tensor([1, 1, 1, 2], [1, 2]);
    const y = evaluate((b) => upsampleBilinear(b, b.input('x', [1, 1, 1, 2])), { x });
    expect(y.shape).toEqual([1, 1, 2, 4]);
    // Along W: [1, 0.25 * 1 + 0.75 * 2 ...] as in align_corners=False; H is constant so rows repeat.
    expectClose(y.data, [1, 1.25, 1.75, 2, 1, 1.25, 1.75, 2]);
  });

  it('interpolates both axes', () => {
    const x = tensor([1, 1, 2, 2], [0, 4, 8, 12]);
    const y = evaluate((b) => upsampleBilinear(b, b.input('x', [1, 1, 2, 2])), { x });
    // Per axis the weights are (1, 0.75/0.25, 0.25/0.75, 1); x = 4 * col + 8 * row is linear.
    const axis = [0, 0.25, 0.75, 1];
    const expected = axis.flatMap((r) => axis.map((c) => 8 * r + 4 * c));
    expectClose(y.data, expected);
  });
});

describe('blur', () => {
  it('spreads a delta into the normalised [1, 2, 1] outer product', () => {
    const x = tensor([1, 1, 3, 3], [0, 0, 0, 0, 16, 0, 0, 0, 0]);
    const y = evaluate((b) => blur(b, b.input('x', [1, 1, 3, 3]), [1, 2, 1]), { x });
    expectClose(y.data, [1, 2, 1, 2, 4, 2, 1, 2, 1]);
  });

  it('keeps channels apart and zero-pads the border', () => {
    const x = tensor([1, 2, 3, 3], [...new Array(9).fill(1), ...new Array(9).fill(2)]);
    const y = evaluate((b) => blur(b, b.input('x', [1, 2, 3, 3]), [1, 2, 1]), { x });
    // A corner gets taps 4 + 2 + 2 + 1 = 9 of 16, an edge 12 of 16 and the centre all 16.
    const ones = [9, 12, 9, 12, 16, 12, 9, 12, 9].map((v) => v / 16);
    expectClose(y.data, [...ones, ...ones.map((v) => 2 * v)]);
  });
});

describe('downsample', () => {
  it('averages 2x2 blocks', () => {
    const x = tensor([1, 1, 4, 4], Array.from({ length: 16 }, (_, i) => i));
    const y = evaluate((b) => downsample(b, b.input('x', [1, 1, 4, 4])), { x });
    expect(y.shape).toEqual([1, 1, 2, 2]);
    expectClose(y.data, [(0 + 1 + 4 + 5) / 4, (2 + 3 + 6 + 7) / 4, (8 + 9 + 12 + 13) / 4, (10 + 11 + 14 + 15) / 4]);
  });
});

describe('concatChannels', () => {
  it('stacks the second operand after the first', () => {
    const x = tensor([2, 1, 1, 1], [1, 2]);
    const y = tensor([2, 2, 1, 1], [3, 4, 5, 6]);
    const out = evaluate((b) => concatChannels(b, b.input('x', [2, 1, 1, 1]), b.input('y', [2, 2, 1, 1])), { x, y });
    expect(out.shape).toEqual([2, 3, 1, 1]);
    expect(Array.from(out.data)).toEqual([1, 3, 4, 2, 5, 6]);
  });
});

describe('minibatchStddev', () => {
  it('groups samples n % (N / G) and appends the mean stddev', () => {
    // N = 4, G = 2, so M = 2: group 0 contains samples 0 and 2, group 1 contains samples 1 and 3.
    // C = 2, H = 1, W = 2, one feature.
    const x = tensor([4, 2, 1, 2], [
      0, 2, 4, 6, // sample 0
      1, 1, 1, 1, // sample 1
      2, 2, 8, 6, // sample 2
      1, 3, 1, 5, // sample 3
    ]);
    // Group 0 per element: pairs (0,2) (2,2) (4,8) (6,6): stddevs 1, 0, 2, 0 -> mean 0.75.
    // Group 1: pairs (1,1) (1,3) (1,1) (1,5): stddevs 0, 1, 0, 2 -> mean 0.75, each up to the eps.
    const y = evaluate((b) => minibatchStddev(b, b.input('x', [4, 2, 1, 2]), 2, 1), { x });
    const eps = 1e-8;
    const group0 = (Math.sqrt(1 + eps) + Math.sqrt(eps) + Math.sqrt(4 + eps) + Math.sqrt(eps)) / 4;
    const group1 = (Math.sqrt(eps) + Math.sqrt(1 + eps) + Math.sqrt(eps) + Math.sqrt(4 + eps)) / 4;
    expect(y.shape).toEqual([4, 3, 1, 2]);
    const extra = [0, 1, 2, 3].map((n) => Array.from(y.data.slice(n * 6 + 4, n * 6 + 6)));
    expectClose(extra.flat(), [group0, group0, group1, group1, group0, group0, group1, group1]);
    expect(Array.from(y.data.slice(0, 4))).toEqual([0, 2, 4, 6]);
  });

  it('separates the two groups', () => {
    const x = tensor([4, 1, 1, 1], [0, 5, 2, 5]);
    const y = evaluate((b) => minibatchStddev(b, b.input('x', [4, 1, 1, 1]), 2, 1), { x });
    // Group 0 = samples 0, 2: stddev 1; group 1 = samples 1, 3: stddev 0 (sqrt of eps).
    expectClose(y.data, [0, 1, 5, 1e-4, 2, 1, 5, 1e-4]);
  });

  it('uses the whole batch when it is smaller than the group', () => {
    const x = tensor([2, 1, 1, 1], [1, 3]);
    const y = evaluate((b) => minibatchStddev(b, b.input('x', [2, 1, 1, 1]), 4, 1), { x });
    expectClose(y.data, [1, 1, 3, 1]);
  });

  it('rejects a batch that does not split into groups', () => {
    expect(() => evaluate((b) => minibatchStddev(b, b.input('x', [6, 1, 1, 1]), 4, 1), { x: ramp([6, 1, 1, 1]) })).toThrow(
      /batch 6 is not a multiple of the group size 4/,
    );
  });
});
