// The cpu target's fused path against the reference executor. The cases cover the code generator's
// vector access patterns (consecutive, equal and per-lane operands, the scalar tail), row kernels
// such as instance norm, and the normal generator's key check on worker threads. Further tests run
// the reference-executor fallback and compare fused with op-by-op results on fashion-32 programs.
//
// Bounds: movement, sums in float64, sqrt, division and the normal generator are exact, because the
// generated code performs the same float32 operations and float64 sums in the same order as the
// reference executor. The fashion-32 programs use the steps' bound (see helpers.ts expectClose).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Builder } from '../../src/ir/builder.ts';
import type { NodeId } from '../../src/ir/graph.ts';
import { buildDiscriminatorStep, buildGenerator, buildGeneratorStep } from '../../src/layers/programs.ts';
import { FusedCpuProgram } from '../../targets/cpu/fused-program.ts';
import { generatedModule } from '../../targets/cpu/assemble.ts';
import { CpuRuntime, cpuRuntime } from '../../targets/cpu/runtime.ts';
import { runFused } from '../../targets/ref/fused.ts';
import { applyMovement, MOVEMENT_CASES, movementChains } from '../ops/movement-cases.ts';
import { buildGraph, cpu1, cpu2, cpu2OpByOp, expectClose, expectExact, expectIdentical, fashion32, randomFeeds, stepFeeds } from './helpers.ts';

/** Builds instance norm over H and W with a per-channel scale and bias: (x - mean) / sqrt(var + 1e-8) * s + b. */
function instanceNorm(b: Builder, x: NodeId, s: NodeId, bias: NodeId): NodeId {
  const [n, c, h, w] = b.shape(x) as [number, number, number, number];
  const count = b.fill([n, c, 1, 1], 1 / (h * w));
  const mean = b.mul(b.sum(x, [2, 3], true), count);
  const centered = b.binary('sub', x, b.broadcastTo(mean, [n, c, h, w]));
  const variance = b.mul(b.sum(b.mul(centered, centered), [2, 3], true), count);
  const deviation = b.unary('sqrt', b.add(variance, b.fill([n, c, 1, 1], 1e-8)), 0);
  const normalized = b.binary('div', centered, b.broadcastTo(deviation, [n, c, h, w]));
  return b.add(b.mul(normalized, b.broadcastTo(s, [n, c, h, w])), b.broadcastTo(bias, [n, c, h, w]));
}

/** One step of a random chain. `choice` and `size` pick its axes and extents for the current shape. */
interface ChainStep {
  op: 'neg' | 'square' | 'addFlipped' | 'permute' | 'slice' | 'pad' | 'broadcast' | 'sum';
  choice: number;
  size: number;
}

/** Applies `step` to `x`, choosing arguments that are valid for x's shape. */
function applyStep(b: Builder, x: NodeId, step: ChainStep): NodeId {
  const shape = b.shape(x);
  const rank = shape.length;
  const axis = step.choice % rank;
  switch (step.op) {
    case 'neg':
      return b.unary('neg', x, 0);
    case 'square':
      return b.mul(x, x);
    case 'addFlipped':
      return b.add(x, b.flip(x, [axis]));
    case 'permute': {
      // Rotates the axes by choice, so every rotation of every rank occurs.
      const perm = shape.map((_, a) => (a + step.choice) % rank);
      return b.permute(x, perm);
    }
    case 'slice': {
      const start = shape.map((d, a) => (a === axis ? Math.min(step.size % 3, d - 1) : 0));
      const stride = shape.map((_, a) => (a === axis ? 1 + (step.choice % 2) : 1));
      return b.slice(x, start, [...shape], stride);
    }
    case 'pad': {
      const low = shape.map((_, a) => (a === axis ? step.size % 3 : 0));
      const high = shape.map((_, a) => (a === axis ? step.choice % 2 : 0));
      const interior = shape.map((_, a) => (a === axis ? step.size % 2 : 0));
      return b.pad(x, low, high, interior);
    }
    case 'broadcast': {
      if (rank >= 4) return b.unary('abs', x, 0);
      const expanded = [...shape.slice(0, axis), 1, ...shape.slice(axis)];
      const target = [...shape.slice(0, axis), 1 + step.size, ...shape.slice(axis)];
      return b.broadcastTo(b.reshape(x, expanded), target);
    }
    case 'sum':
      return rank === 1 ? b.sum(x, [0], true) : b.sum(x, [axis, rank - 1].filter((a, i, all) => all.indexOf(a) === i), true);
  }
}

