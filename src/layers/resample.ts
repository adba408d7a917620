// Resampling layers on `[N, C, H, W]`: 2x upsampling, the blur filter and 2x2 average downsampling.

import type { Builder } from '../ir/builder.ts';
import type { NodeId } from '../ir/graph.ts';

/** Nearest-neighbour 2x upsampling, built from reshape and broadcast only (no gather). */
export function upsampleNearest(b: Builder, x: NodeId): NodeId {
  const [n, c, h, w] = b.shape(x) as [number, number, number, number];
  const spread = b.broadcastTo(b.reshape(x, [n, c, h, 1, w, 1]), [n, c, h, 2, w, 2]);
  return b.reshape(spread, [n, c, 2 * h, 2 * w]);
}

/**
 * Bilinear 2x upsampling with half-pixel centres and edge clamping, the same values as PyTorch's
 * `interpolate(scale_factor=2, mode='bilinear', align_corners=False)`. Per axis, output 2i is
 * 0.25 x[i-1] + 0.75 x[i] and output 2i+1 is 0.75 x[i] + 0.25 x[i+1], with x[-1] = x[0] and
 * x[H] = x[H-1].
 */
export function upsampleBilinear(b: Builder, x: NodeId): NodeId {
  return upsampleBilinearAxis(b, upsampleBilinearAxis(b, x, 2), 3);
}

function upsampleBilinearAxis(b: Builder, x: NodeId, axis: number): NodeId {
  const shape = b.shape(x);
  const size = shape[axis]!;
  const padded = replicateEdges(b, x, axis);
  const previous = sliceAxis(b, padded, axis, 0, size);
  const centre = sliceAxis(b, padded, axis, 1, size + 1);
  const next = sliceAxis(b, padded, axis, 2, size + 2);
  const even = b.add(b.scale(previous, 0.25), b.scale(centre, 0.75));
  const odd = b.add(b.scale(centre, 0.75), b.scale(next, 0.25));
  return interleave(b, even, odd, axis);
}

/** Pads one axis by one element at each end, copying the edge values. */
function replicateEdges(b: Builder, x: NodeId, axis: number): NodeId {
  const shape = b.shape(x);
  const size = shape[axis]!;
  const zeros = shape.map(() => 0);
  const widen = (p: number) => zeros.map((z, i) => (i === axis ? p : z));
  const first = b.pad(sliceAxis(b, x, axis, 0, 1), zeros, widen(size + 1));
  const middle = b.pad(x, widen(1), widen(1));
  const last = b.pad(sliceAxis(b, x, axis, size - 1, size), widen(size + 1), zeros);
  return b.add(b.add(first, middle), last);
}

function sliceAxis(b: Builder, x: NodeId, axis: number, start: number, end: number): NodeId {
  const shape = b.shape(x);
  return b.slice(
    x,
    shape.map((_, i) => (i === axis ? start : 0)),
    shape.map((d, i) => (i === axis ? end : d)),
  );
}

/** Output element 2i of `axis` is even[i] and element 2i+1 is odd[i]. */
function interleave(b: Builder, even: NodeId, odd: NodeId, axis: number): NodeId {
  const shape = b.shape(even);
  const split = [...shape.slice(0, axis + 1), 1, ...shape.slice(axis + 1)];
  const zeros = split.map(() => 0);
  const onePastAxis = split.map((_, i) => (i === axis + 1 ? 1 : 0));
  const pair = b.add(b.pad(b.reshape(even, split), zeros, onePastAxis), b.pad(b.reshape(odd, split), onePastAxis, zeros));
  const merged = [...shape];
  merged[axis] = 2 * shape[axis]!;
  return b.reshape(pair, merged);
}

/**
 * Blur: depthwise convolution (groups = C) with the outer product of `kernel` with itself,
 * normalised to sum 1 ([1, 2, 1] gives [[1, 2, 1], [2, 4, 2], [1, 2, 1]] / 16), 'same' zero padding.
 * The kernel is flipped so that the op is a true convolution, which matters only for asymmetric kernels.
 */
export function blur(b: Builder, x: NodeId, kernel: readonly number[]): NodeId {
  const channels = b.shape(x)[1]!;
  const k = kernel.length;
  const taps = blurTaps(kernel);
  const filter = b.broadcastTo(b.literal([1, 1, k, k], taps), [channels, 1, k, k]);
  const low = Math.floor((k - 1) / 2);
  const high = k - 1 - low;
  return b.conv2d(x, filter, { stride: 1, padding: [low, high, low, high], groups: channels });
}

/** Builds the normalised, flipped 2-D blur filter, row-major `[k, k]`. */
export function blurTaps(kernel: readonly number[]): Float32Array {
  const k = kernel.length;
  const total = kernel.reduce((s, v) => s + v, 0) ** 2;
  const taps = new Float32Array(k * k);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) taps[i * k + j] = (kernel[k - 1 - i]! * kernel[k - 1 - j]!) / total;
  }
  return taps;
}

/** 2x2 average pooling: `[N, C, H, W] -> [N, C, H/2, W/2]`. */
export function downsample(b: Builder, x: NodeId): NodeId {
  const [n, c, h, w] = b.shape(x) as [number, number, number, number];
  return b.mean(b.reshape(x, [n, c, h / 2, 2, w / 2, 2]), [3, 5]);
}
