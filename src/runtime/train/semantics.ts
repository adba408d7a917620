// The small pieces of StyleGAN training arithmetic that run on the host between programs: the style
// mixing vector, the generator EMA and the running average of w. Kept apart from the loop so tests
// can check them with hand-computed values.

import type { ModelSpec } from '../../model/spec.ts';
import { tensor, type Tensor, type TensorMap } from '../tensor.ts';

/**
 * Returns the `mix` input of the generator programs: 0 for style layers before `crossover`, 1 from it
 * on (those layers take w2). A crossover equal to the number of style layers at the current stage
 * means no mixing. Layers of stages not yet grown may then be 1, which is harmless because the
 * program at the current stage never reads them.
 */
export function mixVector(totalLayers: number, crossover: number): Tensor {
  const mix = tensor([totalLayers]);
  for (let i = 0; i < totalLayers; i++) mix.data[i] = i >= crossover ? 1 : 0;
  return mix;
}

/** Returns how many style layers the synthesis network uses up to and including stage `res`. */
export function styleLayersAtStage(spec: ModelSpec, res: number): number {
  let count = 0;
  for (const stage of spec.synthesis.stages) {
    if (stage.res > res) break;
    count += stage.styleLayers.length;
  }
  if (count === 0) throw new Error(`internal error: no synthesis stage at or below resolution ${res}`);
  return count;
}

/** Returns the names of the generator (mapping + synthesis) parameters, in the spec's order. */
export function generatorParamNames(spec: ModelSpec): string[] {
  return spec.params.filter((p) => p.network !== 'discriminator').map((p) => p.name);
}

/** Returns the names of the discriminator parameters, in the spec's order. */
export function discriminatorParamNames(spec: ModelSpec): string[] {
  return spec.params.filter((p) => p.network === 'discriminator').map((p) => p.name);
}

/** Sets `target = source + (target - source) * t` elementwise, in place. */
export function lerpTowardsInPlace(target: Float32Array, source: Float32Array, t: number): void {
  if (target.length !== source.length) {
    throw new Error(`internal error: lerp of ${target.length} and ${source.length} values`);
  }
  for (let i = 0; i < target.length; i++) target[i] = source[i]! + (target[i]! - source[i]!) * t;
}

/**
 * Updates the generator EMA in place: ema = lerp(params, ema, beta), so beta 0 copies the
 * current weights and beta 1 keeps the average unchanged.
 */
export function updateEma(ema: TensorMap, params: TensorMap, names: readonly string[], beta: number): void {
  for (const name of names) {
    const average = ema[name];
    const current = params[name];
    if (average === undefined || current === undefined) {
      throw new Error(`internal error: EMA update is missing parameter '${name}'`);
    }
    lerpTowardsInPlace(average.data, current.data, beta);
  }
}

/** Updates the running average of w in place: w_avg = lerp(w_mean, w_avg, decay). */
export function updateWAvg(wAvg: Tensor, wMean: Tensor, decay: number): void {
  lerpTowardsInPlace(wAvg.data, wMean.data, decay);
}

/** Returns a deep copy of the named tensors. */
export function copyTensors(source: TensorMap, names: readonly string[] = Object.keys(source)): TensorMap {
  const copy: TensorMap = {};
  for (const name of names) {
    const t = source[name];
    if (t === undefined) throw new Error(`internal error: cannot copy missing tensor '${name}'`);
    copy[name] = { shape: [...t.shape], data: new Float32Array(t.data) };
  }
  return copy;
}

/** Returns the first of the named scalar outputs that is NaN or infinite, or undefined. */
export function firstNonFinite(values: Record<string, number>): string | undefined {
  for (const [name, value] of Object.entries(values)) {
    if (!Number.isFinite(value)) return name;
  }
  return undefined;
}
