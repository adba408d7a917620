// Error bounds for comparing a target's outputs with the reference executor, which computes each op
// in float64 and rounds the result once to float32.

import { expect } from 'vitest';
import type { Graph } from '../../src/ir/graph.ts';
import type { TensorMap } from '../../src/runtime/tensor.ts';
import { runGraph } from '../../targets/ref/index.ts';
import { absFeeds } from '../cpu/helpers.ts';

/** float32 unit roundoff, 2^-24. */
export const UNIT_ROUNDOFF = 2 ** -24;

/** float32 ulp of 1, 2^-23. An ulp bound scales it by |ref|. */
export const ULP = 2 ** -23;

/**
 * The error a target may have on one element, with `ref` the reference value:
 * - exact: bit for bit, so -0 differs from +0. A NaN matches any NaN.
 * - ulp: ulps * 2^-23 * |ref| + absolute.
 * - relative: relative * |ref| + absolute.
 * - absolute: a fixed error.
 * - dot: (K + 2) u sum |a| |b| for K products per output and u = 2^-24, the standard bound of a
 *   float32 dot product in any order.
 * - sum: (n + extra) u sum |x| for n terms per output, the bound of a float32 sum in any order.
 * For dot and sum the magnitude sum comes from the reference run on the absolute values of the
 * feeds. That run returns exactly sum |a| |b| for a graph that is linear in each feed, such as a
 * contraction, a sum or a gradient of one.
 */
export type Bound =
  | { kind: 'exact' }
  | { kind: 'ulp'; ulps: number; absolute: number }
  | { kind: 'relative'; relative: number; absolute: number }
  | { kind: 'absolute'; absolute: number }
  | { kind: 'dot' }
  | { kind: 'sum'; extra: number };

export const exact: Bound = { kind: 'exact' };
export const dotProduct: Bound = { kind: 'dot' };

export function ulps(count: number, absolute = 0): Bound {
  return { kind: 'ulp', ulps: count, absolute };
}

export function relative(factor: number, absolute = 0): Bound {
  return { kind: 'relative', relative: factor, absolute };
}

export function absolute(error: number): Bound {
  return { kind: 'absolute', absolute: error };
}

export function summation(extra: number): Bound {
  return { kind: 'sum', extra };
}

/** Per-output facts that dot and sum bounds need: terms per output element, by output name. */
export interface BoundContext {
  terms?: Record<string, number>;
}

/** Returns the allowed error of each element of output `name`. */
function elementBound(bound: Bound, name: string, graph: Graph, feeds: TensorMap, context: BoundContext): (ref: number, index: number) => number {
  switch (bound.kind) {
    case 'exact':
      return () => 0;
    case 'ulp':
      return (ref) => bound.ulps * ULP * Math.abs(ref) + bound.absolute;
    case 'relative':
      return (ref) => bound.relative * Math.abs(ref) + bound.absolute;
    case 'absolute':
      return () => bound.absolute;
    case 'dot':
    case 'sum': {
      const terms = context.terms?.[name];
      if (terms === undefined) throw new Error(`a ${bound.kind} bound needs the number of terms of output '${name}'`);
      const extra = bound.kind === 'dot' ? 2 : bound.extra;
      const magnitude = runGraph(graph, absFeeds(feeds))[name]!.data;
      return (_, i) => (terms + extra) * UNIT_ROUNDOFF * magnitude[i]!;
    }
    default: {
      const unreachable: never = bound;
      throw new Error(`unknown bound ${JSON.stringify(unreachable)}`);
    }
  }
}

/**
 * Lists the elements of `actual` outside `bound` around `expected`, at most five per output, as
 * readable lines. Equal values, infinities included, and two NaNs always pass.
 */
export function boundFailures(
  graph: Graph,
  feeds: TensorMap,
  actual: TensorMap,
  expected: TensorMap,
  bound: Bound,
  context: BoundContext = {},
): string[] {
  const failures: string[] = [];
  for (const [name, want] of Object.entries(expected)) {
    const got = actual[name];
    if (got === undefined) {
      failures.push(`${name}: missing from the target's outputs`);
      continue;
    }
    if (got.shape.join(',') !== want.shape.join(',')) {
      failures.push(`${name}: shape [${got.shape.join(', ')}], expected [${want.shape.join(', ')}]`);
      continue;
    }
    const allowed = elementBound(bound, name, graph, feeds, context);
    let count = 0;
    want.data.forEach((ref, i) => {
      const value = got.data[i]!;
      if (Object.is(value, ref) || (Number.isNaN(value) && Number.isNaN(ref))) return;
      const error = Math.abs(value - ref);
      const limit = allowed(ref, i);
      if (bound.kind !== 'exact' && error <= limit) return;
      if (count++ < 5) failures.push(`${name}[${i}]: target ${value}, ref ${ref}, error ${error}, bound ${limit}`);
    });
    if (count > 5) failures.push(`${name}: ${count - 5} more elements outside the bound`);
  }
  return failures;
}

/** Asserts that every output of `graph` run by `run` is within `bound` of the reference executor's. */
export async function expectWithinBound(
  run: (graph: Graph, feeds: TensorMap) => Promise<TensorMap>,
  graph: Graph,
  feeds: TensorMap,
  bound: Bound,
  context: BoundContext = {},
): Promise<void> {
  const expected = runGraph(graph, feeds);
  const actual = await run(graph, feeds);
  expect(Object.keys(actual).sort()).toEqual(Object.keys(expected).sort());
  expect(boundFailures(graph, feeds, actual, expected, bound, context)).toEqual([]);
}
