import { describe, expect, it } from 'vitest';

import { Rng } from '../../src/runtime/rng.ts';

describe('Rng', () => {
  it('follows xoshiro128** from a known state', () => {
    // By hand from state [1, 2, 3, 4]: output = rotl(s1 * 5, 7) * 9.
    // 1st: rotl(10, 7) * 9 = 1280 * 9. The state becomes [7, 0, 1026, 12288].
    // 2nd: s1 = 0 gives 0. The state becomes [12295, 1029, 1029, 12288 << 11].
    // 3rd: rotl(5145, 7) * 9 = 5145 * 128 * 9.
    const rng = Rng.fromState([1, 2, 3, 4]);
    expect(rng.nextUint32()).toBe(11520);
    expect(rng.getState()).toEqual([7, 0, 1026, 12288]);
    expect(rng.nextUint32()).toBe(0);
    expect(rng.getState()).toEqual([12295, 1029, 1029, 25165824]);
    expect(rng.nextUint32()).toBe(5927040);
  });

  it('repeats a stream for one seed', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const streamA = Array.from({ length: 8 }, () => a.nextUint32());
    const streamB = Array.from({ length: 8 }, () => b.nextUint32());
    const streamC = Array.from({ length: 8 }, () => c.nextUint32());
    expect(streamA).toEqual(streamB);
    expect(streamA).not.toEqual(streamC);
  });

  it('separates seeds above 2^32', () => {
    const low = new Rng(5).nextUint32();
    const high = new Rng(5 + 2 ** 32).nextUint32();
    expect(high).not.toBe(low);
  });

  it('keeps uniform in [0, 1)', () => {
    const rng = new Rng(1);
    let sum = 0;
    let outside = 0;
    const n = 100_000;
    for (let i = 0; i < n; i++) {
      const u = rng.uniform();
      if (!(u >= 0 && u < 1)) outside++;
      sum += u;
    }
    expect(outside).toBe(0);
    // The mean of n uniforms has standard deviation sqrt(1/12/n), about 0.0009.
    expect(Math.abs(sum / n - 0.5)).toBeLessThan(0.005);
  });

  it('draws standard normals', () => {
    const samples = new Rng(7).normals(200_000);
    let sum = 0;
    let sumSquares = 0;
    let beyondTwo = 0;
    for (const x of samples) {
      sum += x;
      sumSquares += x * x;
      if (Math.abs(x) > 2) beyondTwo++;
    }
    const mean = sum / samples.length;
    expect(Math.abs(mean)).toBeLessThan(0.01);
    expect(Math.abs(sumSquares / samples.length - mean * mean - 1)).toBeLessThan(0.02);
    // P(|x| > 2) = 0.0455 for a standard normal.
    expect(Math.abs(beyondTwo / samples.length - 0.0455)).toBeLessThan(0.003);
  });

  it('draws integers in range evenly', () => {
    const rng = new Rng(3);
    const counts = new Array<number>(7).fill(0);
    const n = 70_000;
    for (let i = 0; i < n; i++) counts[rng.int(7)]!++;
    expect(counts.reduce((a, b) => a + b, 0)).toBe(n);
    for (const count of counts) expect(Math.abs(count - n / 7)).toBeLessThan(400);
    expect(rng.int(1)).toBe(0);
    const big = rng.int(2 ** 32);
    expect(big).toBeGreaterThanOrEqual(0);
    expect(big).toBeLessThan(2 ** 32);
  });

  it('rejects invalid integer ranges', () => {
    const rng = new Rng(3);
    expect(() => rng.int(0)).toThrow(/invalid range 0/);
    expect(() => rng.int(2.5)).toThrow(/invalid range 2.5/);
  });

  it('shuffles into uniform permutations', () => {
    const rng = new Rng(11);
    const counts = new Map<string, number>();
    const n = 60_000;
    for (let i = 0; i < n; i++) {
      const key = Array.from(rng.permutation(3)).join('');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual(['012', '021', '102', '120', '201', '210']);
    for (const count of counts.values()) expect(Math.abs(count - n / 6)).toBeLessThan(400);

    const large = Array.from(rng.permutation(1000)).sort((a, b) => a - b);
    expect(large).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(rng.permutation(0).length).toBe(0);
  });

  it('resumes from saved state', () => {
    const rng = new Rng(99);
    rng.normal(); // leaves a spare normal pending
    const state = rng.getState();
    expect(state.length).toBe(5);
    const restored = Rng.fromState(JSON.parse(JSON.stringify(state)));
    const expected = [rng.normal(), rng.uniform(), rng.int(10), rng.normal()];
    const actual = [restored.normal(), restored.uniform(), restored.int(10), restored.normal()];
    expect(actual).toEqual(expected);
  });

  it('rejects invalid state', () => {
    expect(() => Rng.fromState([0, 0, 0, 0])).toThrow(/invalid RNG state/);
    expect(() => Rng.fromState([1, 2, 3])).toThrow(/invalid RNG state/);
    expect(() => Rng.fromState([1, 2, 3, 2 ** 32])).toThrow(/invalid RNG state/);
    expect(() => Rng.fromState([1, 2, 3, 4, NaN])).toThrow(/spare normal/);
    expect(() => new Rng(1.5)).toThrow(/invalid RNG seed/);
  });
});
