// The three networks of a StyleGAN as IR, at one stage of progressive growing, with the fade-in
// blend of the newest stage when `alpha` is given.

import type { NodeId } from '../ir/graph.ts';
import type { ModelSpec } from '../model/spec.ts';
import { blend } from './basic.ts';
import { type LayerContext, ProgramRequestError, scaledParam } from './context.ts';
import { applyLayers } from './lower.ts';
import { downsample, upsampleNearest } from './resample.ts';

/** Lists the synthesis resolutions of the model, increasing. */
export function stageResolutions(spec: ModelSpec): number[] {
  return spec.synthesis.stages.map((s) => s.res);
}

/** Throws a ProgramRequestError unless `stage` is a resolution of the model and, when fading, not the lowest. */
export function checkStage(spec: ModelSpec, stage: number, fading: boolean): void {
  const resolutions = stageResolutions(spec);
  if (!resolutions.includes(stage)) {
    throw new ProgramRequestError(`stage ${stage} is not a resolution of model ${spec.name} (stages: ${resolutions.join(', ')})`);
  }
  if (fading && stage === resolutions[0]) {
    throw new ProgramRequestError(`stage ${stage} cannot fade in: it is the lowest stage of model ${spec.name}`);
  }
  const head = spec.discriminator.stages.map((s) => s.res);
  if (!head.includes(stage)) {
    throw new ProgramRequestError(`stage ${stage} has no discriminator stage in model ${spec.name} (stages: ${head.join(', ')})`);
  }
}

/** Indices of the style layers that the synthesis network uses up to `stage`, increasing. */
export function styleLayersAt(spec: ModelSpec, stage: number): number[] {
  return spec.synthesis.stages.filter((s) => s.res <= stage).flatMap((s) => s.styleLayers);
}

/** Mapping network: z `[N, zDim]` -> w `[N, wDim]`. */
export function mappingNetwork(ctx: LayerContext, z: NodeId): NodeId {
  return applyLayers(ctx, z, ctx.spec.mapping.layers);
}

/**
 * Synthesis network up to `stage`: the learned constant, every stage's layers, then ToRGB, giving
 * `[N, imageChannels, stage, stage]`. With `alpha`, the image is lerp(upsample(ToRGB of the previous
 * stage), ToRGB of this stage, alpha) with nearest 2x upsampling, so alpha 0 is the old image.
 */
export function synthesisNetwork(ctx: LayerContext, stage: number, alpha?: NodeId): NodeId {
  const b = ctx.b;
  const { constant, stages } = ctx.spec.synthesis;
  const active = stages.filter((s) => s.res <= stage);

  const learned = b.reshape(scaledParam(ctx, constant.param), [1, constant.channels, constant.size, constant.size]);
  let x = b.broadcastTo(learned, [ctx.batch, constant.channels, constant.size, constant.size]);
  const features: NodeId[] = [];
  for (const s of active) {
    x = applyLayers(ctx, x, s.layers);
    features.push(x);
  }

  const newest = active[active.length - 1]!;
  const image = applyLayers(ctx, x, newest.torgb);
  if (alpha === undefined) return image;

  const previous = active[active.length - 2]!;
  const oldImage = upsampleNearest(b, applyLayers(ctx, features[features.length - 2]!, previous.torgb));
  return blend(b, oldImage, image, alpha);
}

/**
 * Discriminator from `stage` down to the head: FromRGB of this stage, its block, then every lower
 * block, giving logits `[N, 1]`. With `alpha`, the output of this stage's block is
 * lerp(FromRGB of the next lower stage applied to the 2x2-downsampled image, block output, alpha).
 */
export function discriminatorNetwork(ctx: LayerContext, image: NodeId, stage: number, alpha?: NodeId): NodeId {
  const b = ctx.b;
  const stages = ctx.spec.discriminator.stages;
  const first = stages.findIndex((s) => s.res === stage);

  let x = applyLayers(ctx, applyLayers(ctx, image, stages[first]!.fromrgb), stages[first]!.layers);
  if (alpha !== undefined) {
    const skip = applyLayers(ctx, downsample(b, image), stages[first + 1]!.fromrgb);
    x = blend(b, skip, x, alpha);
  }
  for (const s of stages.slice(first + 1)) x = applyLayers(ctx, x, s.layers);
  return x;
}
