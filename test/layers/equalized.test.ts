import { describe, expect, it } from 'vitest';
import { Builder } from '../../src/ir/builder.ts';
import { equalizedConv, equalizedDense } from '../../src/layers/equalized.ts';
import type { ModelSpec, ParamSpec } from '../../src/model/spec.ts';
import { tensor } from '../../src/runtime/tensor.ts';
import { runGraph } from '../../targets/ref/index.ts';
import { context, expectClose, ramp } from './helpers.ts';
import { tinySpec } from './tiny-spec.ts';

function withParams(params: ParamSpec[]): ModelSpec {
  return { ...tinySpec(), params };
}

describe('equalized learning rate', () => {
  it('mapping layer with lrmul 0.01 stores std 100 and scales by 0.01 sqrt(2) / sqrt(512)', () => {
    const spec = tinySpec({ zDim: 512, wDim: 512, lrmul: 0.01, mappingLayers: 1 });
    const weight = spec.params.find((p) => p.name === 'mapping.dense0.weight')!;
    const bias = spec.params.find((p) => p.name === 'mapping.dense0.bias')!;
    expect(weight.init).toEqual({ kind: 'normal', std: 100 });
    expect(weight.runtimeScale).toBeCloseTo((0.01 * Math.SQRT2) / Math.sqrt(512), 12);
    expect(bias.runtimeScale).toBe(0.01);
  });

  it('dense layer multiplies x by the scaled weight transposed and adds the scaled bias', () => {
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
