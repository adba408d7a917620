// Property tests: on random graphs, every pass and the whole fused program compute what the
// reference executor computes on the original graph.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Graph, opGroup } from '../../src/ir/graph.ts';
import { verifyGraph } from '../../src/ir/verify.ts';
import { compileKernels, webgpuLimits } from '../../src/opt/index.ts';
import { eliminateCommonSubexpressions, eliminateDeadCode, simplify } from '../../src/opt/passes.ts';
import { runFused } from '../../targets/ref/fused.ts';
import { runGraph } from '../../targets/ref/index.ts';
import { buildRandomGraph, compareTensors, programArbitrary, randomFeeds } from './random-graph.ts';

// Both executors round every op to float32 and sum reductions in the same order. Contractions may
// sum in another order, which moves a float32 result by about one unit in the last place before
// later ops amplify it, so the bound is 1e-4 relative to max(1, |value|).
const TOLERANCE = 1e-4;

const RUNS = 80;

function expectSameOutputs(graph: Graph, run: (feeds: ReturnType<typeof randomFeeds>) => Record<string, { shape: number[]; data: Float32Array }>): void {
  const feeds = randomFeeds();
  const mismatch = compareTensors(run(feeds), runGraph(graph, feeds), TOLERANCE);
  expect(mismatch).toBeUndefined();
}

describe('graph passes on random graphs', () => {
  const passes: [string, (g: Graph) => Graph][] = [
    ['simplify', simplify],
    ['cse', eliminateCommonSubexpressions],
    ['dce', eliminateDeadCode],
  ];
  for (const [name, pass] of passes) {
    it(`${name} keeps outputs and values`, () => {
      fc.assert(
        fc.property(programArbitrary, (program) => {
          const graph = buildRandomGraph(program);
          const result = pass(graph);
          verifyGraph(result);
          expect([...result.outputs.keys()]).toEqual([...graph.outputs.keys()]);
          expectSameOutputs(graph, (feeds) => runGraph(result, feeds));
        }),
        { numRuns: RUNS },
      );
    });
  }
});

describe('fused programs on random graphs', () => {
  it('fused equals unfused', () => {
    fc.assert(
      fc.property(programArbitrary, (program) => {
        const graph = buildRandomGraph(program);
        const { program: fused, graph: optimized, plan } = compileKernels(graph, webgpuLimits(), { verify: true });
        expectSameOutputs(graph, (feeds) => runFused(fused, feeds));

        // Every reduction and contraction runs in exactly one kernel, and only the nodes that the
        // plan lists as recomputed are evaluated by several. Fills are constants in every kernel.
        const evaluations = new Map<number, number>();
        for (const kernel of fused.kernels) {
          for (const id of kernel.nodes) {
            if (optimized.node(id).kind !== 'fill') evaluations.set(id, (evaluations.get(id) ?? 0) + 1);
          }
        }
        for (const [id, count] of evaluations) {
          const group = opGroup(optimized.node(id));
          if (group === 'reduce' || group === 'contraction') expect(count).toBe(1);
          if (count > 1) expect(plan.recomputed.get(id)).toBe(count);
        }
        for (const buffer of fused.outputs.values()) expect(fused.buffers[buffer]).toBeDefined();
      }),
      { numRuns: RUNS },
    );
  });

  it('fused equals unfused with four storage buffers per kernel', () => {
    const limits = { ...webgpuLimits(true), maxStorageBuffers: 4 };
    fc.assert(
      fc.property(programArbitrary, (program) => {
        const graph = buildRandomGraph(program);
        const { program: fused } = compileKernels(graph, limits);
        for (const kernel of fused.kernels) expect(kernel.inputs.length + kernel.outputs.length).toBeLessThanOrEqual(4);
        expectSameOutputs(graph, (feeds) => runFused(fused, feeds));
      }),
      { numRuns: RUNS },
    );
  });
});
