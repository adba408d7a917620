// Small helpers for running lowered layers on the reference executor.

import { expect } from 'vitest';
import { Builder } from '../../src/ir/builder.ts';
import type { Graph, NodeId } from '../../src/ir/graph.ts';
import type { LayerContext } from '../../src/layers/context.ts';
import type { ModelSpec } from '../../src/model/spec.ts';
import { type Tensor, type TensorMap, tensor } from '../../src/runtime/tensor.ts';
import { runGraph } from '../../targets/ref/index.ts';

/** Builds one output with `emit`, runs it on `feeds` and returns its tensor. */
export function evaluate(emit: (b: Builder) => NodeId, feeds: TensorMap = {}): Tensor {
  const b = new Builder();
  b.output('y', emit(b));
  return runGraph(b.graph, feeds).y!;
}

export function context(b: Builder, spec: ModelSpec, batch: number, extra: Partial<LayerContext> = {}): LayerContext {
  return { b, spec, batch, noise: 'none', ...extra };
}

/** Deterministic, well-spread test values in [-1, 1). */
export function ramp(shape: number[], offset = 0): Tensor {
  const size = shape.reduce((p, d) => p * d, 1);
  return tensor(shape, Array.from({ length: size }, (_, i) => Math.sin(1.7 * (i + offset) + 0.3)));
}

export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance = 1e-5): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const scale = Math.max(1, Math.abs(expected[i]!));
    if (!(Math.abs(actual[i]! - expected[i]!) <= tolerance * scale)) {
      expect.fail(`element ${i}: expected ${expected[i]}, got ${actual[i]} (tolerance ${tolerance})`);
    }
  }
}

/** Picks a few spread-out coordinates of a tensor with `size` elements. */
export function coordinates(size: number): number[] {
  return [...new Set([0, Math.floor(size / 3), Math.floor((2 * size) / 3), size - 1])];
}

/** Central difference of the scalar `loss(feeds)` in element `index` of feed `name`. */
export function centralDifference(loss: (feeds: TensorMap) => number, feeds: TensorMap, name: string, index: number, h: number): number {
  const probe = (delta: number): number => {
    const moved = { ...feeds[name]!, data: Float32Array.from(feeds[name]!.data) };
    moved.data[index] = moved.data[index]! + delta;
    return loss({ ...feeds, [name]: moved });
  };
  return (probe(h) - probe(-h)) / (2 * h);
}

/**
 * Compares `grad.<name>` outputs with central differences of `lossOf` at a few coordinates per
 * parameter. Leaky ReLU makes the R1 term piecewise smooth with jumps where a pre-activation changes
 * sign, so a coordinate whose differences at steps h and h/2 disagree straddles a kink and is skipped.
 */
export function expectGradientsMatch(graph: Graph, feeds: TensorMap, lossOf: (out: TensorMap) => number, names: string[]): void {
  const out = runGraph(graph, feeds);
  const loss = (f: TensorMap): number => lossOf(runGraph(graph, f));
  const within = (a: number, b: number): boolean => Math.abs(a - b) <= 2e-3 + 2e-2 * Math.max(Math.abs(a), Math.abs(b));
  let checked = 0;
  let skipped = 0;
  for (const name of names) {
    const grad = out[`grad.${name}`]!;
    for (const index of coordinates(grad.data.length)) {
      const numeric = centralDifference(loss, feeds, name, index, 1e-3);
      const finer = centralDifference(loss, feeds, name, index, 5e-4);
      if (!within(numeric, finer)) {
        skipped++;
        continue;
      }
      const analytic = grad.data[index]!;
      if (!within(numeric, analytic)) expect.fail(`grad.${name}[${index}]: finite difference ${numeric}, autodiff ${analytic}`);
      checked++;
    }
  }
  expect(checked).toBeGreaterThan(10);
  expect(skipped).toBeLessThanOrEqual(checked / 5);
}
