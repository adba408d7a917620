// The generator inputs the sampling commands build, checked on the generator program itself against
// the mapping and synthesis programs fed by hand.

import { describe, expect, it } from 'vitest';

import { buildGenerator, buildMapping, buildSynthesis } from '../../src/layers/programs.ts';
import { initParams } from '../../src/params/init.ts';
import { Rng } from '../../src/runtime/rng.ts';
import { mixForRange, noiseForSeeds, parseStyleRange, slerp, uniformMix } from '../../src/runtime/sample/inputs.ts';
import { tensor, type Tensor, type TensorMap } from '../../src/runtime/tensor.ts';
import { UsageError } from '../../src/runtime/train/options.ts';
import { feedsFor } from '../../src/runtime/train/programs.ts';
import { truncationVector } from '../../src/runtime/train/sample.ts';
import { mixVector } from '../../src/runtime/train/semantics.ts';
import { refTarget } from '../../targets/ref/index.ts';
import { tinySpec } from '../layers/tiny-spec.ts';

const spec = tinySpec({ channels: { 4: 4, 8: 4 }, zDim: 8, wDim: 8 });
const params = initParams(spec, 3);
const N = 2;
const LAYERS = spec.styleLayers.length;

function normals(shape: number[], seed: number): Tensor {
  const t = tensor(shape);
  t.data.set(new Rng(seed).normals(t.data.length));
  return t;
}

async function run(graph: ReturnType<typeof buildGenerator>, inputs: TensorMap, name: string): Promise<TensorMap> {
  const program = refTarget.compile(graph, name);
  return program.run(feedsFor(graph, inputs, params));
}

async function generator(inputs: { z1: Tensor; z2: Tensor; mix: Tensor; trunc: Tensor; wAvg: Tensor }): Promise<Tensor> {
  const graph = buildGenerator(spec, { stage: 8, batch: N, fading: false, noise: 'none' });
  const result = await run(graph, { z1: inputs.z1, z2: inputs.z2, mix: inputs.mix, trunc: inputs.trunc, w_avg: inputs.wAvg }, 'generator');
  return result['image']!;
}

async function mapping(z: Tensor): Promise<Tensor> {
  return (await run(buildMapping(spec, { batch: N }), { z }, 'mapping'))['w']!;
}

async function synthesis(styles: Tensor[]): Promise<Tensor> {
  const graph = buildSynthesis(spec, { stage: 8, batch: N, fading: false, noise: 'none' });
  const inputs: TensorMap = {};
  styles.forEach((w, i) => (inputs[`style${i}`] = w));
  return (await run(graph, inputs, 'synthesis'))['image']!;
}

function maxDifference(a: Tensor, b: Tensor): number {
  expect(a.shape).toEqual(b.shape);
  let max = 0;
  for (let i = 0; i < a.data.length; i++) max = Math.max(max, Math.abs(a.data[i]! - b.data[i]!));
  return max;
}

const ones = (): Tensor => truncationVector(LAYERS, 1, LAYERS);

describe('generator style mixing', () => {
  it('takes w1 before the crossover and w2 after', async () => {
    const z1 = normals([N, 8], 1);
    const z2 = normals([N, 8], 2);
    const w1 = await mapping(z1);
    const w2 = await mapping(z2);
    for (const crossover of [0, 1, 3, LAYERS]) {
      const mixed = await generator({ z1, z2, mix: mixVector(LAYERS, crossover), trunc: ones(), wAvg: tensor([8]) });
      const styles = Array.from({ length: LAYERS }, (_, i) => (i < crossover ? w1 : w2));
      const expected = await synthesis(styles);
      expect(maxDifference(mixed, expected), `crossover ${crossover}`).toBeLessThan(1e-5);
    }
  });

  it('takes a style range from w2 only on that range', async () => {
    const z1 = normals([N, 8], 4);
    const z2 = normals([N, 8], 5);
    const w1 = await mapping(z1);
    const w2 = await mapping(z2);
    const range = { first: 1, last: 2, label: '1-2' };
    const mixed = await generator({ z1, z2, mix: mixForRange(LAYERS, range), trunc: ones(), wAvg: tensor([8]) });
    const expected = await synthesis([w1, w2, w2, w1]);
    expect(maxDifference(mixed, expected)).toBeLessThan(1e-5);
  });

  it('blends w linearly with a uniform mix', async () => {
    const z1 = normals([N, 8], 6);
    const z2 = normals([N, 8], 7);
    const w1 = await mapping(z1);
    const w2 = await mapping(z2);
    const t = 0.25;
    const blended = tensor(w1.shape);
    for (let i = 0; i < blended.data.length; i++) blended.data[i] = 0.75 * w1.data[i]! + 0.25 * w2.data[i]!;
    const mixed = await generator({ z1, z2, mix: uniformMix(LAYERS, t), trunc: ones(), wAvg: tensor([8]) });
    const expected = await synthesis([blended, blended, blended, blended]);
    expect(maxDifference(mixed, expected)).toBeLessThan(1e-5);
  });
});

