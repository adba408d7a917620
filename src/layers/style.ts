// The two style-based generator layers (Karras et al. 2019, "A Style-Based Generator Architecture
// for Generative Adversarial Networks"): per-pixel noise with learned per-channel strength, and
// adaptive instance normalization driven by an affine map of w.

import type { NodeId } from '../ir/graph.ts';
import type { ModelSpec } from '../model/spec.ts';
import { perChannel } from './basic.ts';
import { type LayerContext, scaledParam } from './context.ts';
import { equalizedDense } from './equalized.ts';

type NoiseLayer = { name: string; strength: string; input: string };

/**
 * NoiseInjection: x + strength[c] * noise, where noise `[N, 1, H, W]` is shared by all channels.
 * The layer's `input` names the tensor that feeds the noise in programs built with noise 'input'.
 */
export function noiseInjection(ctx: LayerContext, x: NodeId, layer: NoiseLayer): NodeId {
  const b = ctx.b;
  const [n, , h, w] = b.shape(x) as [number, number, number, number];
  const noiseShape = [n, 1, h, w];
  let noise: NodeId;
  switch (ctx.noise) {
    case 'none':
      return x;
    case 'input':
      noise = b.input(layer.input, noiseShape);
      break;
    case 'random':
      if (ctx.noiseKey === undefined) throw new Error('internal error: random noise needs the noise_key input');
      noise = b.randn(noiseShape, ctx.noiseKey, noiseStream(ctx.spec, layer.name));
      break;
  }
  const strength = perChannel(b, scaledParam(ctx, layer.strength), 4);
  return b.add(x, b.mul(strength, noise));
}

const streamTables = new WeakMap<ModelSpec, Map<string, number>>();

/**
 * Returns the randn stream id of a noise layer: its position among all noise layers of the
 * synthesis network, counted over every stage. It does not depend on the stage being built, so a layer's
 * noise under one key is the same in every program.
 */
export function noiseStream(spec: ModelSpec, layerName: string): number {
  let table = streamTables.get(spec);
  if (table === undefined) {
    table = new Map();
    for (const stage of spec.synthesis.stages) {
      for (const layer of [...stage.layers, ...stage.torgb]) {
        if (layer.kind === 'noise') table.set(layer.name, table.size);
      }
    }
    streamTables.set(spec, table);
  }
  const stream = table.get(layerName);
  if (stream === undefined) throw new Error(`internal error: ${layerName} is not a synthesis noise layer`);
  return stream;
}

type AdainLayer = { channels: number; styleIndex: number; eps: number; styleWeight: string; styleBias: string };

/**
 * AdaIN: instance norm over H and W per sample and channel, (x - mean) * rsqrt(var + eps), then
 * x * (s + 1) + b. The style [s, b] `[N, 2C]` is the EqualizedDense of this layer's style vector,
 * with s the first C outputs and b the second C.
 */
export function adain(ctx: LayerContext, x: NodeId, layer: AdainLayer): NodeId {
  const b = ctx.b;
  const [n, c] = b.shape(x) as [number, number, number, number];

  const centred = b.sub(x, b.mean(x, [2, 3], true));
  const variance = b.mean(b.unary('square', centred), [2, 3], true);
  const normalized = b.mul(centred, b.unary('rsqrt', b.add(variance, b.scalar(layer.eps))));

  if (ctx.style === undefined) throw new Error('internal error: AdaIN needs style inputs');
  const style = equalizedDense(ctx, ctx.style(layer.styleIndex), layer.styleWeight, layer.styleBias);
  const scale = b.reshape(b.slice(style, [0, 0], [n, c]), [n, c, 1, 1]);
  const bias = b.reshape(b.slice(style, [0, c], [n, 2 * c]), [n, c, 1, 1]);
  return b.add(b.mul(normalized, b.add(scale, b.scalar(1))), bias);
}
