// Kernels with composed movement chains, shared by the cpu, wgsl and webgl movement tests. Every case
// adds or selects values without rounding, so each target must match the reference exactly.

import fc from 'fast-check';
import type { Builder } from '../../src/ir/builder.ts';
import type { NodeId, Shape } from '../../src/ir/graph.ts';

export interface MovementCase {
  name: string;
  inputs: Record<string, Shape>;
  build: (b: Builder, x: Record<string, NodeId>) => NodeId;
}

/** Transposes, flips and pads by 1 the 3x3 kernel of a conv, as the fused nearest-upsampling conv reads it. */
function paddedFlippedTranspose(b: Builder, y: NodeId): NodeId {
  return b.pad(b.flip(b.permute(y, [1, 0, 2, 3]), [2, 3]), [0, 0, 1, 1], [0, 0, 1, 1], [0, 0, 0, 0]);
}

export const MOVEMENT_CASES: MovementCase[] = [
  {
    // The last axis has 4 elements, the first 3: padding lands inside vectors and rows.
    name: 'slice of a padded, flipped transpose',
    inputs: { x: [3, 2, 4, 4], y: [2, 3, 3, 3] },
    build: (b, x) => b.add(x.x!, b.slice(paddedFlippedTranspose(b, x.y!), [0, 0, 1, 0], [3, 2, 5, 4], [1, 1, 1, 1])),
  },
  {
    name: 'upsampled conv weight phases, added',
    inputs: { y: [3, 2, 3, 3] },
    build: (b, x) => {
      const padded = paddedFlippedTranspose(b, x.y!);
      const phase = (dy: number, dx: number): NodeId => b.slice(padded, [0, 0, dy, dx], [2, 3, dy + 4, dx + 4], [1, 1, 1, 1]);
      return b.add(b.add(phase(1, 1), phase(0, 1)), b.add(phase(1, 0), phase(0, 0)));
    },
  },
  {
    name: 'strided slice of two-sided padding',
    inputs: { x: [5, 3], y: [3, 2] },
    build: (b, x) => b.add(x.x!, b.slice(b.pad(b.flip(x.y!, [0]), [2, 0], [4, 1], [0, 0]), [0, 0], [9, 3], [2, 1])),
  },
  {
    // The slice keeps only the low padding, so the broadcast repeats a zero.
    name: 'broadcast of padding only',
    inputs: { x: [2, 5], y: [2, 3] },
    build: (b, x) => b.add(x.x!, b.broadcastTo(b.slice(b.pad(x.y!, [0, 1], [0, 0], [0, 0]), [0, 0], [2, 1], [1, 1]), [2, 5])),
  },
  {
    name: 'chain through interior padding',
    inputs: { x: [2, 7], y: [2, 4] },
    build: (b, x) => b.add(x.x!, b.slice(b.pad(b.flip(x.y!, [1]), [0, 1], [0, 1], [0, 1]), [0, 1], [2, 8], [1, 1])),
  },
  {
    // The transpose is read by the chain and by the maximum, so it keeps a function of its own.
    name: 'movement shared with a reduction',
    inputs: { y: [4, 3] },
    build: (b, x) => {
      const t = b.permute(x.y!, [1, 0]);
      return b.add(b.flip(b.pad(t, [0, 1], [0, 0], [0, 0]), [1]), b.broadcastTo(b.reduce('max', t, [1], true), [3, 5]));
    },
  },
];

/** One random movement: its kind, and two small numbers that choose its axis and arguments. */
export interface RandomMovement {
  op: 'permute' | 'slice' | 'flip' | 'pad' | 'broadcast';
  choice: number;
  size: number;
}

/** Applies one movement to `x`, with arguments chosen to be valid for its shape. */
export function applyMovement(b: Builder, x: NodeId, m: RandomMovement): NodeId {
  const shape = b.shape(x);
  const rank = shape.length;
  const axis = m.choice % rank;
  // Returns a per-axis argument: `value` on the chosen axis, `rest` on the others.
  const alongAxis = (value: number, rest: number): number[] => shape.map((_, a) => (a === axis ? value : rest));
  switch (m.op) {
    case 'permute':
      return b.permute(x, shape.map((_, a) => (a + 1 + m.choice) % rank));
    case 'slice':
      return b.slice(x, alongAxis(Math.min(m.size % 3, shape[axis]! - 1), 0), [...shape], alongAxis(1 + (m.choice % 2), 1));
    case 'flip':
      return b.flip(x, [axis]);
    case 'pad':
      return b.pad(x, alongAxis(m.size % 3, 0), alongAxis(m.choice % 2, 0), alongAxis(0, 0));
    case 'broadcast': {
      // A broadcast keeps the rank, so it needs an axis of size 1: slice one out first.
      const unitAxis = b.slice(x, alongAxis(0, 0), shape.map((d, a) => (a === axis ? 1 : d)), alongAxis(1, 1));
      return b.broadcastTo(unitAxis, shape.map((d, a) => (a === axis ? 2 + m.size : d)));
    }
  }
}

/** Generates a random input shape of rank 1 to 4 and a chain of 1 to `maxMovements` random movements. */
export function movementChains(maxMovements: number): fc.Arbitrary<{ shape: number[]; movements: RandomMovement[] }> {
  const movement = fc.record({
    op: fc.constantFrom<RandomMovement['op']>('permute', 'slice', 'flip', 'pad', 'broadcast'),
    choice: fc.nat(5),
    size: fc.nat(5),
  });
  return fc.record({
    shape: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 4 }),
    movements: fc.array(movement, { minLength: 1, maxLength: maxMovements }),
  });
}
