// Lowers a ModelSpec layer list to primitive IR, one layer at a time in execution order.

import { assertNever, type NodeId } from '../ir/graph.ts';
import type { Layer } from '../model/spec.ts';
import { addBias, flatten, lrelu, pixelnorm } from './basic.ts';
import type { LayerContext } from './context.ts';
import { convDownsample, equalizedConv, equalizedDense, upsampleConv } from './equalized.ts';
import { minibatchStddev } from './mbstd.ts';
import { blur, downsample, upsampleBilinear, upsampleNearest } from './resample.ts';
import { adain, noiseInjection } from './style.ts';

export function applyLayer(ctx: LayerContext, x: NodeId, layer: Layer): NodeId {
  const b = ctx.b;
  switch (layer.kind) {
    case 'pixelnorm':
      return pixelnorm(b, x, layer.eps);
    case 'dense':
      return equalizedDense(ctx, x, layer.weight, layer.bias);
    case 'conv':
      return equalizedConv(ctx, x, layer.weight, layer.bias);
    case 'bias':
      return addBias(ctx, x, layer.param);
    case 'lrelu':
      return lrelu(b, x, layer.slope, layer.gain);
    case 'noise':
      return noiseInjection(ctx, x, layer);
    case 'adain':
      return adain(ctx, x, layer);
    case 'upsample':
      return layer.mode === 'nearest' ? upsampleNearest(b, x) : upsampleBilinear(b, x);
    case 'blur':
      return blur(b, x, layer.kernel);
    case 'downsample':
      return downsample(b, x);
    case 'mbstd':
      return minibatchStddev(b, x, layer.group, layer.features);
    case 'flatten':
      return flatten(b, x);
    default:
      return assertNever(layer);
  }
}

/**
 * Applies `layers` in order. Unless `ctx.fuseResampling` is false, a nearest upsample followed by a
 * conv, and a conv followed by a downsample, each lower to one stride-2 convolution.
 */
export function applyLayers(ctx: LayerContext, x: NodeId, layers: readonly Layer[]): NodeId {
  const fuse = ctx.fuseResampling !== false;
  let y = x;
  for (let i = 0; i < layers.length; i++) {
    const layer = layers[i]!;
    const next = layers[i + 1];
    if (fuse && layer.kind === 'upsample' && layer.mode === 'nearest' && next?.kind === 'conv' && next.kernel % 2 === 1) {
      y = upsampleConv(ctx, y, next.weight, next.bias);
      i++;
    } else if (fuse && layer.kind === 'conv' && layer.kernel % 2 === 1 && next?.kind === 'downsample') {
      y = convDownsample(ctx, y, layer.weight, layer.bias);
      i++;
    } else {
      y = applyLayer(ctx, y, layer);
    }
  }
  return y;
}
