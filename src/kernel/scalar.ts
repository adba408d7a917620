// Scalar semantics of the elementwise ops, the same as the reference executor's loops: compute in
// float64 and let the caller round to float32 where a tensor value is stored or fused.

import { assertNever, type BinaryOp, type UnaryOp } from '../ir/graph.ts';

export function unaryScalar(op: UnaryOp, v: number, slope: number): number {
  switch (op) {
    case 'neg':
      return -v;
    case 'exp':
      return Math.exp(v);
    case 'log':
      return Math.log(v);
    case 'sqrt':
      return Math.sqrt(v);
    case 'rsqrt':
      return 1 / Math.sqrt(v);
    case 'recip':
      return 1 / v;
    case 'square':
      return v * v;
    case 'abs':
      return Math.abs(v);
    case 'sign':
      return Math.sign(v);
    case 'softplus':
      return Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)));
    case 'sigmoid': {
      const e = Math.exp(-Math.abs(v));
      return v >= 0 ? 1 / (1 + e) : e / (1 + e);
    }
    case 'lrelu':
      return v > 0 ? v : slope * v;
    case 'lreluGrad':
      return v > 0 ? 1 : slope;
    default:
      return assertNever(op);
  }
}

/** max and min return b on ties, and greater is 0 where either side is NaN, as in the reference executor. */
export function binaryScalar(op: BinaryOp, a: number, b: number): number {
  switch (op) {
    case 'add':
      return a + b;
    case 'sub':
      return a - b;
    case 'mul':
      return a * b;
    case 'div':
      return a / b;
    case 'max':
      return a > b ? a : b;
    case 'min':
      return b > a ? a : b;
    case 'greater':
      return a > b ? 1 : 0;
    default:
      return assertNever(op);
  }
}

/** Returns the unary op as a function of one float64 value, chosen once outside the element loop. */
export function unaryFunction(op: UnaryOp, slope: number): (v: number) => number {
  switch (op) {
    case 'neg':
      return (v) => -v;
    case 'exp':
      return Math.exp;
    case 'square':
      return (v) => v * v;
    case 'lrelu':
      return (v) => (v > 0 ? v : slope * v);
    case 'lreluGrad':
      return (v) => (v > 0 ? 1 : slope);
    default:
      return (v) => unaryScalar(op, v, slope);
  }
}

export function binaryFunction(op: BinaryOp): (a: number, b: number) => number {
  switch (op) {
    case 'add':
      return (a, b) => a + b;
    case 'sub':
      return (a, b) => a - b;
    case 'mul':
      return (a, b) => a * b;
    case 'div':
      return (a, b) => a / b;
    default:
      return (a, b) => binaryScalar(op, a, b);
  }
}
