// Reference executor values on tiny cases, computed by hand.

import { describe, expect, it } from 'vitest';
import type { UnaryOp } from '../../src/ir/graph.ts';
import { fillRandn } from '../../src/ir/rng.ts';
import { evaluate, iota } from './helpers.ts';

describe('ref conv2d', () => {
  it('3x3 laplacian with padding 1', () => {
    const out = evaluate(
      { x: { shape: [1, 1, 3, 3], data: iota(9) }, w: { shape: [1, 1, 3, 3], data: [0, 1, 0, 1, -4, 1, 0, 1, 0] } },
      (b, { x, w }) => b.conv2d(x!, w!, { padding: [1, 1, 1, 1] }),
    );
    expect(out.shape).toEqual([1, 1, 3, 3]);
    expect(out.data).toEqual([2, 1, -4, -3, 0, -7, -16, -11, -22]);
  });

  it('asymmetric 2x2 kernel is a correlation', () => {
    const out = evaluate(
      { x: { shape: [1, 1, 3, 3], data: iota(9) }, w: { shape: [1, 1, 2, 2], data: [1, 2, 3, 4] } },
      (b, { x, w }) => b.conv2d(x!, w!),
    );
    // out[i][j] = x[i][j] + 2 x[i][j+1] + 3 x[i+1][j] + 4 x[i+1][j+1]
    expect(out.data).toEqual([37, 47, 67, 77]);
  });

  it('stride 2 with padding 1', () => {
    const out = evaluate(
      { x: { shape: [1, 1, 4, 4], data: iota(16) }, w: { shape: [1, 1, 3, 3], data: new Array(9).fill(1) } },
      (b, { x, w }) => b.conv2d(x!, w!, { stride: 2, padding: [1, 1, 1, 1] }),
    );
    expect(out.shape).toEqual([1, 1, 2, 2]);
    expect(out.data).toEqual([14, 30, 57, 99]);
  });

  it('sums input channels with groups 1', () => {
    const out = evaluate(
      { x: { shape: [1, 2, 1, 2], data: [1, 2, 10, 20] }, w: { shape: [1, 2, 1, 1], data: [2, 3] } },
      (b, { x, w }) => b.conv2d(x!, w!),
    );
    expect(out.data).toEqual([32, 64]);
  });

  it('keeps channels apart with groups 2', () => {
    const out = evaluate(
      { x: { shape: [1, 2, 1, 2], data: [1, 2, 10, 20] }, w: { shape: [2, 1, 1, 1], data: [2, 3] } },
      (b, { x, w }) => b.conv2d(x!, w!, { groups: 2 }),
    );
    expect(out.data).toEqual([2, 4, 30, 60]);
  });

  it('backInput places the kernel under each dy pixel', () => {
    const w = { shape: [1, 1, 2, 2], data: [1, 2, 3, 4] };
    const attrs = { stride: 1, padding: [0, 0, 0, 0] as const, groups: 1 };
    const first = evaluate({ dy: { shape: [1, 1, 2, 2], data: [1, 0, 0, 0] }, w }, (b, ids) =>
      b.conv2dBackInput(ids.dy!, ids.w!, attrs, [1, 1, 3, 3]),
    );
    expect(first.data).toEqual([1, 2, 0, 3, 4, 0, 0, 0, 0]);
    const last = evaluate({ dy: { shape: [1, 1, 2, 2], data: [0, 0, 0, 1] }, w }, (b, ids) =>
      b.conv2dBackInput(ids.dy!, ids.w!, attrs, [1, 1, 3, 3]),
    );
    expect(last.data).toEqual([0, 0, 0, 0, 1, 2, 0, 3, 4]);
  });

  it('backWeight correlates x with dy', () => {
    const attrs = { stride: 1, padding: [0, 0, 0, 0] as const, groups: 1 };
    const out = evaluate(
      { x: { shape: [1, 1, 3, 3], data: iota(9) }, dy: { shape: [1, 1, 2, 2], data: [1, 0, 0, 1] } },
      (b, ids) => b.conv2dBackWeight(ids.x!, ids.dy!, attrs, [1, 1, 2, 2]),
    );
    // dw[i][j] = x[i][j] + x[i+1][j+1]
    expect(out.data).toEqual([1 + 5, 2 + 6, 4 + 8, 5 + 9]);
  });
});

