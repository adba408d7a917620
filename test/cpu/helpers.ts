// Helpers for comparing the cpu target with the reference executor.

import { expect } from 'vitest';
import { Builder } from '../../src/ir/builder.ts';
import { type Graph, type NodeId, numel, type Shape } from '../../src/ir/graph.ts';
import { verifyGraph } from '../../src/ir/verify.ts';
import type { TensorMap } from '../../src/runtime/tensor.ts';
import { createCpuTarget } from '../../targets/cpu/index.ts';
import { runGraph } from '../../targets/ref/index.ts';
import { uniformSource } from '../ref/helpers.ts';

/** float32 unit roundoff, 2^-24. */
export const UNIT_ROUNDOFF = 2 ** -24;

export const cpu1 = createCpuTarget({ threads: 1 });
export const cpu2 = createCpuTarget({ threads: 2 });

/** Uniform values in [-1, 1) from `seed`. */
export function randomFeeds(graph: Graph, seed: number): TensorMap {
  const next = uniformSource(seed);
  const feeds: TensorMap = {};
  for (const [name, id] of graph.inputs()) {
    const shape = [...graph.shape(id)];
    feeds[name] = { shape, data: Float32Array.from({ length: numel(shape) }, () => next(-1, 1)) };
  }
  return feeds;
}

/** Builds a one-output graph over inputs of the given shapes. */
export function buildGraph(inputs: Record<string, Shape>, build: (b: Builder, x: Record<string, NodeId>) => NodeId): Graph {
  const b = new Builder();
  const ids: Record<string, NodeId> = {};
  for (const [name, shape] of Object.entries(inputs)) ids[name] = b.input(name, shape);
  b.output('out', build(b, ids));
  verifyGraph(b.graph);
  return b.graph;
}

export function absFeeds(feeds: TensorMap): TensorMap {
  const result: TensorMap = {};
  for (const [name, t] of Object.entries(feeds)) result[name] = { shape: t.shape, data: t.data.map(Math.abs) };
  return result;
}

/** Asserts cpu == ref exactly, element by element, on output `out`. */
export async function expectExact(graph: Graph, feeds: TensorMap): Promise<void> {
  const expected = runGraph(graph, feeds).out!;
  const actual = (await cpu2.compile(graph, 'test').run(feeds)).out!;
  expect(actual.shape).toEqual(expected.shape);
  const mismatches = [...expected.data.keys()].filter((i) => !Object.is(actual.data[i], expected.data[i]));
  expect(mismatches.slice(0, 5).map((i) => [i, actual.data[i], expected.data[i]])).toEqual([]);
}

/**
 * Asserts |cpu - ref| <= bound[i] on output `out`, where `bound` maps the reference value and the
 * element index to the allowed error.
 */
export async function expectWithin(
  graph: Graph,
  feeds: TensorMap,
  bound: (expected: number, index: number) => number,
  target = cpu2,
): Promise<void> {
  const expected = runGraph(graph, feeds).out!;
  const actual = (await target.compile(graph, 'test').run(feeds)).out!;
  expect(actual.shape).toEqual(expected.shape);
  const failures: string[] = [];
  expected.data.forEach((value, i) => {
    const error = Math.abs(actual.data[i]! - value);
    if (!(error <= bound(value, i))) failures.push(`[${i}] cpu ${actual.data[i]} ref ${value} error ${error} bound ${bound(value, i)}`);
  });
  expect(failures.slice(0, 5)).toEqual([]);
}

/**
 * Asserts the standard error bound of a float32 sum of `terms` products: |cpu - ref| <= (terms + 2) u
 * sum |a| |b|, where the magnitude sum comes from the reference run on the absolute values of the
 * feeds (the contraction is bilinear, so that run returns exactly sum |a| |b|).
 */
export async function expectContraction(graph: Graph, feeds: TensorMap, terms: number, target = cpu2): Promise<void> {
  const magnitude = runGraph(graph, absFeeds(feeds)).out!.data;
  await expectWithin(graph, feeds, (_, i) => (terms + 2) * UNIT_ROUNDOFF * magnitude[i]!, target);
}
