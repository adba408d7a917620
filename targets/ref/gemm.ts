// The register-blocked matrix product that the convolutions and matmul share. Operands are float32,
// sums are float64.

/**
 * Adds A B^T to C: c[cOffset + i * ldc + j] += sum over p < k of a[aOffset + i * lda + p] * b[bOffset + j * ldb + p],
 * for i < m and j < n. Both operands are read along their contiguous k axis. Blocks of 4 rows of A
 * times 4 rows of B keep 16 independent float64 sums, so each loaded value feeds 4 multiplies.
 * Smaller blocks handle the remaining rows.
 */
export function gemmNT(
  m: number,
  n: number,
  k: number,
  a: Float32Array,
  aOffset: number,
  lda: number,
  b: Float32Array,
  bOffset: number,
  ldb: number,
  c: Float64Array,
  cOffset: number,
  ldc: number,
): void {
  let i = 0;
  for (; i + 4 <= m; i += 4) {
    const a0 = aOffset + i * lda;
    const a1 = a0 + lda;
    const a2 = a1 + lda;
    const a3 = a2 + lda;
    const c0 = cOffset + i * ldc;
    let j = 0;
    for (; j + 4 <= n; j += 4) {
      const b0 = bOffset + j * ldb;
      const b1 = b0 + ldb;
      const b2 = b1 + ldb;
      const b3 = b2 + ldb;
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      let s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0;
      for (let p = 0; p < k; p++) {
        const x0 = b[b0 + p]!;
        const x1 = b[b1 + p]!;
        const x2 = b[b2 + p]!;
        const x3 = b[b3 + p]!;
        let y = a[a0 + p]!;
        s00 += y * x0;
        s01 += y * x1;
        s02 += y * x2;
        s03 += y * x3;
        y = a[a1 + p]!;
        s10 += y * x0;
        s11 += y * x1;
        s12 += y * x2;
        s13 += y * x3;
        y = a[a2 + p]!;
        s20 += y * x0;
        s21 += y * x1;
        s22 += y * x2;
        s23 += y * x3;
        y = a[a3 + p]!;
        s30 += y * x0;
        s31 += y * x1;
        s32 += y * x2;
        s33 += y * x3;
      }
      const c1 = c0 + ldc;
      const c2 = c1 + ldc;
      const c3 = c2 + ldc;
      c[c0 + j] += s00;
      c[c0 + j + 1] += s01;
      c[c0 + j + 2] += s02;
      c[c0 + j + 3] += s03;
      c[c1 + j] += s10;
      c[c1 + j + 1] += s11;
      c[c1 + j + 2] += s12;
      c[c1 + j + 3] += s13;
      c[c2 + j] += s20;
      c[c2 + j + 1] += s21;
      c[c2 + j + 2] += s22;
      c[c2 + j + 3] += s23;
      c[c3 + j] += s30;
      c[c3 + j + 1] += s31;
      c[c3 + j + 2] += s32;
      c[c3 + j + 3] += s33;
    }
    for (; j + 2 <= n; j += 2) {
      const b0 = bOffset + j * ldb;
      const b1 = b0 + ldb;
      let s00 = 0, s01 = 0, s10 = 0, s11 = 0, s20 = 0, s21 = 0, s30 = 0, s31 = 0;
      for (let p = 0; p < k; p++) {
        const x0 = b[b0 + p]!;
        const x1 = b[b1 + p]!;
        const y0 = a[a0 + p]!;
        s00 += y0 * x0;
        s01 += y0 * x1;
        const y1 = a[a1 + p]!;
        s10 += y1 * x0;
        s11 += y1 * x1;
        const y2 = a[a2 + p]!;
        s20 += y2 * x0;
        s21 += y2 * x1;
        const y3 = a[a3 + p]!;
        s30 += y3 * x0;
        s31 += y3 * x1;
      }
      const c1 = c0 + ldc;
      const c2 = c1 + ldc;
      const c3 = c2 + ldc;
      c[c0 + j] += s00;
      c[c0 + j + 1] += s01;
      c[c1 + j] += s10;
      c[c1 + j + 1] += s11;
      c[c2 + j] += s20;
      c[c2 + j + 1] += s21;
      c[c3 + j] += s30;
      c[c3 + j + 1] += s31;
    }
    for (; j < n; j++) {
      const b0 = bOffset + j * ldb;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let p = 0; p < k; p++) {
        const x0 = b[b0 + p]!;
        s0 += a[a0 + p]! * x0;
        s1 += a[a1 + p]! * x0;
        s2 += a[a2 + p]! * x0;
        s3 += a[a3 + p]! * x0;
      }
      c[c0 + j] += s0;
      c[c0 + ldc + j] += s1;
      c[c0 + 2 * ldc + j] += s2;
      c[c0 + 3 * ldc + j] += s3;
    }
  }
  for (; i < m; i++) {
    const a0 = aOffset + i * lda;
    const c0 = cOffset + i * ldc;
    for (let j = 0; j < n; j++) {
      const b0 = bOffset + j * ldb;
      let s = 0;
      for (let p = 0; p < k; p++) s += a[a0 + p]! * b[b0 + p]!;
      c[c0 + j] += s;
    }
  }
}

/** Writes the transpose of the [rows, cols] block at `offset` (rows `rowStride` apart) into out [cols, rows]. */
export function transposeInto(
  x: Float32Array,
  offset: number,
  rows: number,
  cols: number,
  rowStride: number,
  out: Float32Array,
): void {
  for (let r = 0; r < rows; r++) {
    const src = offset + r * rowStride;
    for (let c = 0; c < cols; c++) out[c * rows + r] = x[src + c]!;
  }
}
