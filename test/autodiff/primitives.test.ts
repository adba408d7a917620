// Every primitive's gradient against central finite differences, for random small shapes.

import fc from 'fast-check';
import { describe, it } from 'vitest';
import { conv2dShape } from '../../src/ir/builder.ts';
import type { BinaryOp, ConvAttrs, UnaryOp } from '../../src/ir/graph.ts';
import { uniformSource } from '../ref/helpers.ts';
import { checkGradients, type Leaf, randomLeaf } from './gradcheck.ts';

const RUNS = { numRuns: 12 };
const shapeArb = fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 0, maxLength: 3 });
const seedArb = fc.integer({ min: 1, max: 2 ** 31 });

describe('unary gradients', () => {
  // Domains keep log, sqrt, rsqrt and recip away from 0, and keep kinks (0 for abs, sign, lrelu)
  // further than one step from every input.
  const domains: [UnaryOp, number, number, boolean][] = [
    ['neg', -2, 2, false],
    ['exp', -2, 2, false],
    ['log', 0.5, 2, false],
    ['sqrt', 0.5, 2, false],
    ['rsqrt', 0.5, 2, false],
    ['recip', 0.5, 2, true],
    ['square', -2, 2, false],
    ['abs', 0.1, 2, true],
    ['sign', 0.1, 2, true],
    ['softplus', -3, 3, false],
    ['sigmoid', -3, 3, false],
    ['lrelu', 0.1, 2, true],
    ['lreluGrad', 0.1, 2, true],
  ];
  it.each(domains)('%s matches finite differences', (op, lo, hi, randomSign) => {
    fc.assert(
      fc.property(shapeArb, seedArb, (shape, seed) => {
        checkGradients([randomLeaf('x', shape, seed, lo, hi, randomSign)], (b, [x]) => b.unary(op, x!, 0.2));
      }),
      RUNS,
    );
  });
});

describe('binary and select gradients', () => {
  it.each(['add', 'sub', 'mul', 'div'] as BinaryOp[])('%s matches finite differences', (op) => {
    fc.assert(
      fc.property(shapeArb, seedArb, (shape, seed) => {
        const a = randomLeaf('a', shape, seed);
        const bLeaf = randomLeaf('b', shape, seed + 1, 0.5, 2, true);
        checkGradients([a, bLeaf], (b, [x, y]) => b.binary(op, x!, y!));
      }),
      RUNS,
    );
  });

  it.each(['max', 'min', 'greater'] as BinaryOp[])('%s matches finite differences', (op) => {
    fc.assert(
      fc.property(shapeArb, seedArb, (shape, seed) => {
        // b differs from a by at least 0.1, so no step crosses a tie.
        const a = randomLeaf('a', shape, seed);
        const offset = randomLeaf('offset', shape, seed + 1, 0.1, 1, true);
        const bLeaf: Leaf = { name: 'b', shape, data: a.data.map((v, i) => v + offset.data[i]!) };
        checkGradients([a, bLeaf], (b, [x, y]) => b.binary(op, x!, y!));
      }),
      RUNS,
    );
  });

  it('select matches finite differences', () => {
    fc.assert(
      fc.property(shapeArb, seedArb, (shape, seed) => {
        const next = uniformSource(seed);
        const cond = randomLeaf('cond', shape, seed);
        cond.data = cond.data.map(() => (next(0, 1) < 0.5 ? 1 : 0));
        checkGradients([cond, randomLeaf('a', shape, seed + 1), randomLeaf('b', shape, seed + 2)], (b, [c, x, y]) =>
          b.select(c!, x!, y!),
        );
      }),
      RUNS,
    );
  });
});

