import { describe, expect, it } from 'vitest';
import { Builder } from '../../src/ir/builder.ts';
import { convDownsample, equalizedConv, equalizedDense, upsampleConv } from '../../src/layers/equalized.ts';
import { discriminatorNetwork, synthesisNetwork } from '../../src/layers/networks.ts';
import { downsample, upsampleNearest } from '../../src/layers/resample.ts';
import { initParams } from '../../src/params/init.ts';
import type { ModelSpec, ParamSpec } from '../../src/model/spec.ts';
import { tensor } from '../../src/runtime/tensor.ts';
import { runGraph } from '../../targets/ref/index.ts';
import { context, expectClose, ramp } from './helpers.ts';
import { tinySpec } from './tiny-spec.ts';

function withParams(params: ParamSpec[]): ModelSpec {
  return { ...tinySpec(), params };
}

describe('equalized learning rate', () => {
  it('mapping weight with lrmul 0.01', () => {
    const spec = tinySpec({ zDim: 512, wDim: 512, lrmul: 0.01, mappingLayers: 1 });
    const weight = spec.params.find((p) => p.name === 'mapping.dense0.weight')!;
    const bias = spec.params.find((p) => p.name === 'mapping.dense0.bias')!;
    expect(weight.init).toEqual({ kind: 'normal', std: 100 });
    expect(weight.runtimeScale).toBeCloseTo((0.01 * Math.SQRT2) / Math.sqrt(512), 12);
    expect(bias.runtimeScale).toBe(0.01);
  });

  it('dense layer with scaled bias', () => {
    const wScale = 0.25;
    const bScale = 0.5;
    const spec = withParams([
      { name: 'd.weight', network: 'mapping', shape: [3, 2], init: { kind: 'normal', std: 1 }, runtimeScale: wScale },
      { name: 'd.bias', network: 'mapping', shape: [3], init: { kind: 'constant', value: 0 }, runtimeScale: bScale },
    ]);
    const b = new Builder();
    b.output('y', equalizedDense(context(b, spec, 2), b.input('x', [2, 2]), 'd.weight', 'd.bias'));
    const x = tensor([2, 2], [1, 2, -1, 3]);
    const w = tensor([3, 2], [1, 0, 0, 1, 2, -1]);
    const bias = tensor([3], [4, 6, 8]);
    const y = runGraph(b.graph, { x, 'd.weight': w, 'd.bias': bias }).y!;
    // Row 0: W x = [1, 2, 0]; row 1: W x = [-1, 3, -5]; then * 0.25 plus bias * 0.5 = [2, 3, 4].
    expectClose(y.data, [0.25 + 2, 0.5 + 3, 0 + 4, -0.25 + 2, 0.75 + 3, -1.25 + 4]);
  });

  it('3x3 conv 512 -> 512 scales by sqrt(2) / sqrt(4608)', () => {
    const scale = Math.SQRT2 / Math.sqrt(512 * 3 * 3);
    const spec = withParams([
      { name: 'c.weight', network: 'synthesis', shape: [512, 512, 3, 3], init: { kind: 'normal', std: 1 }, runtimeScale: scale },
    ]);
    const b = new Builder();
    b.output('y', equalizedConv(context(b, spec, 1), b.input('x', [1, 512, 1, 1]), 'c.weight'));
    // On a 1x1 image with padding 1 only the centre tap reads real data, so a one-hot input at
    // channel 7 selects w[o, 7, 1, 1].
    const x = tensor([1, 512, 1, 1]);
    x.data[7] = 1;
    const w = ramp([512, 512, 3, 3]);
    const y = runGraph(b.graph, { x, 'c.weight': w }).y!;
    const expected = Array.from({ length: 512 }, (_, o) => scale * w.data[((o * 512 + 7) * 3 + 1) * 3 + 1]!);
    expectClose(y.data, expected);
  });

  it('3x3 conv uses same zero padding and adds the bias per channel', () => {
    const spec = withParams([
      { name: 'c.weight', network: 'discriminator', shape: [2, 1, 3, 3], init: { kind: 'normal', std: 1 }, runtimeScale: 2 },
      { name: 'c.bias', network: 'discriminator', shape: [2], init: { kind: 'constant', value: 0 }, runtimeScale: 1 },
    ]);
    const b = new Builder();
    b.output('y', equalizedConv(context(b, spec, 1), b.input('x', [1, 1, 3, 3]), 'c.weight', 'c.bias'));
    const x = tensor([1, 1, 3, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const w = tensor([2, 1, 3, 3], [0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
    const y = runGraph(b.graph, { x, 'c.weight': w, 'c.bias': tensor([2], [10, 20]) }).y!;
    // Channel 0 is the identity tap; channel 1 sums each 3x3 window (zeros outside).
    const identity = [1, 2, 3, 4, 5, 6, 7, 8, 9].map((v) => 2 * v + 10);
    const windowSums = [12, 21, 16, 27, 45, 33, 24, 39, 28].map((v) => 2 * v + 20);
    expectClose(y.data, [...identity, ...windowSums]);
  });
});

describe('fused resampling convolutions', () => {
  for (const kernel of [1, 3, 5]) {
    const spec = withParams([
      { name: 'c.weight', network: 'synthesis', shape: [2, 3, kernel, kernel], init: { kind: 'normal', std: 1 }, runtimeScale: 0.7 },
      { name: 'c.bias', network: 'synthesis', shape: [2], init: { kind: 'constant', value: 0 }, runtimeScale: 1 },
    ]);
    const feeds = { x: ramp([2, 3, 6, 6]), 'c.weight': ramp([2, 3, kernel, kernel], 7), 'c.bias': tensor([2], [0.5, -1]) };

    const run = (emit: (ctx: ReturnType<typeof context>, x: number) => number) => {
      const b = new Builder();
      b.output('y', emit(context(b, spec, 2), b.input('x', [2, 3, 6, 6])));
      return runGraph(b.graph, feeds).y!;
    };

    it(`upsample then ${kernel}x${kernel} conv equals the transposed conv`, () => {
      const fused = run((ctx, x) => upsampleConv(ctx, x, 'c.weight', 'c.bias'));
      const plain = run((ctx, x) => equalizedConv(ctx, upsampleNearest(ctx.b, x), 'c.weight', 'c.bias'));
      expect(fused.shape).toEqual([2, 2, 12, 12]);
      expectClose(fused.data, plain.data, 1e-5);
    });

    it(`${kernel}x${kernel} conv then downsample equals the stride-2 conv`, () => {
      const fused = run((ctx, x) => convDownsample(ctx, x, 'c.weight', 'c.bias'));
      const plain = run((ctx, x) => downsample(ctx.b, equalizedConv(ctx, x, 'c.weight', 'c.bias')));
      expect(fused.shape).toEqual([2, 2, 3, 3]);
      expectClose(fused.data, plain.data, 1e-5);
    });
  }

  it('synthesis and discriminator agree with and without fusion', () => {
    const spec = tinySpec({ channels: { 4: 3, 8: 2, 16: 2 } });
    const params = initParams(spec, 4);
    for (const p of spec.params) params[p.name]!.data.forEach((v, i, data) => (data[i] = v + 0.2 * Math.cos(i)));
    const images = [true, false].map((fuseResampling) => {
      const b = new Builder();
      const ctx = context(b, spec, 2, { fuseResampling, style: (i: number) => b.input(`style${i}`, [2, 8]) });
      const image = synthesisNetwork(ctx, 16);
      b.output('image', image);
      b.output('logits', discriminatorNetwork(ctx, image, 16));
      const styles = Object.fromEntries([0, 1, 2, 3, 4, 5].map((i) => [`style${i}`, ramp([2, 8], 13 * i)]));
      return runGraph(b.graph, { ...params, ...styles });
    });
    expectClose(images[0]!.image!.data, images[1]!.image!.data, 1e-4);
    expectClose(images[0]!.logits!.data, images[1]!.logits!.data, 1e-4);
  });
});
