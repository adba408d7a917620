// The fashion-32 generator and training steps on the cpu target (its fused kernels, the default)
// against the reference executor, and the cpu target's results on one and on two threads.

import { describe, it } from 'vitest';
import { buildDiscriminatorStep, buildGenerator, buildGeneratorStep } from '../../src/layers/programs.ts';
import { runGraph } from '../../targets/ref/index.ts';
import { cpu1, cpu2, expectClose, expectIdentical, fashion32, LOGIT_BIAS_GRAD, stepFeeds } from './helpers.ts';

describe('cpu fashion-32 steps', () => {
  const spec = fashion32().spec;
  const BATCH = 4;
  const generator = buildGeneratorStep(spec, { stage: 32, batch: BATCH, fading: true });
  const discriminator = buildDiscriminatorStep(spec, { stage: 32, batch: BATCH, fading: true, r1Gamma: spec.train.r1Gamma });

  it('generator forward equals ref within tolerance', async () => {
    const forward = buildGenerator(spec, { stage: 32, batch: BATCH, fading: true, noise: 'random' });
    const feeds = stepFeeds(forward);
    expectClose(await cpu2.compile(forward, 'forward').run(feeds), runGraph(forward, feeds));
  });

  it('generator step equals ref within tolerance', async () => {
    const feeds = stepFeeds(generator);
    expectClose(await cpu2.compile(generator, 'g').run(feeds), runGraph(generator, feeds));
  });

  it('discriminator step with R1 equals ref within tolerance', async () => {
    const feeds = stepFeeds(discriminator);
    expectClose(await cpu2.compile(discriminator, 'd').run(feeds), runGraph(discriminator, feeds), [LOGIT_BIAS_GRAD]);
  });

  it('one and two threads give identical results', async () => {
    for (const graph of [generator, discriminator]) {
      const feeds = stepFeeds(graph);
      const one = await cpu1.compile(graph, 'step').run(feeds);
      const two = await cpu2.compile(graph, 'step').run(feeds);
      expectIdentical(one, two);
    }
  });

  it('a second run of a program gives the same results', async () => {
    const program = cpu2.compile(generator, 'g');
    const feeds = stepFeeds(generator);
    const first = await program.run(feeds);
    await cpu2.compile(discriminator, 'd').run(stepFeeds(discriminator));
    expectIdentical(first, await program.run(feeds));
  });
});
