// Small helpers for running lowered layers on the reference executor.

import { expect } from 'vitest';
import { Builder } from '../../src/ir/builder.ts';
import type { NodeId } from '../../src/ir/graph.ts';
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