describe('reduce gradients', () => {
  const reduceArb = shapeArb
    .filter((s) => s.length > 0)
    .chain((shape) =>
      fc.record({
        shape: fc.constant(shape),
        axes: fc.subarray([...shape.keys()], { minLength: 1 }),
        keepDims: fc.boolean(),
        seed: seedArb,
      }),
    );

  it('sum matches finite differences', () => {
    fc.assert(
      fc.property(reduceArb, ({ shape, axes, keepDims, seed }) => {
        checkGradients([randomLeaf('x', shape, seed)], (b, [x]) => b.reduce('sum', x!, axes, keepDims));
      }),
      RUNS,
    );
  });

  it('max matches finite differences', () => {
    fc.assert(
      fc.property(reduceArb, ({ shape, axes, keepDims, seed }) => {
        // Distinct values 0.1 apart in random order, so every maximum is unique.
        const leaf = randomLeaf('x', shape, seed);
        const order = [...leaf.data.keys()].sort((i, j) => leaf.data[i]! - leaf.data[j]!);
        order.forEach((index, rank) => {
          leaf.data[index] = rank * 0.1 - 1;
        });
        checkGradients([leaf], (b, [x]) => b.reduce('max', x!, axes, keepDims));
      }),
      RUNS,
    );
  });
});

describe('movement gradients', () => {
  const nonEmpty = shapeArb.filter((s) => s.length > 0);

  it('reshape matches finite differences', () => {
    fc.assert(
      fc.property(shapeArb, seedArb, (shape, seed) => {
        const total = shape.reduce((p, d) => p * d, 1);
        checkGradients([randomLeaf('x', shape, seed)], (b, [x]) => b.reshape(x!, [total, 1]));
      }),
      RUNS,
    );
  });

  it('permute matches finite differences', () => {
    const arb = nonEmpty.chain((shape) => fc.record({ shape: fc.constant(shape), perm: fc.shuffledSubarray([...shape.keys()], { minLength: shape.length }), seed: seedArb }));
    fc.assert(
      fc.property(arb, ({ shape, perm, seed }) => {
        checkGradients([randomLeaf('x', shape, seed)], (b, [x]) => b.permute(x!, perm));
      }),
      RUNS,
    );
  });

  it('broadcast matches finite differences', () => {
    const arb = nonEmpty.chain((shape) =>
      fc.record({ shape: fc.constant(shape), ones: fc.array(fc.boolean(), { minLength: shape.length, maxLength: shape.length }), seed: seedArb }),
    );
    fc.assert(
      fc.property(arb, ({ shape, ones, seed }) => {
        const target = shape.map((d, i) => (ones[i] ? d + 1 : d));
        const inShape = shape.map((d, i) => (ones[i] ? 1 : d));
        checkGradients([randomLeaf('x', inShape, seed)], (b, [x]) => b.broadcastTo(x!, target));
      }),
      RUNS,
    );
  });

  it('pad matches finite differences', () => {
    const arb = nonEmpty.chain((shape) => {
      const amounts = fc.array(fc.nat(2), { minLength: shape.length, maxLength: shape.length });
      return fc.record({ shape: fc.constant(shape), low: amounts, high: amounts, interior: amounts, seed: seedArb });
    });
    fc.assert(
      fc.property(arb, ({ shape, low, high, interior, seed }) => {
        checkGradients([randomLeaf('x', shape, seed)], (b, [x]) => b.pad(x!, low, high, interior));
      }),
      RUNS,
    );
  });

  it('slice matches finite differences', () => {
    const arb = fc
      .array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 3 })
      .chain((shape) =>
        fc.record({
          shape: fc.constant(shape),
          bounds: fc.tuple(...shape.map((d) => fc.tuple(fc.integer({ min: 0, max: d - 1 }), fc.integer({ min: 1, max: d }), fc.integer({ min: 1, max: 3 })))),
          seed: seedArb,
        }),
      );
    fc.assert(
      fc.property(arb, ({ shape, bounds, seed }) => {
        const start = bounds.map(([s]) => s);
        const end = bounds.map(([s, e]) => Math.max(s + 1, e));
        const step = bounds.map(([, , t]) => t);
        checkGradients([randomLeaf('x', shape, seed)], (b, [x]) => b.slice(x!, start, end, step));
      }),
      RUNS,
    );
  });

  it('flip matches finite differences', () => {
    const arb = nonEmpty.chain((shape) => fc.record({ shape: fc.constant(shape), axes: fc.subarray([...shape.keys()]), seed: seedArb }));
    fc.assert(
      fc.property(arb, ({ shape, axes, seed }) => {
        checkGradients([randomLeaf('x', shape, seed)], (b, [x]) => b.flip(x!, axes));
      }),
      RUNS,
    );
  });
});

