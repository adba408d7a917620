import { describe, expect, it } from 'vitest';
import { Builder } from '../../src/ir/builder.ts';
import { randnAt } from '../../src/ir/rng.ts';
import { adain, noiseInjection, noiseStream } from '../../src/layers/style.ts';
import type { ModelSpec, ParamSpec } from '../../src/model/spec.ts';
import { type Tensor, tensor } from '../../src/runtime/tensor.ts';
import { runGraph } from '../../targets/ref/index.ts';
import { context, expectClose, ramp } from './helpers.ts';
import { tinySpec } from './tiny-spec.ts';

const styleScale = 1 / Math.sqrt(2);
const adainParams: ParamSpec[] = [
  { name: 'a.style.weight', network: 'synthesis', shape: [6, 2], init: { kind: 'normal', std: 1 }, runtimeScale: styleScale },
  { name: 'a.style.bias', network: 'synthesis', shape: [6], init: { kind: 'constant', value: 0 }, runtimeScale: 1 },
];
const layer = { channels: 3, styleIndex: 0, eps: 1e-8, styleWeight: 'a.style.weight', styleBias: 'a.style.bias' };

function runAdain(x: Tensor, w: Tensor, weight: Tensor, bias: Tensor): Tensor {
  const spec: ModelSpec = { ...tinySpec(), params: adainParams };
  const b = new Builder();
  const ctx = context(b, spec, 2, { style: () => b.input('w', [2, 2]) });
  b.output('y', adain(ctx, b.input('x', [2, 3, 4, 4]), layer));
  return runGraph(b.graph, { x, w, 'a.style.weight': weight, 'a.style.bias': bias }).y!;
}

/** Instance norm and style modulation written out with loops over samples and channels. */
function expectedAdain(x: Tensor, w: Tensor, weight: Tensor, bias: Tensor): number[] {
  const out: number[] = [];
  for (let n = 0; n < 2; n++) {
    const style = Array.from({ length: 6 }, (_, o) => {
      const dot = weight.data[o * 2]! * w.data[n * 2]! + weight.data[o * 2 + 1]! * w.data[n * 2 + 1]!;
      return styleScale * dot + bias.data[o]!;
    });
    for (let c = 0; c < 3; c++) {
      const plane = Array.from(x.data.slice((n * 3 + c) * 16, (n * 3 + c + 1) * 16));
      const mean = plane.reduce((s, v) => s + v, 0) / 16;
      const variance = plane.reduce((s, v) => s + (v - mean) ** 2, 0) / 16;
      for (const v of plane) out.push(((v - mean) / Math.sqrt(variance + 1e-8)) * (style[c]! + 1) + style[3 + c]!);
    }
  }
  return out;
}

describe('adain', () => {
  // Sample 1 is sample 0 scaled by 3 and shifted by 10, so batch statistics would differ from
  // per-sample ones.
  const base = ramp([1, 3, 4, 4]);
  const x = tensor([2, 3, 4, 4], [...base.data, ...base.data.map((v) => 3 * v + 10)]);
  const w = tensor([2, 2], [0.5, -1, 2, 0.25]);
  const weight = tensor([6, 2], [1, 0, 0, 1, 1, 1, -1, 0, 0, 2, 0.5, 0.5]);
  const bias = tensor([6], [0.1, 0.2, 0.3, -0.1, 0, 0.5]);

  it('normalizes per sample and channel, then applies the style', () => {
    expectClose(runAdain(x, w, weight, bias).data, expectedAdain(x, w, weight, bias), 1e-4);
  });

  it('with a zero style is a plain instance norm, equal for both samples', () => {
    const y = runAdain(x, w, tensor([6, 2]), tensor([6]));
    // (3v + 10 - (3m + 10)) / (3 sd) equals (v - m) / sd, up to the eps.
    expectClose(y.data.slice(48), y.data.slice(0, 48), 1e-4);
    for (let c = 0; c < 3; c++) {
      const plane = Array.from(y.data.slice(c * 16, c * 16 + 16));
      expect(plane.reduce((s, v) => s + v, 0) / 16).toBeCloseTo(0, 5);
      expect(plane.reduce((s, v) => s + v * v, 0) / 16).toBeCloseTo(1, 4);
    }
  });

  it('output of one sample ignores the other sample', () => {
    const other = tensor([2, 3, 4, 4], [...base.data, ...base.data.map((v) => -50 * v * v)]);
    expectClose(runAdain(other, w, weight, bias).data.slice(0, 48), runAdain(x, w, weight, bias).data.slice(0, 48), 1e-6);
  });
});

describe('noiseInjection', () => {
  const spec = tinySpec();
  const noiseLayer = spec.synthesis.stages[1]!.layers.find((l) => l.kind === 'noise')!;
  if (noiseLayer.kind !== 'noise') throw new Error('tiny spec has no noise layer');
  const strength = tensor([4], [0, 1, -2, 0.5]);
  const x = ramp([2, 4, 2, 2]);

  it('adds strength[c] times the noise input, shared over channels', () => {
    const b = new Builder();
    b.output('y', noiseInjection(context(b, spec, 2, { noise: 'input' }), b.input('x', [2, 4, 2, 2]), noiseLayer));
    const noise = tensor([2, 1, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8]);
    const y = runGraph(b.graph, { x, [`noise.${noiseLayer.name}`]: noise, [noiseLayer.strength]: strength }).y!;
    const expected = Array.from(x.data, (v, i) => {
      const n = Math.floor(i / 16);
      const c = Math.floor(i / 4) % 4;
      return v + strength.data[c]! * noise.data[n * 4 + (i % 4)]!;
    });
    expectClose(y.data, expected);
  });

  it('random noise comes from the layer stream under noise_key', () => {
    const b = new Builder();
    const ctx = context(b, spec, 2, { noise: 'random', noiseKey: b.input('noise_key', []) });
    b.output('y', noiseInjection(ctx, b.input('x', [2, 4, 2, 2]), noiseLayer));
    const y = runGraph(b.graph, { x, noise_key: tensor([], [42]), [noiseLayer.strength]: strength }).y!;
    const stream = noiseStream(spec, noiseLayer.name);
    // The tiny spec has two noise layers at 4x4, so the first one at 8x8 is stream 2.
    expect(stream).toBe(2);
    const expected = Array.from(x.data, (v, i) => {
      const n = Math.floor(i / 16);
      const c = Math.floor(i / 4) % 4;
      return v + strength.data[c]! * randnAt(42, stream, n * 4 + (i % 4));
    });
    expectClose(y.data, expected);
  });

  it('with noise none leaves x unchanged', () => {
    const b = new Builder();
    const input = b.input('x', [2, 4, 2, 2]);
    expect(noiseInjection(context(b, spec, 2), input, noiseLayer)).toBe(input);
  });
});
