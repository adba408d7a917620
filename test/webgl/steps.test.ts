// The fashion-32 training steps on the webgl target against the reference executor: the generator
// step (forward, loss and every parameter gradient) and the discriminator step with R1 (forward,
// the input gradient and the double backward through it). headless-gl runs the 8x8 fading stage,
// because compiling the 283 shaders of the 32x32 generator step on Mesa's llvmpipe took 35 s. gpu.js
// cpu mode runs the full 32x32 fading stage.
//
// Tolerance: every output within 1e-3 of its own largest magnitude, because kernels sum in float32
// (the reference in float64). The one exception is the gradient of the constant's bias. The
// constant's planes start uniform (ones, noise strength 0), so the instance norm after that bias
// removes any per-channel shift, and the exact gradient is zero. Both sides return rounding noise
// of large cancelling terms there, so it gets 1e-5 of the largest magnitude over all outputs
// instead. A bound shared by all outputs would be larger than the whole mapping gradient.

import { describe, expect, it } from 'vitest';
import { checkFile } from '../../src/check/index.ts';
import { buildDiscriminatorStep, buildGeneratorStep } from '../../src/layers/programs.ts';
import { initParams } from '../../src/params/init.ts';
import { runGraph } from '../../targets/ref/index.ts';
import { expectClose, stepFeeds } from '../cpu/helpers.ts';
import { MODES, webglTarget } from './helpers.ts';

const spec = checkFile('examples/fashion-32.sgan').spec!;
const params = initParams(spec, 3);
const BATCH = 2;

for (const { mode, skip } of MODES) {
  const stage = mode === 'cpu' ? 32 : 8;
  describe.skipIf(skip)(`webgl ${mode} fashion-32 steps at ${stage}x${stage}`, () => {
    it('generator step equals ref within tolerance', async () => {
      const graph = buildGeneratorStep(spec, { stage, batch: BATCH, fading: true });
      const feeds = stepFeeds(graph, params);
      const program = webglTarget(mode).compile(graph, 'g');
      const first = await program.run(feeds);
      expectClose(first, runGraph(graph, feeds));
      // A second run reuses the built kernels and their textures and must give the same values.
      const second = await program.run(feeds);
      for (const name of Object.keys(first)) expect(second[name]!.data).toEqual(first[name]!.data);
    });

    it('discriminator step with R1 equals ref within tolerance', async () => {
      const graph = buildDiscriminatorStep(spec, { stage, batch: BATCH, fading: true, r1Gamma: spec.train.r1Gamma });
      const feeds = stepFeeds(graph, params);
      expectClose(await webglTarget(mode).compile(graph, 'd').run(feeds), runGraph(graph, feeds));
    });
  });
}
