import { describe, expect, it } from 'vitest';
import { verifyGraph } from '../../src/ir/verify.ts';
import {
  buildDiscriminator,
  buildDiscriminatorStep,
  buildGenerator,
  buildGeneratorStep,
  buildMapping,
  buildSynthesis,
} from '../../src/layers/programs.ts';
import { tinySpec } from './tiny-spec.ts';

const specs = {
  nearest: tinySpec(),
  bilinear: tinySpec({ upsample: 'bilinear', channels: { 4: 4, 8: 3, 16: 2 }, imageChannels: 3 }),
};

describe('verifyGraph on every program', () => {
  for (const [label, spec] of Object.entries(specs)) {
    const stages = spec.synthesis.stages.map((s) => s.res);
    for (const stage of stages) {
      for (const fading of stage === stages[0] ? [false] : [false, true]) {
        const opts = { stage, batch: 4, fading };
        it(`${label} stage ${stage}${fading ? ' fading' : ''}`, () => {
          const graphs = [
            buildMapping(spec, { batch: 4 }),
            buildGenerator(spec, { ...opts, noise: 'random' }),
            buildGenerator(spec, { ...opts, noise: 'input' }),
            buildGenerator(spec, { ...opts, noise: 'none' }),
            buildSynthesis(spec, { ...opts, noise: 'random' }),
            buildDiscriminator(spec, opts),
            buildGeneratorStep(spec, opts),
            buildDiscriminatorStep(spec, { ...opts, r1Gamma: 10 }),
            buildDiscriminatorStep(spec, { ...opts, r1Gamma: 0 }),
          ];
          for (const graph of graphs) expect(() => verifyGraph(graph)).not.toThrow();
        });
      }
    }
  }
});
