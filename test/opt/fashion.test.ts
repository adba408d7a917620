// The fashion-32 example end to end through the optimizer. Every program of every training phase
// is checked: the generator, the generator step and the discriminator step with R1, forward and
// backward. Each has at most a third as many kernels as primitive ops, and its fused program
// computes what the reference executor computes on the unoptimized graph. Batch 2 keeps it short.

import { describe, expect, it } from 'vitest';
import { checkFile } from '../../src/check/index.ts';
import { countPrimitiveOps } from '../../src/emit/index.ts';
import type { Graph } from '../../src/ir/graph.ts';
import { buildDiscriminatorStep, buildGenerator, buildGeneratorStep } from '../../src/layers/programs.ts';
import { compileKernels, webgpuLimits } from '../../src/opt/index.ts';
import { runFused } from '../../targets/ref/fused.ts';
import { runGraph } from '../../targets/ref/index.ts';
import { programFeeds } from './feeds.ts';
import { compareTensors } from './random-graph.ts';

// Both executors round each op to float32; convolutions and matmuls sum in another order here,
// which moves results by about one float32 ulp. Gradients of the training steps pass through
// about 30 layers, so the bound is 1e-4 relative to max(1, |value|).
const TOLERANCE = 1e-4;
const BATCH = 2;

const spec = checkFile('examples/fashion-32.sgan').spec!;

interface Phase {
  stage: number;
  fading: boolean;
}

const phases: Phase[] = [
  { stage: 8, fading: false },
  { stage: 16, fading: true },
  { stage: 16, fading: false },
  { stage: 32, fading: true },
  { stage: 32, fading: false },
];

function programs(phase: Phase): [string, () => Graph][] {
  const key = { ...phase, batch: BATCH };
  return [
    ['generator', () => buildGenerator(spec, { ...key, noise: 'random' })],
    ['generator_step', () => buildGeneratorStep(spec, key)],
    ['discriminator_step', () => buildDiscriminatorStep(spec, { ...key, r1Gamma: spec.train.r1Gamma })],
  ];
}

for (const phase of phases) {
  describe(`fashion-32 stage ${phase.stage}${phase.fading ? ' fading' : ''}`, () => {
    for (const [name, build] of programs(phase)) {
      it(`${name} fused equals unfused`, () => {
        const graph = build();
        const { program } = compileKernels(graph, webgpuLimits(), { verify: true });
        expect(program.kernels.length * 3).toBeLessThanOrEqual(countPrimitiveOps(graph));

        const feeds = programFeeds(spec, graph);
        const expected = runGraph(graph, feeds);
        const actual = runFused(program, feeds);
        expect(Object.keys(actual).sort()).toEqual(Object.keys(expected).sort());
        expect(compareTensors(actual, expected, TOLERANCE)).toBeUndefined();
      });
    }
  });
}
