// WGSL code generation: golden sources, names from model files, tiled contractions, the packed
// layout for kernels with more storage buffers than the device allows, grids past 65,535
// workgroups, and the errors for rejected kernels and oversized tensors.
// Regenerate the golden files with `npx vitest run test/wgsl/codegen.test.ts -u` and review the diff.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { conv2dShape } from '../../src/ir/builder.ts';
import type { TensorMap } from '../../src/runtime/tensor.ts';
import { compileKernels, webgpuLimits } from '../../src/opt/index.ts';
import { sharedDevice } from '../../targets/wgsl/device.ts';
import { createWgslTarget, programShaders, TensorTooLargeError, wgslKernelSources } from '../../targets/wgsl/index.ts';
import { buildGraph, randomFeeds } from '../cpu/helpers.ts';
import { expectContraction, expectExact, expectWithin, runWgsl, wgsl } from './helpers.ts';

/** Builds an AdaIN-like block: a padded conv, bias, lrelu, instance norm and noise. */
function styleBlock(): ReturnType<typeof buildGraph> {
  return buildGraph({ x: [2, 4, 4, 4], w: [4, 4, 3, 3], bias: [1, 4, 1, 1], key: [] }, (b, v) => {
    const conv = b.conv2d(v.x!, v.w!, { stride: 1, padding: [1, 1, 1, 1], groups: 1 });
    const biased = b.unary('lrelu', b.add(conv, b.broadcastTo(v.bias!, [2, 4, 4, 4])), 0.2);
    const mean = b.broadcastTo(b.mul(b.sum(biased, [2, 3], true), b.fill([2, 4, 1, 1], 1 / 16)), [2, 4, 4, 4]);
    const centred = b.sub(biased, mean);
    const variance = b.mul(b.sum(b.mul(centred, centred), [2, 3], true), b.fill([2, 4, 1, 1], 1 / 16));
    const normed = b.mul(centred, b.broadcastTo(b.unary('rsqrt', b.add(variance, b.fill([2, 4, 1, 1], 1e-8)), 0), [2, 4, 4, 4]));
    return b.add(normed, b.randn([2, 4, 4, 4], v.key!, 3));
  });
}

describe('wgsl code generation', () => {
  it('kernel sources match the golden files', async () => {
    const sources = wgslKernelSources(styleBlock());
    expect(sources.map((s) => s.name)).toMatchSnapshot();
    for (const { name, source } of sources) await expect(source).toMatchFileSnapshot(`golden/${name}.wgsl`);
  });

  it('tiled matmul source matches the golden file', async () => {
    const graph = buildGraph({ a: [32, 64], b: [64, 48] }, (b, v) => b.unary('lrelu', b.matmul(v.a!, v.b!), 0.2));
    const [kernel] = wgslKernelSources(graph);
    expect(kernel!.source).toContain('var<workgroup> tile_a');
    await expect(kernel!.source).toMatchFileSnapshot('golden/tiled_matmul_lrelu.wgsl');
  });

  it('generation is deterministic', () => {
    expect(wgslKernelSources(styleBlock())).toEqual(wgslKernelSources(styleBlock()));
  });

  it('kernel sources carry the kernel name', () => {
    for (const { name, source } of wgslKernelSources(styleBlock())) {
      expect(source.startsWith(`// sganc kernel ${name}:`)).toBe(true);
    }
  });

  it('WGSL keywords as tensor names', async () => {
    const names = ['fn', 'let', 'type', 'storage', 'sampler', 'var', 'f32', 'main'];
    const inputs = Object.fromEntries(names.map((name) => [name, [2, 3]]));
    const graph = buildGraph(inputs, (b, v) => names.slice(1).reduce((sum, name) => b.add(sum, v[name]!), v.fn!));
    for (const { source } of wgslKernelSources(graph)) {
      const code = source.split('\n').filter((line) => !line.startsWith('//'));
      for (const name of ['fn', 'let', 'type', 'storage', 'sampler']) expect(code.join('\n')).not.toMatch(new RegExp(`var<storage[^>]*> ${name}:`));
    }
    await expectWithin(graph, randomFeeds(graph, 5), (expected) => 8 * 2 ** -24 * 8 * Math.max(1, Math.abs(expected)));
  });
});

