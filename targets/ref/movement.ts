// Movement kernels of the reference executor: every one is a strided copy between row-major
// buffers, so permute, broadcast, slice, flip and pad differ only in the strides they pass.

import { numel, type Shape } from '../../src/ir/graph.ts';

/** Returns the row-major strides of a shape, in elements. */
export function contiguousStrides(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let stride = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = stride;
    stride *= shape[i]!;
  }
  return strides;
}

/**
 * Merges neighbouring axes that both sides step through as one longer axis, so the inner loop of
 * stridedCopy runs as long as possible. Size-1 axes are dropped. Returns the merged shape and strides.
 */
function mergeAxes(
  shape: Shape,
  srcStrides: readonly number[],
  dstStrides: readonly number[],
): { shape: number[]; src: number[]; dst: number[] } {
  const merged = { shape: [] as number[], src: [] as number[], dst: [] as number[] };
  for (let axis = 0; axis < shape.length; axis++) {
    const size = shape[axis]!;
    if (size === 1) continue;
    const last = merged.shape.length - 1;
    // The previous axis continues this one when its stride is this axis' stride times its size.
    if (
      last >= 0 &&
      merged.src[last] === srcStrides[axis]! * size &&
      merged.dst[last] === dstStrides[axis]! * size
    ) {
      merged.shape[last] = merged.shape[last]! * size;
      merged.src[last] = srcStrides[axis]!;
      merged.dst[last] = dstStrides[axis]!;
    } else {
      merged.shape.push(size);
      merged.src.push(srcStrides[axis]!);
      merged.dst.push(dstStrides[axis]!);
    }
  }
  return merged;
}

/**
 * Copies every index tuple i of `fullShape`: dst[dstOffset + sum(i * dstStrides)] = src[srcOffset + sum(i * srcStrides)].
 * Strides may be zero (broadcast) or negative (flip). The last axis, after merging, is the inner loop.
 */
export function stridedCopy(
  fullShape: Shape,
  src: Float32Array,
  srcOffset: number,
  fullSrcStrides: readonly number[],
  dst: Float32Array,
  dstOffset: number,
  fullDstStrides: readonly number[],
): void {
  if (numel(fullShape) === 0) return;
  const { shape, src: srcStrides, dst: dstStrides } = mergeAxes(fullShape, fullSrcStrides, fullDstStrides);

  const rank = shape.length;
  if (rank === 0) {
    dst[dstOffset] = src[srcOffset]!;
    return;
  }
  const count = numel(shape);
  const inner = shape[rank - 1]!;
  const srcStep = srcStrides[rank - 1]!;
  const dstStep = dstStrides[rank - 1]!;

  const index = new Array<number>(rank).fill(0);
  let s = srcOffset;
  let d = dstOffset;
  for (let row = count / inner; row > 0; row--) {
    if (srcStep === 1 && dstStep === 1) {
      dst.set(src.subarray(s, s + inner), d);
    } else if (srcStep === 0 && dstStep === 1) {
      dst.fill(src[s]!, d, d + inner);
    } else {
      for (let i = 0, si = s, di = d; i < inner; i++, si += srcStep, di += dstStep) dst[di] = src[si]!;
    }
    // Advance the odometer over the outer axes.
    for (let axis = rank - 2; axis >= 0; axis--) {
      index[axis]!++;
      s += srcStrides[axis]!;
      d += dstStrides[axis]!;
      if (index[axis]! < shape[axis]!) break;
      s -= srcStrides[axis]! * shape[axis]!;
      d -= dstStrides[axis]! * shape[axis]!;
      index[axis] = 0;
    }
  }
}

export function permuteKernel(x: Float32Array, inShape: Shape, perm: readonly number[], out: Float32Array): void {
  const inStrides = contiguousStrides(inShape);
  const outShape = perm.map((p) => inShape[p]!);
  stridedCopy(outShape, x, 0, perm.map((p) => inStrides[p]!), out, 0, contiguousStrides(outShape));
}

/** Numpy broadcast of an equal-rank operand: axes of size 1 repeat with stride 0. */
export function broadcastKernel(x: Float32Array, inShape: Shape, outShape: Shape, out: Float32Array): void {
  const inStrides = contiguousStrides(inShape);
  const srcStrides = outShape.map((d, i) => (inShape[i] === 1 && d !== 1 ? 0 : inStrides[i]!));
  stridedCopy(outShape, x, 0, srcStrides, out, 0, contiguousStrides(outShape));
}

export function sliceKernel(
  x: Float32Array,
  inShape: Shape,
  start: readonly number[],
  step: readonly number[],
  outShape: Shape,
  out: Float32Array,
): void {
  const inStrides = contiguousStrides(inShape);
  let offset = 0;
  for (let i = 0; i < inShape.length; i++) offset += start[i]! * inStrides[i]!;
  const srcStrides = inStrides.map((s, i) => s * step[i]!);
  stridedCopy(outShape, x, offset, srcStrides, out, 0, contiguousStrides(outShape));
}

export function flipKernel(x: Float32Array, shape: Shape, axes: readonly number[], out: Float32Array): void {
  const strides = contiguousStrides(shape);
  let offset = 0;
  const srcStrides = strides.map((s, i) => {
    if (!axes.includes(i)) return s;
    offset += (shape[i]! - 1) * s;
    return -s;
  });
  stridedCopy(shape, x, offset, srcStrides, out, 0, strides);
}

/** Zero padding: input element i of an axis lands at low + i * (interior + 1). */
export function padKernel(
  x: Float32Array,
  inShape: Shape,
  low: readonly number[],
  interior: readonly number[],
  outShape: Shape,
  out: Float32Array,
): void {
  out.fill(0);
  const outStrides = contiguousStrides(outShape);
  let offset = 0;
  for (let i = 0; i < outShape.length; i++) offset += low[i]! * outStrides[i]!;
  const dstStrides = outStrides.map((s, i) => s * (interior[i]! + 1));
  stridedCopy(inShape, x, 0, contiguousStrides(inShape), out, offset, dstStrides);
}
