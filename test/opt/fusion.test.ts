// Kernel counts for the StyleGAN layer patterns and the fusion invariants. Each pattern is built
// here with the builder, so the expected count follows from the fusion rules alone:
// - a reduction or contraction feeds its consumer in the same kernel only elementwise;
// - instance norm reductions broadcast back over their own trailing axes share one row kernel;
// - contraction operands fold in movements and at most two light ops.

import { describe, expect, it } from 'vitest';
import { gradients } from '../../src/autodiff/gradients.ts';
import { Builder } from '../../src/ir/builder.ts';
import { type Graph, type NodeId, numel } from '../../src/ir/graph.ts';
import { checkFile } from '../../src/check/index.ts';
import { buildMapping } from '../../src/layers/programs.ts';
import type { FusedProgram } from '../../src/kernel/kernel.ts';
import { compileKernels, type TargetLimits, webgpuLimits } from '../../src/opt/index.ts';
import { fusedRefTarget, runFused } from '../../targets/ref/fused.ts';
import { runGraph } from '../../targets/ref/index.ts';
import { programFeeds } from './feeds.ts';
import { compareTensors } from './random-graph.ts';

const TOLERANCE = 1e-4;

function fuse(graph: Graph, limits: TargetLimits = webgpuLimits()): FusedProgram {
  return compileKernels(graph, limits, { verify: true }).program;
}

function kindsOf(program: FusedProgram): string[] {
  return program.kernels.map((kernel) => kernel.kind);
}

function expectFusedEqualsUnfused(graph: Graph, program: FusedProgram, feeds = programFeeds(undefined, graph)): void {
  expect(compareTensors(runFused(program, feeds), runGraph(graph, feeds), TOLERANCE)).toBeUndefined();
}

/** Upsamples [N, C, H, W] 2x by nearest neighbour as reshape, broadcast, reshape. */
function upsample(b: Builder, x: NodeId): NodeId {
  const [n, c, h, w] = b.shape(x) as [number, number, number, number];
  const expanded = b.broadcastTo(b.reshape(x, [n, c, h, 1, w, 1]), [n, c, h, 2, w, 2]);
  return b.reshape(expanded, [n, c, 2 * h, 2 * w]);
}

/** Applies bias, leaky ReLU 0.2 and gain sqrt(2), the epilogue of every StyleGAN conv. */
function biasActivation(b: Builder, x: NodeId, bias: NodeId): NodeId {
  const channels = b.shape(bias)[0]!;
  const biased = b.add(x, b.reshape(bias, [1, channels, 1, 1]));
  return b.scale(b.unary('lrelu', biased, 0.2), Math.SQRT2);
}

/** Builds a synthesis layer: upsample, 3x3 conv, noise, bias, leaky ReLU, AdaIN with an affine style. */
function synthesisLayer(n: number, cin: number, cout: number, h: number): Graph {
  const b = new Builder();
  const x = b.input('x', [n, cin, h, h]);
  const latent = b.input('latent', [n, 8]);
  const key = b.input('noise_key', []);
  const weight = b.param('weight', [cout, cin, 3, 3]);
  const bias = b.param('bias', [cout]);
  const strength = b.param('strength', [cout]);
  const affine = b.param('affine', [2 * cout, 8]);
  const affineBias = b.param('affine_bias', [2 * cout]);

  let y = b.conv2d(upsample(b, x), b.scale(weight, 1 / Math.sqrt(cin * 9)), { padding: [1, 1, 1, 1] });
  const noise = b.randn([n, 1, 2 * h, 2 * h], key, 1);
  y = b.add(y, b.mul(noise, b.reshape(strength, [1, cout, 1, 1])));
  y = biasActivation(b, y, bias);

  const style = b.add(b.matmul(latent, b.permute(b.scale(affine, 1 / Math.sqrt(8)), [1, 0])), affineBias);
  const scale = b.reshape(b.slice(style, [0, 0], [n, cout]), [n, cout, 1, 1]);
  const shift = b.reshape(b.slice(style, [0, cout], [n, 2 * cout]), [n, cout, 1, 1]);
  const centred = b.sub(y, b.mean(y, [2, 3], true));
  const variance = b.mean(b.unary('square', centred), [2, 3], true);
  const normalized = b.mul(centred, b.unary('rsqrt', b.add(variance, b.scalar(1e-8))));
  b.output('y', b.add(b.mul(normalized, b.add(scale, b.scalar(1))), shift));
  return b.graph;
}

