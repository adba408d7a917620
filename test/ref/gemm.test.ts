// The blocked matrix product against a plain triple loop, for sizes that hit every block remainder.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { gemmNT } from '../../targets/ref/gemm.ts';
import { uniformSource } from './helpers.ts';

describe('gemmNT', () => {
  it('adds A B^T for any m, n, k and strides', () => {
    const arb = fc.record({
      m: fc.integer({ min: 1, max: 9 }),
      n: fc.integer({ min: 1, max: 9 }),
      k: fc.integer({ min: 1, max: 7 }),
      padA: fc.nat(3),
      padB: fc.nat(3),
      padC: fc.nat(3),
      seed: fc.integer({ min: 1, max: 2 ** 31 }),
    });
    fc.assert(
      fc.property(arb, ({ m, n, k, padA, padB, padC, seed }) => {
        const next = uniformSource(seed);
        const lda = k + padA;
        const ldb = k + padB;
        const ldc = n + padC;
        const a = Float32Array.from({ length: 2 + m * lda }, () => next(-1, 1));
        const b = Float32Array.from({ length: 1 + n * ldb }, () => next(-1, 1));
        const c = Float64Array.from({ length: 3 + m * ldc }, () => next(-1, 1));
        const expected = Float64Array.from(c);
        for (let i = 0; i < m; i++) {
          for (let j = 0; j < n; j++) {
            let sum = 0;
            for (let p = 0; p < k; p++) sum += a[2 + i * lda + p]! * b[1 + j * ldb + p]!;
            expected[3 + i * ldc + j] += sum;
          }
        }
        gemmNT(m, n, k, a, 2, lda, b, 1, ldb, c, 3, ldc);
        for (let i = 0; i < c.length; i++) expect(c[i]).toBeCloseTo(expected[i]!, 12);
      }),
      { numRuns: 200 },
    );
  });
});
