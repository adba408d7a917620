// Training checkpoints: one safetensors file per snapshot with every tensor the run needs to continue
// bit for bit. Parameters keep their plain names, the generator EMA is `ema.<name>`, the running
// average of w is `w_avg`, and the Adam moments of G and D are `G.<adam name>` and `D.<adam name>`.
// The rest of the state is JSON in the file's metadata under `sganc.state`.

import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

import { readSafetensors, writeSafetensors } from './safetensors.ts';
import type { TensorMap } from './tensor.ts';

/** Bumped when the layout of the tensors or of {@link TrainingState} changes incompatibly. */
export const CHECKPOINT_FORMAT_VERSION = 1;

const STATE_KEY = 'sganc.state';
const EMA_PREFIX = 'ema.';
const W_AVG_NAME = 'w_avg';
const ADAM_G_PREFIX = 'G.';
const ADAM_D_PREFIX = 'D.';

/** Everything except tensors that a resumed run needs; stored as JSON in the checkpoint's metadata. */
export interface TrainingState {
  formatVersion: number;
  /** Real images shown to the discriminator so far; kimg = images / 1000. */
  images: number;
  /** Ticks completed so far. */
  tick: number;
  /** Index of the resolution step of the phase the last iteration ran in (0 at the start resolution). */
  level: number;
  res: number;
  alpha: number;
  adamSteps: { g: number; d: number };
  /** State of the run's seeded generator, from `Rng.getState()`. */
  rngState: number[];
  /** Hash of the model text, compiler version and target; a resume under another model is rejected. */
  modelHash: string;
  seed: number;
  /** Seconds of training so far, summed over all runs that continued this one. */
  trainingSeconds: number;
}

/** The tensors of a checkpoint, split by role. */
export interface CheckpointTensors {
  params: TensorMap;
  ema: TensorMap;
  wAvg: TensorMap[string];
  adamG: TensorMap;
  adamD: TensorMap;
}

export interface Checkpoint {
  tensors: CheckpointTensors;
  state: TrainingState;
}

/** A checkpoint that cannot be read or does not belong to the model that loads it. */
export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

/**
 * Returns the kimg label used in file names: six integer digits, plus three decimals when the image
 * count is not a whole number of kimg (short test runs), so names sort by training progress.
 */
export function kimgLabel(images: number): string {
  const whole = Math.floor(images / 1000);
  const rest = images % 1000;
  const head = String(whole).padStart(6, '0');
  return rest === 0 ? head : `${head}.${String(rest).padStart(3, '0')}`;
}

export function checkpointFileName(images: number): string {
  return `checkpoint-${kimgLabel(images)}.safetensors`;
}

/** Writes a checkpoint atomically (temp file + rename), so a crash never leaves a half-written file. */
export function saveCheckpoint(path: string, checkpoint: Checkpoint): void {
  const { params, ema, wAvg, adamG, adamD } = checkpoint.tensors;
  const tensors: TensorMap = {};
  for (const [name, t] of Object.entries(params)) tensors[name] = t;
  for (const [name, t] of Object.entries(ema)) tensors[EMA_PREFIX + name] = t;
  tensors[W_AVG_NAME] = wAvg;
  for (const [name, t] of Object.entries(adamG)) tensors[ADAM_G_PREFIX + name] = t;
  for (const [name, t] of Object.entries(adamD)) tensors[ADAM_D_PREFIX + name] = t;
  writeSafetensors(path, tensors, { [STATE_KEY]: JSON.stringify(checkpoint.state) });
}

/**
 * Reads a checkpoint written by {@link saveCheckpoint}. `paramNames` are the model's parameters: a
 * tensor that is neither one of them nor a known prefix is an error, and so is a missing parameter.
 * `checkState` receives the saved state before the tensors are matched to `paramNames`, so a caller
 * can reject a checkpoint of another model with its own message.
 */