describe('wgsl tiled contractions', () => {
  it('tiled convolutions are within bound', async () => {
    const arb = fc.record({
      n: fc.integer({ min: 1, max: 2 }),
      groups: fc.constantFrom(1, 2),
      cPerGroup: fc.constantFrom(16, 17),
      coPerGroup: fc.constantFrom(16, 20),
      h: fc.integer({ min: 5, max: 11 }),
      w: fc.integer({ min: 5, max: 11 }),
      k: fc.integer({ min: 1, max: 3 }),
      stride: fc.integer({ min: 1, max: 2 }),
      pad: fc.nat(1),
      seed: fc.integer({ min: 1, max: 2 ** 31 }),
    });
    await fc.assert(
      fc.asyncProperty(arb, async (r) => {
        const attrs = { stride: r.stride, padding: [r.pad, r.pad, r.pad, r.pad] as const, groups: r.groups };
        const x = [r.n, r.groups * r.cPerGroup, r.h, r.w] as const;
        const w = [r.groups * r.coPerGroup, r.cPerGroup, r.k, r.k] as const;
        const y = conv2dShape(x, w, attrs);
        const cases = [
          { graph: buildGraph({ x, w }, (b, v) => b.conv2d(v.x!, v.w!, attrs)), terms: r.cPerGroup * r.k * r.k },
          { graph: buildGraph({ dy: y, w }, (b, v) => b.conv2dBackInput(v.dy!, v.w!, attrs, x)), terms: r.coPerGroup * r.k * r.k },
          { graph: buildGraph({ x, dy: y }, (b, v) => b.conv2dBackWeight(v.x!, v.dy!, attrs, w)), terms: r.n * y[2]! * y[3]! },
        ];
        for (const { graph, terms } of cases) {
          expect(wgslKernelSources(graph)[0]!.source).toContain('var<workgroup> tile_a');
          await expectContraction(graph, randomFeeds(graph, r.seed), terms);
        }
      }),
      { numRuns: 5 },
    );
  });
});

describe('wgsl strided transposed convolutions', () => {
  const cases = [
    { name: 'kernel 4, stride 2, padding 1', x: [2, 16, 16, 16], w: [20, 16, 4, 4], stride: 2, padding: [1, 1, 1, 1] },
    { name: 'kernel 3, stride 2, uneven padding', x: [1, 17, 13, 11], w: [16, 17, 3, 3], stride: 2, padding: [1, 0, 0, 1] },
    { name: 'kernel 2, stride 3, two groups', x: [2, 32, 14, 15], w: [32, 16, 2, 2], stride: 3, padding: [0, 1, 1, 0] },
  ] as const;
  for (const c of cases) {
    it(`phased tiles, ${c.name}`, async () => {
      const groups = c.x[1] / c.w[1];
      const attrs = { stride: c.stride, padding: c.padding, groups };
      const y = conv2dShape(c.x, c.w, attrs);
      const graph = buildGraph({ dy: y, w: c.w }, (b, v) => b.conv2dBackInput(v.dy!, v.w!, attrs, c.x));
      const [kernel] = wgslKernelSources(graph);
      expect(kernel!.source).toContain('var<workgroup> tile_a');
      expect(kernel!.source).toContain('if (index != 0xffffffffu)');
      await expectContraction(graph, randomFeeds(graph, 12), (c.w[0] / groups) * c.w[2] * c.w[3]);
    });
  }
});

describe('wgsl storage buffer limits', () => {
  const inputs = Object.fromEntries([...Array(20).keys()].map((k) => [`x${k}`, [3, 7]]));
  const graph = buildGraph(inputs, (b, v) => Object.keys(inputs).slice(1).reduce((sum, name) => b.mul(b.add(sum, v[name]!), b.fill([3, 7], 0.5)), v.x0!));

  it('default limits split wide blocks', async () => {
    const { program } = compileKernels(graph, webgpuLimits());
    expect(program.kernels.length).toBeGreaterThan(1);
    for (const kernel of program.kernels) expect(kernel.inputs.length + kernel.outputs.length).toBeLessThanOrEqual(8);
    const sources = wgslKernelSources(graph);
    for (const { source } of sources) expect(source.match(/var<storage/g)!.length).toBeLessThanOrEqual(8);
    await expectExact(graph, randomFeeds(graph, 6));
  });

  it('over-limit block runs packed', async () => {
    const { program } = compileKernels(graph, { ...webgpuLimits(), maxStorageBuffers: 64 });
    expect(program.kernels.length).toBe(1);
    const [shader] = programShaders(program, { ...webgpuLimits(), maxStorageBuffers: 16 });
    expect(shader!.layout.kind).toBe('packed');
    expect(shader!.source).toContain('var<uniform> slots: Slots;');
    expect(shader!.source.match(/var<storage/g)!.length).toBe(2);
    // 20 inputs and one output are more than the 16 storage buffers llvmpipe allows per stage.
    const fused = createWgslTarget({ limits: { maxStorageBuffers: 64 } });
    const feeds = randomFeeds(graph, 7);
    const expected = await wgsl.compile(graph, 'split').run(feeds);
    const actual = await fused.compile(graph, 'packed').run(feeds);
    expect(actual.out!.data).toEqual(expected.out!.data);
  });
});

