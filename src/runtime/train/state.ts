// The state of a training run: the mutable tensors and the JSON state, made fresh from the seed or
// restored from the newest checkpoint of a run directory, and written back as a checkpoint.

import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';

import type { ModelSpec, TrainRecipe } from '../../model/spec.ts';
import { initParams } from '../../params/init.ts';
import { Adam } from '../adam.ts';
import {
  CHECKPOINT_FORMAT_VERSION,
  checkpointFileName,
  findLatestCheckpoint,
  loadCheckpoint,
  saveCheckpoint,
  type TrainingState,
} from '../checkpoint.ts';
import { Rng } from '../rng.ts';
import { phaseAt } from '../schedule.ts';
import { tensor, type Tensor, type TensorMap } from '../tensor.ts';
import { InputError, RUN_DEFINING_OPTIONS, type TrainOptions, UsageError } from './options.ts';
import { readOptions } from './run-dir.ts';
import { copyTensors, discriminatorParamNames, generatorParamNames } from './semantics.ts';

/** The mutable tensors of a run. */
export interface Weights {
  params: TensorMap;
  ema: TensorMap;
  wAvg: Tensor;
  adamG: Adam;
  adamD: Adam;
}

/** Returns the weights initialised from `options.seed` and the state at kimg 0. */
export function startFresh(
  spec: ModelSpec,
  recipe: TrainRecipe,
  options: TrainOptions,
  modelHash: string,
): { weights: Weights; state: TrainingState } {
  const params = initParams(spec, options.seed);
  const weights = newWeights(spec, recipe, params);
  const phase = phaseAt(recipe, spec.resolution, 0);
  const state: TrainingState = {
    formatVersion: CHECKPOINT_FORMAT_VERSION,
    images: 0,
    tick: 0,
    level: phase.level,
    res: phase.res,
    alpha: phase.alpha,
    adamSteps: { g: 0, d: 0 },
    rngState: new Rng(options.seed).getState(),
    modelHash,
    seed: options.seed,
    trainingSeconds: 0,
  };
  return { weights, state };
}

function newWeights(spec: ModelSpec, recipe: TrainRecipe, params: TensorMap): Weights {
  const generatorNames = generatorParamNames(spec);
  const shapesOf = (names: readonly string[]): Record<string, number[]> =>
    Object.fromEntries(names.map((name) => [name, params[name]!.shape]));
  return {
    params,
    ema: copyTensors(params, generatorNames),
    wAvg: tensor([spec.wDim]),
    adamG: new Adam(shapesOf(generatorNames), recipe.adam),
    adamD: new Adam(shapesOf(discriminatorParamNames(spec)), recipe.adam),
  };
}

/**
 * Restores weights and state from the newest checkpoint in `runDir`. Throws InputError when there
 * is none or when it was written for another model hash.
 */
export function resumeFrom(
  runDir: string,
  spec: ModelSpec,
  recipe: TrainRecipe,
  modelHash: string,
): { weights: Weights; state: TrainingState } {
  const path = findLatestCheckpoint(runDir);
  if (path === undefined) throw new InputError(`--resume ${runDir}: no checkpoint-*.safetensors found in that directory`);
  const checkpoint = loadCheckpoint(
    path,
    spec.params.map((p) => p.name),
    (state) => {
      if (state.modelHash === modelHash) return;
      throw new InputError(
        `--resume ${runDir}: ${basename(path)} was written for another model, compiler version or target ` +
          `(hash ${state.modelHash}, this model ${modelHash})`,
      );
    },
  );
  const weights = newWeights(spec, recipe, checkpoint.tensors.params);
  weights.ema = checkpoint.tensors.ema;
  weights.wAvg = checkpoint.tensors.wAvg;
  weights.adamG.loadState(checkpoint.tensors.adamG, checkpoint.state.adamSteps.g);
  weights.adamD.loadState(checkpoint.tensors.adamD, checkpoint.state.adamSteps.d);
  return { weights, state: checkpoint.state };
}

/**
 * Returns the options of a resumed run: the saved run-defining options (data, seed, ...) with the
 * new budget, tick and output options. A run-defining option given with another value is an error,
 * because it would break the promise that a resumed run equals an uninterrupted one.
 */
export function mergeResumedOptions(
  resumeDir: string,
  options: TrainOptions,
  given: ReadonlySet<keyof TrainOptions> | undefined,
): TrainOptions {
  if (!existsSync(resumeDir)) throw new InputError(`--resume ${resumeDir}: directory not found`);
  const saved = readOptions(resumeDir);
  if (saved === undefined) throw new InputError(`--resume ${resumeDir}: options.json not found; is this a run directory?`);
  const merged: TrainOptions = { ...options };
  for (const key of RUN_DEFINING_OPTIONS) {
    const savedValue = saved.options[key];
    if (given?.has(key) === true && options[key] !== savedValue) {
      throw new UsageError(
        `--${key} ${String(options[key])} differs from the resumed run's ${String(savedValue)}; ` +
          `omit it to continue with the run's value`,
      );
    }
    (merged as unknown as Record<string, unknown>)[key] = savedValue;
  }
  return merged;
}

/** Writes `checkpoint-<kimg>.safetensors` into `runDir` and returns its path. */
export function writeCheckpoint(runDir: string, weights: Weights, state: TrainingState): string {
  const path = join(runDir, checkpointFileName(state.images));
  saveCheckpoint(path, {
    tensors: {
      params: weights.params,
      ema: weights.ema,
      wAvg: weights.wAvg,
      adamG: weights.adamG.stateTensors(),
      adamD: weights.adamD.stateTensors(),
    },
    state,
  });
  return path;
}
