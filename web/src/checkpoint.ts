// Reads a training checkpoint from bytes in the page (a dropped file or the served run's newest). The
// layout is the one saveCheckpoint writes: EMA weights as `ema.<name>`, `w_avg`, and the training
// state as JSON in the metadata entry `sganc.state`. Every problem becomes a CheckpointLoadError
// whose message the page shows as is.
import { formatShape } from '../../src/ir/graph.ts';
import type { ModelSpec } from '../../src/model/spec.ts';
import { decodeSafetensors, SafetensorsError } from '../../src/runtime/safetensors.ts';
import type { Tensor, TensorMap } from '../../src/runtime/tensor.ts';

export class CheckpointLoadError extends Error {
  override name = 'CheckpointLoadError';
}

/** The part of a checkpoint that sampling needs. */
export interface SamplerCheckpoint {
  name: string;
  /** Generator EMA weights by parameter name. */
  ema: TensorMap;
  wAvg: Tensor;
  /** Resolution of the stage it was saved at, and that stage's fade-in alpha (1 when stable). */
  res: number;
  alpha: number;
  kimg: number;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Decodes `bytes` and matches them to `spec`; throws CheckpointLoadError with a message for the page. */
export function readCheckpoint(bytes: Uint8Array, name: string, spec: ModelSpec): SamplerCheckpoint {
  if (!name.endsWith('.safetensors')) {
    throw new CheckpointLoadError(`${name} is not a .safetensors file; drop a checkpoint-*.safetensors from a run directory`);
  }
  let decoded;
  try {
    decoded = decodeSafetensors(bytes, name);
  } catch (error) {
    if (error instanceof SafetensorsError) throw new CheckpointLoadError(`${error.message}; this file is not a valid safetensors checkpoint`);
    throw error;
  }
  const stateText = decoded.metadata['sganc.state'];
  if (stateText === undefined) {
    throw new CheckpointLoadError(`${name} is a safetensors file but not an sganc checkpoint (its metadata has no 'sganc.state')`);
  }
  let state: { res?: unknown; alpha?: unknown; images?: unknown };
  try {
    state = JSON.parse(stateText) as typeof state;
  } catch (error) {
    throw new CheckpointLoadError(`${name}: invalid JSON in 'sganc.state': ${(error as Error).message}`);
  }
  if (typeof state.res !== 'number' || typeof state.alpha !== 'number' || typeof state.images !== 'number') {
    throw new CheckpointLoadError(`${name}: 'sganc.state' lacks the numbers res, alpha and images`);
  }
  const stages = spec.synthesis.stages.map((s) => s.res);
  if (!stages.includes(state.res)) {
    throw new CheckpointLoadError(
      `${name} was saved at resolution ${state.res}, which is not a stage of model ${spec.name} (${stages.join(', ')}); ` +
        'it belongs to another model, so open that model in the editor first',
    );
  }

  const ema: TensorMap = {};
  for (const param of spec.params) {
    if (param.network === 'discriminator') continue;
    const tensor = decoded.tensors[`ema.${param.name}`];
    if (tensor === undefined) {
      throw new CheckpointLoadError(
        `${name} has no tensor 'ema.${param.name}', so it belongs to another model than ${spec.name}; open that model in the editor first`,
      );
    }
    if (!sameShape(tensor.shape, param.shape)) {
      throw new CheckpointLoadError(
        `${name}: tensor 'ema.${param.name}' has shape ${formatShape(tensor.shape)} but model ${spec.name} expects ` +
          `${formatShape(param.shape)}; the checkpoint belongs to another model`,
      );
    }
    ema[param.name] = tensor;
  }
  const wAvg = decoded.tensors['w_avg'];
  if (wAvg === undefined || !sameShape(wAvg.shape, [spec.wDim])) {
    const found = wAvg === undefined ? 'none' : formatShape(wAvg.shape);
    throw new CheckpointLoadError(`${name}: tensor 'w_avg' must have shape [${spec.wDim}] for model ${spec.name}, found ${found}`);
  }
  return { name, ema, wAvg, res: state.res, alpha: state.alpha, kimg: state.images / 1000 };
}