describe('ref matmul', () => {
  it('multiplies 2x2 matrices', () => {
    const out = evaluate(
      { a: { shape: [2, 2], data: [1, 2, 3, 4] }, b: { shape: [2, 2], data: [5, 6, 7, 8] } },
      (b, ids) => b.matmul(ids.a!, ids.b!),
    );
    expect(out.data).toEqual([19, 22, 43, 50]);
  });

  it('multiplies a batch of non-square matrices', () => {
    const out = evaluate(
      { a: { shape: [2, 1, 3], data: [1, 2, 3, 1, 0, -1] }, b: { shape: [2, 3, 2], data: [1, 0, 0, 1, 1, 1, 2, 3, 4, 5, 6, 7] } },
      (b, ids) => b.matmul(ids.a!, ids.b!),
    );
    expect(out.shape).toEqual([2, 1, 2]);
    // [1 2 3] [[1 0] [0 1] [1 1]] = [4 5]; [1 0 -1] [[2 3] [4 5] [6 7]] = [-4 -4]
    expect(out.data).toEqual([4, 5, -4, -4]);
  });
});

describe('ref movement', () => {
  it('pads with interior zeros', () => {
    const out = evaluate({ x: { shape: [3], data: [1, 2, 3] } }, (b, { x }) => b.pad(x!, [1], [2], [1]));
    expect(out.data).toEqual([0, 1, 0, 2, 0, 3, 0, 0]);
  });

  it('pads a 2d tensor per axis', () => {
    const out = evaluate({ x: { shape: [2, 2], data: [1, 2, 3, 4] } }, (b, { x }) => b.pad(x!, [0, 1], [1, 0], [1, 0]));
    expect(out.shape).toEqual([4, 3]);
    expect(out.data).toEqual([0, 1, 2, 0, 0, 0, 0, 3, 4, 0, 0, 0]);
  });

  it('slices with a step', () => {
    const out = evaluate({ x: { shape: [10], data: iota(10, 0) } }, (b, { x }) => b.slice(x!, [1], [8], [3]));
    expect(out.data).toEqual([1, 4, 7]);
  });

  it('slices a 2d tensor', () => {
    const out = evaluate({ x: { shape: [3, 4], data: iota(12, 0) } }, (b, { x }) => b.slice(x!, [1, 0], [3, 4], [1, 2]));
    expect(out.shape).toEqual([2, 2]);
    expect(out.data).toEqual([4, 6, 8, 10]);
  });

  it('flips one or both axes', () => {
    const x = { shape: [2, 3], data: iota(6) };
    expect(evaluate({ x }, (b, ids) => b.flip(ids.x!, [1])).data).toEqual([3, 2, 1, 6, 5, 4]);
    expect(evaluate({ x }, (b, ids) => b.flip(ids.x!, [0, 1])).data).toEqual([6, 5, 4, 3, 2, 1]);
  });

  it('broadcasts columns and rows', () => {
    const column = evaluate({ x: { shape: [2, 1], data: [1, 2] } }, (b, { x }) => b.broadcastTo(x!, [2, 3]));
    expect(column.data).toEqual([1, 1, 1, 2, 2, 2]);
    const row = evaluate({ x: { shape: [1, 3], data: [1, 2, 3] } }, (b, { x }) => b.broadcastTo(x!, [2, 3]));
    expect(row.data).toEqual([1, 2, 3, 1, 2, 3]);
  });

  it('permutes axes', () => {
    const transposed = evaluate({ x: { shape: [2, 3], data: iota(6) } }, (b, { x }) => b.permute(x!, [1, 0]));
    expect(transposed.data).toEqual([1, 4, 2, 5, 3, 6]);
    const rank3 = evaluate({ x: { shape: [2, 1, 3], data: iota(6) } }, (b, { x }) => b.permute(x!, [2, 0, 1]));
    expect(rank3.shape).toEqual([3, 2, 1]);
    expect(rank3.data).toEqual([1, 4, 2, 5, 3, 6]);
  });

  it('reshape keeps row-major order', () => {
    const out = evaluate({ x: { shape: [2, 3], data: iota(6) } }, (b, { x }) => b.reshape(x!, [3, 2]));
    expect(out.shape).toEqual([3, 2]);
    expect(out.data).toEqual(iota(6));
  });
});

