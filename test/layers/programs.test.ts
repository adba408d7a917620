import { describe, expect, it } from 'vitest';
import type { Graph } from '../../src/ir/graph.ts';
import {
  buildDiscriminator,
  buildDiscriminatorStep,
  buildGenerator,
  buildGeneratorStep,
  buildMapping,
  buildSynthesis,
} from '../../src/layers/programs.ts';
import { initParams } from '../../src/params/init.ts';
import { type Tensor, type TensorMap, tensor } from '../../src/runtime/tensor.ts';
import { runGraph } from '../../targets/ref/index.ts';
import { expectClose, ramp } from './helpers.ts';
import { tinySpec } from './tiny-spec.ts';

const spec = tinySpec();
const N = 4;
const L = spec.styleLayers.length;

/** Initial parameters moved off their constant starts, so biases and noise strengths matter. */
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

const params = perturbedParams(1);
const z1 = ramp([N, spec.zDim], 5);
const z2 = ramp([N, spec.zDim], 77);
const ones = tensor([L], new Array(L).fill(1));
const zerosL = tensor([L]);
const wAvg = ramp([spec.wDim], 300);
const scalar = (v: number): Tensor => tensor([], [v]);

function run(graph: Graph, feeds: TensorMap): TensorMap {
  return runGraph(graph, { ...params, ...feeds });
}

function upsample2x(image: Tensor): number[] {
  const [n, c, h, w] = image.shape as [number, number, number, number];
  const out: number[] = [];
  for (let p = 0; p < n * c; p++) {
    for (let y = 0; y < 2 * h; y++) {
      for (let x = 0; x < 2 * w; x++) out.push(image.data[p * h * w + Math.floor(y / 2) * w + Math.floor(x / 2)]!);
    }
  }
  return out;
}

function downsample2x(image: Tensor): Tensor {
  const [n, c, h, w] = image.shape as [number, number, number, number];
  const out: number[] = [];
  for (let p = 0; p < n * c; p++) {
    for (let y = 0; y < h / 2; y++) {
      for (let x = 0; x < w / 2; x++) {
        const at = (dy: number, dx: number) => image.data[p * h * w + (2 * y + dy) * w + 2 * x + dx]!;
        out.push((at(0, 0) + at(0, 1) + at(1, 0) + at(1, 1)) / 4);
      }
    }
  }
  return tensor([n, c, h / 2, w / 2], out);
}

const generatorFeeds = (extra: TensorMap = {}): TensorMap => ({
  z1,
  z2,
  mix: zerosL,
  trunc: ones,
  w_avg: wAvg,
  noise_key: scalar(9),
  ...extra,
});

describe('generator program', () => {
  it('declares the documented inputs and outputs', () => {
    const g = buildGenerator(spec, { stage: 8, batch: N, fading: true, noise: 'random' });
    const inputs = Object.fromEntries([...g.inputs()].map(([name, id]) => [name, g.shape(id)]));
    expect(inputs).toEqual({ z1: [N, 8], z2: [N, 8], mix: [L], trunc: [L], w_avg: [8], alpha: [], noise_key: [] });
    const out = run(g, generatorFeeds({ alpha: scalar(0.5) }));
    expect(out.image!.shape).toEqual([N, 1, 8, 8]);
    expect(out.w_mean!.shape).toEqual([8]);
  });

  it('w_mean is the batch mean of mapping(z1)', () => {
    const g = buildGenerator(spec, { stage: 4, batch: N, fading: false, noise: 'none' });
    const w = run(buildMapping(spec, { batch: N }), { z: z1 }).w!;
    const mean = Array.from({ length: 8 }, (_, j) => [0, 1, 2, 3].reduce((s, n) => s + w.data[n * 8 + j]!, 0) / N);
    expectClose(run(g, generatorFeeds()).w_mean!.data, mean);
  });

  it('mix all 0 equals running with w1 only', () => {
    const g = buildGenerator(spec, { stage: 8, batch: N, fading: false, noise: 'random' });
    const mixed = run(g, generatorFeeds()).image!;
    const single = run(g, generatorFeeds({ z2: z1 })).image!;
    expectClose(mixed.data, single.data);
  });

  it('mix all 1 equals running with w2 only', () => {
    const g = buildGenerator(spec, { stage: 8, batch: N, fading: false, noise: 'random' });
    const mixed = run(g, generatorFeeds({ mix: ones })).image!;
    const single = run(g, generatorFeeds({ z1: z2 })).image!;
    expectClose(mixed.data, single.data);
  });

  it('mix selects w per style layer', () => {
    const g = buildGenerator(spec, { stage: 8, batch: N, fading: false, noise: 'none' });
    const synthesis = buildSynthesis(spec, { stage: 8, batch: N, fading: false, noise: 'none' });
    const mapping = buildMapping(spec, { batch: N });
    const w1 = run(mapping, { z: z1 }).w!;
    const w2 = run(mapping, { z: z2 }).w!;
    const mix = [0, 1, 1, 0];
    const image = run(g, generatorFeeds({ mix: tensor([L], mix) })).image!;
    const styles = Object.fromEntries(mix.map((m, i) => [`style${i}`, m === 1 ? w2 : w1]));
    expectClose(image.data, run(synthesis, styles).image!.data, 1e-5);
  });

  it('trunc 1 ignores w_avg', () => {
    const g = buildGenerator(spec, { stage: 8, batch: N, fading: false, noise: 'random' });
    const a = run(g, generatorFeeds()).image!;
    const b = run(g, generatorFeeds({ w_avg: ramp([spec.wDim], 999) })).image!;
    expectClose(a.data, b.data);
  });

  it('trunc 0 gives w_avg as every style', () => {
    const g = buildGenerator(spec, { stage: 8, batch: N, fading: false, noise: 'none' });
    const synthesis = buildSynthesis(spec, { stage: 8, batch: N, fading: false, noise: 'none' });
    const image = run(g, generatorFeeds({ trunc: zerosL })).image!;
    const tiled = tensor([N, spec.wDim], [0, 1, 2, 3].flatMap(() => Array.from(wAvg.data)));
    const styles = Object.fromEntries([0, 1, 2, 3].map((i) => [`style${i}`, tiled]));
    expectClose(image.data, run(synthesis, styles).image!.data);
  });

  it('trunc 0.5 halves the distance to w_avg', () => {
    const g = buildGenerator(spec, { stage: 4, batch: N, fading: false, noise: 'none' });
    const synthesis = buildSynthesis(spec, { stage: 4, batch: N, fading: false, noise: 'none' });
    const w1 = run(buildMapping(spec, { batch: N }), { z: z1 }).w!;
    const half = tensor([N, 8], Array.from(w1.data, (v, i) => wAvg.data[i % 8]! + 0.5 * (v - wAvg.data[i % 8]!)));
    const trunc = tensor([L], [0.5, 0.5, 1, 1]);
    const image = run(g, generatorFeeds({ trunc })).image!;
    expectClose(image.data, run(synthesis, { style0: half, style1: half }).image!.data);
  });
});

