// runGraph's contract: feed checks, outputs, liveness and the Target wrapper.

import { describe, expect, it } from 'vitest';
import { Builder } from '../../src/ir/builder.ts';
import { refTarget, runGraph } from '../../targets/ref/index.ts';
import { lastUses } from '../../targets/ref/run.ts';

function smallGraph(): Builder {
  const b = new Builder();
  const x = b.input('x', [2, 3]);
  const w = b.param('w', [3]);
  b.output('y', b.mul(x, w));
  return b;
}

describe('runGraph', () => {
  it('names a missing feed and its shape', () => {
    const b = smallGraph();
    expect(() => runGraph(b.graph, { x: { shape: [2, 3], data: new Float32Array(6) } })).toThrow(
      "missing feed for parameter 'w': expected a tensor of shape [3]",
    );
  });

  it('names a feed with the wrong shape', () => {
    const b = smallGraph();
    expect(() =>
      runGraph(b.graph, { x: { shape: [3, 2], data: new Float32Array(6) }, w: { shape: [3], data: new Float32Array(3) } }),
    ).toThrow("invalid feed for input 'x': expected shape [2, 3], got [3, 2]");
  });

  it('rejects a feed whose data length disagrees with its shape', () => {
    const b = smallGraph();
    expect(() =>
      runGraph(b.graph, { x: { shape: [2, 3], data: new Float32Array(5) }, w: { shape: [3], data: new Float32Array(3) } }),
    ).toThrow(/needs 6 values, got 5/);
  });

  it('returns fresh output buffers', () => {
    const b = new Builder();
    const x = b.input('x', [2]);
    b.output('same', x);
    b.output('reshaped', b.reshape(x, [2, 1]));
    const data = Float32Array.of(1, 2);
    const out = runGraph(b.graph, { x: { shape: [2], data } });
    expect(out.same!.data).not.toBe(data);
    expect(Array.from(out.reshaped!.data)).toEqual([1, 2]);
    expect(out.reshaped!.shape).toEqual([2, 1]);
    out.same!.data[0] = 99;
    expect(data[0]).toBe(1);
  });

  it('computes last uses for liveness', () => {
    const b = new Builder();
    const x = b.input('x', [2]);
    const e = b.unary('exp', x);
    const n = b.unary('neg', e);
    const s = b.binary('add', x, n);
    b.output('s', s);
    expect(lastUses(b.graph)).toEqual([s, n, s, Infinity]);
  });
});

describe('runGraph liveness', () => {
  it('holds at most two buffers of a chain', () => {
    // exp, neg, exp, ... on 1000 elements: each step needs only its operand and its result.
    const b = new Builder();
    let x = b.input('x', [1000]);
    for (let i = 0; i < 20; i++) x = b.unary(i % 2 === 0 ? 'exp' : 'neg', x);
    b.output('y', x);
    const memory = { peakElements: 0 };
    runGraph(b.graph, { x: { shape: [1000], data: new Float32Array(1000) } }, { memory });
    expect(memory.peakElements).toBe(2000);
  });

  it('keeps a buffer until its last reader', () => {
    // s = square(x) + neg(exp(x)) on [10]: square(x) stays live until the add, so the peak is three
    // buffers (exp, square, neg) right after neg. Without freeing, all four results would be live.
    const b = new Builder();
    const x = b.input('x', [10]);
    const e = b.unary('exp', x);
    const kept = b.unary('square', x);
    const n = b.unary('neg', e);
    b.output('s', b.binary('add', kept, n));
    const memory = { peakElements: 0 };
    const out = runGraph(b.graph, { x: { shape: [10], data: new Float32Array(10).fill(1) } }, { memory });
    expect(memory.peakElements).toBe(30);
    expect(out.s!.data[0]).toBeCloseTo(1 - Math.E, 6);
  });
});

describe('refTarget', () => {
  it('compiles and runs asynchronously', async () => {
    const program = refTarget.compile(smallGraph().graph, 'small');
    const out = await program.run({ x: { shape: [2, 3], data: Float32Array.of(1, 2, 3, 4, 5, 6) }, w: { shape: [3], data: Float32Array.of(1, 0, -1) } });
    expect(Array.from(out.y!.data)).toEqual([1, 0, -3, 4, 0, -6]);
    expect(refTarget.name).toBe('ref');
  });
});
