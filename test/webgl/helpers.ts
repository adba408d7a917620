// Helpers for comparing the webgl target with the reference executor in both gpu.js modes that run
// in Node: headless-gl (a real WebGL path, under the Xvfb that test/global-setup-xvfb.ts starts)
// and gpu.js's cpu mode.

import { expect } from 'vitest';
import { Builder } from '../../src/ir/builder.ts';
import { type Graph, type NodeId, numel, type Shape } from '../../src/ir/graph.ts';
import { verifyGraph } from '../../src/ir/verify.ts';
import type { TensorMap } from '../../src/runtime/tensor.ts';
import { runGraph } from '../../targets/ref/index.ts';
import { createWebglTarget, type WebglMode } from '../../targets/webgl/index.ts';
import { headlessGlProblem } from '../../targets/webgl/node.ts';
import { uniformSource } from '../ref/helpers.ts';

/** float32 unit roundoff, 2^-24. */
export const UNIT_ROUNDOFF = 2 ** -24;

/** Uniform values in [-1, 1) from `seed` for every input of `graph`. */
export function randomFeeds(graph: Graph, seed: number): TensorMap {
  const next = uniformSource(seed);
  const feeds: TensorMap = {};
  for (const [name, id] of graph.inputs()) {
    const shape = [...graph.shape(id)];
    feeds[name] = { shape, data: Float32Array.from({ length: numel(shape) }, () => next(-1, 1)) };
  }
  return feeds;
}

/** Builds a graph with one output, `out`, over inputs of the given shapes. */
export function buildGraph(inputs: Record<string, Shape>, build: (b: Builder, x: Record<string, NodeId>) => NodeId): Graph {
  const b = new Builder();
  const ids: Record<string, NodeId> = {};
  for (const [name, shape] of Object.entries(inputs)) ids[name] = b.input(name, shape);
  b.output('out', build(b, ids));
  verifyGraph(b.graph);
  return b.graph;
}

function absFeeds(feeds: TensorMap): TensorMap {
  const result: TensorMap = {};
  for (const [name, t] of Object.entries(feeds)) result[name] = { shape: t.shape, data: t.data.map(Math.abs) };
  return result;
}

/** Why the headless-gl tests cannot run here, or undefined when they can. */
export const headlessGlSkipReason: string | undefined = process.env.SGAN_XVFB_MISSING ?? headlessGlProblem();

if (headlessGlSkipReason !== undefined) {
  process.stderr.write(`webgl tests: skipping the headless-gl mode: ${headlessGlSkipReason}\n`);
}

export interface ModeCase {
  mode: Extract<WebglMode, 'headlessgl' | 'cpu'>;
  skip: boolean;
}

/** The modes to run each test in; headless-gl is marked skipped where it cannot run. */
export const MODES: ModeCase[] = [
  { mode: 'headlessgl', skip: headlessGlSkipReason !== undefined },
  { mode: 'cpu', skip: false },
];

const targets = new Map<string, ReturnType<typeof createWebglTarget>>();

/** Returns one shared target per mode and texture size, so kernels of a mode share one GL context. */
export function webglTarget(mode: ModeCase['mode'], maxTextureSize?: number): ReturnType<typeof createWebglTarget> {
  const key = `${mode}/${maxTextureSize ?? 'default'}`;
  let target = targets.get(key);
  if (target === undefined) {
    target = createWebglTarget({ mode, maxTextureSize });
    targets.set(key, target);
  }
  return target;
}

/** Runs `graph` on the webgl target in `mode` and on the reference executor; returns output `out` of both. */
export async function runBoth(graph: Graph, feeds: TensorMap, mode: ModeCase['mode']): Promise<{ actual: Float32Array; expected: Float32Array }> {
  const expected = runGraph(graph, feeds).out!;
  const actual = (await webglTarget(mode).compile(graph, 'test').run(feeds)).out!;
  expect(actual.shape).toEqual(expected.shape);
  return { actual: actual.data, expected: expected.data };
}

/** Asserts |webgl - ref| <= bound(ref, i) for every element of output `out`. */
export async function expectWithin(graph: Graph, feeds: TensorMap, mode: ModeCase['mode'], bound: (expected: number, index: number) => number): Promise<void> {
  const { actual, expected } = await runBoth(graph, feeds, mode);
  const failures: string[] = [];
  expected.forEach((value, i) => {
    const got = actual[i]!;
    const same = Object.is(got, value) || (Number.isNaN(got) && Number.isNaN(value));
    if (!same && !(Math.abs(got - value) <= bound(value, i))) failures.push(`[${i}] webgl ${got} ref ${value} bound ${bound(value, i)}`);
  });
  expect(failures.slice(0, 5)).toEqual([]);
}

/** Asserts webgl == ref exactly on output `out`. */
export async function expectExact(graph: Graph, feeds: TensorMap, mode: ModeCase['mode']): Promise<void> {
  await expectWithin(graph, feeds, mode, () => 0);
}

/**
 * Asserts the standard bound of a float32 sum of `terms` products, (terms + 2) u sum |a| |b|, with
 * the magnitude sum from the reference run on the absolute feeds (the contraction is bilinear).
 */
export async function expectContraction(graph: Graph, feeds: TensorMap, terms: number, mode: ModeCase['mode']): Promise<void> {
  const magnitude = runGraph(graph, absFeeds(feeds)).out!.data;
  await expectWithin(graph, feeds, mode, (_, i) => (terms + 2) * UNIT_ROUNDOFF * magnitude[i]!);
}
