// Small helpers for tests that run graphs on the reference executor.

import { Builder } from '../../src/ir/builder.ts';
import type { NodeId, Shape } from '../../src/ir/graph.ts';
import { verifyGraph } from '../../src/ir/verify.ts';
import type { TensorMap } from '../../src/runtime/tensor.ts';
import { runGraph } from '../../targets/ref/index.ts';

/** Builds a graph whose inputs are `inputs`, runs it and returns the output `out` as a plain array. */
export function evaluate(
  inputs: Record<string, { shape: Shape; data: readonly number[] }>,
  build: (b: Builder, x: Record<string, NodeId>) => NodeId,
): { shape: number[]; data: number[] } {
  const b = new Builder();
  const ids: Record<string, NodeId> = {};
  const feeds: TensorMap = {};
  for (const [name, { shape, data }] of Object.entries(inputs)) {
    ids[name] = b.input(name, shape);
    feeds[name] = { shape: [...shape], data: Float32Array.from(data) };
  }
  b.output('out', build(b, ids));
  verifyGraph(b.graph);
  const out = runGraph(b.graph, feeds).out!;
  return { shape: out.shape, data: Array.from(out.data) };
}

/** Row-major values 1, 2, ..., n. */
export function iota(n: number, start = 1): number[] {
  return Array.from({ length: n }, (_, i) => start + i);
}

/** A deterministic generator of uniform values in [lo, hi), so failing cases reproduce from the seed. */
export function uniformSource(seed: number): (lo: number, hi: number) => number {
  let state = seed >>> 0 || 1;
  return (lo, hi) => {
    // xorshift32
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return lo + (hi - lo) * (state / 2 ** 32);
  };
}
