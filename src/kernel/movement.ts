// Index maps of the movement expressions that read one operand element per output element
// (permute, broadcast, slice, flip). Every code generator prints the same affine map, so it is
// computed here once: operand index = base + the sum over output axes a of coord[a] * multiplier[a].

import { assertNever, type Shape } from '../ir/graph.ts';
import type { KernelExpr } from './kernel.ts';

/** A movement whose operand index is an affine function of the output coordinates. */
export type AffineMovement = Extract<KernelExpr, { kind: 'permute' | 'broadcast' | 'slice' | 'flip' }>;

/** Returns the row-major strides of a shape, in elements. */
export function rowMajorStrides(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let stride = 1;
  for (let a = shape.length - 1; a >= 0; a--) {
    strides[a] = stride;
    stride *= shape[a]!;
  }
  return strides;
}

/**
 * Returns the affine index map of `expr` over an operand of shape `inShape`: the operand step per
 * output axis (0 for a broadcast axis, negative for a flipped one) and the operand index of
 * output index 0.
 */
export function movementMultipliers(expr: AffineMovement, inShape: Shape): { multiplier: number[]; base: number } {
  const rank = expr.shape.length;
  const inStrides = rowMajorStrides(inShape);
  const multiplier = new Array<number>(rank).fill(0);
  let base = 0;
  for (let a = 0; a < rank; a++) {
    switch (expr.kind) {
      case 'permute':
        multiplier[a] = inStrides[expr.perm[a]!]!;
        break;
      case 'broadcast':
        multiplier[a] = inShape[a] === 1 ? 0 : inStrides[a]!;
        break;
      case 'slice':
        multiplier[a] = inStrides[a]! * expr.step[a]!;
        base += expr.start[a]! * inStrides[a]!;
        break;
      case 'flip':
        if (expr.axes.includes(a)) {
          multiplier[a] = -inStrides[a]!;
          base += (inShape[a]! - 1) * inStrides[a]!;
        } else {
          multiplier[a] = inStrides[a]!;
        }
        break;
      default:
        assertNever(expr);
    }
  }
  return { multiplier, base };
}
