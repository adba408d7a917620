// Parameter counts and the stage list of a checked model, as `sganc check` prints them.
import type { ModelSpec, NetworkName } from '../model/spec.ts';

export interface ModelSummary {
  z: number;
  w: number;
  channels: number;
  resolution: number;
  /** Trainable values per network; synthesis includes the ToRGB layer of every stage. */
  networks: Record<NetworkName, { params: number }>;
  styleLayers: number;
  /** Synthesis stage resolutions, increasing. */
  stages: number[];
}

export function countParams(spec: ModelSpec, network: NetworkName): number {
  let total = 0;
  for (const param of spec.params) {
    if (param.network === network) total += param.shape.reduce((product, size) => product * size, 1);
  }
  return total;
}

export function summarizeModel(spec: ModelSpec): ModelSummary {
  return {
    z: spec.zDim,
    w: spec.wDim,
    channels: spec.imageChannels,
    resolution: spec.resolution,
    networks: {
      mapping: { params: countParams(spec, 'mapping') },
      synthesis: { params: countParams(spec, 'synthesis') },
      discriminator: { params: countParams(spec, 'discriminator') },
    },
    styleLayers: spec.styleLayers.length,
    stages: spec.synthesis.stages.map((stage) => stage.res),
  };
}
