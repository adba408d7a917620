// Helpers for comparing the wgsl target (Dawn on llvmpipe in CI) with the reference executor.

import { expect } from 'vitest';
import type { Graph } from '../../src/ir/graph.ts';
import type { TensorMap } from '../../src/runtime/tensor.ts';
import { runGraph } from '../../targets/ref/index.ts';
import { createWgslTarget } from '../../targets/wgsl/index.ts';

/** One target for every wgsl test file, so they share one device and its pipeline cache. */
export const wgsl = createWgslTarget();

/** float32 unit roundoff, 2^-24. */
export const UNIT_ROUNDOFF = 2 ** -24;

/** Runs `graph` on the wgsl target and returns output `out`. */
export async function runWgsl(graph: Graph, feeds: TensorMap): Promise<Float32Array> {
  const result = await wgsl.compile(graph, 'test').run(feeds);
  return result.out!.data;
}

/** Asserts wgsl == ref bit for bit on output `out`. */
export async function expectExact(graph: Graph, feeds: TensorMap): Promise<void> {
  await expectWithin(graph, feeds, () => 0);
}

/** Asserts |wgsl - ref| <= bound(ref value, index) on output `out`; a NaN must match a NaN. */
export async function expectWithin(graph: Graph, feeds: TensorMap, bound: (expected: number, index: number) => number): Promise<void> {
  const expected = runGraph(graph, feeds).out!;
  const actual = await runWgsl(graph, feeds);
  expect(actual.length).toBe(expected.data.length);
  const failures: string[] = [];
  expected.data.forEach((value, i) => {
    const got = actual[i]!;
    if (Number.isNaN(value) && Number.isNaN(got)) return;
    const error = Math.abs(got - value);
    if (!(error <= bound(value, i))) failures.push(`[${i}] wgsl ${got} ref ${value} error ${error} bound ${bound(value, i)}`);
  });
  expect(failures.slice(0, 5)).toEqual([]);
}

/** Asserts the float32 dot-product bound (terms + 2) u sum |a| |b| on a bilinear graph. */
export async function expectContraction(graph: Graph, feeds: TensorMap, terms: number): Promise<void> {
  const absolute: TensorMap = {};
  for (const [name, t] of Object.entries(feeds)) absolute[name] = { shape: t.shape, data: t.data.map(Math.abs) };
  const magnitude = runGraph(graph, absolute).out!.data;
  await expectWithin(graph, feeds, (_, i) => (terms + 2) * UNIT_ROUNDOFF * magnitude[i]!);
}
