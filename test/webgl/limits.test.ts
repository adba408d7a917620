// Edge cases of the webgl target's code generation: exact integer index math, long reduction
// loops and texture layouts under a small MAX_TEXTURE_SIZE. Each case runs in headless-gl (skipped
// with a reason where it cannot run) and in gpu.js cpu mode.

import { GPU } from 'gpu.js';
import { afterAll, describe, expect, it } from 'vitest';
import { conv2dShape } from '../../src/ir/builder.ts';
import type { ConvAttrs } from '../../src/ir/graph.ts';
import { createWebglTarget, WebglLayoutError, webglKernelSources } from '../../targets/webgl/index.ts';
import { textureLayout } from '../../targets/webgl/layout.ts';
import { SourceWriter } from '../../targets/webgl/writer.ts';
import { buildGraph, expectContraction, expectExact, MODES, randomFeeds, webglTarget } from './helpers.ts';

/** Runs a one-dimensional gpu.js kernel whose body returns floor division or remainder of a = first + thread.x by d. */
function runDivmod(gpu: GPU, first: number, count: number, d: number, part: 'quotient' | 'remainder'): Float32Array {
  const w = new SourceWriter();
  const a = w.define('a', `this.thread.x * 1.0 + (${first.toFixed(1)})`);
  const result = w.divmod(a, d);
  w.line(`return ${result[part]};`);
  const kernel = gpu.createKernel(`function () {\n${w.body()}\n}`, { output: [count], precision: 'single', tactic: 'precision' });
  const values = kernel() as unknown as ArrayLike<number>;
  return Float32Array.from(values);
}

/** Ranges of a: around zero (negative operands), and just inside 2^24 and -2^24. */
const RANGES: [number, number][] = [
  [-2000, 4001],
  [2 ** 24 - 3000, 3000],
  [-(2 ** 24) + 1, 3000],
];

