// Equalized learning rate (Karras et al. 2018, "Progressive Growing of GANs"): weights are stored
// N(0, 1/lrmul) and multiplied at run time by lrmul * gain / sqrt(fan_in). The factor is the
// parameter's `runtimeScale`, applied by `scaledParam`.

import type { Builder } from '../ir/builder.ts';
import type { NodeId } from '../ir/graph.ts';
import { addBias } from './basic.ts';
import { type LayerContext, scaledParam } from './context.ts';

/** EqualizedDense: x `[N, in]` times the scaled weight `[out, in]` transposed, plus the scaled bias. */
export function equalizedDense(ctx: LayerContext, x: NodeId, weight: string, bias?: string): NodeId {
  const b = ctx.b;
  const w = scaledParam(ctx, weight);
  const y = b.matmul(x, b.permute(w, [1, 0]));
  return bias === undefined ? y : addBias(ctx, y, bias);
}

/**
 * EqualizedConv: k x k convolution, stride 1, 'same' zero padding k//2 (k odd), weight
 * `[out, in, k, k]`, plus the scaled bias when the layer has one. `[N, in, H, W] -> [N, out, H, W]`.
 */
export function equalizedConv(ctx: LayerContext, x: NodeId, weight: string, bias?: string): NodeId {
  const b = ctx.b;
  const w = scaledParam(ctx, weight);
  const kernel = b.shape(w)[2]!;
  const low = Math.floor((kernel - 1) / 2);
  const high = kernel - 1 - low;
  const y = b.conv2d(x, w, { stride: 1, padding: [low, high, low, high], groups: 1 });
  return bias === undefined ? y : addBias(ctx, y, bias);
}

/**
 * Lowers nearest 2x upsampling followed by an EqualizedConv to one transposed convolution with stride 2
 * (the fused up-convolution of NVlabs' StyleGAN). Each output pixel then reads (k + 1)^2 / 4 taps on
 * average instead of k^2, and the 4x larger upsampled tensor is never stored. Per axis, output
 * 2i + a sums w[j] over the input pixels that the upsampled image repeats under tap j, which is the
 * kernel flipped, zero-extended by one tap and added to itself shifted by one.
 */
export function upsampleConv(ctx: LayerContext, x: NodeId, weight: string, bias?: string): NodeId {
  const b = ctx.b;
  const [n, , h, w] = b.shape(x) as [number, number, number, number];
  const scaled = scaledParam(ctx, weight);
  const [out, , kernel] = b.shape(scaled) as [number, number, number, number];
  const pad = (kernel - 1) / 2;

  const flipped = b.flip(b.permute(scaled, [1, 0, 2, 3]), [2, 3]);
  const taps = sumShiftedTaps(b, flipped);
  const attrs = { stride: 2, padding: [pad, pad, pad, pad] as const, groups: 1 };
  const y = b.conv2dBackInput(x, taps, attrs, [n, out, 2 * h, 2 * w]);
  return bias === undefined ? y : addBias(ctx, y, bias);
}

/**
 * Lowers an EqualizedConv followed by 2x2 average downsampling to one convolution with stride 2 (the
 * fused down-convolution of NVlabs' StyleGAN). Its (k + 1) x (k + 1) kernel is the conv kernel
 * convolved with the 2x2 box filter of weight 1/4, and it computes only the kept output pixels.
 */
export function convDownsample(ctx: LayerContext, x: NodeId, weight: string, bias?: string): NodeId {
  const b = ctx.b;
  const scaled = scaledParam(ctx, weight);
  const kernel = b.shape(scaled)[2]!;
  const pad = (kernel - 1) / 2;

  const taps = b.scale(sumShiftedTaps(b, scaled), 0.25);
  const y = b.conv2d(x, taps, { stride: 2, padding: [pad, pad, pad, pad], groups: 1 });
  return bias === undefined ? y : addBias(ctx, y, bias);
}

/** Builds the (k + 1) x (k + 1) kernel t[i, j] = w[i, j] + w[i - 1, j] + w[i, j - 1] + w[i - 1, j - 1], zero outside w. */
function sumShiftedTaps(b: Builder, w: NodeId): NodeId {
  const [o, i, kh, kw] = b.shape(w) as [number, number, number, number];
  const padded = b.pad(w, [0, 0, 1, 1], [0, 0, 1, 1]);
  const shifted = (dy: number, dx: number): NodeId => b.slice(padded, [0, 0, 1 - dy, 1 - dx], [o, i, kh + 2 - dy, kw + 2 - dx]);
  return b.add(b.add(shifted(0, 0), shifted(1, 0)), b.add(shifted(0, 1), shifted(1, 1)));
}
