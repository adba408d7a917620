// The gradients API: seeds, accumulation, zero results and which nodes it builds.

import { describe, expect, it } from 'vitest';
import { gradients } from '../../src/autodiff/gradients.ts';
import { Builder } from '../../src/ir/builder.ts';
import { operands } from '../../src/ir/graph.ts';
import { verifyGraph } from '../../src/ir/verify.ts';
import { runGraph } from '../../targets/ref/index.ts';

describe('gradients', () => {
  it('accumulates every path to an operand', () => {
    // y = x * x + 3 x, so dy/dx = 2x + 3.
    const b = new Builder();
    const x = b.input('x', []);
    const y = b.add(b.mul(x, x), b.scale(x, 3));
    const [g] = gradients(b, y, [x]);
    b.output('g', g!);
    const out = runGraph(b.graph, { x: { shape: [], data: Float32Array.of(2) } });
    expect(out.g!.data[0]).toBe(7);
  });

  it('returns a zero fill for an unused node', () => {
    const b = new Builder();
    const x = b.input('x', []);
    const unused = b.param('unused', [2, 3]);
    const [gx, gUnused] = gradients(b, b.unary('exp', x), [x, unused]);
    const node = b.graph.node(gUnused!);
    expect(node.kind).toBe('fill');
    expect(node.shape).toEqual([2, 3]);
    expect(node.kind === 'fill' ? node.value : undefined).toBe(0);
    expect(gx).not.toBe(gUnused);
  });

  it('gives the randn key no gradient', () => {
    const b = new Builder();
    const key = b.input('key', []);
    const scale = b.param('scale', [3]);
    const y = b.sum(b.mul(b.randn([3], key, 0), scale), [0]);
    const [gKey, gScale] = gradients(b, y, [key, scale]);
    expect(b.graph.node(gKey!).kind).toBe('fill');
    b.output('gScale', gScale!);
    b.output('noise', b.randn([3], key, 0));
    const out = runGraph(b.graph, { key: { shape: [], data: Float32Array.of(9) }, scale: { shape: [3], data: Float32Array.of(1, 2, 3) } });
    expect(Array.from(out.gScale!.data)).toEqual(Array.from(out.noise!.data));
  });

  it('uses dy as the seed for a non-scalar y', () => {
    const b = new Builder();
    const x = b.input('x', [3]);
    const dy = b.input('dy', [3]);
    const [g] = gradients(b, b.scale(x, 2), [x], dy);
    b.output('g', g!);
    const out = runGraph(b.graph, { x: { shape: [3], data: Float32Array.of(1, 1, 1) }, dy: { shape: [3], data: Float32Array.of(1, 2, 3) } });
    expect(Array.from(out.g!.data)).toEqual([2, 4, 6]);
  });

  it('rejects a non-scalar y without dy', () => {
    const b = new Builder();
    const x = b.input('x', [3]);
    expect(() => gradients(b, b.unary('exp', x), [x])).toThrow(/shape \[3\]; pass dy/);
  });

  it('rejects dy of the wrong shape', () => {
    const b = new Builder();
    const x = b.input('x', [3]);
    const dy = b.input('dy', [2]);
    expect(() => gradients(b, b.unary('exp', x), [x], dy)).toThrow(/dy has shape \[2\], y has shape \[3\]/);
  });

  it('splits max gradients between ties', () => {
    const b = new Builder();
    const x = b.input('x', [3]);
    const [g] = gradients(b, b.reduce('max', x, [0]), [x]);
    b.output('g', g!);
    const out = runGraph(b.graph, { x: { shape: [3], data: Float32Array.of(1, 3, 3) } });
    expect(Array.from(out.g!.data)).toEqual([0, 0.5, 0.5]);
  });

  it('builds nothing for branches outside y and wrt', () => {
    // y = sum(x * a) + sum(exp(c)): the exp(c) branch does not depend on x, so no gradient node may read it.
    const b = new Builder();
    const x = b.param('x', [4]);
    const a = b.input('a', [4]);
    const c = b.input('c', [4]);
    const expC = b.unary('exp', c);
    const y = b.add(b.sum(b.mul(x, a), [0]), b.sum(expC, [0]));
    const before = b.graph.nodes.length;
    gradients(b, y, [x]);
    const added = b.graph.nodes.slice(before);
    for (const node of added) {
      for (const operand of operands(node)) {
        expect(operand === c || operand === expC, `gradient node ${node.kind} reads the c branch`).toBe(false);
      }
    }
    expect(added.some((node) => node.kind === 'unary' && node.op === 'exp')).toBe(false);
    verifyGraph(b.graph);
  });
});