for (const { mode, skip } of MODES) {
  describe.skipIf(skip)(`webgl ${mode} index math`, () => {
    const gpu = new GPU({ mode });
    afterAll(() => gpu.destroy());

    for (const d of [6, 7, 3, 12, 1000, 4095]) {
      it(`floor division and remainder by ${d} are exact`, () => {
        for (const [first, count] of RANGES) {
          const quotients = runDivmod(gpu, first, count, d, 'quotient');
          const remainders = runDivmod(gpu, first, count, d, 'remainder');
          const wrong: string[] = [];
          for (let k = 0; k < count; k++) {
            const a = first + k;
            const q = Math.floor(a / d);
            if (quotients[k] !== q || remainders[k] !== a - q * d) wrong.push(`${a}: got ${quotients[k]}, ${remainders[k]}`);
          }
          expect(wrong.slice(0, 5)).toEqual([]);
        }
      });
    }

    it('movements over axes of 6 and 7 equal ref exactly', async () => {
      const graph = buildGraph({ x: [6, 7, 6] }, (b, v) => {
        const rows = b.reshape(b.permute(v.x!, [2, 0, 1]), [6, 42]);
        const bySix = b.slice(rows, [0, 1], [6, 37], [1, 6]);
        const bySeven = b.slice(rows, [0, 0], [6, 42], [1, 7]);
        return b.add(b.flip(bySix, [1]), bySeven);
      });
      await expectExact(graph, randomFeeds(graph, 61), mode);
    });

    it('pad with periods 6 and 7 equals ref exactly', async () => {
      const graph = buildGraph({ y: [3, 4] }, (b, v) => b.pad(v.y!, [2, 3], [1, 0], [5, 6]));
      await expectExact(graph, randomFeeds(graph, 62), mode);
    });

    it('conv2dBackInput with stride 7 is within the dot-product bound', async () => {
      // (iy + top - ky) / 7 has negative numerators and remainders 1 to 6 that must be skipped.
      const attrs: ConvAttrs = { stride: 7, padding: [3, 3, 3, 3], groups: 1 };
      const x: [number, number, number, number] = [1, 2, 15, 15];
      const weight: [number, number, number, number] = [3, 2, 7, 7];
      const graph = buildGraph({ dy: conv2dShape(x, weight, attrs), w: weight }, (b, v) => b.conv2dBackInput(v.dy!, v.w!, attrs, x));
      await expectContraction(graph, randomFeeds(graph, 63), 3 * 49, mode);
    });

    it('conv over 512 channels loops all 4608 taps', async () => {
      const attrs: ConvAttrs = { stride: 1, padding: [1, 1, 1, 1], groups: 1 };
      const graph = buildGraph({ x: [1, 512, 4, 4], w: [2, 512, 3, 3] }, (b, v) => b.conv2d(v.x!, v.w!, attrs));
      const [source] = webglKernelSources(graph);
      // The loop bound is written as a constant, so gpu.js emits the loop without its 1000-iteration cap.
      expect(source!.source).toContain('< 512;');
      const feeds = randomFeeds(graph, 64);
      // Positive inputs make every product add, so a loop cut short would show as a large error.
      feeds.x!.data.forEach((v, i, data) => (data[i] = Math.abs(v)));
      feeds.w!.data.forEach((v, i, data) => (data[i] = Math.abs(v)));
      await expectContraction(graph, feeds, 4608, mode);
    });

    it('512-channel 64x64 tensor fits a 4096 texture limit', async () => {
      const shape = [1, 512, 64, 64];
      const graph = buildGraph({ x: shape }, (b, v) => b.mul(b.unary('lrelu', v.x!, 0.25), b.fill(shape, 2)));
      const target = mode === 'cpu' ? createWebglTarget({ mode, maxTextureSize: 4096 }) : webglTarget(mode, 4096);
      const program = target.compile(graph, 'wide');
      for (const layout of program.plan.bufferLayouts.values()) {
        expect(layout.width).toBeLessThanOrEqual(4096);
        expect(layout.height).toBeLessThanOrEqual(4096);
        expect(layout.width * layout.height).toBeGreaterThanOrEqual(512 * 64 * 64);
      }
      const feeds = randomFeeds(graph, 65);
      const out = (await program.run(feeds)).out!.data;
      // lrelu with slope 0.25 and doubling are exact in float32.
      const wrong = [...feeds.x!.data.keys()].filter((i) => {
        const v = feeds.x!.data[i]!;
        return out[i] !== 2 * (v > 0 ? v : 0.25 * v);
      });
      expect(wrong.slice(0, 5)).toEqual([]);
    });

    it.skipIf(mode === 'cpu')('layout wider than the device limit is rejected', async () => {
      // A plan for 100000 keeps each [100000] row in one texture row, far wider than llvmpipe's
      // limit of 16384.
      const graph = buildGraph({ x: [2, 100000] }, (b, v) => b.unary('neg', v.x!));
      const program = createWebglTarget({ mode, maxTextureSize: 100000 }).compile(graph, 'wide');
      await expect(program.run(randomFeeds(graph, 66))).rejects.toThrow(/100000 texels on a side, but this device's MAX_TEXTURE_SIZE is \d+/);
    });
  });
}

describe('webgl texture layouts', () => {
  it('tiles rows of the innermost axis side by side', () => {
    const layout = textureLayout('x', [1, 512, 64, 64], 4096);
    expect(layout.width % 64).toBe(0);
    expect(layout.width).toBeLessThanOrEqual(4096);
    expect(layout.height).toBeLessThanOrEqual(4096);
    expect(layout.width * layout.height).toBeGreaterThanOrEqual(2 ** 21);
  });

  it('a tensor over the texture limit is rejected by name', () => {
    const graph = buildGraph({ x: [1, 512, 64, 64] }, (b, v) => b.unary('neg', v.x!));
    const target = createWebglTarget({ mode: 'cpu', maxTextureSize: 1024 });
    expect(() => target.compile(graph, 'wide')).toThrow(WebglLayoutError);
    expect(() => target.compile(graph, 'wide')).toThrow(/tensor 'out' .*\[1, 512, 64, 64\].*limit of 1024.*--target wgsl or --target cpu/);
  });

  it('a tensor of 2^24 elements is rejected by name', () => {
    const graph = buildGraph({ x: [4096, 4096] }, (b, v) => b.unary('neg', v.x!));
    expect(() => createWebglTarget({ mode: 'cpu', maxTextureSize: 16384 }).compile(graph, 'huge')).toThrow(
      /tensor 'out' .*\[4096, 4096\] has 16777216 elements.*--target wgsl or --target cpu/,
    );
  });

  it('a small texture is one row', () => {
    expect(textureLayout('x', [5], 4096)).toEqual({ width: 5, height: 1, size: 5 });
  });
});