describe('wgsl target options', () => {
  it('given device runs the program', async () => {
    const { device } = await sharedDevice();
    const graph = buildGraph({ x: [4, 5] }, (b, v) => b.add(v.x!, b.fill([4, 5], 1)));
    const feeds = randomFeeds(graph, 9);
    const result = await createWgslTarget({ device }).compile(graph, 'given').run(feeds);
    expect(result.out!.data).toEqual(feeds.x!.data.map((value) => Math.fround(value + 1)));
  });
});

describe('wgsl dispatch and sizes', () => {
  it('large grid wraps into y', async () => {
    const size = 65_535 * 64 + 64 * 5 + 3;
    const graph = buildGraph({ x: [size] }, (b, v) => b.mul(v.x!, v.x!));
    const { program } = compileKernels(graph, webgpuLimits());
    expect(program.kernels[0]!.dispatch.workgroups[1]).toBe(2);
    const feeds: TensorMap = { x: { shape: [size], data: Float32Array.from({ length: size }, (_, i) => (i % 1000) / 7) } };
    const out = await runWgsl(graph, feeds);
    expect(out[size - 1]).toBe(Math.fround(Math.fround(((size - 1) % 1000) / 7) ** 2));
    await expectExact(graph, feeds);
  });

  it('rejected kernel is named', async () => {
    // Workgroups of 2048 invocations pass fusion under these limits, but no device limit allows them.
    const graph = buildGraph({ x: [2, 4096] }, (b, v) => b.mul(v.x!, b.broadcastTo(b.sum(v.x!, [1], true), [2, 4096])));
    const target = createWgslTarget({ limits: { maxInvocations: 2048, maxWorkgroupBytes: 1 << 20 } });
    const run = target.compile(graph, 'wide').run(randomFeeds(graph, 8));
    await expect(run).rejects.toThrow(/WebGPU rejected kernel k0_\w+ of program wide: /);
  });

  it('rejected program frees its buffers', async () => {
    const { device } = await sharedDevice();
    const created: GPUBuffer[] = [];
    const destroyed = new Set<GPUBuffer>();
    // Records every buffer the program creates and every destroy() call on one.
    const recording = new Proxy(device, {
      get(target, property) {
        if (property === 'createBuffer') {
          return (descriptor: GPUBufferDescriptor): GPUBuffer => {
            const buffer = target.createBuffer(descriptor);
            const destroy = buffer.destroy.bind(buffer);
            buffer.destroy = () => {
              destroyed.add(buffer);
              destroy();
            };
            created.push(buffer);
            return buffer;
          };
        }
        const value: unknown = Reflect.get(target, property);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const graph = buildGraph({ x: [2, 4096] }, (b, v) => b.mul(v.x!, b.broadcastTo(b.sum(v.x!, [1], true), [2, 4096])));
    const target = createWgslTarget({ device: recording, limits: { maxInvocations: 2048, maxWorkgroupBytes: 1 << 20 } });
    await expect(target.compile(graph, 'wide').run(randomFeeds(graph, 8))).rejects.toThrow(/WebGPU rejected kernel/);
    expect(created.length).toBeGreaterThanOrEqual(3);
    expect(created.filter((buffer) => !destroyed.has(buffer))).toEqual([]);
  });

  it('oversized tensor is named', async () => {
    const graph = buildGraph({ huge: [40_000_000] }, (b, v) => b.unary('neg', v.huge!));
    const run = wgsl.compile(graph, 'huge').run({});
    await expect(run).rejects.toThrow(TensorTooLargeError);
    await expect(run).rejects.toThrow(/input 'huge' of shape \[40000000\] needs 160000000 bytes, over the device's storage binding limit/);
    // The device stays usable: the failed setup left no error scope behind.
    const small = buildGraph({ x: [3] }, (b, v) => b.unary('neg', v.x!));
    await expectExact(small, randomFeeds(small, 10));
  });
});