export function loadCheckpoint(
  path: string,
  paramNames: readonly string[],
  checkState?: (state: TrainingState) => void,
): Checkpoint {
  const { tensors, metadata } = readSafetensors(path);
  const stateText = metadata[STATE_KEY];
  if (stateText === undefined) {
    throw new CheckpointError(`${path}: not an sganc checkpoint (metadata has no '${STATE_KEY}' entry)`);
  }
  const state = parseState(path, stateText);
  checkState?.(state);

  const known = new Set(paramNames);
  const split: CheckpointTensors = { params: {}, ema: {}, wAvg: { shape: [0], data: new Float32Array(0) }, adamG: {}, adamD: {} };
  let sawWAvg = false;
  for (const [name, t] of Object.entries(tensors)) {
    if (name === W_AVG_NAME) {
      split.wAvg = t;
      sawWAvg = true;
    } else if (name.startsWith(EMA_PREFIX)) {
      split.ema[name.slice(EMA_PREFIX.length)] = t;
    } else if (name.startsWith(ADAM_G_PREFIX)) {
      split.adamG[name.slice(ADAM_G_PREFIX.length)] = t;
    } else if (name.startsWith(ADAM_D_PREFIX)) {
      split.adamD[name.slice(ADAM_D_PREFIX.length)] = t;
    } else if (known.has(name)) {
      split.params[name] = t;
    } else {
      throw new CheckpointError(`${path}: tensor '${name}' is not a parameter of this model`);
    }
  }
  if (!sawWAvg) throw new CheckpointError(`${path}: missing tensor '${W_AVG_NAME}'`);
  for (const name of paramNames) {
    if (split.params[name] === undefined) {
      throw new CheckpointError(`${path}: missing parameter '${name}'; was it written for another model?`);
    }
  }
  return { tensors: split, state };
}

function parseState(path: string, text: string): TrainingState {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new CheckpointError(`${path}: invalid JSON in '${STATE_KEY}': ${(error as Error).message}`);
  }
  const state = value as Partial<TrainingState>;
  if (typeof state !== 'object' || state === null) {
    throw new CheckpointError(`${path}: '${STATE_KEY}' is not a JSON object`);
  }
  if (state.formatVersion !== CHECKPOINT_FORMAT_VERSION) {
    throw new CheckpointError(
      `${path}: checkpoint format version ${String(state.formatVersion)}, expected ${CHECKPOINT_FORMAT_VERSION}`,
    );
  }
  const numeric: (keyof TrainingState)[] = ['images', 'tick', 'level', 'res', 'alpha', 'seed', 'trainingSeconds'];
  for (const key of numeric) {
    if (typeof state[key] !== 'number') throw new CheckpointError(`${path}: state field '${key}' is missing or not a number`);
  }
  if (!Array.isArray(state.rngState) || typeof state.modelHash !== 'string' || typeof state.adamSteps !== 'object') {
    throw new CheckpointError(`${path}: state is missing 'rngState', 'modelHash' or 'adamSteps'`);
  }
  return state as TrainingState;
}

/** Returns the path of the checkpoint with the most images in `runDir`, or undefined when there is none. */
/**
 * Deletes all but the `keep` newest checkpoints of a run directory (by kimg in the file name);
 * `keep` 0 deletes nothing. Returns the deleted paths.
 */
export function pruneCheckpoints(runDir: string, keep: number): string[] {
  if (keep <= 0) return [];
  const found = readdirSync(runDir)
    .map((name) => ({ name, match: /^checkpoint-(\d+(?:\.\d+)?)\.safetensors$/.exec(name) }))
    .filter((entry) => entry.match !== null)
    .map((entry) => ({ name: entry.name, kimg: Number(entry.match![1]) }))
    .sort((a, b) => b.kimg - a.kimg);
  const deleted = found.slice(keep).map((entry) => join(runDir, entry.name));
  for (const path of deleted) rmSync(path, { force: true });
  return deleted;
}

export function findLatestCheckpoint(runDir: string): string | undefined {
  let entries: string[];
  try {
    entries = readdirSync(runDir);
  } catch {
    return undefined;
  }
  let best: { kimg: number; name: string } | undefined;
  for (const name of entries) {
    const match = /^checkpoint-(\d+(?:\.\d+)?)\.safetensors$/.exec(name);
    if (match === null) continue;
    const kimg = Number(match[1]);
    if (best === undefined || kimg > best.kimg) best = { kimg, name };
  }
  return best === undefined ? undefined : join(runDir, best.name);
}
