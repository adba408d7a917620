// The verifier on hand-built bad graphs. Nodes are pushed straight into the array, bypassing the
// builder's own checks, the way a buggy pass would.

import { describe, expect, it } from 'vitest';
import { gradients } from '../../src/autodiff/gradients.ts';
import { Builder, IrError } from '../../src/ir/builder.ts';
import { Graph, type Node } from '../../src/ir/graph.ts';
import { verifyGraph } from '../../src/ir/verify.ts';

function graphOf(...nodes: Node[]): Graph {
  const graph = new Graph();
  for (const node of nodes) graph.add(node);
  return graph;
}

const conv = { stride: 1, padding: [1, 1, 1, 1] as const, groups: 1 };

describe('verifyGraph', () => {
  it('accepts a builder graph with its gradients', () => {
    const b = new Builder();
    const x = b.input('x', [2, 3, 8, 8]);
    const w = b.param('w', [4, 3, 3, 3]);
    const y = b.unary('lrelu', b.conv2d(x, w, { stride: 2, padding: [1, 1, 1, 1] }), 0.2);
    const loss = b.sum(b.unary('square', y), [0, 1, 2, 3]);
    const [gx] = gradients(b, loss, [x, w]);
    const [gw2] = gradients(b, b.sum(b.unary('square', gx!), [0, 1, 2, 3]), [w]);
    b.output('loss', loss);
    b.output('gw2', gw2!);
    expect(() => verifyGraph(b.graph)).not.toThrow();
  });

  it('rejects an operand that is not earlier', () => {
    const graph = graphOf({ kind: 'input', name: 'x', shape: [2] }, { kind: 'unary', op: 'exp', x: 1, slope: 0, shape: [2] });
    expect(() => verifyGraph(graph)).toThrow(IrError);
    expect(() => verifyGraph(graph)).toThrow(/invalid IR at %1 \(unary\): operand %1 is not an earlier node/);
  });

  it('rejects a wrong conv2d shape with a dump', () => {
    const graph = graphOf(
      { kind: 'input', name: 'x', shape: [1, 3, 8, 8] },
      { kind: 'param', name: 'w', shape: [4, 3, 3, 3] },
      { kind: 'conv2d', x: 0, w: 1, attrs: conv, shape: [1, 4, 6, 6] },
    );
    let message = '';
    try {
      verifyGraph(graph);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/invalid IR at %2 \(conv2d\): shape \[1, 4, 6, 6\] disagrees with the \[1, 4, 8, 8\]/);
    expect(message).toContain('%2 = conv2d(%0, %1) stride=1 pad=[1,1,1,1] groups=1 : [1, 4, 6, 6]');
    expect(message).toContain('operand %0 = input "x" : [1, 3, 8, 8]');
    expect(message).toContain('operand %1 = param "w" : [4, 3, 3, 3]');
  });

  it('rejects conv channels that do not match groups', () => {
    const graph = graphOf(
      { kind: 'input', name: 'x', shape: [1, 3, 8, 8] },
      { kind: 'param', name: 'w', shape: [4, 3, 3, 3] },
      { kind: 'conv2d', x: 0, w: 1, attrs: { ...conv, groups: 2 }, shape: [1, 4, 8, 8] },
    );
    expect(() => verifyGraph(graph)).toThrow(/input has 3 channels/);
  });

  it('rejects a conv2dBackInput whose dy does not match', () => {
    const graph = graphOf(
      { kind: 'input', name: 'dy', shape: [1, 4, 7, 7] },
      { kind: 'param', name: 'w', shape: [4, 3, 3, 3] },
      { kind: 'conv2dBackInput', dy: 0, w: 1, attrs: conv, shape: [1, 3, 8, 8] },
    );
    expect(() => verifyGraph(graph)).toThrow(/dy is \[1, 4, 7, 7\], but conv2d of this shape with w gives \[1, 4, 8, 8\]/);
  });

  it('rejects binary operands of different shapes', () => {
    const graph = graphOf(
      { kind: 'input', name: 'a', shape: [2, 3] },
      { kind: 'input', name: 'b', shape: [3, 2] },
      { kind: 'binary', op: 'add', a: 0, b: 1, shape: [2, 3] },
    );
    expect(() => verifyGraph(graph)).toThrow(/operands differ in shape: \[2, 3\] and \[3, 2\]/);
  });

  it('rejects select operands of different shapes', () => {
    const graph = graphOf(
      { kind: 'input', name: 'c', shape: [2] },
      { kind: 'input', name: 'a', shape: [2] },
      { kind: 'input', name: 'b', shape: [3] },
      { kind: 'select', cond: 0, a: 1, b: 2, shape: [2] },
    );
    expect(() => verifyGraph(graph)).toThrow(/invalid IR at %3 \(select\): operands differ in shape/);
  });

  it('rejects a reduce axis out of range', () => {
    const graph = graphOf(
      { kind: 'input', name: 'x', shape: [2, 3] },
      { kind: 'reduce', op: 'sum', x: 0, axes: [2], keepDims: false, shape: [2, 3] },
    );
    expect(() => verifyGraph(graph)).toThrow(/reduce axis 2 is out of range for rank 2/);
  });

  it('rejects a flip axis out of range', () => {
    const graph = graphOf({ kind: 'input', name: 'x', shape: [2] }, { kind: 'flip', x: 0, axes: [-1], shape: [2] });
    expect(() => verifyGraph(graph)).toThrow(/flip axis -1 is out of range/);
  });

  it('rejects a permutation that repeats an axis', () => {
    const graph = graphOf({ kind: 'input', name: 'x', shape: [2, 3] }, { kind: 'permute', x: 0, perm: [0, 0], shape: [2, 2] });
    expect(() => verifyGraph(graph)).toThrow(/repeats an axis/);
  });

  it('rejects a wrong pad shape', () => {
    const graph = graphOf(
      { kind: 'input', name: 'x', shape: [3] },
      { kind: 'pad', x: 0, low: [1], high: [1], interior: [1], shape: [5] },
    );
    expect(() => verifyGraph(graph)).toThrow(/shape \[5\] disagrees with the \[7\]/);
  });

  it('rejects a slice past the end', () => {
    const graph = graphOf(
      { kind: 'input', name: 'x', shape: [3] },
      { kind: 'slice', x: 0, start: [1], end: [4], step: [1], shape: [3] },
    );
    expect(() => verifyGraph(graph)).toThrow(/invalid slice \[1:4:1\] of axis 0 with size 3/);
  });

  it('rejects a reshape that changes the element count', () => {
    const graph = graphOf({ kind: 'input', name: 'x', shape: [2, 3] }, { kind: 'reshape', x: 0, shape: [5] });
    expect(() => verifyGraph(graph)).toThrow(/reshape of \[2, 3\]/);
  });

  it('rejects a broadcast from a non-unit axis', () => {
    const graph = graphOf({ kind: 'input', name: 'x', shape: [2, 3] }, { kind: 'broadcast', x: 0, shape: [4, 3] });
    expect(() => verifyGraph(graph)).toThrow(/axis 0 of size 2 cannot broadcast to 4/);
  });

  it('rejects a matmul with mismatched inner sizes', () => {
    const graph = graphOf(
      { kind: 'input', name: 'a', shape: [2, 3] },
      { kind: 'input', name: 'b', shape: [2, 3] },
      { kind: 'matmul', a: 0, b: 1, shape: [2, 3] },
    );
    expect(() => verifyGraph(graph)).toThrow(/inner or batch sizes differ/);
  });

  it('rejects a non-scalar randn key', () => {
    const graph = graphOf({ kind: 'input', name: 'key', shape: [1] }, { kind: 'randn', key: 0, stream: 0, shape: [4] });
    expect(() => verifyGraph(graph)).toThrow(/randn key must be a scalar/);
  });

  it('rejects an output naming a missing node', () => {
    const graph = graphOf({ kind: 'input', name: 'x', shape: [2] });
    graph.setOutput('y', 5);
    expect(() => verifyGraph(graph)).toThrow(/output 'y' refers to %5, which does not exist/);
  });

  it('rejects one name with two shapes', () => {
    const graph = graphOf({ kind: 'input', name: 'x', shape: [2] }, { kind: 'param', name: 'x', shape: [3] });
    expect(() => verifyGraph(graph)).toThrow(/name 'x' is also %0 with shape \[2\]/);
  });

  it('accepts one name declared twice with one shape', () => {
    const graph = graphOf({ kind: 'input', name: 'x', shape: [2] }, { kind: 'input', name: 'x', shape: [2] });
    expect(() => verifyGraph(graph)).not.toThrow();
  });

  it('rejects a literal with the wrong value count', () => {
    const graph = graphOf({ kind: 'literal', shape: [3], data: Float32Array.of(1, 2) });
    expect(() => verifyGraph(graph)).toThrow(/literal has 2 values for shape \[3\]/);
  });
});
