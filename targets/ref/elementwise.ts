// Elementwise kernels of the reference executor. Each op picks its loop once, outside the element
// loop, and computes in float64 before rounding the result to float32 storage.

import { assertNever, type BinaryOp, type UnaryOp } from '../../src/ir/graph.ts';

/**
 * Applies a unary op. Semantics:
 * - neg -x, exp e^x, log ln x, sqrt, rsqrt 1 / sqrt(x), recip 1 / x, square x * x, abs |x|.
 * - sign: -1, 0 or 1, with sign(0) = 0.
 * - softplus: ln(1 + e^x), evaluated as max(x, 0) + log1p(e^-|x|) so large |x| neither overflows
 *   nor loses the small tail.
 * - sigmoid: 1 / (1 + e^-x), evaluated from e^-|x| <= 1 so the exponential cannot overflow.
 * - lrelu: x > 0 ? x : slope * x.
 * - lreluGrad: x > 0 ? 1 : slope, the derivative of lrelu (the value at 0 is slope).
 */
export function unaryKernel(op: UnaryOp, x: Float32Array, slope: number, out: Float32Array): void {
  const n = x.length;
  switch (op) {
    case 'neg':
      for (let i = 0; i < n; i++) out[i] = -x[i];
      return;
    case 'exp':
      for (let i = 0; i < n; i++) out[i] = Math.exp(x[i]);
      return;
    case 'log':
      for (let i = 0; i < n; i++) out[i] = Math.log(x[i]);
      return;
    case 'sqrt':
      for (let i = 0; i < n; i++) out[i] = Math.sqrt(x[i]);
      return;
    case 'rsqrt':
      for (let i = 0; i < n; i++) out[i] = 1 / Math.sqrt(x[i]);
      return;
    case 'recip':
      for (let i = 0; i < n; i++) out[i] = 1 / x[i];
      return;
    case 'square':
      for (let i = 0; i < n; i++) out[i] = x[i] * x[i];
      return;
    case 'abs':
      for (let i = 0; i < n; i++) out[i] = Math.abs(x[i]);
      return;
    case 'sign':
      for (let i = 0; i < n; i++) out[i] = Math.sign(x[i]);
      return;
    case 'softplus':
      for (let i = 0; i < n; i++) {
        const v = x[i];
        out[i] = Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)));
      }
      return;
    case 'sigmoid':
      for (let i = 0; i < n; i++) {
        const v = x[i];
        const e = Math.exp(-Math.abs(v));
        out[i] = v >= 0 ? 1 / (1 + e) : e / (1 + e);
      }
      return;
    case 'lrelu':
      for (let i = 0; i < n; i++) {
        const v = x[i];
        out[i] = v > 0 ? v : slope * v;
      }
      return;
    case 'lreluGrad':
      for (let i = 0; i < n; i++) out[i] = x[i] > 0 ? 1 : slope;
      return;
    default:
      assertNever(op);
  }
}

/**
 * Applies a binary op to equal-length operands. max is a > b ? a : b and min is b > a ? a : b, the
 * same choice as their autodiff rule built on `greater`, so on ties max and min return b.
 * greater gives 1 where a > b and 0 elsewhere (also where either side is NaN).
 */
export function binaryKernel(op: BinaryOp, a: Float32Array, b: Float32Array, out: Float32Array): void {
  const n = a.length;
  switch (op) {
    case 'add':
      for (let i = 0; i < n; i++) out[i] = a[i] + b[i];
      return;
    case 'sub':
      for (let i = 0; i < n; i++) out[i] = a[i] - b[i];
      return;
    case 'mul':
      for (let i = 0; i < n; i++) out[i] = a[i] * b[i];
      return;
    case 'div':
      for (let i = 0; i < n; i++) out[i] = a[i] / b[i];
      return;
    case 'max':
      for (let i = 0; i < n; i++) out[i] = a[i] > b[i] ? a[i] : b[i];
      return;
    case 'min':
      for (let i = 0; i < n; i++) out[i] = b[i] > a[i] ? a[i] : b[i];
      return;
    case 'greater':
      for (let i = 0; i < n; i++) out[i] = a[i] > b[i] ? 1 : 0;
      return;
    default:
      assertNever(op);
  }
}

/** cond != 0 ? a : b elementwise; a NaN condition counts as nonzero. */
export function selectKernel(cond: Float32Array, a: Float32Array, b: Float32Array, out: Float32Array): void {
  for (let i = 0; i < cond.length; i++) out[i] = cond[i] !== 0 ? a[i] : b[i];
}
