// The graph and feeds that the WebGL2 browser test runs in Chromium and on the reference executor.

import { Builder } from '../../../src/ir/builder.ts';
import type { Graph } from '../../../src/ir/graph.ts';
import type { TensorMap } from '../../../src/runtime/tensor.ts';

/** Builds a conv with an elementwise epilogue, a row reduction broadcast back and randn, so each code path of the target runs once. */
export function browserGraph(): { graph: Graph; feeds: TensorMap } {
  const b = new Builder();
  const x = b.input('x', [2, 3, 6, 7]);
  const w = b.input('w', [4, 3, 3, 3]);
  const key = b.input('key', []);
  const y = b.conv2d(x, w, { stride: 1, padding: [1, 1, 1, 1], groups: 1 });
  const z = b.unary('lrelu', b.add(y, b.mul(y, y)), 0.2);
  b.output('out', b.sub(z, b.broadcastTo(b.mul(b.sum(z, [2, 3], true), b.fill([2, 4, 1, 1], 1 / 42)), [2, 4, 6, 7])));
  b.output('noise', b.randn([3, 9], key, 4));
  const feeds: TensorMap = {
    x: { shape: [2, 3, 6, 7], data: Float32Array.from({ length: 252 }, (_, i) => Math.sin(i * 1.3)) },
    w: { shape: [4, 3, 3, 3], data: Float32Array.from({ length: 108 }, (_, i) => Math.cos(i * 0.7)) },
    key: { shape: [], data: Float32Array.of(11) },
  };
  return { graph: b.graph, feeds };
}
