// Batched matrix product of the reference executor, accumulated in float64.

import { gemmNT, transposeInto } from './gemm.ts';

/** out[t] = a[t] @ b[t] for `batch` pairs of row-major [m, k] and [k, n] matrices. */
export function matmulKernel(
  a: Float32Array,
  b: Float32Array,
  batch: number,
  m: number,
  k: number,
  n: number,
  out: Float32Array,
): void {
  // gemmNT reads both operands along k, so each b[t] is transposed to [n, k] first.
  const bTransposed = new Float32Array(k * n);
  const acc = new Float64Array(m * n);
  for (let t = 0; t < batch; t++) {
    transposeInto(b, t * k * n, k, n, n, bTransposed);
    acc.fill(0);
    gemmNT(m, n, k, a, t * m * k, k, bTransposed, 0, k, acc, 0, n);
    const outBase = t * m * n;
    for (let i = 0; i < acc.length; i++) out[outBase + i] = acc[i]!;
  }
}
