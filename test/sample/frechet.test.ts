// The Frechet distance and its matrix helpers, against closed forms for 1-D and diagonal Gaussians.

import { describe, expect, it } from 'vitest';

import { frechetDistance, meanAndCovariance, sqrtPsd, symmetricEigen } from '../../src/runtime/sample/frechet.ts';

describe('symmetric eigen', () => {
  it('finds the eigenvalues of a 2x2 matrix', () => {
    const { values, vectors } = symmetricEigen(new Float64Array([2, 1, 1, 2]), 2);
    expect(Array.from(values).sort()).toEqual([expect.closeTo(1, 12), expect.closeTo(3, 12)]);
    // Each column v satisfies A v = lambda v.
    for (let k = 0; k < 2; k++) {
      const v0 = vectors[k]!;
      const v1 = vectors[2 + k]!;
      expect(2 * v0 + v1).toBeCloseTo(values[k]! * v0, 12);
      expect(v0 + 2 * v1).toBeCloseTo(values[k]! * v1, 12);
    }
  });

  it('squares back to the matrix', () => {
    const matrix = new Float64Array([4, 1, 0.5, 1, 3, 0.2, 0.5, 0.2, 2]);
    const root = sqrtPsd(matrix, 3);
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) {
        let sum = 0;
        for (let k = 0; k < 3; k++) sum += root[i * 3 + k]! * root[k * 3 + j]!;
        expect(sum, `${i},${j}`).toBeCloseTo(matrix[i * 3 + j]!, 10);
      }
    }
  });
});

describe('frechet distance', () => {
  it('matches the 1-D closed form', () => {
    // FD of N(m1, s1^2) and N(m2, s2^2) is (m1 - m2)^2 + (s1 - s2)^2.
    const first = { mean: new Float64Array([1]), cov: new Float64Array([4]) };
    const second = { mean: new Float64Array([3]), cov: new Float64Array([9]) };
    expect(frechetDistance(first, second, 1)).toBeCloseTo(4 + 1, 12);
  });

  it('sums over independent dimensions', () => {
    const first = { mean: new Float64Array([0, 0]), cov: new Float64Array([1, 0, 0, 4]) };
    const second = { mean: new Float64Array([1, 2]), cov: new Float64Array([4, 0, 0, 1]) };
    // Means: 1 + 4. Standard deviations 1 vs 2 and 2 vs 1: 1 + 1.
    expect(frechetDistance(first, second, 2)).toBeCloseTo(7, 10);
  });

  it('is zero for identical feature sets', () => {
    const features = new Float32Array([1, 2, 3, 1, 0, 5, 2, 2, 2, -1, 4, 0]);
    const stats = meanAndCovariance(features, 4, 3);
    expect(Math.abs(frechetDistance(stats, stats, 3))).toBeLessThan(1e-9);
  });

  it('computes the unbiased covariance', () => {
    const { mean, cov } = meanAndCovariance(new Float32Array([0, 0, 2, 4]), 2, 2);
    expect(Array.from(mean)).toEqual([1, 2]);
    // Deviations (-1, -2) and (1, 2), divided by N - 1 = 1.
    expect(Array.from(cov)).toEqual([2, 4, 4, 8]);
  });
});
