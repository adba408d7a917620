import { describe, expect, it } from 'vitest';
import { fillRandn, randnAt, threefry2x32 } from '../../src/ir/rng.ts';

describe('threefry2x32', () => {
  // Known-answer test vectors for Threefry-2x32 with 20 rounds, as published with Random123
  // (D. E. Shaw Research): key (k0, k1), counter (c0, c1) -> output words.
  const cases: [number, number, number, number, number, number][] = [
    [0, 0, 0, 0, 0x6b200159, 0x99ba4efe],
    [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0x1cb996fc, 0xbb002be7],
    [0x13198a2e, 0x03707344, 0x243f6a88, 0x85a308d3, 0xc4923a9c, 0x483df7a0],
  ];
  it.each(cases)('matches Random123 for key %d %d', (k0, k1, c0, c1, out0, out1) => {
    expect(threefry2x32(k0, k1, c0, c1)).toEqual([out0, out1]);
  });
});

describe('randn', () => {
  it('applies Box-Muller to the block bits', () => {
    // Element 0 of stream 0 under key 0 uses the all-zero block above.
    const u0 = ((0x6b200159 >>> 8) + 1) / 2 ** 24;
    const u1 = ((0x99ba4efe >>> 8) + 1) / 2 ** 24;
    const expected = Math.sqrt(-2 * Math.log(u0)) * Math.cos(2 * Math.PI * u1);
    expect(randnAt(0, 0, 0)).toBeCloseTo(expected, 12);
  });

  it('is deterministic', () => {
    const a = new Float32Array(64);
    const b = new Float32Array(64);
    fillRandn(a, 12345, 7);
    fillRandn(b, 12345, 7);
    expect(Array.from(a)).toEqual(Array.from(b));
  });

  it('fillRandn agrees with randnAt', () => {
    const out = new Float32Array(100);
    fillRandn(out, 99, 3);
    for (let i = 0; i < out.length; i++) expect(out[i]).toBe(Math.fround(randnAt(99, 3, i)));
  });

  it('has mean 0 and variance 1', () => {
    const out = new Float32Array(100_000);
    fillRandn(out, 2024, 1);
    let sum = 0;
    let sumSquares = 0;
    for (const v of out) {
      sum += v;
      sumSquares += v * v;
    }
    const mean = sum / out.length;
    const variance = sumSquares / out.length - mean * mean;
    // The standard error of the mean is 1/sqrt(1e5) ~ 0.0032 and of the variance ~ 0.0045.
    expect(Math.abs(mean)).toBeLessThan(0.015);
    expect(Math.abs(variance - 1)).toBeLessThan(0.02);
  });

  it('differs across keys, streams and indices', () => {
    const base = randnAt(5, 5, 5);
    expect(randnAt(6, 5, 5)).not.toBe(base);
    expect(randnAt(5, 6, 5)).not.toBe(base);
    expect(randnAt(5, 5, 6)).not.toBe(base);
  });

  it('streams are uncorrelated', () => {
    const a = new Float32Array(20_000);
    const b = new Float32Array(20_000);
    fillRandn(a, 1, 0);
    fillRandn(b, 1, 1);
    let dot = 0;
    for (let i = 0; i < a.length; i++) dot += a[i]! * b[i]!;
    // The correlation of independent normals has standard deviation 1/sqrt(n) ~ 0.007.
    expect(Math.abs(dot / a.length)).toBeLessThan(0.04);
  });

  it('rejects keys outside [0, 2^24)', () => {
    expect(() => randnAt(-1, 0, 0)).toThrow(/invalid randn key -1/);
    expect(() => randnAt(2 ** 24, 0, 0)).toThrow(/invalid randn key/);
    expect(() => randnAt(1.5, 0, 0)).toThrow(/invalid randn key 1.5/);
  });
});
