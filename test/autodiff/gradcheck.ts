// Compares autodiff gradients with central finite differences evaluated on the reference executor.

import { expect } from 'vitest';
import { gradients } from '../../src/autodiff/gradients.ts';
import { Builder } from '../../src/ir/builder.ts';
import { Graph, type NodeId, numel, type Shape } from '../../src/ir/graph.ts';
import { verifyGraph } from '../../src/ir/verify.ts';
import type { TensorMap } from '../../src/runtime/tensor.ts';
import { runGraph } from '../../targets/ref/index.ts';
import { uniformSource } from '../ref/helpers.ts';

export interface Leaf {
  name: string;
  shape: Shape;
  data: Float32Array;
}

export interface GradCheckOptions {
  /** Finite-difference half step. */
  step?: number;
  /** At most this many coordinates per leaf are perturbed, chosen at random. */
  maxCoordinates?: number;
  /** Passes when |autodiff - fd| <= atol + rtol * max(|autodiff|, |fd|). */
  rtol?: number;
  atol?: number;
  seed?: number;
}

/**
 * Tolerances: values are stored in float32, with relative rounding 6e-8. With a half step of 1e-2
 * the rounding noise of the loss divided by the step is about 1e-5 relative for these small graphs.
 * The truncation error of the central difference is h^2/6 times the third derivative. The defaults
 * leave a wide margin over both and still catch a wrong rule, which is off by a factor or a sign.
 */
const DEFAULTS = { step: 1e-2, maxCoordinates: 12, rtol: 1e-2, atol: 2e-3, seed: 1 };

/**
 * Builds y = build(b, leaves), reduces it to L = sum(y * r) with a fixed random r unless y is a
 * scalar, and checks dL/dleaf from `gradients` against central differences of L.
 */
export function checkGradients(leaves: Leaf[], build: (b: Builder, ids: NodeId[]) => NodeId, options: GradCheckOptions = {}): void {
  const { step, maxCoordinates, rtol, atol, seed } = { ...DEFAULTS, ...options };
  const next = uniformSource(seed);
  const b = new Builder();
  const ids = leaves.map((leaf) => b.param(leaf.name, leaf.shape));
  const feeds: TensorMap = {};
  for (const leaf of leaves) feeds[leaf.name] = { shape: [...leaf.shape], data: leaf.data };

  const y = build(b, ids);
  const yShape = b.shape(y);
  let loss = y;
  if (yShape.length > 0) {
    const projection = b.input('projection', yShape);
    feeds.projection = { shape: [...yShape], data: Float32Array.from({ length: numel(yShape) }, () => next(-1, 1)) };
    loss = b.sum(b.mul(y, projection), [...yShape.keys()]);
  }

  // The forward graph alone, for the many finite-difference evaluations.
  const forward = new Graph();
  forward.nodes.push(...b.graph.nodes);
  forward.setOutput('loss', loss);

  const grads = gradients(b, loss, ids);
  grads.forEach((g, i) => b.output(`grad${i}`, g));
  verifyGraph(b.graph);
  const analytic = runGraph(b.graph, feeds);

  const lossAt = (): number => runGraph(forward, feeds).loss!.data[0]!;
  leaves.forEach((leaf, leafIndex) => {
    const grad = analytic[`grad${leafIndex}`]!;
    expect(grad.shape).toEqual([...leaf.shape]);
    const count = leaf.data.length;
    const coordinates =
      count <= maxCoordinates ? [...Array(count).keys()] : Array.from({ length: maxCoordinates }, () => Math.floor(next(0, count)));
    for (const i of coordinates) {
      const original = leaf.data[i]!;
      leaf.data[i] = original + step;
      const plusInput = leaf.data[i]!;
      const plus = lossAt();
      leaf.data[i] = original - step;
      const minusInput = leaf.data[i]!;
      const minus = lossAt();
      leaf.data[i] = original;
      const fd = (plus - minus) / (plusInput - minusInput);
      const ad = grad.data[i]!;
      const tolerance = atol + rtol * Math.max(Math.abs(ad), Math.abs(fd));
      expect(Math.abs(ad - fd), `d loss / d ${leaf.name}[${i}]: autodiff ${ad}, finite difference ${fd}`).toBeLessThanOrEqual(tolerance);
    }
  });
}

/** Creates a leaf with uniform values in [lo, hi), or with magnitudes in [lo, hi) and random signs. */
export function randomLeaf(name: string, shape: Shape, seed: number, lo = -1, hi = 1, randomSign = false): Leaf {
  const next = uniformSource(seed);
  const data = Float32Array.from({ length: numel(shape) }, () => {
    const magnitude = next(lo, hi);
    return randomSign && next(0, 1) < 0.5 ? -magnitude : magnitude;
  });
  return { name, shape, data };
}