describe('generator truncation', () => {
  it('is the identity at psi 1', async () => {
    const z = normals([N, 8], 8);
    const w = await mapping(z);
    const expected = await synthesis([w, w, w, w]);
    // w_avg + 1 * (w - w_avg) equals w up to float rounding, whatever w_avg is.
    const withAverage = await generator({ z1: z, z2: z, mix: tensor([LAYERS]), trunc: ones(), wAvg: normals([8], 9) });
    expect(maxDifference(withAverage, expected)).toBeLessThan(1e-5);
  });

  it('moves only layers below the cutoff', async () => {
    const z = normals([N, 8], 10);
    const wAvg = normals([8], 11);
    const w = await mapping(z);
    const psi = 0.5;
    const truncated = tensor(w.shape);
    for (let i = 0; i < w.data.length; i++) truncated.data[i] = wAvg.data[i % 8]! + psi * (w.data[i]! - wAvg.data[i % 8]!);
    const image = await generator({ z1: z, z2: z, mix: tensor([LAYERS]), trunc: truncationVector(LAYERS, psi, 2), wAvg });
    const expected = await synthesis([truncated, truncated, w, w]);
    expect(maxDifference(image, expected)).toBeLessThan(1e-5);
  });

  it('gives every seed the average image at psi 0', async () => {
    const z = normals([N, 8], 12);
    const image = await generator({ z1: z, z2: z, mix: tensor([LAYERS]), trunc: truncationVector(LAYERS, 0, LAYERS), wAvg: normals([8], 13) });
    const size = image.data.length / N;
    const first = image.data.subarray(0, size);
    const second = image.data.subarray(size);
    expect(Array.from(first)).toEqual(Array.from(second));
  });
});

describe('style ranges', () => {
  it('maps coarse to the 4x4 and 8x8 layers', () => {
    expect(parseStyleRange('coarse', spec, 8)).toMatchObject({ first: 0, last: 3 });
    expect(parseStyleRange('coarse', spec, 4)).toMatchObject({ first: 0, last: 1 });
    expect(parseStyleRange('1-2', spec, 8)).toMatchObject({ first: 1, last: 2 });
    expect(parseStyleRange('3', spec, 8)).toMatchObject({ first: 3, last: 3 });
  });

  it('maps middle and fine by resolution', () => {
    const big = tinySpec({ channels: { 4: 4, 8: 4, 16: 4, 32: 4, 64: 4 } });
    expect(parseStyleRange('middle', big, 64)).toMatchObject({ first: 4, last: 7 });
    expect(parseStyleRange('fine', big, 64)).toMatchObject({ first: 8, last: 9 });
  });

  it('rejects an empty group', () => {
    expect(() => parseStyleRange('fine', spec, 8)).toThrow(UsageError);
    expect(() => parseStyleRange('middle', spec, 8)).toThrow(/no style layers at 16x16 to 32x32/);
  });

  it('rejects layers out of range', () => {
    expect(() => parseStyleRange('2-4', spec, 8)).toThrow(/style layer 4 is out of range; the generator at 8x8 has 4 style layers, 0-3/);
    expect(() => parseStyleRange('2-3', spec, 4)).toThrow(/out of range/);
    expect(() => parseStyleRange('3-1', spec, 8)).toThrow(/ends before it starts/);
    expect(() => parseStyleRange('top', spec, 8)).toThrow(/invalid value 'top'/);
  });
});

describe('sampling inputs', () => {
  it('slerp keeps the ends and the norm', () => {
    const a = new Float32Array([1, 0]);
    const b = new Float32Array([0, 1]);
    expect(Array.from(slerp(a, b, 0))).toEqual([1, 0]);
    const end = slerp(a, b, 1);
    expect(end[0]).toBeCloseTo(0, 6);
    expect(end[1]).toBeCloseTo(1, 6);
    const middle = slerp(a, b, 0.5);
    expect(middle[0]).toBeCloseTo(Math.SQRT1_2, 6);
    expect(middle[1]).toBeCloseTo(Math.SQRT1_2, 6);
  });

  it('slerp of parallel latents is linear', () => {
    const a = new Float32Array([1, 2]);
    const b = new Float32Array([2, 4]);
    const middle = slerp(a, b, 0.5);
    expect(middle[0]).toBeCloseTo(1.5, 6);
    expect(middle[1]).toBeCloseTo(3, 6);
  });

  it('draws noise per seed, not per batch position', () => {
    const layers = [
      { input: 'noise.a', size: 4 },
      { input: 'noise.b', size: 8 },
    ];
    const pair = noiseForSeeds(layers, [5, 6]);
    const single = noiseForSeeds(layers, [6]);
    expect(pair['noise.a']!.shape).toEqual([2, 1, 4, 4]);
    expect(pair['noise.b']!.shape).toEqual([2, 1, 8, 8]);
    expect(Array.from(pair['noise.a']!.data.subarray(16))).toEqual(Array.from(single['noise.a']!.data));
    expect(Array.from(pair['noise.b']!.data.subarray(64))).toEqual(Array.from(single['noise.b']!.data));
  });
});
