// The Frechet distance between two Gaussians fitted to feature sets, the formula of FID:
// |mu1 - mu2|^2 + tr(C1 + C2 - 2 (C1 C2)^(1/2)). Matrices are dense row-major Float64Arrays.

/** Returns the mean [D] and the unbiased covariance [D, D] of `count` feature rows of width `dim`. */
export function meanAndCovariance(features: Float32Array, count: number, dim: number): { mean: Float64Array; cov: Float64Array } {
  if (count < 2) throw new Error(`a covariance needs at least 2 feature rows, got ${count}`);
  const mean = new Float64Array(dim);
  for (let n = 0; n < count; n++) for (let i = 0; i < dim; i++) mean[i]! += features[n * dim + i]!;
  for (let i = 0; i < dim; i++) mean[i]! /= count;
  const cov = new Float64Array(dim * dim);
  const centred = new Float64Array(dim);
  for (let n = 0; n < count; n++) {
    for (let i = 0; i < dim; i++) centred[i] = features[n * dim + i]! - mean[i]!;
    for (let i = 0; i < dim; i++) {
      for (let j = i; j < dim; j++) cov[i * dim + j]! += centred[i]! * centred[j]!;
    }
  }
  for (let i = 0; i < dim; i++) {
    for (let j = i; j < dim; j++) {
      const value = cov[i * dim + j]! / (count - 1);
      cov[i * dim + j] = value;
      cov[j * dim + i] = value;
    }
  }
  return { mean, cov };
}

/**
 * Returns the eigenvalues and eigenvectors (columns of `vectors`) of a symmetric matrix by cyclic
 * Jacobi rotations. It stops when the squared off-diagonal sum is below 1e-28 times the squared
 * diagonal sum (float64 rounding), or after 100 sweeps.
 */
export function symmetricEigen(matrix: Float64Array, dim: number): { values: Float64Array; vectors: Float64Array } {
  const a = new Float64Array(matrix);
  const v = new Float64Array(dim * dim);
  for (let i = 0; i < dim; i++) v[i * dim + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let offDiagonal = 0;
    for (let p = 0; p < dim; p++) for (let q = p + 1; q < dim; q++) offDiagonal += a[p * dim + q]! ** 2;
    let diagonal = 0;
    for (let p = 0; p < dim; p++) diagonal += a[p * dim + p]! ** 2;
    if (offDiagonal <= 1e-28 * diagonal || offDiagonal < 1e-300) break;
    for (let p = 0; p < dim; p++) {
      for (let q = p + 1; q < dim; q++) {
        const apq = a[p * dim + q]!;
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (a[q * dim + q]! - a[p * dim + p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < dim; k++) {
          const akp = a[k * dim + p]!;
          const akq = a[k * dim + q]!;
          a[k * dim + p] = c * akp - s * akq;
          a[k * dim + q] = s * akp + c * akq;
        }
        for (let k = 0; k < dim; k++) {
          const apk = a[p * dim + k]!;
          const aqk = a[q * dim + k]!;
          a[p * dim + k] = c * apk - s * aqk;
          a[q * dim + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < dim; k++) {
          const vkp = v[k * dim + p]!;
          const vkq = v[k * dim + q]!;
          v[k * dim + p] = c * vkp - s * vkq;
          v[k * dim + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const values = new Float64Array(dim);
  for (let i = 0; i < dim; i++) values[i] = a[i * dim + i]!;
  return { values, vectors: v };
}

/** Returns the square root of a symmetric positive semi-definite matrix; negative rounding noise counts as 0. */
export function sqrtPsd(matrix: Float64Array, dim: number): Float64Array {
  const { values, vectors } = symmetricEigen(matrix, dim);
  const out = new Float64Array(dim * dim);
  for (let k = 0; k < dim; k++) {
    const root = Math.sqrt(Math.max(values[k]!, 0));
    for (let i = 0; i < dim; i++) {
      const vik = vectors[i * dim + k]! * root;
      for (let j = 0; j < dim; j++) out[i * dim + j]! += vik * vectors[j * dim + k]!;
    }
  }
  return out;
}

function multiply(a: Float64Array, b: Float64Array, dim: number): Float64Array {
  const out = new Float64Array(dim * dim);
  for (let i = 0; i < dim; i++) {
    for (let k = 0; k < dim; k++) {
      const aik = a[i * dim + k]!;
      for (let j = 0; j < dim; j++) out[i * dim + j]! += aik * b[k * dim + j]!;
    }
  }
  return out;
}

/**
 * Returns the Frechet distance of two Gaussians. tr((C1 C2)^(1/2)) is computed as the trace of the
 * square root of the symmetric matrix C1^(1/2) C2 C1^(1/2), which has the same eigenvalues.
 */
export function frechetDistance(
  first: { mean: Float64Array; cov: Float64Array },
  second: { mean: Float64Array; cov: Float64Array },
  dim: number,
): number {
  let meanTerm = 0;
  for (let i = 0; i < dim; i++) meanTerm += (first.mean[i]! - second.mean[i]!) ** 2;
  const root = sqrtPsd(first.cov, dim);
  const inner = multiply(multiply(root, second.cov, dim), root, dim);
  const { values } = symmetricEigen(inner, dim);
  let traceTerm = 0;
  for (let i = 0; i < dim; i++) traceTerm += first.cov[i * dim + i]! + second.cov[i * dim + i]!;
  for (const value of values) traceTerm -= 2 * Math.sqrt(Math.max(value, 0));
  return meanTerm + traceTerm;
}
