import { describe, expect, it } from 'vitest';
import { EvalInputError, type EvalOptions, evaluate } from '../../src/cli/commands/eval.ts';
import { buildEvalProgram } from '../../src/layers/evaluate.ts';
import { buildDiscriminatorStep, buildGenerator, buildMapping, buildSynthesis } from '../../src/layers/programs.ts';
import { initParams } from '../../src/params/init.ts';
import { type TensorMap, tensor } from '../../src/runtime/tensor.ts';
import { runGraph } from '../../targets/ref/index.ts';
import { centralDifference, expectClose, ramp } from './helpers.ts';
import { tinySpec } from './tiny-spec.ts';

const spec = tinySpec();
const N = 4;
const params = initParams(spec, 2);
for (const p of spec.params) params[p.name]!.data.forEach((v, i, data) => (data[i] = v + 0.2 * Math.sin(3 * i + 1)));

function options(extra: Partial<EvalOptions>): EvalOptions {
  return {
    file: 'tiny.sgan',
    network: 'generator',
    stage: 8,
    params: 'params.safetensors',
    inputs: 'inputs.safetensors',
    out: 'out.safetensors',
    grad: false,
    r1: false,
    seed: 0,
    target: 'ref',
    ...extra,
  };
}

const z = ramp([N, spec.zDim], 8);

describe('evaluate', () => {
  it('mapping equals the mapping program', async () => {
    const { outputs } = await evaluate(spec, options({ network: 'mapping', stage: undefined }), params, { z });
    expectClose(outputs.w!.data, runGraph(buildMapping(spec, { batch: N }), { ...params, z }).w!.data);
  });

  it('generator equals the generator program without mixing or truncation', async () => {
    const { outputs, metadata } = await evaluate(spec, options({ alpha: 0.4, seed: 77 }), params, { z });
    const g = buildGenerator(spec, { stage: 8, batch: N, fading: true, noise: 'random' });
    const feeds: TensorMap = {
      ...params,
      z1: z,
      z2: z,
      mix: tensor([4]),
      trunc: tensor([4], [1, 1, 1, 1]),
      w_avg: tensor([spec.wDim]),
      alpha: tensor([], [0.4]),
      noise_key: tensor([], [77]),
    };
    expectClose(outputs.image!.data, runGraph(g, feeds).image!.data);
    expect(metadata).toMatchObject({ network: 'generator', stage: '8', alpha: '0.4', noise_key: '77', batch: '4' });
  });

  it('synthesis with w equals every style{i} set to w', async () => {
    const w = ramp([N, spec.wDim], 31);
    const { outputs } = await evaluate(spec, options({ network: 'synthesis' }), params, { w });
    const styles = Object.fromEntries([0, 1, 2, 3].map((i) => [`style${i}`, w]));
    const s = buildSynthesis(spec, { stage: 8, batch: N, fading: false, noise: 'random' });
    expectClose(outputs.image!.data, runGraph(s, { ...params, ...styles, noise_key: tensor([], [0]) }).image!.data);
  });

  it('takes the batch size from the inputs', async () => {
    const { outputs } = await evaluate(spec, options({ network: 'discriminator' }), params, { x: ramp([8, 1, 8, 8]) });
    expect(outputs.logits!.shape).toEqual([8, 1]);
  });

  it('grad matches finite differences for inputs and parameters', async () => {
    const w = ramp([2, spec.wDim], 3);
    const { outputs } = await evaluate(spec, options({ network: 'synthesis', stage: 4, grad: true }), params, { w });
    const plain = buildEvalProgram(spec, {
      network: 'synthesis',
      stage: 4,
      batch: 2,
      fading: false,
      noise: 'random',
      styles: 'w',
      grad: false,
      r1: false,
    });
    const total = (feeds: TensorMap): number => runGraph(plain, feeds).image!.data.reduce((s, v) => s + v, 0);
    const feeds = { ...params, w, noise_key: tensor([], [0]) };
    for (const [name, index] of [['w', 3], ['synthesis.b4.conv0.weight', 5], ['synthesis.b4.adain1.style.bias', 1]] as const) {
      const numeric = centralDifference(total, feeds, name, index, 1e-3);
      const analytic = outputs[`grad.${name}`]!.data[index]!;
      expect(Math.abs(numeric - analytic)).toBeLessThan(2e-3 + 2e-2 * Math.abs(numeric));
    }
    expect(outputs['grad.noise_key']).toBeUndefined();
  });

  it('r1 matches the D step penalty', async () => {
    const x = ramp([N, 1, 8, 8], 12);
    const { outputs } = await evaluate(spec, options({ network: 'discriminator', r1: true }), params, { x });
    // eval's r1 is a plain sum over the batch; the D step with gamma 2 takes the batch mean instead.
    const step = buildDiscriminatorStep(spec, { stage: 8, batch: N, fading: false, r1Gamma: 2 });
    const r1 = runGraph(step, { ...params, real: x, fake: x }).r1!.data[0]!;
    expectClose(outputs.r1!.data, [N * r1], 1e-4);
    // A stable stage 8 does not read FromRGB of stage 4, so that has no gradient.
    const used = spec.params.filter((p) => p.network === 'discriminator' && !p.name.startsWith('discriminator.b4.fromrgb'));
    expect(Object.keys(outputs).filter((name) => name.startsWith('grad.')).sort()).toEqual(used.map((p) => `grad.${p.name}`).sort());
  });

  it('r1 parameter gradient matches finite differences', async () => {
    const x = ramp([N, 1, 4, 4], 12);
    const opts = options({ network: 'discriminator', stage: 4, r1: true });
    const { outputs } = await evaluate(spec, opts, params, { x });
    const name = 'discriminator.b4.conv0.weight';
    const r1Of = (feeds: TensorMap): number => {
      const g = buildDiscriminatorStep(spec, { stage: 4, batch: N, fading: false, r1Gamma: 2 });
      return N * runGraph(g, { ...feeds, real: x, fake: x }).r1!.data[0]!;
    };
    for (const index of [0, 17, 40]) {
      const numeric = centralDifference(r1Of, params, name, index, 1e-3);
      const analytic = outputs[`grad.${name}`]!.data[index]!;
      expect(Math.abs(numeric - analytic)).toBeLessThan(2e-3 + 2e-2 * Math.abs(numeric));
    }
  });
});