/** Builds a discriminator block: conv + bias + lrelu, depthwise [1, 2, 1] blur, conv, 2x2 average, bias + lrelu. */
function discriminatorBlock(n: number, c: number, h: number): Graph {
  const b = new Builder();
  const x = b.input('x', [n, c, h, h]);
  const w0 = b.param('w0', [c, c, 3, 3]);
  const w1 = b.param('w1', [2 * c, c, 3, 3]);
  const b0 = b.param('b0', [c]);
  const b1 = b.param('b1', [2 * c]);
  const taps = [1, 2, 1].flatMap((p) => [1, 2, 1].map((q) => (p * q) / 16));
  const blurKernel = b.literal([c, 1, 3, 3], Array.from({ length: c }, () => taps).flat());

  let y = biasActivation(b, b.conv2d(x, b.scale(w0, 1 / Math.sqrt(c * 9)), { padding: [1, 1, 1, 1] }), b0);
  y = b.conv2d(y, blurKernel, { padding: [1, 1, 1, 1], groups: c });
  y = b.conv2d(y, b.scale(w1, 1 / Math.sqrt(c * 9)), { padding: [1, 1, 1, 1] });
  const pooled = b.scale(b.sum(b.reshape(y, [n, 2 * c, h / 2, 2, h / 2, 2]), [3, 5]), 0.25);
  b.output('y', biasActivation(b, pooled, b1));
  return b.graph;
}

describe('kernel counts of layer patterns', () => {
  it('synthesis layer is three kernels', () => {
    const graph = synthesisLayer(2, 4, 6, 4);
    const program = fuse(graph);
    // The style affine map, the conv with upsample prologue and noise-bias-lrelu epilogue, and
    // instance norm with the style applied.
    expect(kindsOf(program).sort()).toEqual(['contraction', 'contraction', 'row']);
    expectFusedEqualsUnfused(graph, program);
  });

  it('AdaIN is at most two kernels', () => {
    const program = fuse(synthesisLayer(2, 4, 6, 4));
    const rowKernels = program.kernels.filter((kernel) => kernel.kind === 'row');
    expect(rowKernels).toHaveLength(1);
    const matmulKernels = program.kernels.filter((kernel) => kernel.exprs.some((e) => e.kind === 'matmul'));
    expect(matmulKernels).toHaveLength(1);
    expect(rowKernels[0]!.exprs.filter((e) => e.kind === 'reduce')).toHaveLength(2);
  });

  it('discriminator block is four kernels', () => {
    const graph = discriminatorBlock(2, 3, 8);
    const program = fuse(graph);
    // conv + epilogue, blur, conv, and the 2x2 average with its bias + lrelu epilogue.
    expect(kindsOf(program)).toEqual(['contraction', 'contraction', 'contraction', 'reduce']);
    expectFusedEqualsUnfused(graph, program);
  });

  it('mapping network is one kernel per layer', () => {
    const spec = checkFile('examples/fashion-32.sgan').spec!;
    const graph = buildMapping(spec, { batch: 3 });
    const program = fuse(graph);
    // Pixel norm (a row kernel), then four dense layers with bias + lrelu epilogues.
    expect(kindsOf(program)).toEqual(['row', 'contraction', 'contraction', 'contraction', 'contraction']);
    expectFusedEqualsUnfused(graph, program, programFeeds(spec, graph));
  });

  it('fade-in lerp joins the ToRGB conv', () => {
    // lerp(upsample(toRGB_old(x_old)), toRGB_new(x_new), alpha) with 1x1 convs and biases.
    const b = new Builder();
    const xOld = b.input('x_old', [2, 4, 4, 4]);
    const xNew = b.input('x_new', [2, 3, 8, 8]);
    const alpha = b.input('alpha', []);
    const old = b.add(b.conv2d(xOld, b.param('rgb_old', [1, 4, 1, 1])), b.reshape(b.param('bias_old', [1]), [1, 1, 1, 1]));
    const next = b.add(b.conv2d(xNew, b.param('rgb_new', [1, 3, 1, 1])), b.reshape(b.param('bias_new', [1]), [1, 1, 1, 1]));
    b.output('image', b.lerp(upsample(b, old), next, alpha));
    const program = fuse(b.graph);
    // The old ToRGB is read through the upsample's broadcast, so it gets a buffer. The lerp is
    // the new ToRGB's epilogue.
    expect(kindsOf(program)).toEqual(['contraction', 'contraction']);
    const last = program.kernels[1]!;
    expect(last.exprs.some((e) => e.kind === 'conv2d')).toBe(true);
    expect(last.exprs.filter((e) => e.kind === 'binary').map((e) => (e as { op: string }).op).sort()).toEqual(['add', 'add', 'mul', 'sub']);
    expectFusedEqualsUnfused(b.graph, program);
  });

  it('elementwise chain gradient is one kernel', () => {
    const b = new Builder();
    const x = b.input('x', [4, 8]);
    const dy = b.input('dy', [4, 8]);
    const y = b.mul(b.unary('softplus', b.unary('lrelu', b.add(b.scale(x, 2), b.scalar(1)), 0.2)), b.unary('sigmoid', x));
    const [dx] = gradients(b, y, [x], dy);
    b.output('dx', dx!);
    const program = fuse(b.graph);
    expect(program.kernels).toHaveLength(1);
    expect(program.kernels[0]!.kind).toBe('elementwise');
    expectFusedEqualsUnfused(b.graph, program);
  });
});

