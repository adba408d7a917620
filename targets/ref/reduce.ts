// Reductions of the reference executor, accumulated in float64.

import { assertNever, type ReduceOp, type Shape } from '../../src/ir/graph.ts';
import { contiguousStrides } from './movement.ts';

/** Lists the flat offsets of every index tuple of `shape` under `strides`, in row-major order. */
function offsetsOf(shape: readonly number[], strides: readonly number[]): Int32Array {
  let count = 1;
  for (const d of shape) count *= d;
  const offsets = new Int32Array(count);
  let size = 1;
  offsets[0] = 0;
  // Grow the list axis by axis from the innermost outwards.
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    const d = shape[axis]!;
    const stride = strides[axis]!;
    for (let j = 1; j < d; j++) {
      for (let k = 0; k < size; k++) offsets[j * size + k] = offsets[k]! + j * stride;
    }
    size *= d;
  }
  return offsets;
}

/**
 * Reduces `x` over the sorted `axes`. sum adds in float64; max propagates NaN and gives -Infinity
 * over an empty axis. The output order is the row-major order of the kept axes, which is the same
 * with or without keepDims.
 */
export function reduceKernel(op: ReduceOp, x: Float32Array, inShape: Shape, axes: readonly number[], out: Float32Array): void {
  const strides = contiguousStrides(inShape);
  const keptShape: number[] = [];
  const keptStrides: number[] = [];
  const reducedShape: number[] = [];
  const reducedStrides: number[] = [];
  inShape.forEach((d, i) => {
    if (axes.includes(i)) {
      reducedShape.push(d);
      reducedStrides.push(strides[i]!);
    } else {
      keptShape.push(d);
      keptStrides.push(strides[i]!);
    }
  });
  const bases = offsetsOf(keptShape, keptStrides);
  const inner = offsetsOf(reducedShape, reducedStrides);
  const m = inner.length;
  switch (op) {
    case 'sum':
      for (let o = 0; o < bases.length; o++) {
        const base = bases[o]!;
        let acc = 0;
        for (let j = 0; j < m; j++) acc += x[base + inner[j]!]!;
        out[o] = acc;
      }
      return;
    case 'max':
      for (let o = 0; o < bases.length; o++) {
        const base = bases[o]!;
        let acc = -Infinity;
        for (let j = 0; j < m; j++) {
          const v = x[base + inner[j]!]!;
          if (v > acc || v !== v) acc = v;
        }
        out[o] = acc;
      }
      return;
    default:
      assertNever(op);
  }
}
