// Parameter-free layers and small tensor helpers shared by the networks. Shapes are `[N, C]` or
// `[N, C, H, W]`; the channel axis is always 1.

import type { Builder } from '../ir/builder.ts';
import type { NodeId } from '../ir/graph.ts';
import { type LayerContext, scaledParam } from './context.ts';

/** Pixel norm: x * rsqrt(mean over channels of x^2 + eps), per sample (and pixel). */
export function pixelnorm(b: Builder, x: NodeId, eps: number): NodeId {
  const meanSquare = b.mean(b.unary('square', x), [1], true);
  return b.mul(x, b.unary('rsqrt', b.add(meanSquare, b.scalar(eps))));
}

/** Leaky ReLU with `slope` for negative inputs, then multiplied by `gain`. */
export function lrelu(b: Builder, x: NodeId, slope: number, gain: number): NodeId {
  return b.scale(b.unary('lrelu', x, slope), gain);
}

/** Reshapes a per-channel vector `[C]` so that it broadcasts against `[N, C]` or `[N, C, H, W]`. */
export function perChannel(b: Builder, v: NodeId, rank: number): NodeId {
  const channels = b.shape(v)[0]!;
  const shape = rank === 2 ? [1, channels] : [1, channels, 1, 1];
  return b.reshape(v, shape);
}

/** Adds the scaled bias parameter `name` (shape `[C]`) to every channel of x. */
export function addBias(ctx: LayerContext, x: NodeId, name: string): NodeId {
  const b = ctx.b;
  return b.add(x, perChannel(b, scaledParam(ctx, name), b.shape(x).length));
}

/** `[N, C, H, W] -> [N, C * H * W]` in row-major (channel-major) order. */
export function flatten(b: Builder, x: NodeId): NodeId {
  const [n, ...rest] = b.shape(x);
  return b.reshape(x, [n!, rest.reduce((p, d) => p * d, 1)]);
}

/** Concatenates along axis 1 by zero-padding both operands to the joint size and adding them. */
export function concatChannels(b: Builder, x: NodeId, y: NodeId): NodeId {
  const sx = b.shape(x);
  const sy = b.shape(y);
  const zeros = sx.map(() => 0);
  const highX = [...zeros];
  highX[1] = sy[1]!;
  const lowY = [...zeros];
  lowY[1] = sx[1]!;
  return b.add(b.pad(x, zeros, highX), b.pad(y, lowY, zeros));
}

/** Element `index` of a vector input `[L]` as a scalar `[]`. */
export function element(b: Builder, v: NodeId, index: number): NodeId {
  return b.reshape(b.slice(v, [index], [index + 1]), []);
}

/**
 * a * (1 - t) + b * t. Unlike a + (b - a) * t, it returns a exactly at t = 0 and b exactly at t = 1,
 * so a fade-in at its end points and a 0/1 style-mixing mask reproduce the unblended networks bit for bit.
 */
export function blend(b: Builder, from: NodeId, to: NodeId, t: NodeId): NodeId {
  const keep = b.sub(b.scalar(1), t);
  return b.add(b.mul(from, keep), b.mul(to, t));
}
