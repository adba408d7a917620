// The fashion-32 training steps on the wgsl target against the reference executor: generator
// forward and backward, discriminator forward and backward with R1 (a double backward).
// Tolerance: every output within 1e-3 of its own largest magnitude, for float32 sums and WGSL's exp,
// log and division accuracy through a deep network (llvmpipe stays below 1e-4). The one exception
// is the gradient of the constant's bias. The constant's planes start uniform (ones, noise strength
// 0), so the instance norm after that bias removes any per-channel shift, and the exact gradient is
// zero. Both sides return rounding noise of large cancelling terms there, so it gets 1e-5 of the
// largest magnitude over all outputs instead. A bound shared by all outputs would be larger than
// the whole gradient of the mapping network, whose magnitudes are 1e-4 beside 9e2 for the noise
// strength at 4x4.

import { describe, expect, it } from 'vitest';
import { checkFile } from '../../src/check/index.ts';
import { buildDiscriminatorStep, buildGeneratorStep } from '../../src/layers/programs.ts';
import { initParams } from '../../src/params/init.ts';
import { runGraph } from '../../targets/ref/index.ts';
import { expectClose, stepFeeds } from '../cpu/helpers.ts';
import { wgsl } from './helpers.ts';

const spec = checkFile('examples/fashion-32.sgan').spec!;
const params = initParams(spec, 3);
const BATCH = 2;

describe('wgsl fashion-32 steps', () => {
  const generator = buildGeneratorStep(spec, { stage: 32, batch: BATCH, fading: true });
  const discriminator = buildDiscriminatorStep(spec, { stage: 32, batch: BATCH, fading: true, r1Gamma: spec.train.r1Gamma });

  it('generator step equals ref within tolerance', async () => {
    const feeds = stepFeeds(generator, params);
    const program = wgsl.compile(generator, 'g');
    const first = await program.run(feeds);
    expectClose(first, runGraph(generator, feeds));
    // A second run reuses the buffers and must not depend on what the first left in them.
    const second = await program.run(feeds);
    for (const name of Object.keys(first)) expect(second[name]!.data, name).toEqual(first[name]!.data);
  });

  it('discriminator step with R1 equals ref within tolerance', async () => {
    const feeds = stepFeeds(discriminator, params);
    expectClose(await wgsl.compile(discriminator, 'd').run(feeds), runGraph(discriminator, feeds));
  });
});
