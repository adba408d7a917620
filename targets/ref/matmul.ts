// Batched matrix product of the reference executor, accumulated in float64.

/**
 * out[b] = a[b] @ bMat[b] for `batch` pairs of row-major [m, k] and [k, n] matrices. Each output row
 * is built in a float64 row by adding a[i, p] * (row p of b), so the inner loop is contiguous.
 */
export function matmulKernel(
  a: Float32Array,
  bMat: Float32Array,
  batch: number,
  m: number,
  k: number,
  n: number,
  out: Float32Array,
): void {
  const acc = new Float64Array(n);
  for (let t = 0; t < batch; t++) {
    const aBase = t * m * k;
    const bBase = t * k * n;
    const outBase = t * m * n;
    for (let i = 0; i < m; i++) {
      acc.fill(0);
      const aRow = aBase + i * k;
      for (let p = 0; p < k; p++) {
        const av = a[aRow + p]!;
        const bRow = bBase + p * n;
        for (let j = 0; j < n; j++) acc[j] += av * bMat[bRow + j]!;
      }
      const outRow = outBase + i * n;
      for (let j = 0; j < n; j++) out[outRow + j] = acc[j]!;
    }
  }
}