describe('contraction gradients', () => {
  it('matmul matches finite differences', () => {
    const arb = fc.record({
      batch: fc.array(fc.integer({ min: 1, max: 2 }), { maxLength: 1 }),
      m: fc.integer({ min: 1, max: 5 }),
      k: fc.integer({ min: 1, max: 5 }),
      n: fc.integer({ min: 1, max: 5 }),
      seed: seedArb,
    });
    fc.assert(
      fc.property(arb, ({ batch, m, k, n, seed }) => {
        checkGradients([randomLeaf('a', [...batch, m, k], seed), randomLeaf('b', [...batch, k, n], seed + 1)], (b, [x, y]) =>
          b.matmul(x!, y!),
        );
      }),
      RUNS,
    );
  });

  // Geometry with stride 1 or 2, asymmetric padding, and groups 1, 2 or one per channel
  // (depthwise); 4 or more output channels per group take the blocked-gemm kernels.
  const convArb = fc
    .record({
      n: fc.integer({ min: 1, max: 2 }),
      grouping: fc.constantFrom('single', 'pair', 'depthwise'),
      channels: fc.integer({ min: 1, max: 3 }),
      coPerGroup: fc.constantFrom(1, 2, 4),
      h: fc.integer({ min: 2, max: 6 }),
      w: fc.integer({ min: 2, max: 6 }),
      k: fc.integer({ min: 1, max: 3 }),
      stride: fc.integer({ min: 1, max: 2 }),
      padding: fc.tuple(fc.nat(1), fc.nat(1), fc.nat(1), fc.nat(1)),
      seed: seedArb,
    })
    .filter((c) => c.h + c.padding[0] + c.padding[1] >= c.k && c.w + c.padding[2] + c.padding[3] >= c.k)
    .map((c) => {
      const groupCounts = { single: 1, pair: 2, depthwise: c.channels * 2 };
      const groups = groupCounts[c.grouping];
      const cin = c.grouping === 'single' ? c.channels : c.channels * 2;
      const attrs: ConvAttrs = { stride: c.stride, padding: c.padding, groups };
      const xShape = [c.n, cin, c.h, c.w];
      const wShape = [groups * c.coPerGroup, cin / groups, c.k, c.k];
      return { xShape, wShape, yShape: conv2dShape(xShape, wShape, attrs), attrs, seed: c.seed };
    });

  it('conv2d matches finite differences', () => {
    fc.assert(
      fc.property(convArb, ({ xShape, wShape, attrs, seed }) => {
        checkGradients([randomLeaf('x', xShape, seed), randomLeaf('w', wShape, seed + 1)], (b, [x, w]) => b.conv2d(x!, w!, attrs));
      }),
      { numRuns: 25 },
    );
  });

  it('conv2dBackInput matches finite differences', () => {
    fc.assert(
      fc.property(convArb, ({ xShape, wShape, yShape, attrs, seed }) => {
        checkGradients([randomLeaf('dy', yShape, seed), randomLeaf('w', wShape, seed + 1)], (b, [dy, w]) =>
          b.conv2dBackInput(dy!, w!, attrs, xShape),
        );
      }),
      { numRuns: 25 },
    );
  });

  it('conv2dBackWeight matches finite differences', () => {
    fc.assert(
      fc.property(convArb, ({ xShape, wShape, yShape, attrs, seed }) => {
        checkGradients([randomLeaf('x', xShape, seed), randomLeaf('dy', yShape, seed + 1)], (b, [x, dy]) =>
          b.conv2dBackWeight(x!, dy!, attrs, wShape),
        );
      }),
      { numRuns: 25 },
    );
  });
});
