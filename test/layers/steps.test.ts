// Training-step programs against finite differences: every gradient here is compared with central
// differences of the program's own loss outputs, never with values taken from the autodiff code.

import { describe, expect, it } from 'vitest';
import { buildDiscriminator, buildDiscriminatorStep, buildGenerator, buildGeneratorStep } from '../../src/layers/programs.ts';
import { initParams } from '../../src/params/init.ts';
import { type Tensor, type TensorMap, tensor } from '../../src/runtime/tensor.ts';
import { runGraph } from '../../targets/ref/index.ts';
import { centralDifference, expectClose, expectGradientsMatch, ramp } from './helpers.ts';
import { tinySpec } from './tiny-spec.ts';

const spec = tinySpec({ channels: { 4: 3, 8: 2 }, mbstdGroup: 2 });
const N = 4;
const L = spec.styleLayers.length;
const scalar = (v: number): Tensor => tensor([], [v]);

function perturbedParams(seed: number): TensorMap {
  const params = initParams(spec, seed);
  let offset = 0;
  for (const p of spec.params) {
    const jitter = ramp(p.shape, offset);
    offset += 101;
    params[p.name]!.data.forEach((v, i, data) => (data[i] = v + 0.3 * jitter.data[i]!));
  }
  return params;
}

const params = perturbedParams(3);

const discriminatorNames = spec.params.filter((p) => p.network === 'discriminator').map((p) => p.name);
const generatorNames = spec.params.filter((p) => p.network !== 'discriminator').map((p) => p.name);

describe('discriminator step', () => {
  const real = ramp([N, 1, 8, 8], 11);
  const fake = ramp([N, 1, 8, 8], 500);

  it('parameter gradients of loss_d + r1 match finite differences while fading', () => {
    const graph = buildDiscriminatorStep(spec, { stage: 8, batch: N, fading: true, r1Gamma: 10 });
    const feeds = { ...params, real, fake, alpha: scalar(0.3) };
    expectGradientsMatch(graph, feeds, (out) => out.loss_d!.data[0]! + out.r1!.data[0]!, discriminatorNames);
  });

  it('parameter gradients match finite differences at the lowest stage', () => {
    const graph = buildDiscriminatorStep(spec, { stage: 4, batch: N, fading: false, r1Gamma: 1 });
    const feeds = { ...params, real: ramp([N, 1, 4, 4], 2), fake: ramp([N, 1, 4, 4], 90) };
    const names = discriminatorNames.filter((name) => name.startsWith('discriminator.b4.'));
    expectGradientsMatch(graph, feeds, (out) => out.loss_d!.data[0]! + out.r1!.data[0]!, names);
  });

  it('loss and scores follow the non-saturating logistic loss', () => {
    const graph = buildDiscriminatorStep(spec, { stage: 8, batch: N, fading: false, r1Gamma: 0 });
    const out = runGraph(graph, { ...params, real, fake });
    const d = buildDiscriminator(spec, { stage: 8, batch: N, fading: false });
    const logitsReal = Array.from(runGraph(d, { ...params, x: real }).logits!.data);
    const logitsFake = Array.from(runGraph(d, { ...params, x: fake }).logits!.data);
    const softplus = (v: number): number => Math.log1p(Math.exp(v));
    const mean = (values: number[]): number => values.reduce((s, v) => s + v, 0) / values.length;
    const expected = mean(logitsFake.map(softplus)) + mean(logitsReal.map((v) => softplus(-v)));
    expectClose(out.loss_d!.data, [expected]);
    expectClose(out.score_real!.data, [mean(logitsReal)]);
    expectClose(out.score_fake!.data, [mean(logitsFake)]);
    expect(out.r1!.data[0]).toBe(0);
  });

  it('r1 is gamma / 2 times the mean squared input-gradient norm', () => {
    const gamma = 4;
    const graph = buildDiscriminatorStep(spec, { stage: 8, batch: N, fading: false, r1Gamma: gamma });
    const r1 = runGraph(graph, { ...params, real, fake }).r1!.data[0]!;
    const d = buildDiscriminator(spec, { stage: 8, batch: N, fading: false });
    const sumLogits = (feeds: TensorMap): number => runGraph(d, feeds).logits!.data.reduce((s, v) => s + v, 0);
    let squaredNorm = 0;
    for (let i = 0; i < real.data.length; i++) {
      squaredNorm += centralDifference(sumLogits, { ...params, x: real }, 'x', i, 1e-2) ** 2;
    }
    const expected = (gamma / 2) * (squaredNorm / N);
    expect(Math.abs(r1 - expected)).toBeLessThan(2e-2 * expected);
  });

  it('crossfades the reals: alpha 0 scores the downsampled reals at the lower stage', () => {
    const graph = buildDiscriminatorStep(spec, { stage: 8, batch: N, fading: true, r1Gamma: 0 });
    const scoreReal = runGraph(graph, { ...params, real, fake, alpha: scalar(0) }).score_real!.data[0]!;
    const lower = buildDiscriminator(spec, { stage: 4, batch: N, fading: false });
    const small: number[] = [];
    for (let n = 0; n < N; n++) {
      for (let y = 0; y < 4; y++) {
        for (let x = 0; x < 4; x++) {
          const at = (dy: number, dx: number) => real.data[n * 64 + (2 * y + dy) * 8 + 2 * x + dx]!;
          small.push((at(0, 0) + at(0, 1) + at(1, 0) + at(1, 1)) / 4);
        }
      }
    }
    const logits = runGraph(lower, { ...params, x: tensor([N, 1, 4, 4], small) }).logits!.data;
    expectClose([scoreReal], [logits.reduce((s, v) => s + v, 0) / N], 1e-5);
  });

  it('outputs gradients for the parameters in use', () => {
    const lowest = buildDiscriminatorStep(spec, { stage: 4, batch: N, fading: false, r1Gamma: 10 });
    const grads = [...lowest.outputs.keys()].filter((name) => name.startsWith('grad.')).sort();
    const atFour = discriminatorNames.filter((name) => name.startsWith('discriminator.b4.'));
    expect(grads).toEqual(atFour.map((name) => `grad.${name}`).sort());

    const fading = buildDiscriminatorStep(spec, { stage: 8, batch: N, fading: true, r1Gamma: 10 });
    const all = [...fading.outputs.keys()].filter((name) => name.startsWith('grad.')).sort();
    expect(all).toEqual(discriminatorNames.map((name) => `grad.${name}`).sort());
  });
});

