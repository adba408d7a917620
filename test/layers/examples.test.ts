// The lowering on the models that the checker builds from the shipped examples.

import { describe, expect, it } from 'vitest';
import { checkFile } from '../../src/check/index.ts';
import { Builder } from '../../src/ir/builder.ts';
import { verifyGraph } from '../../src/ir/verify.ts';
import { equalizedConv } from '../../src/layers/equalized.ts';
import {
  buildDiscriminator,
  buildDiscriminatorStep,
  buildGenerator,
  buildGeneratorStep,
  buildSynthesis,
} from '../../src/layers/programs.ts';
import type { ModelSpec } from '../../src/model/spec.ts';
import { initParams } from '../../src/params/init.ts';
import { tensor } from '../../src/runtime/tensor.ts';
import { runGraph } from '../../targets/ref/index.ts';
import { context, expectClose, ramp } from './helpers.ts';

function load(path: string): ModelSpec {
  const result = checkFile(path);
  if (result.spec === undefined) throw new Error(`${path} has errors: ${result.diagnostics.map((d) => d.message).join('; ')}`);
  return result.spec;
}

const ffhq = load('examples/stylegan-ffhq-1024.sgan');
const fashion = load('examples/fashion-32.sgan');

describe('equalized learning rate in the 1024 example', () => {
  it('mapping weight has std 100 and scale 0.01 sqrt(2) / sqrt(512)', () => {
    const weight = ffhq.params.find((p) => p.name === 'mapping.dense0.weight')!;
    expect(weight.init).toEqual({ kind: 'normal', std: 100 });
    expect(weight.runtimeScale).toBeCloseTo((0.01 * Math.SQRT2) / Math.sqrt(512), 12);
  });

  it('lowered 3x3 conv 512 -> 512 scales by sqrt(2) / sqrt(4608)', () => {
    const name = 'synthesis.b8.conv1.weight';
    expect(ffhq.params.find((p) => p.name === name)!.shape).toEqual([512, 512, 3, 3]);
    const b = new Builder();
    b.output('y', equalizedConv(context(b, ffhq, 1), b.input('x', [1, 512, 1, 1]), name));
    // A one-hot input on a 1x1 image reads only the centre tap w[o, 3, 1, 1].
    const x = tensor([1, 512, 1, 1]);
    x.data[3] = 1;
    const w = ramp([512, 512, 3, 3]);
    const y = runGraph(b.graph, { x, [name]: w }).y!;
    const scale = Math.SQRT2 / Math.sqrt(4608);
    expectClose(y.data, Array.from({ length: 512 }, (_, o) => scale * w.data[((o * 512 + 3) * 3 + 1) * 3 + 1]!));
  });

  it('generator at 1024 passes the verifier', () => {
    const graph = buildGenerator(ffhq, { stage: 1024, batch: 1, fading: true, noise: 'random' });
    expect(() => verifyGraph(graph)).not.toThrow();
    expect(graph.shape(graph.outputs.get('image')!)).toEqual([1, 3, 1024, 1024]);
  });
});

describe('fashion-32 example', () => {
  const stages = fashion.synthesis.stages.map((s) => s.res);

  it('every program passes the verifier at every stage', () => {
    for (const stage of stages) {
      for (const fading of stage === stages[0] ? [false] : [false, true]) {
        const opts = { stage, batch: 4, fading };
        const graphs = [
          buildGenerator(fashion, { ...opts, noise: 'random' }),
          buildSynthesis(fashion, { ...opts, noise: 'input' }),
          buildDiscriminator(fashion, opts),
          buildGeneratorStep(fashion, opts),
          buildDiscriminatorStep(fashion, { ...opts, r1Gamma: fashion.train.r1Gamma }),
        ];
        for (const graph of graphs) expect(() => verifyGraph(graph), `stage ${stage} fading ${fading}`).not.toThrow();
      }
    }
  });

  it('training steps at 8x8 give finite losses and gradients', () => {
    const params = initParams(fashion, 1);
    const n = 4;
    const layers = fashion.styleLayers.length;
    const generator = runGraph(buildGenerator(fashion, { stage: 8, batch: n, fading: true, noise: 'random' }), {
      ...params,
      z1: ramp([n, 64]),
      z2: ramp([n, 64], 9),
      mix: tensor([layers]),
      trunc: tensor([layers], new Array(layers).fill(1)),
      w_avg: tensor([64]),
      alpha: tensor([], [0.5]),
      noise_key: tensor([], [1]),
    });
    const step = buildDiscriminatorStep(fashion, { stage: 8, batch: n, fading: true, r1Gamma: 1 });
    const out = runGraph(step, { ...params, real: ramp([n, 1, 8, 8]), fake: generator.image!, alpha: tensor([], [0.5]) });
    for (const [name, t] of Object.entries(out)) {
      expect(Array.from(t.data).every(Number.isFinite), name).toBe(true);
    }
    expect(out.r1!.data[0]).toBeGreaterThan(0);
  });
});
