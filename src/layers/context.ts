// The state shared by all layer lowerings: the builder they emit into, the model they read
// parameters from, and the per-program sources of styles and noise.

import type { Builder } from '../ir/builder.ts';
import type { NodeId } from '../ir/graph.ts';
import type { ModelSpec, ParamSpec } from '../model/spec.ts';

/**
 * The noise source of NoiseInjection. `random` draws from `randn` under the scalar input
 * `noise_key`, `input` reads one input `noise.<layer name>` per noise layer, and `none` leaves the
 * features unchanged (the same as zero noise).
 */
export type NoiseMode = 'random' | 'input' | 'none';

export interface LayerContext {
  readonly b: Builder;
  readonly spec: ModelSpec;
  /** Static batch size N of every activation. */
  readonly batch: number;
  readonly noise: NoiseMode;
  /** The scalar `noise_key` input; present when `noise` is `random`. */
  readonly noiseKey?: NodeId;
  /** The style vector `[N, wDim]` of style layer `index`; AdaIN layers call it. */
  readonly style?: (index: number) => NodeId;
  /**
   * Whether nearest upsampling + conv and conv + downsampling become single stride-2 convolutions
   * (default true). The results agree up to float rounding; tests turn it off to compare.
   */
  readonly fuseResampling?: boolean;
}

/**
 * A program request that the model cannot satisfy, such as a stage it does not have or a batch that
 * does not split into minibatch-stddev groups. The message is written for the user.
 */
export class ProgramRequestError extends Error {}

const paramTables = new WeakMap<ModelSpec, Map<string, ParamSpec>>();

/** Looks up the parameter table entry called `name`; a missing entry is a bug in the checked model. */
export function paramSpec(spec: ModelSpec, name: string): ParamSpec {
  let table = paramTables.get(spec);
  if (table === undefined) {
    table = new Map(spec.params.map((p) => [p.name, p]));
    paramTables.set(spec, table);
  }
  const found = table.get(name);
  if (found === undefined) throw new Error(`internal error: parameter ${name} is not in the parameter table of ${spec.name}`);
  return found;
}

/**
 * Emits a parameter as the layers see it: the stored tensor times its equalized-learning-rate
 * `runtimeScale`, so the optimizer updates the unscaled tensor while the forward pass uses the scaled one.
 */
export function scaledParam(ctx: LayerContext, name: string): NodeId {
  const p = paramSpec(ctx.spec, name);
  return ctx.b.scale(ctx.b.param(p.name, p.shape), p.runtimeScale);
}
