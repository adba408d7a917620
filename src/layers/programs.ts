// The programs that the trainer, the sampler and `sganc eval` run: whole networks and the two
// training steps, each a batch-static primitive graph for one stage of progressive growing.
// Parameters are `param` nodes named as in `spec.params`; every other tensor is a named input.

import { gradients } from '../autodiff/gradients.ts';
import { Builder } from '../ir/builder.ts';
import type { Graph, NodeId } from '../ir/graph.ts';
import type { ModelSpec, NetworkName } from '../model/spec.ts';
import { blend, element } from './basic.ts';
import type { LayerContext, NoiseMode } from './context.ts';
import {
  checkStage,
  discriminatorNetwork,
  mappingNetwork,
  styleLayersAt,
  synthesisNetwork,
} from './networks.ts';
import { downsample, upsampleNearest } from './resample.ts';

export interface StageOptions {
  /** Resolution of the newest active stage. */
  stage: number;
  /** Static batch size N. */
  batch: number;
  /** Whether the newest stage is fading in; adds the scalar input `alpha`. */
  fading: boolean;
}

export type GeneratorOptions = StageOptions & { noise: NoiseMode };

/**
 * Builds the generator with style mixing and truncation.
 * Inputs: `z1`, `z2` [N, zDim]; `mix` [L] (style layer i takes w2 where mix[i] = 1, w1 where 0);
 * `trunc` [L] (per-layer psi, 1 is the identity); `w_avg` [wDim]; `alpha` [] when fading;
 * `noise_key` [] with noise 'random', or `noise.<layer>` [N, 1, H, W] per noise layer with 'input'.
 * L is the number of style layers of the whole model. Outputs: `image` [N, C, stage, stage] and
 * `w_mean` [wDim], the batch mean of w1 (for tracking w_avg).
 */
export function buildGenerator(spec: ModelSpec, opts: GeneratorOptions): Graph {
  checkStage(spec, opts.stage, opts.fading);
  const b = new Builder();
  const { image, wMean } = emitGenerator(b, spec, opts);
  b.output('image', image);
  b.output('w_mean', wMean);
  return b.graph;
}

/** Builds the mapping network: input `z` [N, zDim], output `w` [N, wDim]. */
export function buildMapping(spec: ModelSpec, opts: { batch: number }): Graph {
  const b = new Builder();
  const ctx: LayerContext = { b, spec, batch: opts.batch, noise: 'none' };
  b.output('w', mappingNetwork(ctx, b.input('z', [opts.batch, spec.zDim])));
  return b.graph;
}

/**
 * Builds the synthesis network. Inputs: `style{i}` [N, wDim] for every style layer i used up to the stage
 * (`styleLayersAt(spec, stage)`, two per stage in the standard model), `alpha` [] when fading, and
 * noise as in buildGenerator. Output `image` [N, C, stage, stage].
 */
export function buildSynthesis(spec: ModelSpec, opts: GeneratorOptions): Graph {
  checkStage(spec, opts.stage, opts.fading);
  const b = new Builder();
  const ctx: LayerContext = {
    b,
    spec,
    batch: opts.batch,
    noise: opts.noise,
    noiseKey: opts.noise === 'random' ? b.input('noise_key', []) : undefined,
    style: (i) => b.input(`style${i}`, [opts.batch, spec.wDim]),
  };
  for (const i of styleLayersAt(spec, opts.stage)) ctx.style!(i);
  const alpha = opts.fading ? b.input('alpha', []) : undefined;
  b.output('image', synthesisNetwork(ctx, opts.stage, alpha));
  return b.graph;
}

/** Builds the discriminator. Inputs `x` [N, C, stage, stage] and `alpha` [] when fading; output `logits` [N, 1]. */
export function buildDiscriminator(spec: ModelSpec, opts: StageOptions): Graph {
  checkStage(spec, opts.stage, opts.fading);
  const b = new Builder();
  const ctx: LayerContext = { b, spec, batch: opts.batch, noise: 'none' };
  const x = b.input('x', imageShape(spec, opts));
  const alpha = opts.fading ? b.input('alpha', []) : undefined;
  b.output('logits', discriminatorNetwork(ctx, x, opts.stage, alpha));
  return b.graph;
}

/**
 * Builds one generator training step with the non-saturating logistic loss. Inputs: those of
 * buildGenerator with noise 'random', and every discriminator parameter used at the stage.
 * Outputs: `loss_g` [] = mean softplus(-D(G(z))) and `grad.<name>` for every mapping and synthesis
 * parameter that the program reads. Parameters of higher stages are not read and get no output,
 * so the caller treats a missing gradient as zero.
 */
export function buildGeneratorStep(spec: ModelSpec, opts: StageOptions): Graph {
  checkStage(spec, opts.stage, opts.fading);
  const b = new Builder();
  const { image, alpha } = emitGenerator(b, spec, { ...opts, noise: 'random' });
  const dctx: LayerContext = { b, spec, batch: opts.batch, noise: 'none' };
  const logits = discriminatorNetwork(dctx, image, opts.stage, alpha);

  const loss = meanAll(b, b.unary('softplus', b.unary('neg', logits)));
  b.output('loss_g', loss);
  emitParamGradients(b, spec, loss, ['mapping', 'synthesis']);
  return b.graph;
}