describe('evaluate errors', () => {
  const fails = (extra: Partial<EvalOptions>, inputs: TensorMap, pattern: RegExp, paramTensors = params) =>
    expect(evaluate(spec, options(extra), paramTensors, inputs)).rejects.toThrow(pattern);

  it('missing input names the tensor', () => fails({}, { x: z }, /missing tensor 'z' for the generator network/));

  it('wrong input shape gives expected and actual', () =>
    fails({}, { z: ramp([N, 5]) }, /input tensor 'z' has shape \[4, 5\], expected \[4, 8\]/));

  it('wrong parameter shape gives expected and actual', () => {
    const broken = { ...params, 'mapping.dense0.bias': ramp([3]) };
    return fails({}, { z }, /parameter tensor 'mapping.dense0.bias' has shape \[3\], expected \[8\]/, broken);
  });

  it('missing parameter names it', () => {
    const { ['synthesis.const']: _, ...rest } = params;
    return fails({}, { z }, /missing parameter tensor 'synthesis.const' of shape \[4, 4, 4\]/, rest);
  });

  it('unknown network', () => fails({ network: 'critic' }, { z }, /unknown network 'critic'/));

  it('stage not in the model', () => fails({ stage: 16 }, { z }, /stage 16 is not a resolution of model tiny \(stages: 4, 8\)/));

  it('fading at the lowest stage', () => fails({ stage: 4, alpha: 0.5 }, { z }, /cannot fade in/));

  it('batch that does not split into groups', () =>
    fails({ network: 'discriminator' }, { x: ramp([6, 1, 8, 8]) }, /batch 6 is not a multiple of the group size 4/));

  it('unknown input tensor', () => fails({}, { z, 'noise.typo': ramp([N, 1, 8, 8]) }, /'noise.typo' is not an input/));

  it('incomplete noise inputs', () =>
    fails({ network: 'synthesis', stage: 4 }, { w: ramp([N, 8]), 'noise.synthesis.b4.noise0': ramp([N, 1, 4, 4]) }, /missing input tensor 'noise.synthesis.b4.noise1' of shape \[4, 1, 4, 4\]/));

  it('r1 on a network other than the discriminator', () => fails({ r1: true }, { z }, /--r1 needs --network discriminator/));

  it('errors are EvalInputError', async () => {
    await expect(evaluate(spec, options({ network: 'critic' }), params, { z })).rejects.toBeInstanceOf(EvalInputError);
  });
});
