// Lowers a ModelSpec layer list to primitive IR, one layer at a time in execution order.

import { assertNever, type NodeId } from '../ir/graph.ts';
import type { Layer } from '../model/spec.ts';
import { addBias, flatten, lrelu, pixelnorm } from './basic.ts';
import type { LayerContext } from './context.ts';
import { equalizedConv, equalizedDense } from './equalized.ts';
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

export function applyLayers(ctx: LayerContext, x: NodeId, layers: readonly Layer[]): NodeId {
  return layers.reduce((y, layer) => applyLayer(ctx, y, layer), x);
}
