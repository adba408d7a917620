// The progressive-growing schedule and per-resolution hyperparameters of StyleGAN training.
// Training starts at `grow.startRes`, stable for `stableKimg`. Each higher resolution then fades in
// for `fadeKimg` (alpha ramps linearly from 0 to 1) and is stable for `stableKimg`. The final
// resolution's stable phase lasts forever. There is no fade at the start resolution.

import type { TrainRecipe } from '../model/spec.ts';
import type { Rng } from './rng.ts';

/** The training phase at one point of the schedule. */
export interface Phase {
  /** Resolution the networks run at (the new, higher one while fading). */
  res: number;
  fading: boolean;
  /** Blend weight of the newest stage: rises from 0 to 1 during a fade, 1 when stable. */
  alpha: number;
  /** Index of the resolution step, 0 at startRes. */
  level: number;
  /** Start of this phase (fade or stable) in kimg. */
  phaseStartKimg: number;
  /** End of this phase in kimg (exclusive), or Infinity for the final stable phase. */
  phaseEndKimg: number;
}

/** Returns the phase at `kimg` thousand images shown. A phase includes its start and excludes its end. */
export function phaseAt(recipe: TrainRecipe, finalRes: number, kimg: number): Phase {
  const { startRes, stableKimg, fadeKimg } = recipe.grow;
  checkResolution('start resolution', startRes);
  checkResolution('final resolution', finalRes);
  if (startRes > finalRes) {
    throw new Error(`invalid schedule: start resolution ${startRes} is above the final resolution ${finalRes}`);
  }
  if (!(stableKimg >= 0) || !(fadeKimg >= 0)) {
    throw new Error(`invalid schedule: stable ${stableKimg} and fade ${fadeKimg} kimg must be non-negative`);
  }
  if (!(kimg >= 0)) throw new Error(`invalid training progress ${kimg} kimg: expected a non-negative number`);

  const finalLevel = Math.log2(finalRes / startRes);
  if (finalLevel === 0) return stablePhase(startRes, 0, 0, Infinity);
  if (kimg < stableKimg) return stablePhase(startRes, 0, 0, stableKimg);

  // Walking the levels and summing the same boundaries that the phase reports keeps
  // phaseStartKimg <= kimg < phaseEndKimg exact, where dividing by the level length could round
  // across a boundary.
  let fadeStart = stableKimg;
  for (let level = 1; ; level++) {
    const res = startRes * 2 ** level;
    const fadeEnd = fadeStart + fadeKimg;
    if (kimg < fadeEnd) {
      return { res, fading: true, alpha: (kimg - fadeStart) / fadeKimg, level, phaseStartKimg: fadeStart, phaseEndKimg: fadeEnd };
    }
    const stableEnd = level === finalLevel ? Infinity : fadeEnd + stableKimg;
    if (kimg < stableEnd) return stablePhase(res, level, fadeEnd, stableEnd);
    fadeStart = stableEnd;
  }
}

/** Returns the learning rate at `res`: the per-resolution entry when there is one, else the base. */
export function learningRate(recipe: TrainRecipe, res: number): number {
  return recipe.lr.perRes[res] ?? recipe.lr.base;
}

/** Returns the minibatch size at `res`: the per-resolution entry when there is one, else the base. */
export function minibatchSize(recipe: TrainRecipe, res: number): number {
  return recipe.batch.perRes[res] ?? recipe.batch.base;
}

/**
 * Returns the generator EMA decay per step, 0.5 ^ (batch / (emaKimg * 1000)), so that the weight of an
 * old snapshot halves every `emaKimg` thousand images. Returns 0 (the EMA copies the weights) when
 * emaKimg is 0.
 */
export function emaBeta(recipe: TrainRecipe, batch: number): number {
  if (recipe.emaKimg <= 0) return 0;
  return 0.5 ** (batch / (recipe.emaKimg * 1000));
}

/**
 * Draws the style-mixing crossover: with probability `prob`, a layer index uniform in
 * [1, numLayers), where layers from that index on take the second w. Otherwise returns numLayers
 * (no mixing), as it does whenever numLayers < 2. Always draws one uniform first, so the stream's
 * position does not depend on numLayers.
 */
export function mixingLayers(rng: Rng, prob: number, numLayers: number): number {
  const mix = rng.uniform() < prob;
  if (!mix || numLayers < 2) return numLayers;
  return 1 + rng.int(numLayers - 1);
}

function stablePhase(res: number, level: number, start: number, end: number): Phase {
  return { res, fading: false, alpha: 1, level, phaseStartKimg: start, phaseEndKimg: end };
}

function checkResolution(label: string, res: number): void {
  if (!Number.isInteger(res) || res < 1 || (res & (res - 1)) !== 0) {
    throw new Error(`invalid schedule: ${label} ${res} is not a power of two`);
  }
}