describe('generator step', () => {
  const feeds: TensorMap = {
    ...params,
    z1: ramp([N, spec.zDim], 4),
    z2: ramp([N, spec.zDim], 60),
    mix: tensor([L], [0, 0, 1, 1]),
    trunc: tensor([L], [0.7, 0.7, 1, 1]),
    w_avg: ramp([spec.wDim], 17),
    noise_key: scalar(12),
    alpha: scalar(0.6),
  };

  it('loss_g is mean softplus(-D(G(z)))', () => {
    const step = buildGeneratorStep(spec, { stage: 8, batch: N, fading: true });
    const image = runGraph(buildGenerator(spec, { stage: 8, batch: N, fading: true, noise: 'random' }), feeds).image!;
    const logits = runGraph(buildDiscriminator(spec, { stage: 8, batch: N, fading: true }), { ...feeds, x: image }).logits!;
    const expected = Array.from(logits.data).reduce((s, v) => s + Math.log1p(Math.exp(-v)), 0) / N;
    expectClose(runGraph(step, feeds).loss_g!.data, [expected]);
  });

  it('parameter gradients match finite differences while fading', () => {
    const step = buildGeneratorStep(spec, { stage: 8, batch: N, fading: true });
    expectGradientsMatch(step, feeds, (out) => out.loss_g!.data[0]!, generatorNames);
  });

  it('outputs gradients for the parameters in use', () => {
    const lowest = buildGeneratorStep(spec, { stage: 4, batch: N, fading: false });
    const grads = [...lowest.outputs.keys()].filter((name) => name.startsWith('grad.')).sort();
    const atFour = generatorNames.filter((name) => !name.startsWith('synthesis.b8.'));
    expect(grads).toEqual(atFour.map((name) => `grad.${name}`).sort());

    const top = buildGeneratorStep(spec, { stage: 8, batch: N, fading: false });
    const all = [...top.outputs.keys()].filter((name) => name.startsWith('grad.')).sort();
    // A stable top stage does not read ToRGB of the stage below.
    const withoutOldRgb = generatorNames.filter((name) => !name.startsWith('synthesis.b4.torgb'));
    expect(all).toEqual(withoutOldRgb.map((name) => `grad.${name}`).sort());
  });
});
