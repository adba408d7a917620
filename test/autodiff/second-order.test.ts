// Gradients of gradients: the backward graph is made of ordinary nodes, so differentiating it again
// must match finite differences of the first-order gradient.

import { describe, expect, it } from 'vitest';
import { gradients } from '../../src/autodiff/gradients.ts';
import { Builder } from '../../src/ir/builder.ts';
import { verifyGraph } from '../../src/ir/verify.ts';
import { runGraph } from '../../targets/ref/index.ts';
import { checkGradients, randomLeaf } from './gradcheck.ts';

const all4 = [0, 1, 2, 3];

describe('second derivatives', () => {
  it('gradient norm of a conv with lrelu', () => {
    // f(x, w) = sum((d/dx sum(lrelu(conv2d(x, w))^2))^2), differentiated in w and x.
    const x = randomLeaf('x', [2, 2, 5, 5], 11);
    const w = randomLeaf('w', [4, 2, 3, 3], 12, -0.5, 0.5);
    checkGradients([x, w], (b, [xs, ws]) => {
      const inner = b.sum(b.unary('square', b.unary('lrelu', b.conv2d(xs!, ws!, { padding: [1, 1, 1, 1] }), 0.2)), all4);
      const [gx] = gradients(b, inner, [xs!]);
      return b.sum(b.unary('square', gx!), all4);
    });
  });

  it('gradient norm of a strided grouped conv with softplus', () => {
    const x = randomLeaf('x', [1, 4, 6, 6], 21);
    const w = randomLeaf('w', [4, 2, 3, 3], 22, -0.5, 0.5);
    checkGradients([x, w], (b, [xs, ws]) => {
      const y = b.conv2d(xs!, ws!, { stride: 2, padding: [1, 0, 1, 0], groups: 2 });
      const inner = b.sum(b.unary('softplus', y), all4);
      const [gx] = gradients(b, inner, [xs!]);
      return b.sum(b.unary('square', gx!), all4);
    });
  });

  it('weight-gradient norm differentiated in x', () => {
    // Differentiates through conv2dBackWeight, the transpose the first gradient creates for w.
    const x = randomLeaf('x', [2, 1, 4, 4], 31);
    const w = randomLeaf('w', [4, 1, 3, 3], 32, -0.5, 0.5);
    checkGradients([x, w], (b, [xs, ws]) => {
      const inner = b.sum(b.unary('sigmoid', b.conv2d(xs!, ws!, { padding: [1, 1, 1, 1] })), all4);
      const [gw] = gradients(b, inner, [ws!]);
      return b.sum(b.unary('square', gw!), all4);
    });
  });

  it('gradient norm of a dense layer', () => {
    const x = randomLeaf('x', [3, 4], 41);
    const w = randomLeaf('w', [4, 2], 42);
    checkGradients([x, w], (b, [xs, ws]) => {
      const inner = b.sum(b.unary('softplus', b.matmul(xs!, ws!)), [0, 1]);
      const [gx] = gradients(b, inner, [xs!]);
      return b.sum(b.unary('square', gx!), [0, 1]);
    });
  });

  it('third derivative of x cubed is 6', () => {
    const b = new Builder();
    const x = b.input('x', []);
    const cube = b.mul(b.mul(x, x), x);
    const [first] = gradients(b, cube, [x]);
    const [second] = gradients(b, first!, [x]);
    const [third] = gradients(b, second!, [x]);
    b.output('first', first!);
    b.output('second', second!);
    b.output('third', third!);
    verifyGraph(b.graph);
    const out = runGraph(b.graph, { x: { shape: [], data: Float32Array.of(1.5) } });
    expect(out.first!.data[0]).toBeCloseTo(3 * 1.5 * 1.5, 5);
    expect(out.second!.data[0]).toBeCloseTo(6 * 1.5, 5);
    expect(out.third!.data[0]).toBeCloseTo(6, 5);
  });
});

describe('R1 penalty', () => {
  it('linear discriminator on 2x2 images', () => {
    // D(x) = sum(w * x) + bias per sample, so grad_x D = w for every sample and
    // R1 = gamma / 2 * mean over the batch of ||w||^2 = 5 ||w||^2 with gamma 10, whose gradient in w is 10 w.
    const b = new Builder();
    const x = b.input('x', [2, 1, 2, 2]);
    const w = b.param('w', [1, 1, 2, 2]);
    const bias = b.param('bias', []);
    const logits = b.add(b.sum(b.mul(x, w), [1, 2, 3]), bias);
    const [gradX] = gradients(b, b.sum(logits, [0]), [x]);
    const r1 = b.scale(b.mean(b.sum(b.unary('square', gradX!), [1, 2, 3]), [0]), 10 / 2);
    const [gradW, gradBias] = gradients(b, r1, [w, bias]);
    b.output('r1', r1);
    b.output('gradW', gradW!);
    b.output('gradBias', gradBias!);
    verifyGraph(b.graph);

    const weights = [0.5, -1, 2, 0.25];
    const out = runGraph(b.graph, {
      x: { shape: [2, 1, 2, 2], data: Float32Array.from([1, 2, 3, 4, -5, 6, 7, -8]) },
      w: { shape: [1, 1, 2, 2], data: Float32Array.from(weights) },
      bias: { shape: [], data: Float32Array.of(0.3) },
    });
    const normSquared = weights.reduce((s, v) => s + v * v, 0);
    expect(out.r1!.data[0]).toBeCloseTo(5 * normSquared, 5);
    weights.forEach((v, i) => expect(out.gradW!.data[i]).toBeCloseTo(10 * v, 5));
    expect(out.gradBias!.data[0]).toBe(0);
  });
});
