// Sampling from a trained generator: latents from per-image seeds, truncation, and the program run.
// The trainer's fakes grids and a generated `generate.ts` both use these, so a fake in a grid can be
// regenerated from its seed.

import type { ModelSpec } from '../../model/spec.ts';
import { Rng } from '../rng.ts';
import type { CompiledProgram } from '../target.ts';
import { scalarTensor, tensor, type Tensor, type TensorMap } from '../tensor.ts';
import { feedsFor } from './programs.ts';
import { mixVector } from './semantics.ts';

/** Returns [seeds.length, zDim] latents; image i's z is the first zDim normals of `new Rng(seeds[i])`. */
export function latentsForSeeds(seeds: readonly number[], zDim: number): Tensor {
  const z = tensor([seeds.length, zDim]);
  seeds.forEach((seed, i) => z.data.set(new Rng(seed).normals(zDim), i * zDim));
  return z;
}

/**
 * Returns the per-layer truncation vector: psi on style layers below `cutoff`, 1 (no truncation) on the
 * others. psi 1 therefore samples the untruncated distribution.
 */
export function truncationVector(totalLayers: number, psi: number, cutoff: number): Tensor {
  const trunc = tensor([totalLayers]);
  for (let i = 0; i < totalLayers; i++) trunc.data[i] = i < cutoff ? psi : 1;
  return trunc;
}

export interface SampleInputs {
  spec: ModelSpec;
  /** Generator parameters (usually the EMA copy). */
  params: TensorMap;
  wAvg: Tensor;
  /** [N, zDim]; N must equal the program's batch. */
  z: Tensor;
  /** Second latents for style mixing; defaults to z (no mixing). */
  z2?: Tensor;
  /** Index of the first style layer that takes z2's w; defaults to no mixing. */
  crossover?: number;
  trunc: Tensor;
  noiseKey: number;
  /** Fade-in alpha, fed only when the program was built for a fading stage. */
  alpha?: number;
}

/** Runs a generator program built with noise 'random' and returns its images [N, C, s, s]. */
export async function sampleImages(program: CompiledProgram, inputs: SampleInputs): Promise<Tensor> {
  const layers = inputs.spec.styleLayers.length;
  const runtime: TensorMap = {
    z1: inputs.z,
    z2: inputs.z2 ?? inputs.z,
    mix: mixVector(layers, inputs.crossover ?? layers),
    trunc: inputs.trunc,
    w_avg: inputs.wAvg,
    noise_key: scalarTensor(inputs.noiseKey),
    alpha: scalarTensor(inputs.alpha ?? 1),
  };
  const result = await program.run(feedsFor(program.graph, runtime, inputs.params));
  const image = result['image'];
  if (image === undefined) throw new Error(`internal error: generator program returned no 'image'`);
  return image;
}
