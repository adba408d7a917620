// Equalized learning rate (Karras et al. 2018, "Progressive Growing of GANs"): weights are stored
// N(0, 1/lrmul) and multiplied at run time by lrmul * gain / sqrt(fan_in). The factor is the
// parameter's `runtimeScale`, applied by `scaledParam`.

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