describe('fusion invariants', () => {
  it('output inside a chain is kept', () => {
    const b = new Builder();
    const x = b.input('x', [3, 5]);
    const first = b.unary('exp', x);
    b.output('first', first);
    b.output('second', b.scale(b.unary('neg', first), 2));
    const program = fuse(b.graph);
    expect([...program.outputs.keys()]).toEqual(['first', 'second']);
    expect(program.kernels).toHaveLength(2);
    expectFusedEqualsUnfused(b.graph, program);
  });

  it('shared reduction is computed once', () => {
    const b = new Builder();
    const x = b.input('x', [3, 5]);
    const total = b.sum(x, [1]);
    b.output('double', b.scale(total, 2));
    b.output('next', b.add(total, b.scalar(1)));
    const program = fuse(b.graph);
    const reducing = program.kernels.filter((kernel) => kernel.exprs.some((e) => e.kind === 'reduce'));
    expect(reducing).toHaveLength(1);
    expectFusedEqualsUnfused(b.graph, program);
  });

  it('cheap shared op is recomputed', () => {
    const b = new Builder();
    const x = b.input('x', [3, 5]);
    const tripled = b.scale(x, 3);
    b.output('rows', b.sum(tripled, [1]));
    b.output('columns', b.sum(tripled, [0]));
    const { program, plan, graph } = compileKernels(b.graph, webgpuLimits(), { verify: true });
    expect(program.kernels).toHaveLength(2);
    for (const kernel of program.kernels) expect(kernel.exprs.some((e) => e.kind === 'binary' && e.op === 'mul')).toBe(true);
    // The plan names the one recomputed node: the multiply, in both kernels.
    expect([...plan.recomputed.values()]).toEqual([2]);
    const [recomputed] = plan.recomputed.keys();
    expect(graph.node(recomputed!).kind).toBe('binary');
    expectFusedEqualsUnfused(b.graph, program);
  });

  it('reductions over other axes are not merged', () => {
    const b = new Builder();
    const x = b.input('x', [4, 6]);
    const centred = b.sub(x, b.sum(x, [1], true));
    b.output('y', b.sum(b.unary('square', centred), [0]));
    const program = fuse(b.graph);
    // The row sum and the centring share a row kernel; the column sum reads its buffer.
    expect(kindsOf(program)).toEqual(['row', 'reduce']);
    expectFusedEqualsUnfused(b.graph, program);
  });

  it('instance norm shares one row kernel', () => {
    const b = new Builder();
    const x = b.input('x', [2, 3, 4, 4]);
    const centred = b.sub(x, b.mean(x, [2, 3], true));
    const variance = b.mean(b.unary('square', centred), [2, 3], true);
    b.output('y', b.mul(centred, b.unary('rsqrt', b.add(variance, b.scalar(1e-5)))));
    const program = fuse(b.graph);
    expect(kindsOf(program)).toEqual(['row']);
    expect(program.kernels[0]!.rowAxes).toEqual([2, 3]);
    expectFusedEqualsUnfused(b.graph, program);
  });

  it('constant output gets a kernel', () => {
    const b = new Builder();
    b.input('x', [2]);
    b.output('zero', b.add(b.scalar(0), b.scalar(0)));
    b.output('taps', b.literal([3], [1, 2, 1]));
    const program = fuse(b.graph);
    // The folded fill needs a kernel to write it; the literal is a buffer already.
    expect(program.kernels).toHaveLength(1);
    expect(program.kernels[0]!.exprs.map((e) => e.kind)).toEqual(['fill']);
    const result = runFused(program, { x: { shape: [2], data: new Float32Array(2) } });
    expect(result.zero!.shape).toEqual([]);
    expect(Array.from(result.zero!.data)).toEqual([0]);
    expect(Array.from(result.taps!.data)).toEqual([1, 2, 1]);
  });

  it('output that is an input needs no kernel', () => {
    const b = new Builder();
    const x = b.input('x', [2, 2]);
    b.output('same', b.scale(x, 1));
    const program = fuse(b.graph);
    expect(program.kernels).toHaveLength(0);
    const feeds = { x: { shape: [2, 2], data: Float32Array.of(1, 2, 3, 4) } };
    expect(Array.from(runFused(program, feeds).same!.data)).toEqual([1, 2, 3, 4]);
  });
});