/**
 * Builds one discriminator training step with the non-saturating logistic loss and the R1 penalty.
 * Inputs: `real` and `fake` [N, C, stage, stage], `alpha` [] when fading, and every discriminator
 * parameter. While fading, the reals are crossfaded like the generator's output:
 * lerp(upsample(downsample(real)), real, alpha). Outputs: `loss_d` [] = mean softplus(D(fake)) +
 * mean softplus(-D(real)); `r1` [] = r1Gamma / 2 * mean over the batch of ||grad D(real)||^2, taken
 * on the raw logits with respect to the crossfaded reals (0 when r1Gamma is 0); `score_real` and
 * `score_fake` [], the mean logits; `grad.<name>` of loss_d + r1 for every discriminator parameter
 * that the program reads (none for higher stages).
 */
export function buildDiscriminatorStep(spec: ModelSpec, opts: StageOptions & { r1Gamma: number }): Graph {
  checkStage(spec, opts.stage, opts.fading);
  const b = new Builder();
  const ctx: LayerContext = { b, spec, batch: opts.batch, noise: 'none' };
  const shape = imageShape(spec, opts);
  let real = b.input('real', shape);
  const fake = b.input('fake', shape);
  const alpha = opts.fading ? b.input('alpha', []) : undefined;
  if (alpha !== undefined) real = blend(b, upsampleNearest(b, downsample(b, real)), real, alpha);

  const logitsReal = discriminatorNetwork(ctx, real, opts.stage, alpha);
  const logitsFake = discriminatorNetwork(ctx, fake, opts.stage, alpha);
  const lossFake = meanAll(b, b.unary('softplus', logitsFake));
  const lossReal = meanAll(b, b.unary('softplus', b.unary('neg', logitsReal)));
  const loss = b.add(lossFake, lossReal);

  const r1 = opts.r1Gamma > 0 ? r1Penalty(b, logitsReal, real, opts.r1Gamma / 2 / opts.batch) : b.scalar(0);
  b.output('loss_d', loss);
  b.output('r1', r1);
  b.output('score_real', meanAll(b, logitsReal));
  b.output('score_fake', meanAll(b, logitsFake));
  emitParamGradients(b, spec, b.add(loss, r1), ['discriminator']);
  return b.graph;
}

/** factor * sum over the batch of ||d sum(logits) / d x||^2; the gradient stays differentiable. */
export function r1Penalty(b: Builder, logits: NodeId, x: NodeId, factor: number): NodeId {
  const [gradX] = gradients(b, b.sum(logits, [0, 1]), [x]);
  const rank = b.shape(x).length;
  const squaredNorm = b.sum(b.unary('square', gradX!), [...Array(rank).keys()]);
  return b.scale(squaredNorm, factor);
}

function imageShape(spec: ModelSpec, opts: StageOptions): number[] {
  return [opts.batch, spec.imageChannels, opts.stage, opts.stage];
}

function meanAll(b: Builder, x: NodeId): NodeId {
  return b.mean(x, [...b.shape(x).keys()]);
}

/**
 * Emits the generator into `b`: two mapping passes, the per-layer style mix, truncation and
 * synthesis. Returns the image, the batch mean of w1 and the `alpha` input (when fading).
 */
function emitGenerator(
  b: Builder,
  spec: ModelSpec,
  opts: GeneratorOptions,
): { image: NodeId; wMean: NodeId; alpha?: NodeId } {
  const n = opts.batch;
  const layerCount = spec.styleLayers.length;
  const z1 = b.input('z1', [n, spec.zDim]);
  const z2 = b.input('z2', [n, spec.zDim]);
  const mix = b.input('mix', [layerCount]);
  const trunc = b.input('trunc', [layerCount]);
  const wAvg = b.input('w_avg', [spec.wDim]);
  const alpha = opts.fading ? b.input('alpha', []) : undefined;
  const noiseKey = opts.noise === 'random' ? b.input('noise_key', []) : undefined;

  const mappingCtx: LayerContext = { b, spec, batch: n, noise: 'none' };
  const w1 = mappingNetwork(mappingCtx, z1);
  const w2 = mappingNetwork(mappingCtx, z2);

  const styles = new Map<number, NodeId>();
  const styleOf = (i: number): NodeId => {
    let w = styles.get(i);
    if (w === undefined) {
      const mixed = blend(b, w1, w2, element(b, mix, i));
      w = b.add(wAvg, b.mul(element(b, trunc, i), b.sub(mixed, wAvg)));
      styles.set(i, w);
    }
    return w;
  };
  const ctx: LayerContext = { b, spec, batch: n, noise: opts.noise, noiseKey, style: styleOf };
  const image = synthesisNetwork(ctx, opts.stage, alpha);
  return { image, wMean: b.mean(w1, [0]), alpha };
}

/**
 * Adds `grad.<name>` outputs of the scalar `loss` for every parameter of `networks` that the graph
 * reads. Zero tensors for unread parameters would cost a full copy of the higher stages per step.
 */
function emitParamGradients(b: Builder, spec: ModelSpec, loss: NodeId, networks: readonly NetworkName[]): void {
  const present = b.graph.params();
  const used = spec.params.filter((p) => networks.includes(p.network) && present.has(p.name));
  const grads = gradients(b, loss, used.map((p) => present.get(p.name)!));
  used.forEach((p, i) => b.output(`grad.${p.name}`, grads[i]!));
}