describe('cpu fused kernels', () => {
  it('random movement chains equal ref exactly', async () => {
    const step = fc.record({
      op: fc.constantFrom<ChainStep['op']>('neg', 'square', 'addFlipped', 'permute', 'slice', 'pad', 'broadcast', 'sum'),
      choice: fc.nat(5),
      size: fc.nat(5),
    });
    const chain = fc.record({
      shape: fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 4 }),
      steps: fc.array(step, { minLength: 1, maxLength: 5 }),
      seed: fc.integer({ min: 1, max: 2 ** 31 }),
    });
    await fc.assert(
      fc.asyncProperty(chain, async ({ shape, steps, seed }) => {
        const graph = buildGraph({ x: shape }, (b, x) => steps.reduce((node, s) => applyStep(b, node, s), x.x!));
        await expectExact(graph, randomFeeds(graph, seed));
      }),
      { numRuns: 40, seed: 7 },
    );
  });

  it('vector operand paths equal ref exactly', async () => {
    // Each output adds x to a movement of y that the generator reads differently per 4 lanes.
    const cases: [string, Record<string, number[]>, (b: Builder, x: Record<string, NodeId>) => NodeId][] = [
      ['consecutive, aligned (permute keeping the last axis)', { x: [3, 2, 8], y: [2, 3, 8] }, (b, x) => b.add(x.x!, b.permute(x.y!, [1, 0, 2]))],
      ['consecutive, unaligned (slice from column 1)', { x: [3, 8], y: [3, 9] }, (b, x) => b.add(x.x!, b.slice(x.y!, [0, 1], [3, 9], [1, 1]))],
      ['equal lanes (channel bias)', { x: [2, 3, 4, 4], y: [1, 3, 1, 1] }, (b, x) => b.add(x.x!, b.broadcastTo(x.y!, [2, 3, 4, 4]))],
      ['equal lanes over two axes', { x: [5, 2, 2], y: [5, 1, 1] }, (b, x) => b.add(x.x!, b.broadcastTo(x.y!, [5, 2, 2]))],
      ['per lane (transpose)', { x: [6, 5], y: [5, 6] }, (b, x) => b.add(x.x!, b.permute(x.y!, [1, 0]))],
      ['per lane (transpose with 4 columns)', { x: [8, 4], y: [4, 8] }, (b, x) => b.add(x.x!, b.permute(x.y!, [1, 0]))],
      [
        'per lane after an unaligned slice',
        { x: [44], y: [2, 3, 8] },
        (b, x) => b.add(x.x!, b.slice(b.reshape(b.permute(x.y!, [1, 0, 2]), [48]), [1], [45], [1])),
      ],
      ['per lane (flip of the last axis)', { x: [3, 8], y: [3, 8] }, (b, x) => b.add(x.x!, b.flip(x.y!, [1]))],
      ['per lane (interior padding)', { x: [2, 7], y: [2, 4] }, (b, x) => b.add(x.x!, b.pad(x.y!, [0, 0], [0, 0], [0, 1]))],
      ['scalar tail (n mod 4 = 3)', { x: [3, 5], y: [3, 1] }, (b, x) => b.mul(x.x!, b.broadcastTo(x.y!, [3, 5]))],
    ];
    for (const [name, inputs, build] of cases) {
      const graph = buildGraph(inputs, build);
      await expect(expectExact(graph, randomFeeds(graph, name.length)), name).resolves.toBeUndefined();
    }
  });

  it('composed movement chains equal ref exactly', async () => {
    for (const { name, inputs, build } of MOVEMENT_CASES) {
      const graph = buildGraph(inputs, build);
      await expect(expectExact(graph, randomFeeds(graph, name.length)), name).resolves.toBeUndefined();
    }
  });

  it('random movement chains equal ref exactly', async () => {
    // A last axis of a multiple of 4 takes the generator's lane shortcut (lane l of a vector differs
    // from lane 0 only in the last coordinate), and a sum over it the vectorized reduction.
    const chains = movementChains(6).map(({ shape, movements }) => ({
      shape: shape.map((d, a) => (a === shape.length - 1 ? 4 * d : d)),
      movements,
    }));
    await fc.assert(
      fc.asyncProperty(chains, fc.boolean(), async ({ shape, movements }, reduce) => {
        const graph = buildGraph({ y: shape }, (b, x) => {
          const moved = movements.reduce((node, m) => applyMovement(b, node, m), x.y!);
          const doubled = b.add(moved, moved);
          return reduce ? b.sum(doubled, [b.shape(doubled).length - 1], true) : doubled;
        });
        await expectExact(graph, randomFeeds(graph, 13));
      }),
      { numRuns: 40, seed: 17 },
    );
  });

  it('instance norm row kernels equal ref exactly', async () => {
    for (const shape of [
      [2, 3, 5, 7],
      [2, 4, 8, 8],
    ]) {
      const [n, c] = shape as [number, number];
      const graph = buildGraph({ x: shape, s: [n, c, 1, 1], b: [n, c, 1, 1] }, (b, x) => instanceNorm(b, x.x!, x.s!, x.b!));
      const program = new FusedCpuProgram(graph, cpuRuntime(2), 'norm');
      expect(program.program.kernels.map((kernel) => kernel.kind)).toContain('row');
      await expectExact(graph, randomFeeds(graph, 41));
    }
  });

  it('vectorized reductions equal ref exactly', async () => {
    // The last axis (8) is reduced and spans whole vectors, so the reductions run 4 lanes at a time.
    const graph = buildGraph({ x: [3, 5, 8] }, (b, x) => {
      const square = b.mul(x.x!, x.x!);
      return b.add(b.add(b.sum(square, [0, 2]), b.reduce('max', x.x!, [0, 2])), b.sum(b.reduce('max', square, [2], true), [0, 2]));
    });
    const feeds = randomFeeds(graph, 45);
    await expectExact(graph, feeds);
    // A NaN propagates through max from any lane.
    feeds.x!.data[8 + 2] = NaN;
    await expectExact(graph, feeds);
  });

  it('transcendental ops in one kernel equal ref exactly', async () => {
    const graph = buildGraph({ x: [3, 11] }, (b, x) =>
      b.add(b.unary('softplus', b.unary('exp', x.x!, 0), 0), b.unary('sigmoid', b.unary('log', b.unary('abs', x.x!, 0), 0), 0)),
    );
    const feeds = randomFeeds(graph, 42);
    feeds.x!.data[0] = 0;
    await expectExact(graph, feeds);
  });

  it('randn with an invalid key fails on worker threads', async () => {
    const graph = buildGraph({ key: [] }, (b, x) => b.randn([64, 1024], x.key!, 3));
    await expectExact(graph, { key: { shape: [], data: Float32Array.of(99) } });
    await expect(cpu2.compile(graph, 'noise').run({ key: { shape: [], data: Float32Array.of(0.5) } })).rejects.toThrow(
      'invalid randn key 0.5: expected an integer in [0, 2^24)',
    );
  });

  it('failed caller share waits for workers', async () => {
    // $fail traps on the calling thread (tid 0) after a short spin, long enough for the worker to
    // start its own, longer spin, so the worker is still busy when the call raises. $mark writes
    // tid + 1 at byte 4 * tid, the worker again after a spin, so a caller that returns early reads 0.
    const text = `(module
  (import "env" "memory" (memory 1 32768 shared))
  (func $spin (param $tid i32) (param $count i32)
    (local $k i32)
    (loop $again
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $k) (local.get $count))))
    (i32.store (i32.add (i32.const 64) (i32.shl (local.get $tid) (i32.const 2))) (local.get $k)))
  (func $fail (export "fail") (param $tid i32) (param $threads i32)
    (if (i32.eqz (local.get $tid)) (then (call $spin (local.get $tid) (i32.const 10000000)) (unreachable)))
    (call $spin (local.get $tid) (i32.const 100000000)))
  (func $mark (export "mark") (param $tid i32) (param $threads i32)
    (if (i32.ne (local.get $tid) (i32.const 0)) (then (call $spin (local.get $tid) (i32.const 100000000))))
    (i32.store (i32.shl (local.get $tid) (i32.const 2)) (i32.add (local.get $tid) (i32.const 1)))))`;
    const runtime = new CpuRuntime(2);
    try {
      const loaded = await runtime.loadModule(await generatedModule(text), ['fail', 'mark']);
      expect(() => runtime.callLoaded(loaded, 0, [], true)).toThrow(WebAssembly.RuntimeError);
      runtime.callLoaded(loaded, 1, [], true);
      expect(Array.from(new Int32Array(runtime.memory.buffer, 0, 2))).toEqual([1, 2]);
    } finally {
      await runtime.close();
    }
  });

  it('reference fallback equals the fused model', async () => {
    const graph = buildGraph({ x: [2, 4, 8, 8], s: [2, 4, 1, 1], b: [2, 4, 1, 1], w: [4, 4, 3, 3] }, (b, x) =>
      b.conv2d(b.unary('lrelu', instanceNorm(b, x.x!, x.s!, x.b!), 0.2), x.w!, { stride: 1, padding: [1, 1, 1, 1], groups: 1 }),
    );
    const feeds = randomFeeds(graph, 43);
    const program = new FusedCpuProgram(graph, cpuRuntime(2), 'fallback', { referenceKernels: () => true });
    expect(program.fallbacks).toHaveLength(program.program.kernels.length);
    expectIdentical(await program.run(feeds), runFused(program.program, feeds));
  });

  it('fashion-32 programs compile without fallbacks', () => {
    const { spec } = fashion32();
    const step = buildDiscriminatorStep(spec, { stage: 32, batch: 4, fading: true, r1Gamma: spec.train.r1Gamma });
    expect(new FusedCpuProgram(step, cpuRuntime(2), 'd').fallbacks).toEqual([]);
  });

  it('fused equals op by op on fashion-32 programs', async () => {
    const { spec } = fashion32();
    const programs = [
      buildGenerator(spec, { stage: 16, batch: 2, fading: true, noise: 'random' }),
      buildGeneratorStep(spec, { stage: 16, batch: 2, fading: true }),
      buildDiscriminatorStep(spec, { stage: 16, batch: 2, fading: true, r1Gamma: spec.train.r1Gamma }),
    ];
    for (const graph of programs) {
      const feeds = stepFeeds(graph);
      expectClose(await cpu2.compile(graph, 'fused').run(feeds), await cpu2OpByOp.compile(graph, 'op-by-op').run(feeds));
    }
  });

  it('fused results do not depend on the thread count', async () => {
    const graph = buildGraph({ x: [4, 16, 32, 32], s: [4, 16, 1, 1], b: [4, 16, 1, 1] }, (b, x) => b.unary('lrelu', instanceNorm(b, x.x!, x.s!, x.b!), 0.2));
    const feeds = randomFeeds(graph, 44);
    expectIdentical(await cpu1.compile(graph, 'one').run(feeds), await cpu2.compile(graph, 'two').run(feeds));
  });
});