describe('fused executor', () => {
  it('unused input is still checked', () => {
    const b = new Builder();
    const x = b.input('x', [2]);
    b.input('unused', [3]);
    b.output('y', b.unary('neg', x));
    const program = fuse(b.graph);
    const x2 = { shape: [2], data: Float32Array.of(1, -2) };
    expect(() => runFused(program, { x: x2 })).toThrow("missing feed for input 'unused': expected a tensor of shape [3]");
    const wrong = { shape: [2], data: Float32Array.of(0, 0) };
    expect(() => runFused(program, { x: x2, unused: wrong })).toThrow("invalid feed for input 'unused': expected shape [3], got [2]");
    expect(Array.from(runFused(program, { x: x2, unused: { shape: [3], data: new Float32Array(3) } }).y!.data)).toEqual([-1, 2]);
  });

  it('target runs a compiled program', async () => {
    const b = new Builder();
    const x = b.input('x', [2, 3]);
    b.output('rows', b.sum(b.unary('square', x), [1]));
    const compiled = fusedRefTarget.compile(b.graph, 'squares');
    const result = await compiled.run({ x: { shape: [2, 3], data: Float32Array.of(1, 2, 3, -1, 0, 2) } });
    expect(result.rows!.shape).toEqual([2]);
    expect(Array.from(result.rows!.data)).toEqual([14, 5]);
  });
});

