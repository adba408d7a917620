// Every kernel of both example models passes Dawn's WGSL validation (parsing, types and uniformity
// analysis): the generator, the generator step and the discriminator step with R1, at every stage.
// Stages above the start resolution are checked in their fading phase, whose programs contain the
// stable ones' kernels plus the fade-in path. Shader modules are created for every distinct source.
// Pipelines, which llvmpipe compiles to machine code at about 0.1 s each, are created only by the
// step and op tests, for the fashion-32 kernels that run. The 1024 model is never run.

import { describe, expect, it } from 'vitest';
import { checkFile } from '../../src/check/index.ts';
import type { Graph } from '../../src/ir/graph.ts';
import { buildDiscriminatorStep, buildGenerator, buildGeneratorStep } from '../../src/layers/programs.ts';
import { minibatchSize } from '../../src/runtime/schedule.ts';
import { sharedDevice } from '../../targets/wgsl/device.ts';
import { wgslKernelSources } from '../../targets/wgsl/index.ts';

/** Returns every phase program of a model: generator, generator step, discriminator step. */
function phasePrograms(file: string): [string, Graph][] {
  const spec = checkFile(file).spec!;
  const recipe = spec.train;
  const programs: [string, Graph][] = [];
  for (const stage of spec.synthesis.stages) {
    if (stage.res < recipe.grow.startRes) continue;
    const key = { stage: stage.res, batch: minibatchSize(recipe, stage.res), fading: stage.res > recipe.grow.startRes };
    programs.push([`generator ${stage.res}`, buildGenerator(spec, { ...key, noise: 'random' })]);
    programs.push([`generator_step ${stage.res}`, buildGeneratorStep(spec, key)]);
    programs.push([`discriminator_step ${stage.res}`, buildDiscriminatorStep(spec, { ...key, r1Gamma: recipe.r1Gamma })]);
  }
  return programs;
}

async function validationErrors(file: string): Promise<{ kernels: number; errors: string[] }> {
  const { device } = await sharedDevice();
  const sources = new Map<string, string>();
  for (const [program, graph] of phasePrograms(file)) {
    for (const { name, source } of wgslKernelSources(graph)) sources.set(source, `${program} ${name}`);
  }
  const errors: string[] = [];
  for (const [source, name] of sources) {
    device.pushErrorScope('validation');
    const module = device.createShaderModule({ label: name, code: source });
    const info = await module.getCompilationInfo();
    const scoped = await device.popErrorScope();
    for (const message of info.messages) if (message.type === 'error') errors.push(`${name}: line ${message.lineNum}: ${message.message}`);
    if (scoped !== null) errors.push(`${name}: ${scoped.message}`);
  }
  return { kernels: sources.size, errors };
}

describe('wgsl kernels of the examples', () => {
  it('fashion-32 kernels pass WGSL validation', async () => {
    const { kernels, errors } = await validationErrors('examples/fashion-32.sgan');
    expect(kernels).toBeGreaterThan(100);
    expect(errors.slice(0, 5)).toEqual([]);
  });

  it('stylegan-ffhq-1024 kernels pass WGSL validation', async () => {
    const { kernels, errors } = await validationErrors('examples/stylegan-ffhq-1024.sgan');
    expect(kernels).toBeGreaterThan(500);
    expect(errors.slice(0, 5)).toEqual([]);
  });
});
