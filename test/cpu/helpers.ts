// Helpers for comparing the cpu target with the reference executor.

import { expect } from 'vitest';
import { checkFile } from '../../src/check/index.ts';
import { Builder } from '../../src/ir/builder.ts';
import { type Graph, type NodeId, numel, type Shape } from '../../src/ir/graph.ts';
import { verifyGraph } from '../../src/ir/verify.ts';
import type { ModelSpec } from '../../src/model/spec.ts';
import { initParams } from '../../src/params/init.ts';
import type { TensorMap } from '../../src/runtime/tensor.ts';
import { createCpuTarget } from '../../targets/cpu/index.ts';
import { runGraph } from '../../targets/ref/index.ts';
import { uniformSource } from '../ref/helpers.ts';

/** float32 unit roundoff, 2^-24. */
export const UNIT_ROUNDOFF = 2 ** -24;

export const cpu1 = createCpuTarget({ threads: 1 });
export const cpu2 = createCpuTarget({ threads: 2 });
/** The op-by-op path, which the fused kernels are compared with. */
export const cpu2OpByOp = createCpuTarget({ threads: 2, fused: false });

let fashion: { spec: ModelSpec; params: TensorMap } | undefined;

/** Returns the checked fashion-32 example and its parameters from seed 3, loading them on first use. */
export function fashion32(): { spec: ModelSpec; params: TensorMap } {
  if (fashion === undefined) {
    const spec = checkFile('examples/fashion-32.sgan').spec!;
    fashion = { spec, params: initParams(spec, 3) };
  }
  return fashion;
}

/**
 * Feeds `params` (default the fashion-32 parameters of fashion32()) and every other input: RNG keys
 * 7, mixing and truncation off, the rest uniform in [-1, 1).
 */
export function stepFeeds(graph: Graph, params: TensorMap = fashion32().params): TensorMap {
  const next = uniformSource(99);
  const feeds: TensorMap = { ...params };
  for (const [name, id] of graph.inputs()) {
    const shape = [...graph.shape(id)];
    const data = new Float32Array(numel(shape));
    if (name.endsWith('key')) data.fill(7);
    else if (name === 'mix') data.fill(0);
    else if (name === 'trunc') data.fill(1);
    else for (let i = 0; i < data.length; i++) data[i] = next(-1, 1);
    feeds[name] = { shape, data };
  }
  return feeds;
}

/** The gradient of the fashion-32 discriminator's last dense layer's bias, the logit's bias. */
export const LOGIT_BIAS_GRAD = 'grad.discriminator.b4.dense1.bias';

/**
 * Asserts every output within 1e-3 of its own largest magnitude. The gradient of the constant's
 * bias, and the outputs named in `cancelling`, are exceptions, because both sides return rounding
 * noise of large cancelling terms. The constant's planes start uniform (ones, noise strength 0), so
 * the instance norm after the constant's bias removes any per-channel shift and that bias's exact
 * gradient is zero. The logit bias's gradient (LOGIT_BIAS_GRAD) is the batch mean of
 * sigmoid(D(fake)) + sigmoid(D(real)) - 1, terms near 0.5 that cancel nearly to zero while D cannot
 * yet tell the two apart. The exceptions get 1e-5 of the largest magnitude over all outputs. That
 * term shared by all outputs would exceed the whole mapping gradient of a fashion-32 generator step.
 */
export function expectClose(actual: TensorMap, expected: TensorMap, cancelling: readonly string[] = []): void {
  const names = Object.keys(expected);
  expect(Object.keys(actual).sort()).toEqual([...names].sort());
  const overall = Math.max(...names.map((name) => Math.max(...expected[name]!.data.map(Math.abs))));
  const failures: string[] = [];
  for (const name of names) {
    const want = expected[name]!.data;
    const got = actual[name]!.data;
    const own = Math.max(...want.map(Math.abs));
    const noise = name.endsWith('.const.bias') || cancelling.includes(name);
    const bound = noise ? 1e-5 * overall : 1e-3 * own;
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
    if (!(worst <= bound)) failures.push(`${name}: error ${worst}, bound ${bound}`);
  }
  expect(failures).toEqual([]);
}

/** Asserts that every output of `a` equals the same output of `b` bit for bit. */
export function expectIdentical(a: TensorMap, b: TensorMap): void {
  for (const name of Object.keys(a)) {
    const x = a[name]!.data;
    const y = b[name]!.data;
    const differing = [...x.keys()].filter((i) => !Object.is(x[i], y[i]));
    expect(differing.length, `${name} differs at ${differing.slice(0, 3).join(', ')}`).toBe(0);
  }
}

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