describe('scheduling and buffers', () => {
  /** x0 + x1 + ... + x8: nine inputs and one output in a single elementwise expression. */
  function wideSum(): Graph {
    const b = new Builder();
    let total = b.input('x0', [4]);
    for (let i = 1; i < 9; i++) total = b.add(total, b.input(`x${i}`, [4]));
    b.output('y', total);
    return b.graph;
  }

  it('siblings sharing an input merge', () => {
    const b = new Builder();
    const x = b.input('x', [2, 3]);
    const y = b.input('y', [2, 3]);
    b.output('sum', b.add(x, y));
    b.output('product', b.mul(x, b.unary('exp', y)));
    b.output('other', b.unary('neg', b.input('z', [2, 3])));
    const program = fuse(b.graph);
    // sum and product read x and y, so one kernel writes both; other reads only z.
    expect(program.kernels.map((kernel) => kernel.outputs.length)).toEqual([2, 1]);
    expect(program.kernels.map((kernel) => kernel.name)).toEqual(['k0_add', 'k1_neg']);
    expectFusedEqualsUnfused(b.graph, program);
  });

  it('siblings stay apart over the buffer limit', () => {
    const b = new Builder();
    const inputs = ['a', 'b', 'c'].map((name) => b.input(name, [4]));
    b.output('first', b.add(inputs[0]!, inputs[1]!));
    b.output('second', b.mul(inputs[0]!, inputs[2]!));
    // Together: three inputs and two outputs, one more than four buffers.
    expect(fuse(b.graph, { ...webgpuLimits(), maxStorageBuffers: 4 }).kernels).toHaveLength(2);
    expect(fuse(b.graph, { ...webgpuLimits(), maxStorageBuffers: 5 }).kernels).toHaveLength(1);
  });

  it('wide kernel is split at eight buffers', () => {
    const program = fuse(wideSum());
    expect(program.kernels).toHaveLength(2);
    for (const kernel of program.kernels) expect(kernel.inputs.length + kernel.outputs.length).toBeLessThanOrEqual(8);
    const feeds = Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`x${i}`, { shape: [4], data: Float32Array.of(i, 1, 2, 3) }]));
    expect(Array.from(runFused(program, feeds).y!.data)).toEqual([36, 9, 18, 27]);
  });

  it('select stays whole at four buffers', () => {
    const b = new Builder();
    const [x, y, z] = ['x', 'y', 'z'].map((name) => b.input(name, [3]));
    b.output('picked', b.select(x!, y!, z!));
    const program = fuse(b.graph, { ...webgpuLimits(), maxStorageBuffers: 4 });
    expect(program.kernels).toHaveLength(1);
    expect(program.kernels[0]!.inputs).toHaveLength(3);
  });

  it('fewer than four buffers are rejected', () => {
    const b = new Builder();
    b.output('y', b.unary('neg', b.input('x', [3])));
    expect(() => fuse(b.graph, { ...webgpuLimits(), maxStorageBuffers: 3 })).toThrow(
      'invalid target limits: maxStorageBuffers is 3, expected at least 4',
    );
  });

  it('wide kernel stays whole at sixteen buffers', () => {
    expect(fuse(wideSum(), { ...webgpuLimits(), maxStorageBuffers: 16 }).kernels).toHaveLength(1);
  });

  it('large grid wraps into y', () => {
    const b = new Builder();
    b.output('y', b.unary('neg', b.input('x', [5_000_000])));
    const [kernel] = fuse(b.graph).kernels;
    // 5,000,000 / 64 = 78,125 workgroups: 65,535 in x and 2 rows in y.
    expect(kernel!.dispatch.workgroupSize).toBe(64);
    expect(kernel!.dispatch.workgroups).toEqual([65_535, 2, 1]);
  });

  it('row workgroup fits workgroup memory', () => {
    const b = new Builder();
    const x = b.input('x', [2, 3, 16, 16]);
    const centred = b.sub(x, b.mean(x, [2, 3], true));
    b.output('y', b.mul(centred, b.sum(b.unary('square', centred), [2, 3], true)));
    const limits = { ...webgpuLimits(), maxWorkgroupBytes: 1024 };
    const [kernel] = fuse(b.graph, limits).kernels;
    // Two reductions at 4 bytes each per invocation: 1024 / 8 = 128 invocations.
    expect(kernel!.kind).toBe('row');
    expect(kernel!.dispatch.workgroupSize).toBe(128);
    expect(kernel!.dispatch.workgroupBytes).toBe(1024);
  });

  it('row workgroup fits compatibility mode', () => {
    const b = new Builder();
    const x = b.input('x', [2, 3, 16, 16]);
    b.output('y', b.sub(x, b.mean(x, [2, 3], true)));
    const [kernel] = fuse(b.graph, webgpuLimits(true)).kernels;
    // 256-element rows get the 128-invocation limit, one workgroup per (n, c) row.
    expect(kernel!.dispatch.workgroupSize).toBe(128);
    expect(kernel!.dispatch.workgroups).toEqual([6, 1, 1]);
    expect(kernel!.dispatch.workgroupBytes).toBe(128 * 4);
  });

  it('dead buffers are reused', () => {
    // A chain of four [16, 16] matmuls: each product is a contraction operand of the next, so each
    // gets a buffer, and at most two (the one being read and the one being written) live at once.
    const b = new Builder();
    const w = b.param('w', [16, 16]);
    let x = b.input('x', [16, 16]);
    for (let i = 0; i < 4; i++) x = b.matmul(x, w);
    b.output('y', x);
    const program = fuse(b.graph);
    expect(program.kernels).toHaveLength(4);
    expect(program.liveBytes).toBe(2 * 1024);
    expect(program.peakBytes).toBe(2 * 1024);
    expectFusedEqualsUnfused(b.graph, program);
  });

  it('live buffers never overlap', () => {
    const program = fuse(synthesisLayer(2, 4, 6, 4));
    const lifetime = new Map<number, [number, number]>();
    program.kernels.forEach((kernel, k) => {
      for (const output of kernel.outputs) lifetime.set(output.buffer, [k, k]);
      for (const input of kernel.inputs) if (lifetime.has(input)) lifetime.get(input)![1] = k;
    });
    for (const buffer of program.outputs.values()) if (lifetime.has(buffer)) lifetime.get(buffer)![1] = Infinity;
    const placed = program.buffers.filter((buffer) => lifetime.has(buffer.id));
    for (const p of placed) {
      expect(p.offset % 256).toBe(0);
      for (const q of placed) {
        if (p.id >= q.id) continue;
        const [p0, p1] = lifetime.get(p.id)!;
        const [q0, q1] = lifetime.get(q.id)!;
        if (!(p0 <= q1 && q0 <= p1)) continue;
        // Buffers live at the same time must not share bytes.
        const disjoint = p.offset >= q.offset + numel(q.shape) * 4 || q.offset >= p.offset + numel(p.shape) * 4;
        expect(disjoint, `buffers b${p.id} and b${q.id}`).toBe(true);
      }
    }
  });
});