describe('ref reduce', () => {
  const x = { shape: [2, 3], data: [1, 5, 3, 4, 2, 6] };
  it('sums rows, columns and everything', () => {
    expect(evaluate({ x }, (b, ids) => b.sum(ids.x!, [1])).data).toEqual([9, 12]);
    expect(evaluate({ x }, (b, ids) => b.sum(ids.x!, [0])).data).toEqual([5, 7, 9]);
    const all = evaluate({ x }, (b, ids) => b.sum(ids.x!, [0, 1]));
    expect(all.shape).toEqual([]);
    expect(all.data).toEqual([21]);
  });

  it('takes maxima with keepDims', () => {
    const out = evaluate({ x }, (b, ids) => b.reduce('max', ids.x!, [1], true));
    expect(out.shape).toEqual([2, 1]);
    expect(out.data).toEqual([5, 6]);
  });

  it('reduces a middle axis', () => {
    const out = evaluate({ x: { shape: [2, 2, 2], data: iota(8) } }, (b, ids) => b.sum(ids.x!, [1]));
    expect(out.data).toEqual([1 + 3, 2 + 4, 5 + 7, 6 + 8]);
  });
});

describe('ref elementwise', () => {
  const cases: [UnaryOp, number, number, number][] = [
    ['neg', 0, 2, -2],
    ['exp', 0, 1, Math.E],
    ['log', 0, Math.E, 1],
    ['sqrt', 0, 9, 3],
    ['rsqrt', 0, 4, 0.5],
    ['recip', 0, 4, 0.25],
    ['square', 0, -3, 9],
    ['abs', 0, -3, 3],
    ['sign', 0, -3, -1],
    ['sign', 0, 0, 0],
    ['sign', 0, 2, 1],
    ['softplus', 0, 0, Math.LN2],
    ['softplus', 0, 100, 100],
    ['softplus', 0, -100, Math.exp(-100)],
    ['sigmoid', 0, 0, 0.5],
    ['sigmoid', 0, -800, 0],
    ['sigmoid', 0, 800, 1],
    ['lrelu', 0.2, 3, 3],
    ['lrelu', 0.2, -3, -0.6],
    ['lreluGrad', 0.2, 3, 1],
    ['lreluGrad', 0.2, -3, 0.2],
    ['lreluGrad', 0.2, 0, 0.2],
  ];
  it.each(cases)('%s(slope %d) of %d', (op, slope, input, expected) => {
    const out = evaluate({ x: { shape: [1], data: [input] } }, (b, { x }) => b.unary(op, x!, slope));
    expect(out.data[0]).toBeCloseTo(Math.fround(expected), 6);
    expect(Number.isFinite(out.data[0])).toBe(true);
  });

  it('computes binary ops', () => {
    const inputs = { a: { shape: [3], data: [1, -2, 3] }, c: { shape: [3], data: [2, -2, -1] } };
    expect(evaluate(inputs, (b, x) => b.binary('add', x.a!, x.c!)).data).toEqual([3, -4, 2]);
    expect(evaluate(inputs, (b, x) => b.binary('sub', x.a!, x.c!)).data).toEqual([-1, 0, 4]);
    expect(evaluate(inputs, (b, x) => b.binary('mul', x.a!, x.c!)).data).toEqual([2, 4, -3]);
    expect(evaluate(inputs, (b, x) => b.binary('div', x.a!, x.c!)).data).toEqual([0.5, 1, -3]);
    expect(evaluate(inputs, (b, x) => b.binary('max', x.a!, x.c!)).data).toEqual([2, -2, 3]);
    expect(evaluate(inputs, (b, x) => b.binary('min', x.a!, x.c!)).data).toEqual([1, -2, -1]);
    expect(evaluate(inputs, (b, x) => b.binary('greater', x.a!, x.c!)).data).toEqual([0, 0, 1]);
  });

  it('selects by a nonzero condition', () => {
    const out = evaluate(
      { c: { shape: [3], data: [1, 0, -2] }, a: { shape: [3], data: [1, 2, 3] }, d: { shape: [3], data: [4, 5, 6] } },
      (b, x) => b.select(x.c!, x.a!, x.d!),
    );
    expect(out.data).toEqual([1, 5, 3]);
  });
});

describe('ref randn', () => {
  it('matches fillRandn for the key and stream', () => {
    const out = evaluate({ key: { shape: [], data: [77] } }, (b, { key }) => b.randn([2, 3], key!, 5));
    const expected = new Float32Array(6);
    fillRandn(expected, 77, 5);
    expect(out.data).toEqual(Array.from(expected));
  });

  it('rejects a fractional key', () => {
    expect(() => evaluate({ key: { shape: [], data: [1.5] } }, (b, { key }) => b.randn([2], key!, 0))).toThrow(
      /invalid randn key 1.5/,
    );
  });
});
