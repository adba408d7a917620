// composeMovements against the reference executor: a chain of movements over an input whose
// elements are 1, 2, 3, ... is run by runGraph, and the composed map must name, for every output
// element, the input element it holds, or padding where the output is 0.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Builder } from '../../src/ir/builder.ts';
import { numel, type NodeId, type Shape } from '../../src/ir/graph.ts';
import { composeMovements } from '../../src/kernel/movement.ts';
import { runGraph } from '../../targets/ref/run.ts';
import { applyMovement, movementChains } from '../ops/movement-cases.ts';

/** Returns the composed map's value at every output element: input element leaf index + 1, or 0 in padding. */
function composedValues(b: Builder, out: NodeId, input: NodeId): Float32Array {
  const chain = composeMovements(b.graph.nodes, out);
  expect(chain).toBeDefined();
  expect(chain!.leaf).toBe(input);
  const shape: Shape = b.shape(out);
  const values = new Float32Array(numel(shape));
  const coord = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < values.length; i++) {
    let rest = i;
    for (let a = shape.length - 1; a >= 0; a--) {
      coord[a] = rest % shape[a]!;
      rest = Math.floor(rest / shape[a]!);
    }
    // Only the flagged sides are tested, as the wgsl and webgl generators do, so a side that
    // some coordinate fails but is not flagged shows up as a wrong value.
    const inside = !chain!.padding && chain!.checks.every((c) => {
      const t = c.offset + (c.axis < 0 ? 0 : c.scale * coord[c.axis]!);
      return (!c.low || t >= 0) && (!c.high || t < c.size);
    });
    const index = chain!.base + coord.reduce((sum, c, a) => sum + c * chain!.multiplier[a]!, 0);
    values[i] = inside ? index + 1 : 0;
  }
  return values;
}

describe('composeMovements', () => {
  it('random chains match the reference', () => {
    fc.assert(
      fc.property(movementChains(6), ({ shape, movements }) => {
        const b = new Builder();
        const x = b.input('x', shape);
        const out = movements.reduce((node, m) => applyMovement(b, node, m), x);
        if (out === x) return;
        b.output('out', out);
        const data = Float32Array.from({ length: numel(shape) }, (_, i) => i + 1);
        const expected = runGraph(b.graph, { x: { shape: [...shape], data } }).out!.data;
        expect(composedValues(b, out, x)).toEqual(expected);
      }),
      { numRuns: 300, seed: 11 },
    );
  });

  it('upsampled conv weight slice', () => {
    // The optimizer rewrites upsample + conv as a stride-2 transposed conv. Its 4x4 taps add slices
    // of the padded, flipped and transposed 3x3 kernel, and each slice is one composed map.
    const b = new Builder();
    const w = b.input('w', [2, 3, 3, 3]);
    const padded = b.pad(b.flip(b.permute(w, [1, 0, 2, 3]), [2, 3]), [0, 0, 1, 1], [0, 0, 1, 1], [0, 0, 0, 0]);
    const slice = b.slice(padded, [0, 0, 1, 0], [3, 2, 5, 4], [1, 1, 1, 1]);
    const chain = composeMovements(b.graph.nodes, slice)!;
    expect(chain.leaf).toBe(w);
    expect(chain.length).toBe(4);
    // out[a, b, y, x] reads w[b, a, 2 - y, 3 - x]. The slice start 1 on the row axis cancels the
    // pad's 1, and the column axis keeps the pad's shift of 1.
    expect(chain.multiplier).toEqual([9, 27, -3, -1]);
    expect(chain.base).toBe(2 * 3 + 3);
    // Rows 0..3 can only pass the end of the 3 kernel rows, and columns 0..3 shifted by -1 only the start.
    expect(chain.checks).toEqual([
      { axis: 2, scale: 1, offset: 0, size: 3, low: false, high: true },
      { axis: 3, scale: 1, offset: -1, size: 3, low: true, high: false },
    ]);
    expect(chain.padding).toBe(false);
    b.output('out', slice);
    const data = Float32Array.from({ length: 54 }, (_, i) => i + 1);
    expect(composedValues(b, slice, w)).toEqual(runGraph(b.graph, { x: { shape: [2, 3, 3, 3], data }, w: { shape: [2, 3, 3, 3], data } }).out!.data);
  });

  it('drops checks that cannot fail', () => {
    const b = new Builder();
    const x = b.input('x', [3, 4]);
    const padded = b.pad(x, [0, 2], [0, 2], [0, 0]);
    // Columns 2..5 of the padded [3, 8] are x itself, and columns 0..1 are padding only.
    const interior = composeMovements(b.graph.nodes, b.slice(padded, [0, 2], [3, 6], [1, 1]))!;
    expect(interior.checks).toEqual([]);
    expect(interior.padding).toBe(false);
    const border = composeMovements(b.graph.nodes, b.slice(padded, [0, 0], [3, 2], [1, 1]))!;
    expect(border.padding).toBe(true);
  });

  it('stops at reshape and interior padding', () => {
    const b = new Builder();
    const x = b.input('x', [2, 6]);
    const reshaped = b.reshape(x, [3, 4]);
    const flipped = b.flip(reshaped, [1]);
    expect(composeMovements(b.graph.nodes, flipped)!.leaf).toBe(reshaped);
    const spread = b.pad(x, [0, 0], [0, 0], [0, 1]);
    expect(composeMovements(b.graph.nodes, b.permute(spread, [1, 0]))!.leaf).toBe(spread);
    expect(composeMovements(b.graph.nodes, spread)).toBeUndefined();
    expect(composeMovements(b.graph.nodes, x)).toBeUndefined();
  });
});