describe('synthesis fade-in', () => {
  const styles = Object.fromEntries([0, 1, 2, 3].map((i) => [`style${i}`, ramp([N, 8], 40 * i)]));
  const fading = buildSynthesis(spec, { stage: 8, batch: N, fading: true, noise: 'random' });
  const key = { noise_key: scalar(5) };

  it('alpha 0 gives exactly the upsampled old ToRGB', () => {
    const old = run(buildSynthesis(spec, { stage: 4, batch: N, fading: false, noise: 'random' }), { ...styles, ...key }).image!;
    const image = run(fading, { ...styles, ...key, alpha: scalar(0) }).image!;
    expect(Array.from(image.data)).toEqual(upsample2x(old));
  });

  it('alpha 1 gives exactly the new ToRGB', () => {
    const stable = run(buildSynthesis(spec, { stage: 8, batch: N, fading: false, noise: 'random' }), { ...styles, ...key }).image!;
    const image = run(fading, { ...styles, ...key, alpha: scalar(1) }).image!;
    expect(Array.from(image.data)).toEqual(Array.from(stable.data));
  });

  it('alpha 0.25 blends linearly', () => {
    const a0 = run(fading, { ...styles, ...key, alpha: scalar(0) }).image!;
    const a1 = run(fading, { ...styles, ...key, alpha: scalar(1) }).image!;
    const mid = run(fading, { ...styles, ...key, alpha: scalar(0.25) }).image!;
    expectClose(mid.data, Array.from(a0.data, (v, i) => 0.75 * v + 0.25 * a1.data[i]!));
  });

  it('noise inputs replace the random noise', () => {
    const g = buildSynthesis(spec, { stage: 8, batch: N, fading: false, noise: 'input' });
    const names = [...g.inputs().keys()].filter((name) => name.startsWith('noise.')).sort();
    expect(names).toEqual([
      'noise.synthesis.b4.noise0',
      'noise.synthesis.b4.noise1',
      'noise.synthesis.b8.noise0',
      'noise.synthesis.b8.noise1',
    ]);
    const zeroNoise = Object.fromEntries(names.map((name) => [name, tensor(g.shape(g.inputs().get(name)!))]));
    const none = run(buildSynthesis(spec, { stage: 8, batch: N, fading: false, noise: 'none' }), styles).image!;
    expectClose(run(g, { ...styles, ...zeroNoise }).image!.data, none.data);
  });
});

describe('discriminator fade-in', () => {
  const image = ramp([N, 1, 8, 8], 3);
  const fading = buildDiscriminator(spec, { stage: 8, batch: N, fading: true });

  it('alpha 0 equals the lower stage on the downsampled image', () => {
    const lower = run(buildDiscriminator(spec, { stage: 4, batch: N, fading: false }), { x: downsample2x(image) }).logits!;
    expectClose(run(fading, { x: image, alpha: scalar(0) }).logits!.data, lower.data);
  });

  it('alpha 1 equals the stable stage', () => {
    const stable = run(buildDiscriminator(spec, { stage: 8, batch: N, fading: false }), { x: image }).logits!;
    expectClose(run(fading, { x: image, alpha: scalar(1) }).logits!.data, stable.data);
  });
});

describe('stage checks', () => {
  it('rejects a stage the model does not have', () => {
    expect(() => buildGenerator(spec, { stage: 16, batch: N, fading: false, noise: 'none' })).toThrow(/stage 16 is not a resolution/);
  });

  it('rejects fading at the lowest stage', () => {
    expect(() => buildDiscriminator(spec, { stage: 4, batch: N, fading: true })).toThrow(/cannot fade in/);
  });
});
