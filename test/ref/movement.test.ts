// Movement kernels against element-by-element index arithmetic written here, for random shapes.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { numel } from '../../src/ir/graph.ts';
import { broadcastKernel, flipKernel, padKernel, permuteKernel, sliceKernel } from '../../targets/ref/movement.ts';

const shapeArb = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 });

/** Calls visit(index, flat) for every index tuple of `shape` in row-major order. */
function forEachIndex(shape: readonly number[], visit: (index: number[], flat: number) => void): void {
  const total = numel(shape);
  for (let flat = 0; flat < total; flat++) {
    const index: number[] = [];
    let rest = flat;
    for (let axis = shape.length - 1; axis >= 0; axis--) {
      index.unshift(rest % shape[axis]!);
      rest = Math.floor(rest / shape[axis]!);
    }
    visit(index, flat);
  }
}

function flatIndex(shape: readonly number[], index: readonly number[]): number {
  return index.reduce((flat, i, axis) => flat * shape[axis]! + i, 0);
}

function iotaArray(n: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => i + 1);
}

describe('ref movement kernels', () => {
  it('permute moves element i to perm order', () => {
    const arb = shapeArb.chain((shape) => fc.record({ shape: fc.constant(shape), perm: fc.shuffledSubarray([...shape.keys()], { minLength: shape.length }) }));
    fc.assert(
      fc.property(arb, ({ shape, perm }) => {
        const x = iotaArray(numel(shape));
        const outShape = perm.map((p) => shape[p]!);
        const out = new Float32Array(x.length);
        permuteKernel(x, shape, perm, out);
        forEachIndex(outShape, (index, flat) => {
          const source = new Array<number>(shape.length);
          perm.forEach((p, j) => {
            source[p] = index[j]!;
          });
          expect(out[flat]).toBe(x[flatIndex(shape, source)]);
        });
      }),
    );
  });

  it('broadcast repeats unit axes', () => {
    const arb = shapeArb.chain((shape) => fc.record({ shape: fc.constant(shape), ones: fc.array(fc.boolean(), { minLength: shape.length, maxLength: shape.length }) }));
    fc.assert(
      fc.property(arb, ({ shape, ones }) => {
        const inShape = shape.map((d, i) => (ones[i] ? 1 : d));
        const x = iotaArray(numel(inShape));
        const out = new Float32Array(numel(shape));
        broadcastKernel(x, inShape, shape, out);
        forEachIndex(shape, (index, flat) => {
          const source = index.map((i, axis) => (inShape[axis] === 1 ? 0 : i));
          expect(out[flat]).toBe(x[flatIndex(inShape, source)]);
        });
      }),
    );
  });

  it('pad places elements at low + i * (interior + 1)', () => {
    const arb = shapeArb.chain((shape) => {
      const amounts = fc.array(fc.nat(2), { minLength: shape.length, maxLength: shape.length });
      return fc.record({ shape: fc.constant(shape), low: amounts, high: amounts, interior: amounts });
    });
    fc.assert(
      fc.property(arb, ({ shape, low, high, interior }) => {
        const x = iotaArray(numel(shape));
        const outShape = shape.map((d, i) => low[i]! + high[i]! + d + (d - 1) * interior[i]!);
        const out = new Float32Array(numel(outShape)).fill(Number.NaN);
        padKernel(x, shape, low, interior, outShape, out);
        const expected = new Float32Array(out.length);
        forEachIndex(shape, (index, flat) => {
          expected[flatIndex(outShape, index.map((i, axis) => low[axis]! + i * (interior[axis]! + 1)))] = x[flat]!;
        });
        expect(Array.from(out)).toEqual(Array.from(expected));
      }),
    );
  });

  it('slice reads start + i * step', () => {
    const arb = shapeArb.chain((shape) =>
      fc.record({
        shape: fc.constant(shape),
        bounds: fc.tuple(...shape.map((d) => fc.tuple(fc.integer({ min: 0, max: d - 1 }), fc.integer({ min: 1, max: 3 })))),
      }),
    );
    fc.assert(
      fc.property(arb, ({ shape, bounds }) => {
        const x = iotaArray(numel(shape));
        const start = bounds.map(([s]) => s);
        const step = bounds.map(([, t]) => t);
        const outShape = shape.map((d, i) => Math.ceil((d - start[i]!) / step[i]!));
        const out = new Float32Array(numel(outShape));
        sliceKernel(x, shape, start, step, outShape, out);
        forEachIndex(outShape, (index, flat) => {
          expect(out[flat]).toBe(x[flatIndex(shape, index.map((i, axis) => start[axis]! + i * step[axis]!))]);
        });
      }),
    );
  });

  it('flip reverses the listed axes', () => {
    const arb = shapeArb.chain((shape) => fc.record({ shape: fc.constant(shape), axes: fc.subarray([...shape.keys()]) }));
    fc.assert(
      fc.property(arb, ({ shape, axes }) => {
        const x = iotaArray(numel(shape));
        const out = new Float32Array(x.length);
        flipKernel(x, shape, axes, out);
        forEachIndex(shape, (index, flat) => {
          const source = index.map((i, axis) => (axes.includes(axis) ? shape[axis]! - 1 - i : i));
          expect(out[flat]).toBe(x[flatIndex(shape, source)]);
        });
      }),
    );
  });
});
